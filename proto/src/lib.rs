//! Shared vocabulary of the customs certificate portal: wire types of the JSON API and the
//! validation rules both the server and the browser apply. No I/O; builds for wasm32.

pub mod admin;
pub mod api;
pub mod error;
pub mod history;
pub mod ids;
pub mod model;
pub mod payment;
pub mod validate;

pub use error::{ErrorCode, ImportRowCode};
pub use model::*;

/// `zh` or `en` by `lang`.
pub fn i18n_pick<T>(lang: Lang, zh: T, en: T) -> T {
    match lang {
        Lang::ZhTw => zh,
        Lang::En => en,
    }
}
