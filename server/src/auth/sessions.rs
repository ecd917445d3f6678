//! Server-side sessions. The cookie holds 256 random bits; the database holds only their
//! SHA-256, so a leaked database does not leak live sessions. Idle and absolute timeouts,
//! a CSRF token per session, a fresh id on every login.

use base64::Engine as _;
use proto::Role;
use proto::api::SessionView;
use sha2::{Digest, Sha256};
use sqlx::any::AnyRow;
use sqlx::{AnyPool, Row as _};
use time::OffsetDateTime;

use crate::config::AuthSettings;
use crate::domain::{hex, rfc3339};

/// Touch `last_seen_at` at most this often (seconds), to keep reads from becoming writes.
const TOUCH_EVERY: i64 = 30;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub id_hash: String,
    pub role: Role,
    pub tax_id: Option<String>,
    pub username: Option<String>,
    pub display_name: String,
    pub csrf_token: String,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub expires_at: i64,
}

/// Who a new session is for.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub role: Role,
    pub tax_id: Option<String>,
    pub username: Option<String>,
    pub operator_id: Option<i64>,
    pub display_name: String,
}

pub fn random_token() -> Result<String, getrandom::Error> {
    let mut b = [0u8; 32];
    getrandom::fill(&mut b)?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b))
}

pub fn hash_token(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

impl Session {
    fn from_row(r: &AnyRow) -> Result<Session, sqlx::Error> {
        let role: String = r.try_get("role")?;
        Ok(Session {
            id_hash: r.try_get("id_hash")?,
            role: Role::from_code(&role).unwrap_or(Role::Applicant),
            tax_id: r.try_get("tax_id")?,
            username: r.try_get("username")?,
            display_name: r.try_get("display_name")?,
            csrf_token: r.try_get("csrf_token")?,
            created_at: r.try_get("created_at")?,
            last_seen_at: r.try_get("last_seen_at")?,
            expires_at: r.try_get("expires_at")?,
        })
    }

    /// When the session ends if the user stays idle from now on.
    pub fn effective_expiry(&self, auth: &AuthSettings) -> i64 {
        (self.last_seen_at + auth.idle_timeout_minutes * 60).min(self.expires_at)
    }

    pub fn view(&self, auth: &AuthSettings) -> SessionView {
        SessionView {
            role: self.role,
            tax_id: self.tax_id.clone(),
            display_name: self.display_name.clone(),
            csrf_token: self.csrf_token.clone(),
            expires_at: rfc3339(self.effective_expiry(auth)),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
    #[error("no system randomness: {0}")]
    Random(#[from] getrandom::Error),
}

/// Store a new session; returns the cookie value and the session.
pub async fn create(
    pool: &AnyPool,
    who: NewSession,
    auth: &AuthSettings,
    now: OffsetDateTime,
) -> Result<(String, Session), SessionError> {
    let token = random_token()?;
    let csrf = random_token()?;
    let t = now.unix_timestamp();
    let s = Session {
        id_hash: hash_token(&token),
        role: who.role,
        tax_id: who.tax_id,
        username: who.username,
        display_name: who.display_name,
        csrf_token: csrf,
        created_at: t,
        last_seen_at: t,
        expires_at: t + auth.absolute_timeout_hours * 3600,
    };
    sqlx::query(
        "INSERT INTO sessions (id_hash, role, tax_id, username, operator_id, display_name, \
         csrf_token, created_at, last_seen_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(s.id_hash.clone())
    .bind(s.role.code())
    .bind(s.tax_id.clone())
    .bind(s.username.clone())
    .bind(who.operator_id)
    .bind(s.display_name.clone())
    .bind(s.csrf_token.clone())
    .bind(s.created_at)
    .bind(s.last_seen_at)
    .bind(s.expires_at)
    .execute(pool)
    .await?;
    Ok((token, s))
}

/// The live session for a cookie value, touching it; expired sessions are deleted.
pub async fn lookup(
    pool: &AnyPool,
    token: &str,
    auth: &AuthSettings,
    now: OffsetDateTime,
) -> Result<Option<Session>, sqlx::Error> {
    let id_hash = hash_token(token);
    let row = sqlx::query(
        "SELECT id_hash, role, tax_id, username, display_name, csrf_token, created_at, \
         last_seen_at, expires_at FROM sessions WHERE id_hash = $1",
    )
    .bind(id_hash.clone())
    .fetch_optional(pool)
    .await?;
    let Some(mut s) = row.as_ref().map(Session::from_row).transpose()? else {
        return Ok(None);
    };
    let t = now.unix_timestamp();
    if t >= s.effective_expiry(auth) {
        delete_hash(pool, &id_hash).await?;
        return Ok(None);
    }
    if t - s.last_seen_at >= TOUCH_EVERY {
        sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE id_hash = $2")
            .bind(t)
            .bind(id_hash)
            .execute(pool)
            .await?;
        s.last_seen_at = t;
    }
    Ok(Some(s))
}

pub async fn delete(pool: &AnyPool, token: &str) -> Result<(), sqlx::Error> {
    delete_hash(pool, &hash_token(token)).await
}

async fn delete_hash(pool: &AnyPool, id_hash: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
        .bind(id_hash.to_owned())
        .execute(pool)
        .await?;
    Ok(())
}

/// Remove sessions past their absolute or idle limit (housekeeping job).
pub async fn purge(
    pool: &AnyPool,
    auth: &AuthSettings,
    now: OffsetDateTime,
) -> Result<u64, sqlx::Error> {
    let t = now.unix_timestamp();
    let r = sqlx::query("DELETE FROM sessions WHERE expires_at <= $1 OR last_seen_at <= $2")
        .bind(t)
        .bind(t - auth.idle_timeout_minutes * 60)
        .execute(pool)
        .await?;
    Ok(r.rows_affected())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_256_bits_and_distinct() {
        let a = random_token().unwrap();
        let b = random_token().unwrap();
        assert_ne!(a, b);
        assert_eq!(
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(&a)
                .unwrap()
                .len(),
            32
        );
        assert_eq!(hash_token(&a).len(), 64);
        assert_ne!(hash_token(&a), a);
    }

    #[test]
    fn expiry_is_the_earlier_of_idle_and_absolute() {
        let auth = AuthSettings::default();
        let mut s = Session {
            id_hash: String::new(),
            role: Role::Applicant,
            tax_id: None,
            username: None,
            display_name: String::new(),
            csrf_token: String::new(),
            created_at: 0,
            last_seen_at: 0,
            expires_at: 8 * 3600,
        };
        assert_eq!(s.effective_expiry(&auth), 30 * 60);
        s.last_seen_at = 8 * 3600 - 60;
        assert_eq!(s.effective_expiry(&auth), 8 * 3600);
    }
}
