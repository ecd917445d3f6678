//! `GET /ocsp/{base64 request}` (RFC 5019 with HTTP caching headers) and `POST /ocsp`
//! (`application/ocsp-request`): the OCSP responder named in the AIA of the portal's
//! certificates. Errors travel inside the OCSP response (RFC 6960 2.3) with HTTP 200.

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};

use crate::domain::ocsp::{self, Answer, Reply};
use crate::error::ApiError;
use crate::state::AppState;

/// Largest request accepted (one CertID is about 80 bytes; a signed request with a
/// certificate chain stays far below this).
pub const BODY_LIMIT: usize = 16 * 1024;

const CONTENT_TYPE: &str = "application/ocsp-response";

/// Base64 with or without padding; clients differ (RFC 5019 5: URL-encoded base64).
fn engine(alphabet: &alphabet::Alphabet) -> GeneralPurpose {
    GeneralPurpose::new(
        alphabet,
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
    )
}

/// The DER request of a GET path: standard base64 (a `+` that a form decoder turned into a
/// space is put back), else the URL-safe alphabet.
fn decode_get(encoded: &str) -> Option<Vec<u8>> {
    let text = encoded.trim().replace(' ', "+");
    engine(&alphabet::STANDARD)
        .decode(&text)
        .or_else(|_| engine(&alphabet::URL_SAFE).decode(&text))
        .ok()
}

pub async fn get(
    State(state): State<AppState>,
    Path(encoded): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let Some(der) = decode_get(&encoded) else {
        return Ok(refused(ca::OcspRefusal::Malformed));
    };
    let reply = ocsp::answer(&state.svc, &der, state.now()).await?;
    Ok(respond(reply, &headers, state.now().unix_timestamp()))
}

pub async fn post(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let reply = ocsp::answer(&state.svc, &body, state.now()).await?;
    Ok(respond(reply, &headers, state.now().unix_timestamp()))
}

fn refused(r: ca::OcspRefusal) -> Response {
    let mut resp = Response::new(Body::from(r.der()));
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

fn respond(reply: Reply, request_headers: &HeaderMap, now: i64) -> Response {
    let answer = match reply {
        Reply::Answer(a) => a,
        Reply::Refused(r) => return refused(r),
    };
    let not_modified = answer.shareable
        && request_headers
            .get(header::IF_NONE_MATCH)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.split(',').any(|tag| tag.trim() == answer.etag));
    let mut resp = if not_modified {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        Response::new(Body::from(answer.der.clone()))
    };
    caching_headers(resp.headers_mut(), &answer, now);
    resp
}

/// RFC 5019 6.2: cacheable until nextUpdate, revalidated after, with Last-Modified at
/// thisUpdate and a strong ETag.
fn caching_headers(h: &mut HeaderMap, a: &Answer, now: i64) {
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
    if !a.shareable {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        return;
    }
    let max_age = (a.next_update - now).max(0);
    let values = [
        (
            header::CACHE_CONTROL,
            format!("max-age={max_age}, public, no-transform, must-revalidate"),
        ),
        (header::LAST_MODIFIED, http_date(a.this_update)),
        (header::EXPIRES, http_date(a.next_update)),
        (header::ETAG, a.etag.clone()),
    ];
    for (name, value) in values {
        if let Ok(v) = HeaderValue::from_str(&value) {
            h.insert(name, v);
        }
    }
}

fn http_date(unix: i64) -> String {
    let t =
        std::time::UNIX_EPOCH + std::time::Duration::from_secs(u64::try_from(unix).unwrap_or(0));
    httpdate::fmt_http_date(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn get_paths_decode_padded_unpadded_url_safe_and_form_mangled_base64() {
        let der = [0x03u8, 0xef, 0xbf, 0xfc]; // "A++//A=="
        let std = base64::engine::general_purpose::STANDARD.encode(der);
        assert!(std.contains('+') && std.contains('/'));
        assert_eq!(decode_get(&std).as_deref(), Some(&der[..]));
        assert_eq!(
            decode_get(std.trim_end_matches('=')).as_deref(),
            Some(&der[..])
        );
        assert_eq!(
            decode_get(&std.replace('+', " ")).as_deref(),
            Some(&der[..])
        );
        let url = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(der);
        assert_eq!(decode_get(&url).as_deref(), Some(&der[..]));
        assert_eq!(decode_get("not base64!"), None);
    }

    #[test]
    fn http_dates_are_imf_fixdate() {
        assert_eq!(http_date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(http_date(1_796_083_200), "Tue, 01 Dec 2026 00:00:00 GMT");
    }
}
