//! The portal's browser app (Leptos, client-side rendered): applicant pages for the DC02
//! flow and operator pages, in Traditional Chinese (default) or English. Talks to the
//! server's JSON API (`api`) and to the keygen package, imported when a page first needs it (`keygen`).

mod api;
mod app;
mod card;
mod cerfile;
mod download;
mod env;
mod form;
mod i18n;
mod keygen;
mod pages;
mod route;
mod session;
mod widgets;

use wasm_bindgen::prelude::wasm_bindgen;

/// Runs when boot.js calls the module's `init`: mounts the app into `#app`.
#[wasm_bindgen(start)]
pub fn start() {
    console_error_panic_hook::set_once();
    let target = leptos::prelude::document()
        .get_element_by_id("app")
        .and_then(|e| wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlElement>(e).ok());
    match target {
        Some(el) => {
            // Clear the "loading" text the shell shows until the wasm is ready.
            el.set_inner_html("");
            leptos::mount::mount_to(el, app::App).forget();
        }
        None => leptos::mount::mount_to_body(app::App),
    }
}
