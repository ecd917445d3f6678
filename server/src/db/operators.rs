//! The `operators` table (argon2id PHC strings, never passwords).

use sqlx::{AnyConnection, Row as _};

#[derive(Debug, Clone)]
pub struct OperatorRow {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub password_hash: String,
}

pub async fn exists(conn: &mut AnyConnection, username: &str) -> Result<bool, sqlx::Error> {
    let n: i64 = sqlx::query("SELECT COUNT(*) FROM operators WHERE username = $1")
        .bind(username.to_owned())
        .fetch_one(&mut *conn)
        .await?
        .try_get(0)?;
    Ok(n > 0)
}

/// Inserts an enabled operator; returns its id.
pub async fn insert(
    conn: &mut AnyConnection,
    username: &str,
    password_hash: &str,
    display_name: &str,
    at: i64,
) -> Result<i64, sqlx::Error> {
    sqlx::query(
        "INSERT INTO operators (username, password_hash, display_name, created_at, disabled) \
         VALUES ($1, $2, $3, $4, 0) RETURNING id",
    )
    .bind(username.to_owned())
    .bind(password_hash.to_owned())
    .bind(display_name.to_owned())
    .bind(at)
    .fetch_one(&mut *conn)
    .await?
    .try_get(0)
}

/// The enabled operator with this username.
pub async fn enabled(
    conn: &mut AnyConnection,
    username: &str,
) -> Result<Option<OperatorRow>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT id, username, display_name, password_hash FROM operators \
         WHERE username = $1 AND disabled = 0",
    )
    .bind(username.to_owned())
    .fetch_optional(&mut *conn)
    .await?;
    row.map(|r| {
        Ok(OperatorRow {
            id: r.try_get("id")?,
            username: r.try_get("username")?,
            display_name: r.try_get("display_name")?,
            password_hash: r.try_get("password_hash")?,
        })
    })
    .transpose()
}
