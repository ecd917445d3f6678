//! The `crls` table: every CRL signed, so all instances serve the same latest one.

use sqlx::{AnyConnection, Row as _};

#[derive(Debug, Clone)]
pub struct StoredCrl {
    pub crl_number: i64,
    pub this_update: i64,
    pub next_update: i64,
    pub ca_fingerprint: String,
    pub der: Vec<u8>,
}

pub async fn latest(conn: &mut AnyConnection) -> Result<Option<StoredCrl>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT crl_number, this_update, next_update, ca_fingerprint, der FROM crls \
         ORDER BY crl_number DESC LIMIT 1",
    )
    .fetch_optional(&mut *conn)
    .await?;
    row.map(|r| {
        Ok(StoredCrl {
            crl_number: r.try_get("crl_number")?,
            this_update: r.try_get("this_update")?,
            next_update: r.try_get("next_update")?,
            ca_fingerprint: r.try_get("ca_fingerprint")?,
            der: r.try_get("der")?,
        })
    })
    .transpose()
}

pub async fn insert(conn: &mut AnyConnection, crl: &StoredCrl) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO crls (crl_number, this_update, next_update, ca_fingerprint, der) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(crl.crl_number)
    .bind(crl.this_update)
    .bind(crl.next_update)
    .bind(crl.ca_fingerprint.clone())
    .bind(crl.der.clone())
    .execute(&mut *conn)
    .await?;
    Ok(())
}
