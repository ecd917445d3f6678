//! The `operators` table (argon2id PHC strings, never passwords).

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row as _};

#[derive(Debug, Clone)]
pub struct OperatorRow {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub password_hash: String,
    /// `OperatorRole` code.
    pub role: String,
    pub disabled: bool,
    pub created_at: i64,
}

const COLUMNS: &str = "id, username, display_name, password_hash, role, disabled, created_at";

impl OperatorRow {
    fn from_row(r: &AnyRow) -> Result<OperatorRow, sqlx::Error> {
        let disabled: i64 = r.try_get("disabled")?;
        Ok(OperatorRow {
            id: r.try_get("id")?,
            username: r.try_get("username")?,
            display_name: r.try_get("display_name")?,
            password_hash: r.try_get("password_hash")?,
            role: r.try_get("role")?,
            disabled: disabled != 0,
            created_at: r.try_get("created_at")?,
        })
    }
}

pub async fn exists(conn: &mut AnyConnection, username: &str) -> Result<bool, sqlx::Error> {
    Ok(by_username(conn, username).await?.is_some())
}

/// Inserts an enabled operator; returns its id.
pub async fn insert(
    conn: &mut AnyConnection,
    username: &str,
    password_hash: &str,
    role: &str,
    at: i64,
) -> Result<i64, sqlx::Error> {
    sqlx::query(
        "INSERT INTO operators (username, password_hash, display_name, created_at, disabled, \
         role) VALUES ($1, $2, $3, $4, 0, $5) RETURNING id",
    )
    .bind(username.to_owned())
    .bind(password_hash.to_owned())
    .bind(username.to_owned())
    .bind(at)
    .bind(role.to_owned())
    .fetch_one(&mut *conn)
    .await?
    .try_get(0)
}

/// The operator with this username, enabled or not.
pub async fn by_username(
    conn: &mut AnyConnection,
    username: &str,
) -> Result<Option<OperatorRow>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS} FROM operators WHERE username = $1");
    sqlx::query(&sql)
        .bind(username.to_owned())
        .fetch_optional(&mut *conn)
        .await?
        .as_ref()
        .map(OperatorRow::from_row)
        .transpose()
}

/// The enabled operator with this username.
pub async fn enabled(
    conn: &mut AnyConnection,
    username: &str,
) -> Result<Option<OperatorRow>, sqlx::Error> {
    Ok(by_username(conn, username).await?.filter(|o| !o.disabled))
}

/// Every operator, by username.
pub async fn list(conn: &mut AnyConnection) -> Result<Vec<OperatorRow>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS} FROM operators ORDER BY username");
    sqlx::query(&sql)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(OperatorRow::from_row)
        .collect()
}

/// Turns an account off or on; false when no such operator.
pub async fn set_disabled(
    conn: &mut AnyConnection,
    id: i64,
    disabled: bool,
) -> Result<bool, sqlx::Error> {
    let n = sqlx::query("UPDATE operators SET disabled = $1 WHERE id = $2")
        .bind(i64::from(disabled))
        .bind(id)
        .execute(&mut *conn)
        .await?
        .rows_affected();
    Ok(n == 1)
}

pub async fn set_password(
    conn: &mut AnyConnection,
    id: i64,
    password_hash: &str,
) -> Result<bool, sqlx::Error> {
    let n = sqlx::query("UPDATE operators SET password_hash = $1 WHERE id = $2")
        .bind(password_hash.to_owned())
        .bind(id)
        .execute(&mut *conn)
        .await?
        .rows_affected();
    Ok(n == 1)
}
