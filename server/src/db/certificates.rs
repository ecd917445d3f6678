//! The `certificates` table: the stored request (serial, key, validity) written before
//! signing, the DER written once after, and the stored status (valid, suspended, revoked;
//! `expired` is never stored, it is derived from `not_after`).

use proto::CertStatus;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row as _};

use super::query::Value;
use super::{Lock, decode, optional, placeholders};

#[derive(Debug, Clone)]
pub struct CertRow {
    pub id: i64,
    pub application_id: i64,
    pub serial_hex: String,
    pub tax_id: String,
    pub cert_name: String,
    pub organization: String,
    pub organizational_unit: Option<String>,
    pub spki_der: Vec<u8>,
    pub csr_sha256: String,
    pub not_before: i64,
    pub not_after: i64,
    pub cert_der: Option<Vec<u8>>,
    /// Stored status: `Valid`, `Suspended` or `Revoked`.
    pub status: CertStatus,
    pub status_changed_at: Option<i64>,
    /// RFC 5280 reason code (`keyCompromise`, ...) of the current revocation or hold.
    pub status_reason: Option<String>,
    /// Who placed the current hold: `company:<tax id>` or `operator:<username>`.
    pub hold_placed_by: Option<String>,
}

const COLUMNS: &str = "c.id, c.application_id, c.serial_hex, c.tax_id, c.cert_name, \
    c.organization, c.organizational_unit, c.spki_der, c.csr_sha256, c.not_before, c.not_after, \
    c.cert_der, c.status, c.status_changed_at, c.status_reason, c.hold_placed_by";

impl CertRow {
    fn from_row(r: &AnyRow) -> Result<CertRow, sqlx::Error> {
        Ok(CertRow {
            id: r.try_get("id")?,
            application_id: r.try_get("application_id")?,
            serial_hex: r.try_get("serial_hex")?,
            tax_id: r.try_get("tax_id")?,
            cert_name: r.try_get("cert_name")?,
            organization: r.try_get("organization")?,
            organizational_unit: r.try_get("organizational_unit")?,
            spki_der: r.try_get("spki_der")?,
            csr_sha256: r.try_get("csr_sha256")?,
            not_before: r.try_get("not_before")?,
            not_after: r.try_get("not_after")?,
            cert_der: r.try_get("cert_der")?,
            status: decode(
                "certificate status",
                r.try_get("status")?,
                CertStatus::from_code,
            )?,
            status_changed_at: r.try_get("status_changed_at")?,
            status_reason: r.try_get("status_reason")?,
            hold_placed_by: r.try_get("hold_placed_by")?,
        })
    }
}

pub async fn of_application(
    conn: &mut AnyConnection,
    application_id: i64,
) -> Result<Option<CertRow>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS} FROM certificates c WHERE c.application_id = $1");
    optional(conn, &sql, Value::Int(application_id), CertRow::from_row).await
}

pub async fn by_id(
    conn: &mut AnyConnection,
    id: i64,
    lock: Lock,
) -> Result<Option<CertRow>, sqlx::Error> {
    let sql = format!(
        "SELECT {COLUMNS} FROM certificates c WHERE c.id = $1{}",
        lock.sql()
    );
    optional(conn, &sql, Value::Int(id), CertRow::from_row).await
}

pub async fn by_serial(
    conn: &mut AnyConnection,
    serial_hex: &str,
    lock: Lock,
) -> Result<Option<CertRow>, sqlx::Error> {
    let sql = format!(
        "SELECT {COLUMNS} FROM certificates c WHERE c.serial_hex = $1{}",
        lock.sql()
    );
    optional(
        conn,
        &sql,
        Value::Text(serial_hex.to_owned()),
        CertRow::from_row,
    )
    .await
}

/// The request stored before signing.
#[derive(Debug, Clone)]
pub struct NewRequest<'a> {
    pub application_id: i64,
    pub serial_hex: &'a str,
    pub tax_id: &'a str,
    pub cert_name: &'a str,
    pub organization: &'a str,
    pub organizational_unit: Option<&'a str>,
    pub spki_der: &'a [u8],
    pub csr_sha256: &'a str,
    pub key_info: &'a str,
    pub not_before: i64,
    pub not_after: i64,
    pub requested_at: i64,
    pub status: CertStatus,
}

/// Stores the request; returns the row id.
pub async fn insert_request(
    conn: &mut AnyConnection,
    n: &NewRequest<'_>,
) -> Result<i64, sqlx::Error> {
    sqlx::query(
        "INSERT INTO certificates (application_id, serial_hex, tax_id, cert_name, organization, \
         organizational_unit, spki_der, csr_sha256, key_info, not_before, not_after, \
         requested_at, status) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) \
         RETURNING id",
    )
    .bind(n.application_id)
    .bind(n.serial_hex.to_owned())
    .bind(n.tax_id.to_owned())
    .bind(n.cert_name.to_owned())
    .bind(n.organization.to_owned())
    .bind(n.organizational_unit.map(str::to_owned))
    .bind(n.spki_der.to_vec())
    .bind(n.csr_sha256.to_owned())
    .bind(n.key_info.to_owned())
    .bind(n.not_before)
    .bind(n.not_after)
    .bind(n.requested_at)
    .bind(n.status.code())
    .fetch_one(&mut *conn)
    .await?
    .try_get(0)
}

