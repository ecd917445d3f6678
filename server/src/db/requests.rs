//! `application_requests`: the `Idempotency-Key` of each application a request made.

use sqlx::{AnyConnection, Row as _};

/// What an earlier request with a key made.
#[derive(Debug, Clone)]
pub struct Earlier {
    pub request_hash: String,
    pub application_id: i64,
}

pub async fn find(
    conn: &mut AnyConnection,
    tax_id: &str,
    key: &str,
) -> Result<Option<Earlier>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT application_id, request_hash FROM application_requests \
         WHERE tax_id = $1 AND idempotency_key = $2",
    )
    .bind(tax_id.to_owned())
    .bind(key.to_owned())
    .fetch_optional(&mut *conn)
    .await?;
    row.map(|r| {
        Ok(Earlier {
            request_hash: r.try_get("request_hash")?,
            application_id: r.try_get("application_id")?,
        })
    })
    .transpose()
}

/// Fails with a unique violation when another request with the key committed first.
pub async fn insert(
    conn: &mut AnyConnection,
    tax_id: &str,
    key: &str,
    request_hash: &str,
    application_id: i64,
    at: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO application_requests (tax_id, idempotency_key, request_hash, \
         application_id, created_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(tax_id.to_owned())
    .bind(key.to_owned())
    .bind(request_hash.to_owned())
    .bind(application_id)
    .bind(at)
    .execute(&mut *conn)
    .await?;
    Ok(())
}
