//! The `applications` table: rows, lookups, the search, inserts and the conditional status
//! update every application transition goes through.

use proto::api::{CompanyInput, ContactInput};
use proto::{ApplicationType, BillStatus, BusinessType, CertKind, CustomsOffice, Status};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row as _};

use super::query::{Filter, Value};
use super::{Lock, decode, optional, placeholders};

#[derive(Debug, Clone)]
pub struct AppRow {
    pub id: i64,
    pub serial: String,
    pub tax_id: String,
    pub app_type: ApplicationType,
    pub status: Status,
    pub target_id: Option<i64>,
    pub company: CompanyInput,
    pub contact: ContactInput,
    pub customs_office: CustomsOffice,
    pub business_type: BusinessType,
    pub box_number: String,
    pub cert_kind: CertKind,
    pub staff_code: String,
    pub staff_national_id: String,
    pub cert_name: Option<String>,
    pub reason: String,
    pub created_at: i64,
    pub updated_at: i64,
}

pub(super) const COLUMNS: &str = "a.id, a.serial, a.tax_id, a.app_type, a.status, a.target_id, \
    a.company_name, a.company_phone, a.company_fax, a.responsible_person, a.responsible_phone, \
    a.contact_name, a.contact_phone, a.contact_mobile, a.contact_email, a.customs_office, \
    a.business_type, a.box_number, a.cert_kind, a.staff_code, a.staff_national_id, a.cert_name, \
    a.reason, a.created_at, a.updated_at";

impl AppRow {
    pub(super) fn from_row(r: &AnyRow) -> Result<AppRow, sqlx::Error> {
        Ok(AppRow {
            id: r.try_get("id")?,
            serial: r.try_get("serial")?,
            tax_id: r.try_get("tax_id")?,
            app_type: decode(
                "app_type",
                r.try_get("app_type")?,
                ApplicationType::from_code,
            )?,
            status: decode("status", r.try_get("status")?, Status::from_code)?,
            target_id: r.try_get("target_id")?,
            company: CompanyInput {
                name: r.try_get("company_name")?,
                phone: r.try_get("company_phone")?,
                fax: r.try_get("company_fax")?,
                responsible_person: r.try_get("responsible_person")?,
                responsible_phone: r.try_get("responsible_phone")?,
            },
            contact: ContactInput {
                name: r.try_get("contact_name")?,
                phone: r.try_get("contact_phone")?,
                mobile: r.try_get("contact_mobile")?,
                email: r.try_get("contact_email")?,
            },
            customs_office: decode(
                "customs_office",
                r.try_get("customs_office")?,
                CustomsOffice::from_code,
            )?,
            business_type: decode(
                "business_type",
                r.try_get("business_type")?,
                BusinessType::from_code,
            )?,
            box_number: r.try_get("box_number")?,
            cert_kind: decode("cert_kind", r.try_get("cert_kind")?, CertKind::from_code)?,
            staff_code: r.try_get("staff_code")?,
            staff_national_id: r.try_get("staff_national_id")?,
            cert_name: r.try_get("cert_name")?,
            reason: r.try_get("reason")?,
            created_at: r.try_get("created_at")?,
            updated_at: r.try_get("updated_at")?,
        })
    }
}

pub async fn by_id(conn: &mut AnyConnection, id: i64) -> Result<Option<AppRow>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS} FROM applications a WHERE a.id = $1");
    optional(conn, &sql, Value::Int(id), AppRow::from_row).await
}

pub async fn by_serial(
    conn: &mut AnyConnection,
    serial: &str,
    lock: Lock,
) -> Result<Option<AppRow>, sqlx::Error> {
    let sql = format!(
        "SELECT {COLUMNS} FROM applications a WHERE a.serial = $1{}",
        lock.sql()
    );
    optional(conn, &sql, Value::Text(serial.to_owned()), AppRow::from_row).await
}

