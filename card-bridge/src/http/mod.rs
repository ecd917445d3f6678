//! The HTTP face of the bridge, HiPKI-compatible: `/popupForm` (+ its script and style),
//! `/pkcs11info`, `/sign`. Listens on 127.0.0.1 only.

mod handlers;
pub mod origin;
pub mod popup;

use std::future::Future;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::get;
use tokio::net::TcpListener;

use crate::card::CardReader;
use origin::{AllowedOrigins, OriginPolicy};

/// Request bodies are a tbsPackage: small. (HiPKI hands bigger documents to a file.)
const BODY_LIMIT: usize = 1024 * 1024;

/// Shared by all requests. The reader sits behind a mutex: one card operation at a time.
#[derive(Clone)]
pub struct AppState {
    pub reader: Arc<Mutex<Box<dyn CardReader>>>,
    pub policy: Arc<OriginPolicy>,
}

impl AppState {
    pub fn new(reader: Box<dyn CardReader>, allowed: AllowedOrigins, port: u16) -> Self {
        Self {
            reader: Arc::new(Mutex::new(reader)),
            policy: Arc::new(OriginPolicy::new(allowed, port)),
        }
    }
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/popupForm", get(handlers::popup_page))
        .route("/popupForm.js", get(handlers::popup_script))
        .route("/popupForm.css", get(handlers::popup_style))
        .route(
            "/pkcs11info",
            get(handlers::pkcs11info)
                .post(handlers::pkcs11info)
                .options(handlers::preflight),
        )
        .route(
            "/sign",
            axum::routing::post(handlers::sign).options(handlers::preflight),
        )
        .fallback(handlers::not_found)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            handlers::guard,
        ))
        .with_state(state)
}

/// Serves on `listener` until `shutdown` completes.
pub async fn serve(
    listener: TcpListener,
    reader: Box<dyn CardReader>,
    allowed: AllowedOrigins,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let port = listener.local_addr()?.port();
    let app = router(AppState::new(reader, allowed, port));
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
}

#[cfg(test)]
mod tests;
