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

/// `2026-11-24T08:30:00Z` → `2026-11-24T16:30:00.000Z`: the ISO text of the same instant
/// in Taipei time (UTC+8, no DST); `None` if it does not parse.
fn taipei_iso(rfc3339: &str) -> Option<String> {
    let ms = js_sys::Date::parse(rfc3339);
    if ms.is_nan() {
        return None;
    }
    let d = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(ms + 8.0 * 3600.0 * 1000.0));
    Some(d.to_iso_string().into())
}

/// `2026-11-24T08:30:00Z` → `2026-11-24 16:30` (Taipei time, UTC+8, no DST).
pub fn local_time(rfc3339: &str) -> String {
    match taipei_iso(rfc3339) {
        // YYYY-MM-DDTHH:MM
        Some(iso) => iso.get(..16).map(|s| s.replace('T', " ")).unwrap_or(iso),
        None => rfc3339.to_owned(),
    }
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

/// NT$ with thousands separators (the same text as the printed slip).
pub fn ntd(amount: i64) -> String {
    proto::payment::ntd(amount)
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

/// Where a [`proto::api::Page`] sits in its result, without its rows (so a pager can be
/// drawn for any list).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageInfo {
    pub page: u32,
    pub pages: u32,
    pub first: u64,
    pub last: u64,
    pub total: u64,
    pub page_size: u32,
}

impl PageInfo {
    pub fn of<T>(p: &proto::api::Page<T>) -> PageInfo {
        PageInfo {
            page: p.page,
            pages: p.pages(),
            first: p.first(),
            last: p.last(),
            total: p.total,
            page_size: p.page_size,
        }
    }
}

/// The manual's pager, "第 1 頁 共 N 頁，1 - 10 共 N 筆", with first / previous / next / last
/// buttons and the page size choice. `id` prefixes the element ids (two lists on one page).
#[component]
pub fn Pager(
    id: &'static str,
    info: PageInfo,
    on_page: Callback<u32>,
    on_size: Callback<u32>,
) -> impl IntoView {
    let lang = lang();
    let PageInfo {
        page,
        pages,
        first,
        last,
        total,
        page_size,
    } = info;
    let status = move || match lang.get() {
        proto::Lang::ZhTw => format!("第 {page} 頁 共 {pages} 頁，{first} - {last} 共 {total} 筆"),
        proto::Lang::En => format!("Page {page} of {pages}, {first} - {last} of {total}"),
    };
    let go = move |to: u32, zh: &'static str, en: &'static str, key: &'static str| {
        let disabled = to == page || to < 1 || to > pages;
        view! {
            <button type="button" class="small" id=format!("{id}-{key}") disabled=disabled
                on:click=move |_| on_page.run(to)>{tr(zh, en)}</button>
        }
    };
    let size_id = format!("{id}-size");
    view! {
        <nav class="pager" id=id aria-label=move || pick(lang.get(), "分頁", "Pages")>
            <p class="pager-status" role="status" id=format!("{id}-status")>{status}</p>
            <div class="pager-buttons">
                {go(1, "第一頁", "First", "first")}
                {go(page.saturating_sub(1), "上一頁", "Previous", "prev")}
                {go(page + 1, "下一頁", "Next", "next")}
                {go(pages, "最末頁", "Last", "last")}
                <label for=size_id.clone()>{tr("每頁筆數", "Rows per page")}</label>
                <select id=size_id on:change=move |ev| {
                    if let Ok(n) = event_target_value(&ev).parse::<u32>() {
                        on_size.run(n);
                    }
                }>
                    {proto::api::PAGE_SIZES.iter().map(|n| {
                        let n = *n;
                        view! { <option value=n.to_string() selected=n == page_size>{n}</option> }
                    }).collect_view()}
                </select>
            </div>
        </nav>
    }
}

/// `2026-11-24T08:30:00Z` → `2026/11/24 16:30:00` (Taipei), the manual's 申請日期 format.
pub fn local_date_time(rfc3339: &str) -> String {
    match taipei_iso(rfc3339) {
        Some(iso) => iso
            .get(..19)
            .map(|s| s.replace('T', " ").replace('-', "/"))
            .unwrap_or(iso),
        None => rfc3339.to_owned(),
    }
}

/// A certificate's status as a badge (有效 / 暫禁 / 已註銷 / 已逾期).
#[component]
pub fn CertBadge(status: proto::CertStatus) -> impl IntoView {
    let lang = lang();
    view! {
        <span class=format!("badge cert-{}", status.code()) data-cert-status=status.code()>
            {move || status.label(lang.get())}
        </span>
    }
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
