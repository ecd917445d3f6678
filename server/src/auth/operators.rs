//! Operator accounts: argon2id password hashes and a role, managed from the command line
//! (`portal operator add | list | disable | enable | passwd`); operators change their own
//! password in the app. Disabling an account or changing its password ends its sessions.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use proto::OperatorRole;
use time::OffsetDateTime;

use crate::db::{self, Db};
use crate::domain::{Actor, audit};

#[derive(Debug, thiserror::Error)]
pub enum OperatorError {
    #[error("username must be 1-64 letters, digits, '.', '_' or '-'")]
    Username,
    #[error("password must be at least 12 characters")]
    WeakPassword,
    #[error("operator {0} already exists")]
    Exists(String),
    #[error("no operator {0}")]
    Unknown(String),
    #[error("the current password is wrong")]
    WrongPassword,
    #[error("{0}")]
    Hash(String),
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
}

pub fn valid_username(u: &str) -> bool {
    !u.is_empty()
        && u.len() <= 64
        && u.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
}

pub fn hash_password(password: &str) -> Result<String, OperatorError> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt)
        .map_err(|e| OperatorError::Hash(format!("password hashing: {e}")))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| OperatorError::Hash(e.to_string()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| OperatorError::Hash(e.to_string()))
}

fn verify(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

async fn strong_hash(password: &str) -> Result<String, OperatorError> {
    if password.chars().count() < 12 {
        return Err(OperatorError::WeakPassword);
    }
    let pw = password.to_owned();
    tokio::task::spawn_blocking(move || hash_password(&pw))
        .await
        .map_err(|e| OperatorError::Hash(e.to_string()))?
}

async fn record(
    conn: &mut sqlx::AnyConnection,
    actor: &Actor,
    action: &'static str,
    detail: serde_json::Value,
    now: OffsetDateTime,
) -> Result<(), OperatorError> {
    audit::record(
        conn,
        actor,
        audit::Entry {
            action,
            detail,
            ..audit::Entry::default()
        },
        now,
    )
    .await
    .map_err(|e| OperatorError::Hash(format!("audit: {e}")))
}

pub async fn add(
    db: &Db,
    username: &str,
    password: &str,
    role: OperatorRole,
    now: OffsetDateTime,
) -> Result<i64, OperatorError> {
    if !valid_username(username) {
        return Err(OperatorError::Username);
    }
    if db::operators::exists(&mut *db.conn().await?, username).await? {
        return Err(OperatorError::Exists(username.to_owned()));
    }
    let phc = strong_hash(password).await?;
    let mut tx = db.write().await?;
    let id =
        db::operators::insert(&mut tx, username, &phc, role.code(), now.unix_timestamp()).await?;
    let detail = serde_json::json!({ "username": username, "role": role.code() });
    record(&mut tx, &Actor::System("cli"), "operator.add", detail, now).await?;
    tx.commit().await?;
    Ok(id)
}

/// One line of `portal operator list`.
#[derive(Debug, Clone)]
pub struct Listed {
    pub username: String,
    pub role: String,
    pub disabled: bool,
    pub created_at: i64,
}

pub async fn list(db: &Db) -> Result<Vec<Listed>, OperatorError> {
    Ok(db::operators::list(&mut *db.conn().await?)
        .await?
        .into_iter()
        .map(|o| Listed {
            username: o.username,
            role: o.role,
            disabled: o.disabled,
            created_at: o.created_at,
        })
        .collect())
}

/// Turns an account off (ending its sessions at once, in the same transaction) or on.
pub async fn set_disabled(
    db: &Db,
    username: &str,
    disabled: bool,
    now: OffsetDateTime,
) -> Result<u64, OperatorError> {
    let mut tx = db.write().await?;
    let op = db::operators::by_username(&mut tx, username)
        .await?
        .ok_or_else(|| OperatorError::Unknown(username.to_owned()))?;
    db::operators::set_disabled(&mut tx, op.id, disabled).await?;
    let ended = if disabled {
        db::sessions::delete_for_operator(&mut tx, op.id, None).await?
    } else {
        0
    };
    let action = if disabled {
        "operator.disable"
    } else {
        "operator.enable"
    };
    let detail = serde_json::json!({ "username": username, "sessions_ended": ended });
    record(&mut tx, &Actor::System("cli"), action, detail, now).await?;
    tx.commit().await?;
    Ok(ended)
}

/// Sets a new password (`portal operator passwd`, or the operator's own change after the
/// current password was checked), ending the account's other sessions; `keep` is the
/// session id hash that stays (the one that made the change).
pub async fn set_password(
    db: &Db,
    actor: &Actor,
    username: &str,
    password: &str,
    keep: Option<&str>,
    now: OffsetDateTime,
) -> Result<(), OperatorError> {
    let phc = strong_hash(password).await?;
    let mut tx = db.write().await?;
    let op = db::operators::by_username(&mut tx, username)
        .await?
        .ok_or_else(|| OperatorError::Unknown(username.to_owned()))?;
    db::operators::set_password(&mut tx, op.id, &phc).await?;
    db::sessions::delete_for_operator(&mut tx, op.id, keep).await?;
    let detail = serde_json::json!({ "username": username });
    record(&mut tx, actor, "operator.password", detail, now).await?;
    tx.commit().await?;
    Ok(())
}

/// An operator changes their own password: the current one must be right.
pub async fn change_own_password(
    db: &Db,
    actor: &Actor,
    username: &str,
    current: &str,
    new: &str,
    session_id_hash: &str,
    now: OffsetDateTime,
) -> Result<(), OperatorError> {
    if verify_login(db, username, current).await?.is_none() {
        return Err(OperatorError::WrongPassword);
    }
    set_password(db, actor, username, new, Some(session_id_hash), now).await
}

#[derive(Debug, Clone)]
pub struct Operator {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub role: Option<OperatorRole>,
}

/// The operator if the password is right. An unknown user costs the same hash work, so
/// response time does not tell which usernames exist.
pub async fn verify_login(
    db: &Db,
    username: &str,
    password: &str,
) -> Result<Option<Operator>, OperatorError> {
    let row = db::operators::enabled(&mut *db.conn().await?, username).await?;
    let (op, phc) = match row {
        Some(r) => (
            Some(Operator {
                id: r.id,
                username: r.username,
                display_name: r.display_name,
                role: OperatorRole::from_code(&r.role),
            }),
            r.password_hash,
        ),
        None => (None, dummy_hash().to_owned()),
    };
    let pw = password.to_owned();
    let ok = tokio::task::spawn_blocking(move || verify(&pw, &phc))
        .await
        .map_err(|e| OperatorError::Hash(e.to_string()))?;
    Ok(op.filter(|_| ok))
}

fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| hash_password("not a real password, only spends time").unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_and_differ() {
        let a = hash_password("correct horse battery").unwrap();
        let b = hash_password("correct horse battery").unwrap();
        assert!(a.starts_with("$argon2id$"));
        assert_ne!(a, b, "salted");
        assert!(verify("correct horse battery", &a));
        assert!(!verify("wrong", &a));
        assert!(!verify("x", "not a phc string"));
    }

    #[test]
    fn usernames() {
        assert!(valid_username("ops.alice-1"));
        assert!(!valid_username(""));
        assert!(!valid_username("a b"));
        assert!(!valid_username("名字"));
    }
}
