//! The HiPKI Local Server protocol (the "跨平台網頁元件" Taiwanese government sites use):
//! request parsing, answers, error codes. No HTTP here: [`make_signature`] and
//! [`pkcs11_info`] turn a request into the JSON answer, whatever transport carried it.

pub mod cms;
pub mod codes;
pub mod package;

mod info;
mod sign;

pub use info::{Pkcs11Info, pkcs11_info};
pub use sign::{SignResponse, make_signature};

/// Reported as `serverVersion`/`version`. Some pages compare it with HiPKI's own version
/// numbers (e.g. `version < "1.3.4.103328"`) and would ask the user to "upgrade"; the
/// portal must not do that (see README).
pub const SERVER_VERSION: &str = concat!("card-bridge-", env!("CARGO_PKG_VERSION"));

/// An error answer for `func` (`"sign"` or `"pkcs11info"`), e.g. for a refused origin.
pub fn error_answer(func: &'static str, err: &codes::HipkiError) -> serde_json::Value {
    let mut v = serde_json::json!({
        "func": func,
        "ret_code": err.ret_code,
        "last_error": err.last_error,
        "message": codes::major_message(err.ret_code),
        "detail": err.detail,
        "version": SERVER_VERSION,
    });
    if let Some(minor) = codes::minor_message(err.last_error) {
        v["message2"] = minor.into();
    }
    if let Some(n) = err.tries_left {
        v["tries_left"] = n.into();
    }
    v
}
