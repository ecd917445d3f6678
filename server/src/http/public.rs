//! Unauthenticated endpoints: health, the CA certificates (`/ca.cer` is the issuing CA, the
//! AIA caIssuers of every leaf; `/ca-chain.pem` it and the certificates above it; `/root.cer`
//! the root to trust), the CRL (CRL distribution point), the card-bridge download page.

use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{Html, IntoResponse, Response};

use super::pages;
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

/// The issuing CA and every certificate above it, the root last (one PEM file).
pub async fn ca_chain_pem(State(state): State<AppState>) -> Response {
    binary(
        "application/x-pem-file",
        state.svc.ca.chain_pem().concat().into_bytes(),
        "public, max-age=3600",
    )
}

/// The root certificate: the issuing CA itself when it is self-signed.
pub async fn root_cer(State(state): State<AppState>) -> Response {
    binary(
        "application/pkix-cert",
        state.svc.ca.root_der().to_vec(),
        "public, max-age=3600",
    )
}

pub async fn crl(State(state): State<AppState>) -> Result<Response, ApiError> {
    let der = crl::current(&state.svc, state.now()).await?;
    // Short cache: a revocation must show up quickly.
    Ok(binary("application/pkix-crl", der, "public, max-age=60"))
}

/// `GET /downloads/card-bridge`: how to get and run the local card component, linked from
/// the login page when the component does not answer. A server page (not part of the app
/// bundle) so it can name this portal's origin in the `--allow-origin` command and the
/// operator's download location (`auth.card_bridge_download_url`). Plain HTML, no script.
pub async fn card_bridge_download(State(state): State<AppState>) -> Response {
    let html = pages::card_bridge(
        &state.config.public_origin(),
        state.config.auth.card_bridge_download_url.as_deref(),
    );
    let mut r = Html(html).into_response();
    r.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    r
}
