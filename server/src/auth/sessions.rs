//! Server-side sessions. The cookie holds 256 random bits; the database holds only their
//! SHA-256, so a leaked database does not leak live sessions. Idle and absolute timeouts,
//! a CSRF token per session, a fresh id on every login.

use base64::Engine as _;
use proto::api::SessionView;
use proto::{OperatorRole, Role};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::config::AuthSettings;
use crate::db::Db;
use crate::db::sessions::{self as rows, SessionRow};
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
    /// The company name the card certificate proves; `None` without a card.
    pub company_name: Option<String>,
    /// Operators: the account's current role.
    pub operator_role: Option<OperatorRole>,
    /// Copied from the configuration for the session view (the red banner).
    pub dev_login: bool,
}

/// Who a new session is for.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub role: Role,
    pub tax_id: Option<String>,
    pub username: Option<String>,
    pub operator_id: Option<i64>,
    pub display_name: String,
    /// Verified by the card certificate (card logins only).
    pub company_name: Option<String>,
    /// Operators: the account's role at login.
    pub operator_role: Option<OperatorRole>,
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
    fn from_row(r: SessionRow, auth: &AuthSettings) -> Session {
        Session {
            company_name: r.company_name,
            operator_role: r.operator_role.as_deref().and_then(OperatorRole::from_code),
            dev_login: auth.dev_login,
            id_hash: r.id_hash,
            role: r.role,
            tax_id: r.tax_id,
            username: r.username,
            display_name: r.display_name,
            csrf_token: r.csrf_token,
            created_at: r.created_at,
            last_seen_at: r.last_seen_at,
            expires_at: r.expires_at,
        }
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
            company_name: self.company_name.clone(),
            operator_role: self.operator_role,
            dev_login: self.dev_login,
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
    db: &Db,
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
        company_name: who.company_name,
        operator_role: who.operator_role,
        dev_login: auth.dev_login,
    };
    let row = SessionRow {
        id_hash: s.id_hash.clone(),
        role: s.role,
        tax_id: s.tax_id.clone(),
        username: s.username.clone(),
        operator_id: who.operator_id,
        display_name: s.display_name.clone(),
        csrf_token: s.csrf_token.clone(),
        created_at: s.created_at,
        last_seen_at: s.last_seen_at,
        expires_at: s.expires_at,
        company_name: s.company_name.clone(),
        operator_role: None,
    };
    rows::insert(&mut *db.conn().await?, &row).await?;
    Ok((token, s))
}

/// The live session for a cookie value, touching it; expired sessions are deleted.
pub async fn lookup(
    db: &Db,
    token: &str,
    auth: &AuthSettings,
    now: OffsetDateTime,
) -> Result<Option<Session>, sqlx::Error> {
    let id_hash = hash_token(token);
    let mut conn = db.conn().await?;
    let Some(mut s) = rows::by_hash(&mut conn, &id_hash)
        .await?
        .map(|r| Session::from_row(r, auth))
    else {
        return Ok(None);
    };
    let t = now.unix_timestamp();
    // An operator session lives only as long as an enabled account with a role backs it.
    let orphan = s.role == Role::Operator && s.operator_role.is_none();
    if orphan || t >= s.effective_expiry(auth) {
        rows::delete(&mut conn, &id_hash).await?;
        return Ok(None);
    }
    if t - s.last_seen_at >= TOUCH_EVERY {
        rows::touch(&mut conn, &id_hash, t).await?;
        s.last_seen_at = t;
    }
    Ok(Some(s))
}

/// Ends the session a cookie value names.
pub async fn delete(db: &Db, token: &str) -> Result<(), sqlx::Error> {
    end(db, &hash_token(token)).await
}

/// Ends the session with this id hash (logout).
pub async fn end(db: &Db, id_hash: &str) -> Result<(), sqlx::Error> {
    rows::delete(&mut *db.conn().await?, id_hash).await
}

/// Remove sessions past their absolute or idle limit (housekeeping job).
pub async fn purge(db: &Db, auth: &AuthSettings, now: OffsetDateTime) -> Result<u64, sqlx::Error> {
    let t = now.unix_timestamp();
    rows::purge(
        &mut *db.conn().await?,
        t,
        t - auth.idle_timeout_minutes * 60,
    )
    .await
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
            company_name: None,
            operator_role: None,
            dev_login: false,
        };
        assert_eq!(s.effective_expiry(&auth), 30 * 60);
        s.last_seen_at = 8 * 3600 - 60;
        assert_eq!(s.effective_expiry(&auth), 8 * 3600);
    }
}
