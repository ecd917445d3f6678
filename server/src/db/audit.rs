//! The append-only `audit_log` (UPDATE and DELETE are refused by triggers in the schema).

use proto::api::AuditEntry;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row as _};

use super::query::{Filter, Value};

/// One row to append.
#[derive(Debug, Clone)]
pub struct NewEntry<'a> {
    pub at: i64,
    pub actor: &'a str,
    pub action: &'a str,
    pub application_serial: Option<&'a str>,
    pub certificate_serial: Option<&'a str>,
    pub csr_sha256: Option<&'a str>,
    /// JSON text.
    pub detail: &'a str,
}

pub async fn insert(conn: &mut AnyConnection, e: &NewEntry<'_>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO audit_log (at, actor, action, application_serial, certificate_serial, \
         csr_sha256, detail) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(e.at)
    .bind(e.actor.to_owned())
    .bind(e.action.to_owned())
    .bind(e.application_serial.map(str::to_owned))
    .bind(e.certificate_serial.map(str::to_owned))
    .bind(e.csr_sha256.map(str::to_owned))
    .bind(e.detail.to_owned())
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

/// Newest first; `at` as Unix seconds in the returned rows is turned into text by `at_text`.
pub async fn list(
    conn: &mut AnyConnection,
    f: &AuditFilter,
    at_text: fn(i64) -> String,
) -> Result<Vec<AuditEntry>, sqlx::Error> {
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
    let limit = filter.bind_next(Value::Int(f.limit));
    let sql = format!(
        "SELECT id, at, actor, action, application_serial, certificate_serial, csr_sha256, \
         detail FROM audit_log{} ORDER BY id DESC LIMIT {limit}",
        filter.where_clause()
    );
    let rows = filter.bind(sqlx::query(&sql)).fetch_all(&mut *conn).await?;
    rows.iter().map(|r| entry(r, at_text)).collect()
}

fn entry(r: &AnyRow, at_text: fn(i64) -> String) -> Result<AuditEntry, sqlx::Error> {
    Ok(AuditEntry {
        id: r.try_get("id")?,
        at: at_text(r.try_get("at")?),
        actor: r.try_get("actor")?,
        action: r.try_get("action")?,
        application_serial: r.try_get("application_serial")?,
        certificate_serial: r.try_get("certificate_serial")?,
        csr_sha256: r.try_get("csr_sha256")?,
        detail: r.try_get("detail")?,
    })
}

/// `(at, actor, action)` of the rows filed under application `serial` or naming
/// certificate `cert_serial`, oldest first (an application has a handful).
pub async fn history(
    conn: &mut AnyConnection,
    serial: &str,
    cert_serial: Option<&str>,
) -> Result<Vec<(i64, String, String)>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT at, actor, action FROM audit_log WHERE application_serial = $1 \
         OR certificate_serial = $2 ORDER BY id LIMIT 500",
    )
    .bind(serial.to_owned())
    .bind(cert_serial.map(str::to_owned))
    .fetch_all(&mut *conn)
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        out.push((r.try_get("at")?, r.try_get("actor")?, r.try_get("action")?));
    }
    Ok(out)
}
