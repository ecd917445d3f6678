//! The `card_challenges` table: single-use texts an IC card signs to log in.

use sqlx::{AnyConnection, Row as _};

/// Drops challenges that expired before `now`.
pub async fn purge_expired(conn: &mut AnyConnection, now: i64) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM card_challenges WHERE expires_at < $1")
        .bind(now)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

pub async fn insert(
    conn: &mut AnyConnection,
    id: &str,
    tbs: &str,
    created_at: i64,
    expires_at: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO card_challenges (id, tbs, created_at, expires_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(id.to_owned())
    .bind(tbs.to_owned())
    .bind(created_at)
    .bind(expires_at)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Marks the challenge used if it is unused and unexpired at `now`; returns its text then.
pub async fn consume(
    conn: &mut AnyConnection,
    id: &str,
    now: i64,
) -> Result<Option<String>, sqlx::Error> {
    let used = sqlx::query(
        "UPDATE card_challenges SET used_at = $1 WHERE id = $2 AND used_at IS NULL AND expires_at > $3",
    )
    .bind(now)
    .bind(id.to_owned())
    .bind(now)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if used != 1 {
        return Ok(None);
    }
    let tbs: String = sqlx::query("SELECT tbs FROM card_challenges WHERE id = $1")
        .bind(id.to_owned())
        .fetch_one(&mut *conn)
        .await?
        .try_get(0)?;
    Ok(Some(tbs))
}