/// Values of a new row.
#[derive(Debug)]
pub struct NewApplication<'a> {
    pub serial: String,
    pub tax_id: &'a str,
    pub app_type: ApplicationType,
    pub status: Status,
    pub target_id: Option<i64>,
    pub company: &'a CompanyInput,
    pub contact: &'a ContactInput,
    pub customs_office: CustomsOffice,
    pub business_type: BusinessType,
    pub box_number: &'a str,
    pub cert_kind: CertKind,
    pub staff_code: &'a str,
    pub staff_national_id: &'a str,
    pub cert_name: Option<String>,
    pub reason: &'a str,
    pub at: i64,
}

/// Inserts the row; returns its id.
pub async fn insert(conn: &mut AnyConnection, n: NewApplication<'_>) -> Result<i64, sqlx::Error> {
    let row = sqlx::query(
        "INSERT INTO applications (serial, tax_id, app_type, status, target_id, company_name, \
         company_phone, company_fax, responsible_person, responsible_phone, contact_name, \
         contact_phone, contact_mobile, contact_email, customs_office, business_type, box_number, \
         cert_kind, staff_code, staff_national_id, cert_name, reason, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, \
         $18, $19, $20, $21, $22, $23, $24) RETURNING id",
    )
    .bind(n.serial)
    .bind(n.tax_id.to_owned())
    .bind(n.app_type.code())
    .bind(n.status.code())
    .bind(n.target_id)
    .bind(n.company.name.clone())
    .bind(n.company.phone.clone())
    .bind(n.company.fax.clone())
    .bind(n.company.responsible_person.clone())
    .bind(n.company.responsible_phone.clone())
    .bind(n.contact.name.clone())
    .bind(n.contact.phone.clone())
    .bind(n.contact.mobile.clone())
    .bind(n.contact.email.clone())
    .bind(n.customs_office.code())
    .bind(n.business_type.code())
    .bind(n.box_number.to_owned())
    .bind(n.cert_kind.code())
    .bind(n.staff_code.to_owned())
    .bind(n.staff_national_id.to_owned())
    .bind(n.cert_name)
    .bind(n.reason.to_owned())
    .bind(n.at)
    .bind(n.at)
    .fetch_one(&mut *conn)
    .await?;
    row.try_get(0)
}

/// `from` → `to` if the row is still in `from`; false when another transaction moved it.
pub async fn move_status(
    conn: &mut AnyConnection,
    id: i64,
    from: Status,
    to: Status,
    at: i64,
) -> Result<bool, sqlx::Error> {
    let n = sqlx::query(
        "UPDATE applications SET status = $1, updated_at = $2 WHERE id = $3 AND status = $4",
    )
    .bind(to.code())
    .bind(at)
    .bind(id)
    .bind(from.code())
    .execute(&mut *conn)
    .await?
    .rows_affected();
    Ok(n == 1)
}

/// Replaces the company and contact data while the row is still in `status`.
pub async fn update_contact(
    conn: &mut AnyConnection,
    id: i64,
    status: Status,
    company: &CompanyInput,
    contact: &ContactInput,
    at: i64,
) -> Result<bool, sqlx::Error> {
    let n = sqlx::query(
        "UPDATE applications SET company_name = $1, company_phone = $2, company_fax = $3, \
         responsible_person = $4, responsible_phone = $5, contact_name = $6, \
         contact_phone = $7, contact_mobile = $8, contact_email = $9, updated_at = $10 \
         WHERE id = $11 AND status = $12",
    )
    .bind(company.name.clone())
    .bind(company.phone.clone())
    .bind(company.fax.clone())
    .bind(company.responsible_person.clone())
    .bind(company.responsible_phone.clone())
    .bind(contact.name.clone())
    .bind(contact.phone.clone())
    .bind(contact.mobile.clone())
    .bind(contact.email.clone())
    .bind(at)
    .bind(id)
    .bind(status.code())
    .execute(&mut *conn)
    .await?
    .rows_affected();
    Ok(n == 1)
}

/// How many applications of `app_type` aimed at `target_id` are in one of `statuses`.
pub async fn count_targeting(
    conn: &mut AnyConnection,
    target_id: i64,
    app_type: ApplicationType,
    statuses: &[Status],
) -> Result<i64, sqlx::Error> {
    if statuses.is_empty() {
        return Ok(0);
    }
    let sql = format!(
        "SELECT COUNT(*) FROM applications WHERE target_id = $1 AND app_type = $2 \
         AND status IN ({})",
        placeholders(3, statuses.len())
    );
    let mut q = sqlx::query(&sql).bind(target_id).bind(app_type.code());
    for s in statuses {
        q = q.bind(s.code());
    }
    q.fetch_one(&mut *conn).await?.try_get(0)
}

