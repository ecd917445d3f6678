//! The operator's grid over `applications`: one page in a chosen order, the counts per
//! status under the same filter, and the flat rows of the CSV export. Offset paging on the
//! `(created_at, id)` and `(status, created_at, id)` indexes (migration 0007).

use proto::admin::{SortDir, SortKey};
use proto::{ApplicationType, BillStatus, CertStatus, Status};
use sqlx::{AnyConnection, Row as _};

use super::applications::{AppRow, COLUMNS, Search, filter};
use super::decode;
use super::query::Value;

fn order_by(sort: SortKey, dir: SortDir) -> String {
    let col = match sort {
        SortKey::CreatedAt => "a.created_at",
        SortKey::Serial => "a.serial",
        SortKey::TaxId => "a.tax_id",
        SortKey::Company => "a.company_name",
        SortKey::AppType => "a.app_type",
        SortKey::Status => "a.status",
    };
    let d = match dir {
        SortDir::Asc => "ASC",
        SortDir::Desc => "DESC",
    };
    // The id breaks ties so pages never repeat or skip a row.
    format!("{col} {d}, a.id {d}")
}

/// Rows `offset..offset + limit` of the filter in the chosen order.
pub async fn page(
    conn: &mut AnyConnection,
    s: &Search,
    sort: SortKey,
    dir: SortDir,
    limit: i64,
    offset: i64,
) -> Result<Vec<AppRow>, sqlx::Error> {
    let mut f = filter(s, true);
    let lim = f.bind_next(Value::Int(limit));
    let off = f.bind_next(Value::Int(offset));
    let sql = format!(
        "SELECT {COLUMNS} FROM applications a{} ORDER BY {} LIMIT {lim} OFFSET {off}",
        f.where_clause(),
        order_by(sort, dir)
    );
    let rows = f.bind(sqlx::query(&sql)).fetch_all(&mut *conn).await?;
    rows.iter().map(AppRow::from_row).collect()
}

/// Applications per status under the filter without its status (the status tabs' counts).
pub async fn counts(
    conn: &mut AnyConnection,
    s: &Search,
) -> Result<Vec<(Status, u64)>, sqlx::Error> {
    let f = filter(s, false);
    let sql = format!(
        "SELECT a.status, COUNT(*) AS n FROM applications a{} GROUP BY a.status",
        f.where_clause()
    );
    let rows = f.bind(sqlx::query(&sql)).fetch_all(&mut *conn).await?;
    rows.iter()
        .map(|r| {
            let n: i64 = r.try_get("n")?;
            Ok((
                decode("status", r.try_get("status")?, Status::from_code)?,
                u64::try_from(n).unwrap_or(0),
            ))
        })
        .collect()
}

/// One line of the CSV export.
#[derive(Debug, Clone)]
pub struct ExportRow {
    pub serial: String,
    pub created_at: i64,
    pub tax_id: String,
    pub company_name: String,
    pub app_type: ApplicationType,
    pub status: Status,
    pub bill_no: Option<String>,
    pub amount: Option<i64>,
    pub bill_status: Option<BillStatus>,
    pub paid_at: Option<i64>,
    pub cert_serial: Option<String>,
    /// Stored status (expiry is derived by the caller from `not_after`).
    pub cert_status: Option<CertStatus>,
    pub not_after: Option<i64>,
}

/// At most `limit` export rows of the filter in the chosen order.
pub async fn export(
    conn: &mut AnyConnection,
    s: &Search,
    sort: SortKey,
    dir: SortDir,
    limit: i64,
) -> Result<Vec<ExportRow>, sqlx::Error> {
    let mut f = filter(s, true);
    let lim = f.bind_next(Value::Int(limit));
    let sql = format!(
        "SELECT a.serial, a.created_at, a.tax_id, a.company_name, a.app_type, a.status, \
         b.bill_no, b.amount, b.status AS bill_status, b.paid_at, \
         c.serial_hex, c.status AS cert_status, c.not_after \
         FROM applications a \
         LEFT JOIN bills b ON b.application_id = a.id \
         LEFT JOIN certificates c ON c.application_id = a.id AND c.cert_der IS NOT NULL{} \
         ORDER BY {} LIMIT {lim}",
        f.where_clause(),
        order_by(sort, dir)
    );
    let rows = f.bind(sqlx::query(&sql)).fetch_all(&mut *conn).await?;
    rows.iter()
        .map(|r| {
            let bill_status: Option<String> = r.try_get("bill_status")?;
            let cert_status: Option<String> = r.try_get("cert_status")?;
            Ok(ExportRow {
                serial: r.try_get("serial")?,
                created_at: r.try_get("created_at")?,
                tax_id: r.try_get("tax_id")?,
                company_name: r.try_get("company_name")?,
                app_type: decode(
                    "app_type",
                    r.try_get("app_type")?,
                    ApplicationType::from_code,
                )?,
                status: decode("status", r.try_get("status")?, Status::from_code)?,
                bill_no: r.try_get("bill_no")?,
                amount: r.try_get("amount")?,
                bill_status: bill_status
                    .map(|s| decode("bill status", s, BillStatus::from_code))
                    .transpose()?,
                paid_at: r.try_get("paid_at")?,
                cert_serial: r.try_get("serial_hex")?,
                cert_status: cert_status
                    .map(|s| decode("certificate status", s, CertStatus::from_code))
                    .transpose()?,
                not_after: r.try_get("not_after")?,
            })
        })
        .collect()
}
