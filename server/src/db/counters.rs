//! Named sequences (daily application numbers, monthly bill numbers, certificate names, CRL
//! numbers). The upsert takes the counter row's lock until commit, so concurrent transactions
//! on PostgreSQL queue up instead of handing out the same number; on SQLite the write
//! transaction already serialises them.

use sqlx::AnyConnection;
use sqlx::Row as _;

/// The next value of `name`, starting at 1.
pub async fn next(conn: &mut AnyConnection, name: &str) -> Result<i64, sqlx::Error> {
    let row = sqlx::query(
        "INSERT INTO counters (name, value) VALUES ($1, 1) \
         ON CONFLICT (name) DO UPDATE SET value = counters.value + 1 \
         RETURNING value",
    )
    .bind(name)
    .fetch_one(&mut *conn)
    .await?;
    row.try_get::<i64, _>(0)
}
