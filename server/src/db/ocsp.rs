//! The `ocsp_responses` table: the pre-produced OCSP answer of each issued certificate.

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row as _};

use super::optional;
use super::query::Value;

#[derive(Debug, Clone)]
pub struct StoredOcsp {
    pub serial_hex: String,
    pub this_update: i64,
    pub next_update: i64,
    /// SHA-256 (hex) of the responder certificate that signed it.
    pub responder: String,
    pub der: Vec<u8>,
}

impl StoredOcsp {
    fn from_row(r: &AnyRow) -> Result<StoredOcsp, sqlx::Error> {
        Ok(StoredOcsp {
            serial_hex: r.try_get("serial_hex")?,
            this_update: r.try_get("this_update")?,
            next_update: r.try_get("next_update")?,
            responder: r.try_get("responder")?,
            der: r.try_get("der")?,
        })
    }
}

pub async fn get(
    conn: &mut AnyConnection,
    serial_hex: &str,
) -> Result<Option<StoredOcsp>, sqlx::Error> {
    optional(
        conn,
        "SELECT serial_hex, this_update, next_update, responder, der FROM ocsp_responses \
         WHERE serial_hex = $1",
        Value::Text(serial_hex.to_owned()),
        StoredOcsp::from_row,
    )
    .await
}

/// Stores the answer, replacing the certificate's previous one.
pub async fn put(conn: &mut AnyConnection, r: &StoredOcsp) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO ocsp_responses (serial_hex, this_update, next_update, responder, der) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (serial_hex) DO UPDATE SET \
         this_update = excluded.this_update, next_update = excluded.next_update, \
         responder = excluded.responder, der = excluded.der",
    )
    .bind(r.serial_hex.clone())
    .bind(r.this_update)
    .bind(r.next_update)
    .bind(r.responder.clone())
    .bind(r.der.clone())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Drops the certificate's stored answer (requests are then answered on demand).
pub async fn remove(conn: &mut AnyConnection, serial_hex: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM ocsp_responses WHERE serial_hex = $1")
        .bind(serial_hex.to_owned())
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Issued certificates still valid after `valid_after` whose answer is missing or ends
/// before `refresh_before`, oldest certificate first, at most `limit`.
pub async fn due(
    conn: &mut AnyConnection,
    valid_after: i64,
    refresh_before: i64,
    limit: i64,
) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query(
        "SELECT c.serial_hex FROM certificates c \
         LEFT JOIN ocsp_responses o ON o.serial_hex = c.serial_hex \
         WHERE c.cert_der IS NOT NULL AND c.not_after > $1 \
         AND (o.serial_hex IS NULL OR o.next_update < $2) \
         ORDER BY c.id LIMIT $3",
    )
    .bind(valid_after)
    .bind(refresh_before)
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|r| r.try_get("serial_hex"))
    .collect()
}
