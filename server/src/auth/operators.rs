//! Operator accounts: argon2id password hashes, created from the command line.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
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

pub async fn add(
    db: &Db,
    username: &str,
    password: &str,
    now: OffsetDateTime,
) -> Result<i64, OperatorError> {
    if !valid_username(username) {
        return Err(OperatorError::Username);
    }
    if password.chars().count() < 12 {
        return Err(OperatorError::WeakPassword);
    }
    if db::operators::exists(&mut *db.conn().await?, username).await? {
        return Err(OperatorError::Exists(username.to_owned()));
    }
    let pw = password.to_owned();
    let phc = tokio::task::spawn_blocking(move || hash_password(&pw))
        .await
        .map_err(|e| OperatorError::Hash(e.to_string()))??;
    let mut tx = db.write().await?;
    let id = db::operators::insert(&mut tx, username, &phc, username, now.unix_timestamp()).await?;
    audit::record(
        &mut tx,
        &Actor::System("cli"),
        audit::Entry {
            action: "operator.add",
            detail: serde_json::json!({ "username": username }),
            ..audit::Entry::default()
        },
        now,
    )
    .await
    .map_err(|e| OperatorError::Hash(format!("audit: {e}")))?;
    tx.commit().await?;
    Ok(id)
}

#[derive(Debug, Clone)]
pub struct Operator {
    pub id: i64,
    pub username: String,
    pub display_name: String,
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
