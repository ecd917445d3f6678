//! Thin handlers: check who is asking, run the HiPKI operation on a blocking thread,
//! answer with the right headers.

use axum::body::Bytes;
use axum::extract::{Query, Request, State};
use axum::http::StatusCode;
use axum::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use zeroize::Zeroizing;

use super::AppState;
use super::origin::Caller;
use super::popup;
use crate::card::CardReader;
use crate::hipki::{self, codes};

/// Host check (DNS rebinding) and headers every answer carries.
pub async fn guard(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if !state.policy.host_ok(request.headers()) {
        tracing::warn!(host = ?request.headers().get(header::HOST), "refused: Host is not the bridge");
        return (StatusCode::MISDIRECTED_REQUEST, "wrong Host").into_response();
    }
    let mut response = next.run(request).await;
    let h = response.headers_mut();
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.entry(header::CONTENT_SECURITY_POLICY)
        .or_insert(HeaderValue::from_static(
            "default-src 'none'; frame-ancestors 'none'",
        ));
    response
}

pub async fn popup_page(State(state): State<AppState>) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CONTENT_SECURITY_POLICY, popup::PAGE_CSP),
        ],
        popup::page(state.policy.allowed()),
    )
        .into_response()
}

pub async fn popup_script() -> Response {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        popup::SCRIPT,
    )
        .into_response()
}

pub async fn popup_style() -> Response {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        popup::STYLE,
    )
        .into_response()
}

pub async fn not_found() -> Response {
    (StatusCode::NOT_FOUND, "not found").into_response()
}

#[derive(Debug, Deserialize)]
pub struct InfoQuery {
    withcert: Option<String>,
}

pub async fn pkcs11info(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<InfoQuery>,
) -> Response {
    let caller = state.policy.classify(&headers);
    if let Caller::Foreign(origin) = &caller {
        return refuse("pkcs11info", origin);
    }
    let with_certificates = query
        .withcert
        .is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let answer = on_card(&state, move |r| hipki::pkcs11_info(r, with_certificates)).await;
    match answer {
        Ok(info) => {
            tracing::info!(caller = ?caller, ret_code = info.ret_code, slots = info.slots.len(), "pkcs11info");
            with_cors(&caller, axum::Json(info).into_response())
        }
        Err(response) => response,
    }
}

/// `POST /sign`: `application/x-www-form-urlencoded` with `tbsPackage` (HiPKI's form, what
/// the popup sends) or the package itself as `application/json`.
pub async fn sign(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let caller = state.policy.classify(&headers);
    match &caller {
        Caller::Bridge | Caller::Portal(_) => {}
        // Browsers always send Origin on a POST; none means a non-browser client, which
        // we do not serve either (it could drive the card through PC/SC itself).
        Caller::NoOrigin => return refuse("sign", "<none>"),
        Caller::Foreign(origin) => return refuse("sign", origin),
    }
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    // The package holds the PIN: keep our copy in a wiping buffer.
    let (package, portal) = if is_json {
        (
            Zeroizing::new(String::from_utf8_lossy(&body).into_owned()),
            None,
        )
    } else {
        let mut package = None;
        let mut portal = None;
        for (k, v) in form_urlencoded::parse(&body) {
            match k.as_ref() {
                "tbsPackage" => package = Some(Zeroizing::new(v.into_owned())),
                "portal" => portal = Some(v.into_owned()),
                _ => {}
            }
        }
        let Some(package) = package else {
            let err = codes::HipkiError::new(codes::NO_TBS, "form field tbsPackage is missing");
            return with_cors(
                &caller,
                axum::Json(hipki::error_answer("sign", &err)).into_response(),
            );
        };
        (package, portal)
    };
    // The popup names the portal it serves; it must be one we allow (our own script only
    // ever sends event.origin, which it already checked).
    if let Some(portal) = &portal
        && !state.policy.allowed().contains(portal)
    {
        return refuse("sign", portal);
    }
    let now = time::OffsetDateTime::now_utc();
    let answer = on_card(&state, move |r| hipki::make_signature(r, &package, now)).await;
    match answer {
        Ok(answer) => {
            tracing::info!(
                caller = ?caller,
                portal = portal.as_deref().unwrap_or("-"),
                ret_code = answer.ret_code,
                last_error = answer.last_error,
                "MakeSignature"
            );
            with_cors(&caller, axum::Json(answer).into_response())
        }
        Err(response) => response,
    }
}

/// CORS preflight: allowed portals only (plus Private Network Access for Chrome).
pub async fn preflight(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let caller = state.policy.classify(&headers);
    let Caller::Portal(_) = &caller else {
        return (StatusCode::FORBIDDEN, "origin not allowed").into_response();
    };
    let mut response = with_cors(&caller, StatusCode::NO_CONTENT.into_response());
    let h = response.headers_mut();
    h.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("GET, POST"),
    );
    h.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static("Content-Type"),
    );
    h.insert(
        header::ACCESS_CONTROL_MAX_AGE,
        HeaderValue::from_static("600"),
    );
    if headers.contains_key("access-control-request-private-network") {
        h.insert(
            HeaderName::from_static("access-control-allow-private-network"),
            HeaderValue::from_static("true"),
        );
    }
    response
}

fn refuse(func: &'static str, origin: &str) -> Response {
    tracing::warn!(origin, func, "refused: origin not allowed");
    let err = codes::HipkiError::new(
        codes::UNTRUSTED_SITE,
        format!("origin {origin} is not allowed to use this bridge"),
    );
    (
        StatusCode::FORBIDDEN,
        axum::Json(hipki::error_answer(func, &err)),
    )
        .into_response()
}

/// Adds `Access-Control-Allow-Origin` for an allowed portal, nothing for anyone else.
fn with_cors(caller: &Caller, mut response: Response) -> Response {
    if let Caller::Portal(origin) = caller
        && let Ok(v) = HeaderValue::from_str(origin)
    {
        let h = response.headers_mut();
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, v);
        h.insert(header::VARY, HeaderValue::from_static("Origin"));
    }
    response
}

/// Runs a card operation on a blocking thread, holding the reader lock.
async fn on_card<T: Send + 'static>(
    state: &AppState,
    f: impl FnOnce(&mut dyn CardReader) -> T + Send + 'static,
) -> Result<T, Response> {
    let reader = state.reader.clone();
    tokio::task::spawn_blocking(move || {
        // A panic in an earlier operation poisons the lock; the reader itself holds no
        // state that a panic could leave half-updated, so keep going.
        let mut guard = reader.lock().unwrap_or_else(|p| p.into_inner());
        f(guard.as_mut())
    })
    .await
    .map_err(|e| {
        tracing::error!(error = %e, "card operation panicked");
        (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
    })
}