/// Stores the signed certificate unless one is stored already (then false).
pub async fn store_der(
    conn: &mut AnyConnection,
    id: i64,
    der: &[u8],
    at: i64,
) -> Result<bool, sqlx::Error> {
    let n = sqlx::query(
        "UPDATE certificates SET cert_der = $1, issued_at = $2 WHERE id = $3 AND cert_der IS NULL",
    )
    .bind(der.to_vec())
    .bind(at)
    .bind(id)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    Ok(n == 1)
}

/// What a status change records besides the status (both cleared when absent).
#[derive(Debug, Clone, Copy, Default)]
pub struct StatusMark<'a> {
    pub reason: Option<&'a str>,
    pub hold_placed_by: Option<&'a str>,
}

/// `from` → `to` if the row is still in `from`; false when another transaction moved it.
pub async fn move_status(
    conn: &mut AnyConnection,
    id: i64,
    from: CertStatus,
    to: CertStatus,
    mark: StatusMark<'_>,
    at: i64,
) -> Result<bool, sqlx::Error> {
    let n = sqlx::query(
        "UPDATE certificates SET status = $1, status_changed_at = $2, status_reason = $3, \
         hold_placed_by = $4 WHERE id = $5 AND status = $6",
    )
    .bind(to.code())
    .bind(at)
    .bind(mark.reason.map(str::to_owned))
    .bind(mark.hold_placed_by.map(str::to_owned))
    .bind(id)
    .bind(from.code())
    .execute(&mut *conn)
    .await?
    .rows_affected();
    Ok(n == 1)
}

/// An issued certificate in one of the listed statuses, as the CRL needs it.
#[derive(Debug, Clone)]
pub struct Listed {
    pub serial_hex: String,
    pub status: CertStatus,
    /// When it entered the status (its `not_before` if that was never recorded).
    pub since: i64,
    /// The recorded RFC 5280 reason code, if any.
    pub reason: Option<String>,
}

const LISTED_COLUMNS: &str = "serial_hex, status, status_changed_at, status_reason, not_before";

impl Listed {
    fn from_row(r: &AnyRow) -> Result<Listed, sqlx::Error> {
        let changed: Option<i64> = r.try_get("status_changed_at")?;
        Ok(Listed {
            serial_hex: r.try_get("serial_hex")?,
            status: decode(
                "certificate status",
                r.try_get("status")?,
                CertStatus::from_code,
            )?,
            since: match changed {
                Some(t) => t,
                None => r.try_get("not_before")?,
            },
            reason: r.try_get("status_reason")?,
        })
    }
}

/// Every issued certificate whose stored status is one of `statuses`.
pub async fn issued_in(
    conn: &mut AnyConnection,
    statuses: &[CertStatus],
) -> Result<Vec<Listed>, sqlx::Error> {
    if statuses.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT {LISTED_COLUMNS} FROM certificates WHERE status IN ({}) AND cert_der IS NOT NULL",
        placeholders(1, statuses.len())
    );
    let mut q = sqlx::query(&sql);
    for s in statuses {
        q = q.bind(s.code());
    }
    q.fetch_all(&mut *conn)
        .await?
        .iter()
        .map(Listed::from_row)
        .collect()
}

/// Ids of renew applications whose certificate was issued at or before `issued_before` while
/// the certificate they renew is still valid or suspended and unexpired at `now`.
pub async fn renewals_past_grace(
    conn: &mut AnyConnection,
    issued_before: i64,
    now: i64,
    limit: i64,
) -> Result<Vec<i64>, sqlx::Error> {
    let q = sqlx::query(
        "SELECT r.id FROM applications r \
         JOIN certificates n ON n.application_id = r.id \
         JOIN certificates o ON o.application_id = r.target_id \
         WHERE r.app_type = $1 AND n.cert_der IS NOT NULL AND n.issued_at <= $2 \
         AND o.cert_der IS NOT NULL AND o.status IN ($3, $4) AND o.not_after > $5 \
         ORDER BY n.issued_at LIMIT $6",
    )
    .bind(proto::ApplicationType::Renew.code())
    .bind(issued_before)
    .bind(CertStatus::Valid.code())
    .bind(CertStatus::Suspended.code())
    .bind(now)
    .bind(limit);
    super::ids(conn, q).await
}

/// The issued certificate with this serial, whatever its status (OCSP answers).
pub async fn issued_by_serial(
    conn: &mut AnyConnection,
    serial_hex: &str,
) -> Result<Option<Listed>, sqlx::Error> {
    let sql = format!(
        "SELECT {LISTED_COLUMNS} FROM certificates WHERE serial_hex = $1 AND cert_der IS NOT NULL"
    );
    optional(
        conn,
        &sql,
        Value::Text(serial_hex.to_owned()),
        Listed::from_row,
    )
    .await
}
