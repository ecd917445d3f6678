//! The append-only audit log (UPDATE and DELETE are refused by triggers in the schema).
//! Entries name who, what, when, the application and certificate serials and the CSR hash;
//! never a secret.

use proto::api::AuditEntry;
use sqlx::{AnyConnection, Row as _};
use time::OffsetDateTime;

use super::{Actor, DomainResult, rfc3339};
use crate::db::query::{Filter, Value};

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
    sqlx::query(
        "INSERT INTO audit_log (at, actor, action, application_serial, certificate_serial, \
         csr_sha256, detail) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(now.unix_timestamp())
    .bind(actor.audit_name())
    .bind(entry.action.to_owned())
    .bind(entry.application_serial.map(str::to_owned))
    .bind(entry.certificate_serial.map(str::to_owned))
    .bind(entry.csr_sha256.map(str::to_owned))
    .bind(detail)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

#[derive(Debug, Default, Clone)]
pub struct AuditFilter {
    /// Unix seconds, inclusive.
    pub from: Option<i64>,
    /// Unix seconds, exclusive.
    pub until: Option<i64>,
    pub application_serial: Option<String>,
    pub before_id: Option<i64>,
    pub limit: i64,
}

pub async fn list(conn: &mut AnyConnection, f: &AuditFilter) -> DomainResult<Vec<AuditEntry>> {
    let mut filter = Filter::default();
    if let Some(t) = f.from {
        filter.push("at >= ?", [Value::Int(t)]);
    }
    if let Some(t) = f.until {
        filter.push("at < ?", [Value::Int(t)]);
    }
    if let Some(s) = &f.application_serial {
        filter.push("application_serial = ?", [Value::Text(s.clone())]);
    }
    if let Some(id) = f.before_id {
        filter.push("id < ?", [Value::Int(id)]);
    }
    let limit = filter.bind_next(Value::Int(f.limit.clamp(1, 1000)));
    let sql = format!(
        "SELECT id, at, actor, action, application_serial, certificate_serial, csr_sha256, \
         detail FROM audit_log{} ORDER BY id DESC LIMIT {limit}",
        filter.where_clause()
    );
    let rows = filter.bind(sqlx::query(&sql)).fetch_all(&mut *conn).await?;
    rows.iter()
        .map(|r| {
            Ok(AuditEntry {
                id: r.try_get("id")?,
                at: rfc3339(r.try_get("at")?),
                actor: r.try_get("actor")?,
                action: r.try_get("action")?,
                application_serial: r.try_get("application_serial")?,
                certificate_serial: r.try_get("certificate_serial")?,
                csr_sha256: r.try_get("csr_sha256")?,
                detail: r.try_get("detail")?,
            })
        })
        .collect()
}
