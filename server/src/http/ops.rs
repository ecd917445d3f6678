//! What operators' tooling reads: the request id and latency of every request, `/readyz`
//! (is this instance fit to serve: database and CA key) and `/metrics` (Prometheus).

use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use subtle::ConstantTimeEq as _;
use tracing::Instrument as _;

use crate::state::AppState;

tokio::task_local! {
    /// The id of the request being served, for error answers and log lines.
    pub static REQUEST_ID: String;
}

/// The current request's id, if serving one.
pub fn current_request_id() -> Option<String> {
    REQUEST_ID.try_with(Clone::clone).ok()
}

/// A proxy's `X-Request-Id` is kept when it looks like an id (so logs of both match);
/// anything else gets a fresh random one.
fn request_id(headers: &HeaderMap) -> String {
    headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            !v.is_empty()
                && v.len() <= 64
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
        .map(str::to_owned)
        .unwrap_or_else(|| {
            let mut b = [0u8; 8];
            let _ = getrandom::fill(&mut b);
            crate::domain::hex(&b)
        })
}

/// Around every request: an id (answered in `X-Request-Id`, on every log line of the
/// request through its span) and the latency histogram by route pattern.
pub async fn observe(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let id = request_id(req.headers());
    let method = req.method().as_str().to_owned();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "other".to_owned());
    let span = tracing::info_span!("request", request_id = %id, %method, %route);
    let mut resp = REQUEST_ID
        .scope(id.clone(), next.run(req).instrument(span))
        .await;
    let status = resp.status().as_u16();
    state
        .svc
        .metrics
        .observe_request(&method, &route, status, started.elapsed().as_secs_f64());
    if let Ok(v) = HeaderValue::from_str(&id) {
        resp.headers_mut().insert("x-request-id", v);
    }
    resp
}

/// Ready to take traffic: the database answers and the CA key signs (a throw-away CRL).
/// 200 `ready`, else 503 with the failing check; load balancers route on this.
pub async fn readyz(State(state): State<AppState>) -> Response {
    let checks = readiness(&state).await;
    let failed: Vec<String> = checks
        .iter()
        .filter_map(|(name, r)| r.as_ref().err().map(|e| format!("{name}: {e}")))
        .collect();
    if failed.is_empty() {
        (StatusCode::OK, "ready\n").into_response()
    } else {
        tracing::warn!(failed = ?failed, "not ready");
        (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("not ready\n{}\n", failed.join("\n")),
        )
            .into_response()
    }
}

async fn readiness(state: &AppState) -> Vec<(&'static str, Result<(), String>)> {
    let db = async {
        let mut conn = state.svc.db.conn().await.map_err(|e| e.to_string())?;
        sqlx::query("SELECT 1")
            .execute(&mut *conn)
            .await
            .map_err(|e| e.to_string())?;
        Ok::<(), String>(())
    };
    let db = tokio::time::timeout(Duration::from_secs(5), db)
        .await
        .unwrap_or_else(|_| Err("no answer within 5 s".into()));
    vec![("database", db), ("ca_key", ca_can_sign(state).await)]
}

/// Sign an empty CRL with the CA key (a token key really signs), off the async threads.
pub async fn ca_can_sign(state: &AppState) -> Result<(), String> {
    let ca = state.svc.ca.clone();
    let profile = state.svc.profile.clone();
    let now = state.now();
    tokio::task::spawn_blocking(move || ca.crl(&profile, 0, now, &[]).map(drop))
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())
}

async fn metrics_text(state: &AppState) -> Response {
    let body = state
        .svc
        .metrics
        .render(&state.svc.db, state.now().unix_timestamp())
        .await;
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        body,
    )
        .into_response()
}

/// `/metrics` on the main address: only with `server.metrics_token`, as a bearer token;
/// without one configured the endpoint does not exist there.
pub async fn metrics_with_token(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let Some(token) = state.config.server.metrics_token.as_deref() else {
        return crate::error::ApiError::NotFound("no such endpoint".into()).into_response();
    };
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    if !bool::from(given.as_bytes().ct_eq(token.as_bytes())) {
        return (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer")],
            "metrics need the bearer token\n",
        )
            .into_response();
    }
    metrics_text(&state).await
}

/// The private admin address (`server.metrics_bind`): metrics and readiness, no token.
pub fn admin_router(state: AppState) -> Router {
    Router::new()
        .route(
            "/metrics",
            get(|State(s): State<AppState>| async move { metrics_text(&s).await }),
        )
        .route("/readyz", get(readyz))
        .with_state(state)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_proxys_request_id_is_kept_only_when_it_is_an_id() {
        let mut h = HeaderMap::new();
        h.insert("x-request-id", HeaderValue::from_static("abc-123_X"));
        assert_eq!(request_id(&h), "abc-123_X");
        h.insert("x-request-id", HeaderValue::from_static("a b\"<script>"));
        let fresh = request_id(&h);
        assert_eq!(fresh.len(), 16);
        assert!(fresh.bytes().all(|b| b.is_ascii_hexdigit()));
    }
}
