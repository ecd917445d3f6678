//! Saving generated files: a Blob and a temporary `<a download>`, so nothing goes through
//! the server.

use leptos::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{Blob, BlobPropertyBag, HtmlAnchorElement, Url};

/// A Blob URL for `bytes`; keep it to offer the file again, revoke it when done.
pub fn object_url(bytes: &js_sys::Uint8Array, mime: &str) -> Option<String> {
    let parts = js_sys::Array::of1(bytes);
    let opts = BlobPropertyBag::new();
    opts.set_type(mime);
    let blob = Blob::new_with_u8_array_sequence_and_options(&parts, &opts).ok()?;
    Url::create_object_url_with_blob(&blob).ok()
}

/// Starts the browser's download of `url` as `file_name`.
pub fn save(url: &str, file_name: &str) -> bool {
    let Ok(el) = document().create_element("a") else {
        return false;
    };
    let Ok(a) = el.dyn_into::<HtmlAnchorElement>() else {
        return false;
    };
    a.set_href(url);
    a.set_download(file_name);
    a.set_class_name("hidden");
    let Some(body) = document().body() else {
        return false;
    };
    if body.append_child(&a).is_err() {
        return false;
    }
    a.click();
    a.remove();
    true
}

pub fn revoke(url: &str) {
    let _ = Url::revoke_object_url(url);
}
