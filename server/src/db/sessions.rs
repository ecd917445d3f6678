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
        })
    }
}

pub async fn insert(conn: &mut AnyConnection, s: &SessionRow) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO sessions (id_hash, role, tax_id, username, operator_id, display_name, \
         csrf_token, created_at, last_seen_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
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
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub async fn by_hash(
    conn: &mut AnyConnection,
    id_hash: &str,
) -> Result<Option<SessionRow>, sqlx::Error> {
    let sql = "SELECT id_hash, role, tax_id, username, operator_id, display_name, csrf_token, \
         created_at, last_seen_at, expires_at FROM sessions WHERE id_hash = $1";
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
