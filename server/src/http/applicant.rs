//! The applicant's endpoints; every one is limited to the session's company.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use proto::api::{
    ApplicationForm, ApplicationQuery, ApplicationView, CsrSubmission, HistoryEntry,
    IssuedCertificate, Page, RegistrationRequest, RegistrationView,
};
use sha2::{Digest, Sha256};

use super::extract::{ApiJson, ApiQuery};
use super::pages;
use crate::auth::extract::Applicant;
use crate::domain::{applications, bills, issuance, registrations};
use crate::error::ApiError;
use crate::state::AppState;

pub async fn list(
    State(state): State<AppState>,
    who: Applicant,
    ApiQuery(q): ApiQuery<ApplicationQuery>,
) -> Result<Json<Page<ApplicationView>>, ApiError> {
    Ok(Json(
        applications::page(&state.svc, &who.actor(), &q, state.now()).await?,
    ))
}

/// `201 Created` for a new application; `200 OK` with the earlier one when the request repeats
/// an `Idempotency-Key` already used by this company (a retry after a lost answer).
pub async fn create(
    State(state): State<AppState>,
    who: Applicant,
    headers: HeaderMap,
    ApiJson(form): ApiJson<ApplicationForm>,
) -> Result<(StatusCode, Json<ApplicationView>), ApiError> {
    // Bytes outside ASCII become U+FFFD, which the key rule refuses with a field error.
    let key = headers
        .get("idempotency-key")
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    let created = applications::create(
        &state.svc,
        &who.tax_id,
        who.session.company_name.as_deref(),
        &form,
        key.as_deref(),
        state.now(),
    )
    .await?;
    if created.replayed {
        return Ok((StatusCode::OK, Json(created.view)));
    }
    state.mail_queued();
    Ok((StatusCode::CREATED, Json(created.view)))
}

pub async fn get(
    State(state): State<AppState>,
    who: Applicant,
    Path(serial): Path<String>,
) -> Result<Json<ApplicationView>, ApiError> {
    Ok(Json(
        applications::get(&state.svc, &who.actor(), &serial, state.now()).await?,
    ))
}

/// 撤回: an unpaid application of the caller's company becomes A9 and its bill void.
pub async fn withdraw(
    State(state): State<AppState>,
    who: Applicant,
    Path(serial): Path<String>,
) -> Result<Json<ApplicationView>, ApiError> {
    let view = applications::withdraw(&state.svc, &who.actor(), &serial, state.now()).await?;
    state.mail_queued();
    Ok(Json(view))
}

pub async fn history(
    State(state): State<AppState>,
    who: Applicant,
    Path(serial): Path<String>,
) -> Result<Json<Vec<HistoryEntry>>, ApiError> {
    Ok(Json(
        applications::history(&state.svc, &who.actor(), &serial).await?,
    ))
}

pub async fn slip(
    State(state): State<AppState>,
    who: Applicant,
    Path(serial): Path<String>,
) -> Result<Response, ApiError> {
    let (app, bill) = bills::for_slip(&state.svc, &who.actor(), &serial).await?;
    let html = pages::slip(&app, &bill);
    let style_hash = base64::engine::general_purpose::STANDARD
        .encode(Sha256::digest(pages::SLIP_STYLE.as_bytes()));
    let csp = format!(
        "default-src 'none'; style-src 'sha256-{style_hash}'; img-src 'self' data:; \
         frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
    );
    let mut resp = html.into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(v) = HeaderValue::from_str(&csp) {
        h.insert(header::CONTENT_SECURITY_POLICY, v);
    }
    Ok(resp)
}

pub async fn submit_csr(
    State(state): State<AppState>,
    who: Applicant,
    Path(serial): Path<String>,
    ApiJson(body): ApiJson<CsrSubmission>,
) -> Result<Json<IssuedCertificate>, ApiError> {
    let issued = issuance::submit_csr(&state.svc, &who.tax_id, &serial, &body.csr_pem, state.now())
        .await
        .inspect_err(|e| {
            if let crate::domain::DomainError::BadCsr(c) = e {
                state.svc.metrics.csr_refused(crate::metrics::csr_reason(c));
            }
        })?;
    state.mail_queued();
    Ok(Json(issued))
}

pub async fn certificate(
    State(state): State<AppState>,
    who: Applicant,
    Path(serial): Path<String>,
) -> Result<Json<IssuedCertificate>, ApiError> {
    let (app, cert) = issuance::get(&state.svc, &who.actor(), &serial).await?;
    Ok(Json(issuance::issued_view(&state.svc, &app, &cert)?))
}

pub async fn certificate_cer(
    State(state): State<AppState>,
    who: Applicant,
    Path(serial): Path<String>,
) -> Result<Response, ApiError> {
    let (_, cert) = issuance::get(&state.svc, &who.actor(), &serial).await?;
    let der = cert
        .cert_der
        .ok_or_else(|| ApiError::NotFound("certificate not found".into()))?;
    // The name is `SingleWindow-NN-<box>`: letters, digits and hyphens only.
    let file: String = cert
        .cert_name
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect();
    let mut resp = der.into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/pkix-cert"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{file}.cer\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(resp)
}

pub async fn register(
    State(state): State<AppState>,
    who: Applicant,
    ApiJson(req): ApiJson<RegistrationRequest>,
) -> Result<(StatusCode, Json<RegistrationView>), ApiError> {
    let view = registrations::register(&state.svc, &who.tax_id, &req, state.now()).await?;
    Ok((StatusCode::CREATED, Json(view)))
}
