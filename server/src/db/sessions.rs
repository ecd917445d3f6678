//! The `sessions` table. Rows are keyed by the SHA-256 of the cookie value, never the value.

use proto::Role;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row as _};

use super::query::Value;
use super::{decode, optional};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRow {
    pub id_hash: String,
    pub role: Role,
    pub tax_id: Option<String>,
    pub username: Option<String>,
    pub operator_id: Option<i64>,
    pub display_name: String,
    pub csrf_token: String,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub expires_at: i64,
    /// The company name the card certificate proves (card logins only).
    pub company_name: Option<String>,
    /// Read from the operator's account at every lookup (not stored with the session): its
    /// current role, `None` when the account is gone or disabled.
    pub operator_role: Option<String>,
}

impl SessionRow {
    fn from_row(r: &AnyRow) -> Result<SessionRow, sqlx::Error> {
        Ok(SessionRow {
            id_hash: r.try_get("id_hash")?,
            role: decode("role", r.try_get("role")?, Role::from_code)?,
            tax_id: r.try_get("tax_id")?,
            username: r.try_get("username")?,
            operator_id: r.try_get("operator_id")?,
            display_name: r.try_get("display_name")?,
            csrf_token: r.try_get("csrf_token")?,
            created_at: r.try_get("created_at")?,
            last_seen_at: r.try_get("last_seen_at")?,
            expires_at: r.try_get("expires_at")?,
            company_name: r.try_get("company_name")?,
            operator_role: r.try_get("operator_role")?,
        })
    }
}

pub async fn insert(conn: &mut AnyConnection, s: &SessionRow) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO sessions (id_hash, role, tax_id, username, operator_id, display_name, \
         csrf_token, created_at, last_seen_at, expires_at, company_name) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(s.id_hash.clone())
    .bind(s.role.code())
    .bind(s.tax_id.clone())
    .bind(s.username.clone())
    .bind(s.operator_id)
    .bind(s.display_name.clone())
    .bind(s.csrf_token.clone())
    .bind(s.created_at)
    .bind(s.last_seen_at)
    .bind(s.expires_at)
    .bind(s.company_name.clone())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub async fn by_hash(
    conn: &mut AnyConnection,
    id_hash: &str,
) -> Result<Option<SessionRow>, sqlx::Error> {
    // A disabled operator's sessions end at once: the join finds no role for them.
    let sql = "SELECT s.id_hash, s.role, s.tax_id, s.username, s.operator_id, s.display_name, \
         s.csrf_token, s.created_at, s.last_seen_at, s.expires_at, s.company_name, \
         o.role AS operator_role FROM sessions s \
         LEFT JOIN operators o ON o.id = s.operator_id AND o.disabled = 0 \
         WHERE s.id_hash = $1";
    optional(
        conn,
        sql,
        Value::Text(id_hash.to_owned()),
        SessionRow::from_row,
    )
    .await
}

pub async fn touch(conn: &mut AnyConnection, id_hash: &str, at: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE id_hash = $2")
        .bind(at)
        .bind(id_hash.to_owned())
        .execute(&mut *conn)
        .await?;
    Ok(())
}

pub async fn delete(conn: &mut AnyConnection, id_hash: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
        .bind(id_hash.to_owned())
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Ends the sessions of an operator account (disabled, or its password changed) but the
/// one whose id hash is `keep`.
pub async fn delete_for_operator(
    conn: &mut AnyConnection,
    operator_id: i64,
    keep: Option<&str>,
) -> Result<u64, sqlx::Error> {
    let r = sqlx::query("DELETE FROM sessions WHERE operator_id = $1 AND id_hash <> $2")
        .bind(operator_id)
        .bind(keep.unwrap_or_default().to_owned())
        .execute(&mut *conn)
        .await?;
    Ok(r.rows_affected())
}

/// Deletes sessions past their absolute limit (`expires_at <= now`) or idle since
/// `idle_since`; returns how many.
pub async fn purge(
    conn: &mut AnyConnection,
    now: i64,
    idle_since: i64,
) -> Result<u64, sqlx::Error> {
    let r = sqlx::query("DELETE FROM sessions WHERE expires_at <= $1 OR last_seen_at <= $2")
        .bind(now)
        .bind(idle_since)
        .execute(&mut *conn)
        .await?;
    Ok(r.rows_affected())
}
