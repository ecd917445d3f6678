//! The `registrations` table (憑證註冊): at most one per certificate.

use proto::CustomsOffice;
use sqlx::{AnyConnection, Row as _};

pub async fn exists(conn: &mut AnyConnection, certificate_id: i64) -> Result<bool, sqlx::Error> {
    let row = sqlx::query("SELECT COUNT(*) FROM registrations WHERE certificate_id = $1")
        .bind(certificate_id)
        .fetch_one(&mut *conn)
        .await?;
    Ok(row.try_get::<i64, _>(0)? > 0)
}

#[derive(Debug, Clone)]
pub struct NewRegistration<'a> {
    pub certificate_id: i64,
    pub staff_name: &'a str,
    pub customs_office: CustomsOffice,
    pub broker_code: &'a str,
    pub cert_type: &'a str,
    pub at: i64,
}

pub async fn insert(conn: &mut AnyConnection, n: &NewRegistration<'_>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO registrations (certificate_id, staff_name, customs_office, broker_code, \
         cert_type, registered_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(n.certificate_id)
    .bind(n.staff_name.to_owned())
    .bind(n.customs_office.code())
    .bind(n.broker_code.to_owned())
    .bind(n.cert_type.to_owned())
    .bind(n.at)
    .execute(&mut *conn)
    .await?;
    Ok(())
}
