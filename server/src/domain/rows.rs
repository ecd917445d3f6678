//! Table rows as Rust values, and the reads every module shares.

use proto::api::{CompanyInput, ContactInput};
use proto::{
    ApplicationType, BillStatus, BusinessType, CertKind, CertStatus, CustomsOffice, Status,
};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row as _};

use super::{DomainError, DomainResult};

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

pub const APP_COLUMNS: &str = "a.id, a.serial, a.tax_id, a.app_type, a.status, a.target_id, \
    a.company_name, a.company_phone, a.company_fax, a.responsible_person, a.responsible_phone, \
    a.contact_name, a.contact_phone, a.contact_mobile, a.contact_email, a.customs_office, \
    a.business_type, a.box_number, a.cert_kind, a.staff_code, a.staff_national_id, a.cert_name, \
    a.reason, a.created_at, a.updated_at";

fn code<T>(what: &str, v: String, parse: fn(&str) -> Option<T>) -> DomainResult<T> {
    parse(&v).ok_or_else(|| DomainError::Internal(format!("unknown {what} {v:?} in the database")))
}

impl AppRow {
    pub fn from_row(r: &AnyRow) -> DomainResult<AppRow> {
        Ok(AppRow {
            id: r.try_get("id")?,
            serial: r.try_get("serial")?,
            tax_id: r.try_get("tax_id")?,
            app_type: code(
                "app_type",
                r.try_get("app_type")?,
                ApplicationType::from_code,
            )?,
            status: code("status", r.try_get("status")?, Status::from_code)?,
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
            customs_office: code(
                "customs_office",
                r.try_get("customs_office")?,
                CustomsOffice::from_code,
            )?,
            business_type: code(
                "business_type",
                r.try_get("business_type")?,
                BusinessType::from_code,
            )?,
            box_number: r.try_get("box_number")?,
            cert_kind: code("cert_kind", r.try_get("cert_kind")?, CertKind::from_code)?,
            staff_code: r.try_get("staff_code")?,
            staff_national_id: r.try_get("staff_national_id")?,
            cert_name: r.try_get("cert_name")?,
            reason: r.try_get("reason")?,
            created_at: r.try_get("created_at")?,
            updated_at: r.try_get("updated_at")?,
        })
    }
}

#[derive(Debug, Clone)]
pub struct BillRow {
    pub id: i64,
    pub bill_no: String,
    pub application_id: i64,
    pub amount: i64,
    pub issued_at: i64,
    pub due_at: i64,
    pub status: BillStatus,
    pub paid_at: Option<i64>,
    pub paid_on: Option<String>,
    pub paid_amount: Option<i64>,
}

pub const BILL_COLUMNS: &str = "b.id, b.bill_no, b.application_id, b.amount, b.issued_at, \
    b.due_at, b.status, b.paid_at, b.paid_on, b.paid_amount";

impl BillRow {
    pub fn from_row(r: &AnyRow) -> DomainResult<BillRow> {
        Ok(BillRow {
            id: r.try_get("id")?,
            bill_no: r.try_get("bill_no")?,
            application_id: r.try_get("application_id")?,
            amount: r.try_get("amount")?,
            issued_at: r.try_get("issued_at")?,
            due_at: r.try_get("due_at")?,
            status: code("bill status", r.try_get("status")?, BillStatus::from_code)?,
            paid_at: r.try_get("paid_at")?,
            paid_on: r.try_get("paid_on")?,
            paid_amount: r.try_get("paid_amount")?,
        })
    }
}

/// Stored state of a certificate; `expired` is derived from `not_after` when shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoredCertStatus {
    Valid,
    Suspended,
    Revoked,
}

impl StoredCertStatus {
    pub fn code(self) -> &'static str {
        match self {
            StoredCertStatus::Valid => "valid",
            StoredCertStatus::Suspended => "suspended",
            StoredCertStatus::Revoked => "revoked",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        match s {
            "valid" => Some(StoredCertStatus::Valid),
            "suspended" => Some(StoredCertStatus::Suspended),
            "revoked" => Some(StoredCertStatus::Revoked),
            _ => None,
        }
    }
}

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
    pub status: StoredCertStatus,
    pub status_changed_at: Option<i64>,
}

pub const CERT_COLUMNS: &str = "c.id, c.application_id, c.serial_hex, c.tax_id, c.cert_name, \
    c.organization, c.organizational_unit, c.spki_der, c.csr_sha256, c.not_before, c.not_after, \
    c.cert_der, c.status, c.status_changed_at";

