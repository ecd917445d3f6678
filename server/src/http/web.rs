//! The app's files from `web_dir` (built by `cargo xtask web`). Names under `/assets/` carry
//! a digest of their content, so browsers may keep them for a year without asking again;
//! everything else (`index.html`, the SPA fallback, the keygen package at its stable path)
//! is revalidated on every visit, which is how a deploy reaches browsers: the new page
//! names new files. Each file is sent as its build-time `.br` or `.gz` when the browser
//! accepts one.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use tower::ServiceExt as _;
use tower_http::services::{ServeDir, ServeFile};

use crate::error::ApiError;

/// URL prefix of the content-addressed files (xtask's `ASSETS` directory).
pub const ASSETS_PREFIX: &str = "/assets/";
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";
pub const REVALIDATE: &str = "no-cache";

pub async fn serve(web: &std::path::Path, req: Request) -> Response {
    let hashed = req.uri().path().starts_with(ASSETS_PREFIX);
    let dir = ServeDir::new(web)
        .precompressed_br()
        .precompressed_gzip()
        .append_index_html_on_directories(true);
    let result = if hashed {
        // A missing hashed file is a 404, never the page: a page cached for a year in place
        // of a script would break that browser until the cache expires.
        dir.oneshot(req)
            .await
            .map(|r| r.map(Body::new))
            .map_err(|e| e.to_string())
    } else {
        let index = ServeFile::new(web.join("index.html"))
            .precompressed_br()
            .precompressed_gzip();
        dir.fallback(index)
            .oneshot(req)
            .await
            .map(|r| r.map(Body::new))
            .map_err(|e| e.to_string())
    };
    let mut resp = match result {
        Ok(r) => r,
        Err(e) => return ApiError::Internal(format!("static file: {e}")).into_response(),
    };
    let ok = matches!(
        resp.status(),
        StatusCode::OK | StatusCode::PARTIAL_CONTENT | StatusCode::NOT_MODIFIED
    );
    let h = resp.headers_mut();
    let cache = match (hashed, ok) {
        (true, true) => IMMUTABLE,
        (false, true) => REVALIDATE,
        (_, false) => "no-store",
    };
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    // The same URL answers differently by Accept-Encoding; caches must keep them apart.
    h.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    resp
}
