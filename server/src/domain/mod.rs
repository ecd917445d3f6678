//! The portal's rules. Every status transition is a row of [`transitions`] and is applied by
//! [`transitions::apply`]: the conditional UPDATE (zero rows means someone else moved it
//! first, and the caller gets `invalid_transition`), its audit row and, where a mail is due,
//! its outbox row, in the caller's write transaction. The other modules hold what each step
//! needs besides (bills, the CA, registrations) and read through `crate::db`, where all the
//! SQL is. Every function takes `now`, so tests move time instead of waiting.

pub mod admin_grid;
pub mod applications;
pub mod audit;
pub mod bills;
pub mod certificates;
pub mod crl;
pub mod expiry;
pub mod issuance;
pub mod notify;
pub mod ocsp;
pub mod payments;
pub mod reconciliation;
pub mod registrations;
pub mod reminders;
pub mod renewal;
pub mod retention;
pub mod transitions;
pub mod views;

use std::sync::Arc;

use proto::api::ImportReport;
use proto::validate::FieldError;
use time::format_description::well_known::Rfc3339;
use time::{Date, OffsetDateTime, UtcOffset};

use crate::db::Db;

/// What domain functions need besides the database: the CA and where the portal lives.
pub struct Services {
    pub db: Db,
    pub ca: Arc<ca::Ca>,
    pub profile: ca::Profile,
    /// Public base URL without trailing slash (links in mails).
    pub portal_url: String,
    /// Host part of the public URL, for mail Message-IDs.
    pub mail_domain: String,
    /// SHA-256 (hex) of the CA certificate; CRLs signed by another CA are regenerated.
    pub ca_fingerprint: String,
    /// New applications one company may file per day (Taiwan time); 0 is no limit.
    pub applications_per_day: u32,
    pub metrics: Arc<crate::metrics::Metrics>,
    /// The OCSP responder and this instance's answer cache.
    pub ocsp: ocsp::Ocsp,
}

#[derive(Debug, thiserror::Error)]
pub enum DomainError {
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{0}")]
    Forbidden(&'static str),
    #[error("{0}")]
    InvalidTransition(String),
    #[error("{0}")]
    Conflict(String),
    /// The request repeats an idempotency key that already made something else.
    #[error("this Idempotency-Key was already used for a different request")]
    IdempotencyKeyReused,
    /// The company's new applications today reached `server.applications_per_company_per_day`.
    #[error("your company already filed {0} applications today; apply again tomorrow")]
    ApplicationLimit(u32),
    #[error("validation failed")]
    Validation(Vec<FieldError>),
    #[error("{0}")]
    BadCsr(#[from] ca::CsrError),
    #[error("{0}")]
    BadCertificate(String),
    #[error("{0}")]
    PaymentRejected(String),
    #[error("the reconciliation file was refused; nothing was applied")]
    ImportRejected(Box<ImportReport>),
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
    #[error("CA: {0}")]
    Ca(#[from] ca::CaError),
    #[error("mail: {0}")]
    Mail(#[from] mailer::MailError),
    #[error("{0}")]
    Internal(String),
}

impl DomainError {
    pub fn transition(msg: impl Into<String>) -> Self {
        DomainError::InvalidTransition(msg.into())
    }

    pub fn field(field: &str, code: proto::validate::FieldCode) -> Self {
        DomainError::Validation(vec![FieldError::new(field, code)])
    }
}

pub type DomainResult<T> = Result<T, DomainError>;

/// Who did something, as the audit log names them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    Applicant {
        tax_id: String,
    },
    Operator {
        username: String,
        role: proto::OperatorRole,
    },
    System(&'static str),
}

impl Actor {
    pub fn audit_name(&self) -> String {
        match self {
            Actor::Applicant { tax_id } => format!("applicant:{tax_id}"),
            Actor::Operator { username, .. } => format!("operator:{username}"),
            Actor::System(job) => format!("system:{job}"),
        }
    }

    /// The company an applicant may see; `None` for operators and jobs (every company).
    pub fn company(&self) -> Option<&str> {
        match self {
            Actor::Applicant { tax_id } => Some(tax_id),
            _ => None,
        }
    }

    /// Whether the actor's role grants `duty` (the `who` column of [`transitions`], and the
    /// operator routes): cashier payments, officer holds and revocation, admin all, auditor
    /// none (read only).
    pub fn has_duty(&self, duty: transitions::Duty) -> bool {
        use proto::OperatorRole as R;
        use transitions::Duty as D;
        match self {
            Actor::Operator { role, .. } => matches!(
                (role, duty),
                (R::Admin, _) | (R::Cashier, D::Payments) | (R::Officer, D::Holds | D::Revocation)
            ),
            _ => false,
        }
    }
}

/// Taiwan has no daylight saving time: UTC+8 all year.
pub const TAIPEI: UtcOffset = match UtcOffset::from_hms(8, 0, 0) {
    Ok(o) => o,
    Err(_) => UtcOffset::UTC,
};

pub fn taipei_date(t: OffsetDateTime) -> Date {
    t.to_offset(TAIPEI).date()
}

/// Unix seconds of Taipei midnight starting `d`.
pub fn taipei_midnight(d: Date) -> i64 {
    d.midnight().assume_offset(TAIPEI).unix_timestamp()
}

pub fn from_unix(t: i64) -> DomainResult<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp(t)
        .map_err(|e| DomainError::Internal(format!("bad timestamp {t}: {e}")))
}

/// RFC 3339 UTC text of Unix seconds, as the wire types carry times.
pub fn rfc3339(t: i64) -> String {
    OffsetDateTime::from_unix_timestamp(t)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_else(|| t.to_string())
}

/// `YYYY-MM-DD`.
pub fn parse_date(s: &str) -> Option<Date> {
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(s, &fmt).ok()
}

pub fn format_date(d: Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn taipei_dates_cross_midnight_at_16_utc() {
        assert_eq!(
            taipei_date(datetime!(2026-11-23 15:59:59 UTC)),
            time::macros::date!(2026 - 11 - 23)
        );
        assert_eq!(
            taipei_date(datetime!(2026-11-23 16:00:00 UTC)),
            time::macros::date!(2026 - 11 - 24)
        );
        assert_eq!(
            taipei_midnight(time::macros::date!(2026 - 11 - 24)),
            datetime!(2026-11-23 16:00:00 UTC).unix_timestamp()
        );
    }

    #[test]
    fn dates_round_trip() {
        let d = parse_date("2026-02-03").unwrap();
        assert_eq!(format_date(d), "2026-02-03");
        assert_eq!(parse_date("2026-2-3x"), None);
        assert_eq!(parse_date("2026-02-30"), None);
    }
}
