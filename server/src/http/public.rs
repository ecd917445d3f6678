//! Unauthenticated endpoints: health, the CA certificate (AIA caIssuers) and the CRL (CRL
//! distribution point).

use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

use crate::domain::crl;
use crate::error::ApiError;
use crate::state::AppState;

pub async fn healthz() -> &'static str {
    "ok"
}

fn binary(content_type: &'static str, body: Vec<u8>, max_age: &'static str) -> Response {
    let mut r = body.into_response();
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static(max_age));
    r
}

pub async fn ca_cer(State(state): State<AppState>) -> Response {
    binary(
        "application/pkix-cert",
        state.svc.ca.certificate_der().to_vec(),
        "public, max-age=3600",
    )
}

pub async fn ca_pem(State(state): State<AppState>) -> Response {
    binary(
        "application/x-pem-file",
        state.svc.ca.certificate_pem().into_bytes(),
        "public, max-age=3600",
    )
}

pub async fn crl(State(state): State<AppState>) -> Result<Response, ApiError> {
    let der = crl::current(&state.svc, state.now()).await?;
    // Short cache: a revocation must show up quickly.
    Ok(binary("application/pkix-crl", der, "public, max-age=60"))
}