/// Ids of applications in `status` whose unpaid bill fell due at or before `now`, oldest
/// due first.
pub async fn unpaid_and_due(
    conn: &mut AnyConnection,
    status: Status,
    now: i64,
    limit: i64,
) -> Result<Vec<i64>, sqlx::Error> {
    sqlx::query(
        "SELECT a.id FROM applications a JOIN bills b ON b.application_id = a.id \
         WHERE a.status = $1 AND b.status = $2 AND b.due_at <= $3 \
         ORDER BY b.due_at LIMIT $4",
    )
    .bind(status.code())
    .bind(BillStatus::Unpaid.code())
    .bind(now)
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|r| r.try_get::<i64, _>(0))
    .collect()
}

/// A search; every field narrows it.
#[derive(Debug, Default, Clone)]
pub struct Search {
    pub tax_id: Option<String>,
    /// Application serial, bill number or certificate serial (exact).
    pub number: Option<String>,
    /// Unix seconds, inclusive.
    pub created_from: Option<i64>,
    /// Unix seconds, exclusive.
    pub created_before: Option<i64>,
    pub app_type: Option<ApplicationType>,
    pub status: Option<Status>,
    pub limit: i64,
    /// Rows to skip (offset paging: the page number times the page size).
    pub offset: i64,
}

/// The WHERE clause of a search; the status only when `with_status` (the operator grid's
/// counts per status leave it out).
pub(super) fn filter(s: &Search, with_status: bool) -> Filter {
    let mut f = Filter::default();
    if let Some(t) = &s.tax_id {
        f.push("a.tax_id = ?", [Value::Text(t.clone())]);
    }
    if let Some(n) = &s.number {
        f.push(
            "(a.serial = ? OR a.id IN (SELECT application_id FROM bills WHERE bill_no = ?) \
             OR a.id IN (SELECT application_id FROM certificates WHERE serial_hex = ?))",
            [
                Value::Text(n.clone()),
                Value::Text(n.clone()),
                Value::Text(n.to_ascii_lowercase()),
            ],
        );
    }
    if let Some(t) = s.created_from {
        f.push("a.created_at >= ?", [Value::Int(t)]);
    }
    if let Some(t) = s.created_before {
        f.push("a.created_at < ?", [Value::Int(t)]);
    }
    if let Some(t) = s.app_type {
        f.push("a.app_type = ?", [Value::Text(t.code().to_owned())]);
    }
    if with_status && let Some(st) = s.status {
        f.push("a.status = ?", [Value::Text(st.code().to_owned())]);
    }
    f
}

impl Search {
    fn filter(&self) -> Filter {
        filter(self, true)
    }
}

/// Newest first: `limit` rows after skipping `offset`. The order (created_at, id) is the
/// company index's order, so a page reads only its own rows plus the skipped ones.
pub async fn search(conn: &mut AnyConnection, s: &Search) -> Result<Vec<AppRow>, sqlx::Error> {
    let mut filter = s.filter();
    let limit = filter.bind_next(Value::Int(s.limit));
    let offset = filter.bind_next(Value::Int(s.offset));
    let sql = format!(
        "SELECT {COLUMNS} FROM applications a{} ORDER BY a.created_at DESC, a.id DESC \
         LIMIT {limit} OFFSET {offset}",
        filter.where_clause()
    );
    let rows = filter.bind(sqlx::query(&sql)).fetch_all(&mut *conn).await?;
    rows.iter().map(AppRow::from_row).collect()
}

/// How many rows the search matches on all pages (`limit` and `offset` ignored).
pub async fn count(conn: &mut AnyConnection, s: &Search) -> Result<i64, sqlx::Error> {
    let filter = s.filter();
    let sql = format!(
        "SELECT COUNT(*) FROM applications a{}",
        filter.where_clause()
    );
    filter
        .bind(sqlx::query(&sql))
        .fetch_one(&mut *conn)
        .await?
        .try_get(0)
}
