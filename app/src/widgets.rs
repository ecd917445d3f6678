//! Small shared pieces: error box, status badge, confirmation panel, date formatting.

use leptos::prelude::*;
use proto::Status;

use crate::api::ApiError;
use crate::i18n::{lang, pick, tr};

/// An API error in the page's language; the server's technical detail (English, e.g. why a
/// CSR was refused, or the request id of an internal error) folded underneath.
#[component]
pub fn ErrorBox(error: ApiError) -> impl IntoView {
    let lang = lang();
    let code = error.code().map(|c| c.code()).unwrap_or("network");
    let detail = error.detail().map(str::to_owned);
    let message = move || error.message(lang.get());
    view! {
        <div class="error-box" role="alert" data-code=code>
            <p class="error-message">{message}</p>
            {detail.map(|d| view! {
                <details class="error-detail">
                    <summary>{tr("技術細節", "Technical detail")}</summary>
                    <code lang="en">{d}</code>
                </details>
            })}
        </div>
    }
}

/// An error message in both languages (e.g. from the keygen package).
#[component]
pub fn Alert(zh: String, en: String) -> impl IntoView {
    let lang = lang();
    view! { <div class="error-box" role="alert">{move || pick(lang.get(), zh.clone(), en.clone())}</div> }
}

#[component]
pub fn StatusBadge(status: Status) -> impl IntoView {
    let lang = lang();
    view! {
        <span class=format!("badge status-{}", status.code().to_lowercase())>
            <span class="code">{status.code()}</span>" "{move || status.label(lang.get())}
        </span>
    }
}

/// `2026-11-24T08:30:00Z` → `2026-11-24 16:30` (Taipei time, UTC+8, no DST).
pub fn local_time(rfc3339: &str) -> String {
    let ms = js_sys::Date::parse(rfc3339);
    if ms.is_nan() {
        return rfc3339.to_owned();
    }
    let d = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(ms + 8.0 * 3600.0 * 1000.0));
    let iso: String = d.to_iso_string().into();
    // YYYY-MM-DDTHH:MM
    iso.get(..16).map(|s| s.replace('T', " ")).unwrap_or(iso)
}

/// The date part of [`local_time`].
pub fn local_date(rfc3339: &str) -> String {
    local_time(rfc3339).chars().take(10).collect()
}

/// Today in Taipei, `YYYY-MM-DD`.
pub fn today() -> String {
    let now = js_sys::Date::now() + 8.0 * 3600.0 * 1000.0;
    let iso: String = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(now))
        .to_iso_string()
        .into();
    iso.chars().take(10).collect()
}

/// NT$ with thousands separators.
pub fn ntd(amount: i64) -> String {
    let digits = amount.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    format!("NT${}{out}", if amount < 0 { "-" } else { "" })
}

/// An in-page confirmation for irreversible actions: the question, a confirm button
/// (focused when shown) and a cancel button.
#[component]
pub fn Confirm(
    /// Shown while true.
    open: RwSignal<bool>,
    zh: String,
    en: String,
    confirm_zh: &'static str,
    confirm_en: &'static str,
    on_confirm: Callback<()>,
    #[prop(optional)] danger: bool,
) -> impl IntoView {
    let lang = lang();
    let id = format!("confirm-{}", js_sys::Math::random().to_bits());
    let btn_id = format!("{id}-ok");
    let focus_id = btn_id.clone();
    Effect::new(move |_| {
        if open.get() {
            crate::form::focus(&focus_id);
        }
    });
    view! {
        <Show when=move || open.get()>
            <div class="confirm" role="alertdialog" aria-labelledby=id.clone() aria-modal="false">
                <p id=id.clone()>{
                    let (zh, en) = (zh.clone(), en.clone());
                    move || pick(lang.get(), zh.clone(), en.clone())
                }</p>
                <div class="buttons">
                    <button
                        type="button"
                        id=btn_id.clone()
                        class:danger=danger
                        class="primary"
                        on:click=move |_| {
                            open.set(false);
                            on_confirm.run(());
                        }
                    >{tr(confirm_zh, confirm_en)}</button>
                    <button type="button" on:click=move |_| open.set(false)>{tr("取消", "Cancel")}</button>
                </div>
            </div>
        </Show>
    }
}

/// The grid's mark on a certificate whose notAfter is within 60 days (15.8): it links to
/// 展期 of the application when `renew` is given.
#[component]
pub fn ExpiryMark(soon: bool, #[prop(optional)] renew: Option<String>) -> impl IntoView {
    soon.then(|| {
        let mark = view! { <span class="badge soon">{tr("60 日內到期", "Expires within 60 days")}</span> };
        match renew {
            Some(serial) => view! {
                " "{mark}" "<a class="expiry-renew" href=format!("#/apply/renew/{serial}")>{tr("展期", "Renew")}</a>
            }
            .into_any(),
            None => view! { " "{mark} }.into_any(),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::ntd;

    #[test]
    fn ntd_groups_thousands() {
        assert_eq!(ntd(2000), "NT$2,000");
        assert_eq!(ntd(999), "NT$999");
        assert_eq!(ntd(1_234_567), "NT$1,234,567");
        assert_eq!(ntd(-4000), "NT$-4,000");
        assert_eq!(ntd(0), "NT$0");
    }
}
