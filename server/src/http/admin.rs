//! The operator's endpoints.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use proto::admin::{AdminApplications, GridSort};
use proto::api::{
    ApplicationQuery, ApplicationView, AuditEntry, CertificateActionRequest, CertificateView,
    ImportReport, MailState, MailView, PaymentRecord,
};
use proto::validate::FieldCode;
use serde::Deserialize;

use super::extract::{ApiBytes, ApiJson, ApiQuery};
use crate::auth::extract::Operator;
use crate::domain::certificates;
use crate::domain::transitions::{CertEvent, Duty};
use crate::domain::{
    DomainError, admin_grid, audit, notify, parse_date, payments, reconciliation, taipei_midnight,
};
use crate::error::ApiError;
use crate::state::AppState;

/// The operator's grid: one page, sorted, with the counts per status.
pub async fn list(
    State(state): State<AppState>,
    who: Operator,
    ApiQuery(q): ApiQuery<ApplicationQuery>,
    ApiQuery(sort): ApiQuery<GridSort>,
) -> Result<Json<AdminApplications>, ApiError> {
    Ok(Json(
        admin_grid::list(&state.svc, &who.actor(), &q, sort, state.now()).await?,
    ))
}

/// The grid's current filter and order as CSV (every page).
pub async fn export_csv(
    State(state): State<AppState>,
    _who: Operator,
    ApiQuery(q): ApiQuery<ApplicationQuery>,
    ApiQuery(sort): ApiQuery<GridSort>,
) -> Result<Response, ApiError> {
    let now = state.now();
    let csv = admin_grid::export_csv(&state.svc, &q, sort, now).await?;
    let name = format!(
        "applications-{}.csv",
        crate::domain::format_date(crate::domain::taipei_date(now))
    );
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        csv,
    )
        .into_response())
}

pub async fn payment(
    State(state): State<AppState>,
    who: Operator,
    ApiJson(p): ApiJson<PaymentRecord>,
) -> Result<Json<ApplicationView>, ApiError> {
    who.require(Duty::Payments)?;
    let view = payments::record(&state.svc, &who.actor(), &p, state.now()).await?;
    state.mail_queued();
    Ok(Json(view))
}

pub async fn reconciliation(
    State(state): State<AppState>,
    who: Operator,
    ApiBytes(body): ApiBytes,
) -> Result<Json<ImportReport>, ApiError> {
    who.require(Duty::Payments)?;
    let text = std::str::from_utf8(&body)
        .map_err(|_| ApiError::BadRequest("the file must be UTF-8 text".into()))?;
    let report = reconciliation::import(&state.svc, &who.actor(), text, state.now()).await?;
    state.mail_queued();
    Ok(Json(report))
}

pub async fn certificate_action(
    State(state): State<AppState>,
    who: Operator,
    Path((serial_hex, action)): Path<(String, String)>,
    ApiJson(req): ApiJson<CertificateActionRequest>,
) -> Result<Json<CertificateView>, ApiError> {
    let (event, duty) = match action.as_str() {
        "revoke" => (CertEvent::Revoke, Duty::Revocation),
        "suspend" => (CertEvent::Suspend, Duty::Holds),
        "unsuspend" => (CertEvent::Unsuspend, Duty::Holds),
        _ => return Err(ApiError::NotFound("no such action".into())),
    };
    // Before looking the certificate up: a role without the duty learns nothing about it.
    who.require(duty)?;
    let view = certificates::act_by_serial(
        &state.svc,
        &who.actor(),
        &serial_hex,
        event,
        req.reason.trim(),
        req.reason_code,
        state.now(),
    )
    .await?;
    state.mail_queued();
    Ok(Json(view))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct AuditQuery {
    pub from: Option<String>,
    pub to: Option<String>,
    pub application: Option<String>,
    pub limit: Option<i64>,
    pub before_id: Option<i64>,
}

pub async fn audit_log(
    State(state): State<AppState>,
    _who: Operator,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> Result<Json<Vec<AuditEntry>>, ApiError> {
    let day = |s: &Option<String>, field: &str| -> Result<Option<time::Date>, ApiError> {
        match s.as_deref().filter(|s| !s.is_empty()) {
            None => Ok(None),
            Some(s) => parse_date(s)
                .map(Some)
                .ok_or_else(|| DomainError::field(field, FieldCode::Format).into()),
        }
    };
    let from = day(&q.from, "from")?.map(taipei_midnight);
    let until = match day(&q.to, "to")? {
        Some(d) => Some(taipei_midnight(d.next_day().ok_or_else(|| {
            ApiError::from(DomainError::field("to", FieldCode::Format))
        })?)),
        None => None,
    };
    let filter = audit::AuditFilter {
        from,
        until,
        application_serial: q.application.filter(|s| !s.is_empty()),
        before_id: q.before_id,
        limit: q.limit.unwrap_or(100),
    };
    Ok(Json(audit::list(&state.svc, &filter).await?))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct MailQuery {
    pub state: Option<MailState>,
}

pub async fn mail(
    State(state): State<AppState>,
    _who: Operator,
    ApiQuery(q): ApiQuery<MailQuery>,
) -> Result<Json<Vec<MailView>>, ApiError> {
    Ok(Json(notify::outbox(&state.svc, q.state).await?))
}
