//! Rate-limit events shared by every instance on the database: one row per counted event
//! under a key, counted inside a sliding window.

use sqlx::AnyConnection;
use sqlx::Row as _;

/// Events of `key` after `since` (Unix seconds).
pub async fn count(conn: &mut AnyConnection, key: &str, since: i64) -> Result<i64, sqlx::Error> {
    let row = sqlx::query("SELECT COUNT(*) FROM rate_events WHERE key = $1 AND at > $2")
        .bind(key)
        .bind(since)
        .fetch_one(&mut *conn)
        .await?;
    row.try_get::<i64, _>(0)
}

/// Record one event for each key.
pub async fn record(conn: &mut AnyConnection, keys: &[&str], at: i64) -> Result<(), sqlx::Error> {
    for key in keys {
        sqlx::query("INSERT INTO rate_events (key, at) VALUES ($1, $2)")
            .bind(*key)
            .bind(at)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// Forget the events of `key` (a successful login clears its account's failures).
pub async fn clear(conn: &mut AnyConnection, key: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM rate_events WHERE key = $1")
        .bind(key)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Drop events at or before `before`; returns how many.
pub async fn purge(conn: &mut AnyConnection, before: i64) -> Result<u64, sqlx::Error> {
    let r = sqlx::query("DELETE FROM rate_events WHERE at <= $1")
        .bind(before)
        .execute(&mut *conn)
        .await?;
    Ok(r.rows_affected())
}
