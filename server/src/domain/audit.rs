//! The append-only audit log. Entries name who, what, when, the application and certificate
//! serials and the CSR hash; never a secret. Status changes write theirs through
//! [`super::transitions::apply`]; other records (operator accounts) call [`record`].

use proto::api::AuditEntry;
use sqlx::AnyConnection;
use time::OffsetDateTime;

pub use crate::db::audit::AuditFilter;

use super::{Actor, DomainResult, Services, rfc3339};
use crate::db;

#[derive(Debug, Default)]
pub struct Entry<'a> {
    pub action: &'a str,
    pub application_serial: Option<&'a str>,
    pub certificate_serial: Option<&'a str>,
    pub csr_sha256: Option<&'a str>,
    pub detail: serde_json::Value,
}

pub async fn record(
    conn: &mut AnyConnection,
    actor: &Actor,
    entry: Entry<'_>,
    now: OffsetDateTime,
) -> DomainResult<()> {
    let detail = if entry.detail.is_null() {
        "{}".to_owned()
    } else {
        entry.detail.to_string()
    };
    db::audit::insert(
        conn,
        &db::audit::NewEntry {
            at: now.unix_timestamp(),
            actor: &actor.audit_name(),
            action: entry.action,
            application_serial: entry.application_serial,
            certificate_serial: entry.certificate_serial,
            csr_sha256: entry.csr_sha256,
            detail: &detail,
        },
    )
    .await?;
    Ok(())
}

/// Newest first, at most 1000 entries per page.
pub async fn list(svc: &Services, f: &AuditFilter) -> DomainResult<Vec<AuditEntry>> {
    let f = AuditFilter {
        limit: f.limit.clamp(1, 1000),
        ..f.clone()
    };
    let mut conn = svc.db.conn().await?;
    Ok(db::audit::list(&mut conn, &f, rfc3339).await?)
}

/// The kind of caller an audit `actor` names (`applicant:…`, `operator:…`, `system:…`),
/// for pages that must not show an operator's username to applicants.
pub fn actor_kind(audit_name: &str) -> proto::api::HistoryActor {
    use proto::api::HistoryActor;
    match audit_name.split_once(':').map(|(k, _)| k) {
        Some("applicant") => HistoryActor::Applicant,
        Some("operator") => HistoryActor::Operator,
        _ => HistoryActor::System,
    }
}

#[cfg(test)]
mod history_tests {
    use super::*;
    use proto::api::HistoryActor;

    #[test]
    fn actor_kinds_come_from_the_audit_name() {
        let name = |a: Actor| actor_kind(&a.audit_name());
        assert_eq!(
            name(Actor::Applicant {
                tax_id: "12345675".into()
            }),
            HistoryActor::Applicant
        );
        assert_eq!(
            name(Actor::Operator {
                username: "ops".into(),
                role: proto::OperatorRole::Officer,
            }),
            HistoryActor::Operator
        );
        assert_eq!(name(Actor::System("expiry")), HistoryActor::System);
    }
}
