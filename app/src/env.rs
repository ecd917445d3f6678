//! What the browser must offer: a secure context (https or localhost) for WebCrypto and
//! IndexedDB, WebCrypto itself, and module workers for the Rust fallback. WebAssembly is
//! checked earlier by boot.js, since without it this code never runs.

use js_sys::Reflect;
use wasm_bindgen::JsValue;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Missing {
    SecureContext,
    WebCrypto,
    IndexedDb,
}

fn global(path: &[&str]) -> JsValue {
    let mut v: JsValue = js_sys::global().into();
    for k in path {
        if v.is_undefined() || v.is_null() {
            return JsValue::UNDEFINED;
        }
        v = Reflect::get(&v, &JsValue::from_str(k)).unwrap_or(JsValue::UNDEFINED);
    }
    v
}

/// Everything missing, most fundamental first.
pub fn check() -> Vec<Missing> {
    let mut missing = Vec::new();
    if global(&["isSecureContext"]).as_bool() != Some(true) {
        missing.push(Missing::SecureContext);
    }
    if global(&["crypto", "subtle"]).is_undefined() {
        missing.push(Missing::WebCrypto);
    }
    if global(&["indexedDB"]).is_undefined() || global(&["indexedDB"]).is_null() {
        missing.push(Missing::IndexedDb);
    }
    missing
}
