//! Routes (docs/API.md), body limits, security headers and the static app with its SPA
//! fallback. Handlers are thin: parse, call the domain, map errors.

mod admin;
mod applicant;
mod auth;
pub mod client_ip;
pub mod extract;
pub mod headers;
mod ocsp;
pub mod ops;
pub mod pages;
mod public;
pub mod web;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderValue, Method, header};
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tower_http::catch_panic::CatchPanicLayer;

use crate::error::ApiError;
use crate::state::AppState;

/// JSON bodies.
pub const JSON_LIMIT: usize = 64 * 1024;
/// Reconciliation CSV uploads.
pub const CSV_LIMIT: usize = 1024 * 1024;

pub fn router(state: AppState) -> Router {
    let api = Router::new()
        .route("/api/session", get(auth::session))
        .route("/api/auth/dev-login", post(auth::dev_login))
        .route("/api/auth/operator-login", post(auth::operator_login))
        .route("/api/auth/card/challenge", post(auth::card_challenge))
        .route("/api/auth/card/login", post(auth::card_login))
        .route("/api/auth/logout", post(auth::logout))
        .route("/api/operator/password", post(auth::change_password))
        .route(
            "/api/applications",
            get(applicant::list).post(applicant::create),
        )
        .route("/api/applications/{serial}", get(applicant::get))
        .route("/api/applications/{serial}/slip", get(applicant::slip))
        .route(
            "/api/applications/{serial}/withdraw",
            post(applicant::withdraw),
        )
        .route(
            "/api/applications/{serial}/history",
            get(applicant::history),
        )
        .route(
            "/api/applications/{serial}/csr",
            post(applicant::submit_csr),
        )
        .route(
            "/api/applications/{serial}/certificate",
            get(applicant::certificate),
        )
        .route(
            "/api/applications/{serial}/certificate.cer",
            get(applicant::certificate_cer),
        )
        .route("/api/registrations", post(applicant::register))
        .route("/api/admin/applications", get(admin::list))
        .route("/api/admin/applications/export.csv", get(admin::export_csv))
        .route("/api/admin/payments", post(admin::payment))
        .route(
            "/api/admin/reconciliation",
            post(admin::reconciliation).layer(DefaultBodyLimit::max(CSV_LIMIT)),
        )
        .route(
            "/api/admin/certificates/{serial_hex}/{action}",
            post(admin::certificate_action),
        )
        .route("/api/admin/audit", get(admin::audit_log))
        .route("/api/admin/mail", get(admin::mail))
        .layer(middleware::map_response(no_store));
    Router::new()
        .merge(api)
        .route("/healthz", get(public::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/metrics", get(ops::metrics_with_token))
        .route("/ca.cer", get(public::ca_cer))
        .route("/ca.pem", get(public::ca_pem))
        .route("/ca-chain.pem", get(public::ca_chain_pem))
        .route("/root.cer", get(public::root_cer))
        .route("/crl/ca.crl", get(public::crl))
        .route(
            "/ocsp",
            post(ocsp::post).layer(DefaultBodyLimit::max(ocsp::BODY_LIMIT)),
        )
        .route("/ocsp/{*request}", get(ocsp::get))
        .route("/downloads/card-bridge", get(public::card_bridge_download))
        .fallback(fallback)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(JSON_LIMIT))
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(middleware::map_response_with_state(
            state.clone(),
            headers::security_headers,
        ))
        .layer(middleware::from_fn_with_state(state.clone(), ops::observe))
        .with_state(state)
}

/// API answers are per user and per moment: never cached.
async fn no_store(mut resp: Response) -> Response {
    resp.headers_mut()
        .entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    resp
}

/// A bug must not show a stack trace or drop the connection: log it, answer `internal`.
fn panic_response(_panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    ApiError::Internal("handler panicked".into()).into_response()
}

async fn method_not_allowed() -> ApiError {
    ApiError::BadRequest("method not allowed for this path".into())
}

/// Unknown `/api` paths get a JSON 404; everything else is the app: a file from `web_dir`,
/// or `index.html` so client-side routes survive a reload (caching and compression: `web`).
async fn fallback(State(state): State<AppState>, req: Request) -> Response {
    let path = req.uri().path();
    if path == "/api" || path.starts_with("/api/") {
        return ApiError::NotFound("no such endpoint".into()).into_response();
    }
    if !matches!(*req.method(), Method::GET | Method::HEAD) {
        return ApiError::BadRequest("method not allowed for this path".into()).into_response();
    }
    web::serve(&state.config.web_dir, req).await
}