impl CertRow {
    pub fn from_row(r: &AnyRow) -> DomainResult<CertRow> {
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
            status: code(
                "certificate status",
                r.try_get("status")?,
                StoredCertStatus::parse,
            )?,
            status_changed_at: r.try_get("status_changed_at")?,
        })
    }

    /// What the applicant sees, with expiry derived from `now`.
    pub fn shown_status(&self, now: i64) -> CertStatus {
        match self.status {
            StoredCertStatus::Revoked => CertStatus::Revoked,
            _ if now >= self.not_after => CertStatus::Expired,
            StoredCertStatus::Suspended => CertStatus::Suspended,
            StoredCertStatus::Valid => CertStatus::Valid,
        }
    }

    /// Subject as RFC 4514-ish text for display.
    pub fn subject_text(&self) -> String {
        let mut parts = vec![format!("CN={}", self.cert_name)];
        if let Some(ou) = &self.organizational_unit {
            parts.push(format!("OU={ou}"));
        }
        parts.push(format!("O={}", self.organization));
        parts.push(format!("serialNumber={}", self.tax_id));
        parts.push("C=TW".into());
        parts.join(", ")
    }
}

pub async fn app_by_id(conn: &mut AnyConnection, id: i64) -> DomainResult<AppRow> {
    let sql = format!("SELECT {APP_COLUMNS} FROM applications a WHERE a.id = $1");
    let row = sqlx::query(&sql)
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    row.as_ref()
        .map(AppRow::from_row)
        .transpose()?
        .ok_or(DomainError::NotFound("application"))
}

/// An application by serial, only within `company` when given. Another company's serial is
/// `not_found`, the same as an unknown one, so serials cannot be probed.
pub async fn app_by_serial(
    conn: &mut AnyConnection,
    serial: &str,
    company: Option<&str>,
    lock: &str,
) -> DomainResult<AppRow> {
    let sql = format!("SELECT {APP_COLUMNS} FROM applications a WHERE a.serial = $1{lock}");
    let row = sqlx::query(&sql)
        .bind(serial)
        .fetch_optional(&mut *conn)
        .await?;
    let app = row
        .as_ref()
        .map(AppRow::from_row)
        .transpose()?
        .ok_or(DomainError::NotFound("application"))?;
    match company {
        Some(tax_id) if tax_id != app.tax_id => Err(DomainError::NotFound("application")),
        _ => Ok(app),
    }
}

pub async fn bill_of(
    conn: &mut AnyConnection,
    application_id: i64,
) -> DomainResult<Option<BillRow>> {
    let sql = format!("SELECT {BILL_COLUMNS} FROM bills b WHERE b.application_id = $1");
    let row = sqlx::query(&sql)
        .bind(application_id)
        .fetch_optional(&mut *conn)
        .await?;
    row.as_ref().map(BillRow::from_row).transpose()
}

pub async fn bill_by_no(
    conn: &mut AnyConnection,
    bill_no: &str,
    lock: &str,
) -> DomainResult<Option<BillRow>> {
    let sql = format!("SELECT {BILL_COLUMNS} FROM bills b WHERE b.bill_no = $1{lock}");
    let row = sqlx::query(&sql)
        .bind(bill_no)
        .fetch_optional(&mut *conn)
        .await?;
    row.as_ref().map(BillRow::from_row).transpose()
}

pub async fn cert_of(
    conn: &mut AnyConnection,
    application_id: i64,
) -> DomainResult<Option<CertRow>> {
    let sql = format!("SELECT {CERT_COLUMNS} FROM certificates c WHERE c.application_id = $1");
    let row = sqlx::query(&sql)
        .bind(application_id)
        .fetch_optional(&mut *conn)
        .await?;
    row.as_ref().map(CertRow::from_row).transpose()
}

pub async fn cert_by_serial(
    conn: &mut AnyConnection,
    serial_hex: &str,
    lock: &str,
) -> DomainResult<Option<CertRow>> {
    let sql = format!("SELECT {CERT_COLUMNS} FROM certificates c WHERE c.serial_hex = $1{lock}");
    let row = sqlx::query(&sql)
        .bind(serial_hex)
        .fetch_optional(&mut *conn)
        .await?;
    row.as_ref().map(CertRow::from_row).transpose()
}

pub async fn is_registered(conn: &mut AnyConnection, certificate_id: i64) -> DomainResult<bool> {
    let row = sqlx::query("SELECT COUNT(*) FROM registrations WHERE certificate_id = $1")
        .bind(certificate_id)
        .fetch_one(&mut *conn)
        .await?;
    Ok(row.try_get::<i64, _>(0)? > 0)
}
