//! Operator: the grid of every application (server-side pages, sorting, filters by status
//! and date, counts per status, CSV export of the current filter), record a payment,
//! revoke / suspend / unsuspend a certificate (with confirmation).

use leptos::prelude::*;
use leptos::task::spawn_local;
use proto::admin::{AdminApplications, GridSort, SortDir, SortKey};
use proto::api::{ApplicationQuery, ApplicationView, PAGE_SIZES, PaymentRecord};
use proto::validate::{self, Errors, FieldCode};
use proto::{Action, ApplicationType, FEE_PER_CERTIFICATE, Lang, RevocationReason, Status};

use crate::api::{self, ApiError};
use crate::form::{FormCtl, SelectField, TextField, revocation_reason_options};
use crate::i18n::{lang, pick, tr};
use crate::pages::query::{status_options, type_options};
use crate::widgets::{Confirm, ErrorBox, ExpiryMark, StatusBadge, local_time, ntd, today};

/// Page sizes the operator grid offers; its default is the largest the day's work needs.
const GRID_SIZES: [u32; 4] = PAGE_SIZES;
const GRID_DEFAULT_SIZE: u32 = 50;

#[component]
pub fn Admin() -> impl IntoView {
    let lang = lang();
    let from = RwSignal::new(String::new());
    let to = RwSignal::new(String::new());
    let app_type = RwSignal::new(String::new());
    let status = RwSignal::new(String::new());
    let tax_id = RwSignal::new(String::new());
    let q = RwSignal::new(String::new());
    let page = RwSignal::new(1u32);
    let page_size = RwSignal::new(GRID_DEFAULT_SIZE);
    let sort = RwSignal::new(GridSort::default());
    // The answer on screen and the order it was asked in: the headers' aria-sort shows what
    // the rows are, not what was just clicked and is still on its way.
    let result = RwSignal::new(None::<(AdminApplications, GridSort)>);
    let latest = api::Latest::new();
    let error = RwSignal::new(None::<ApiError>);
    let ctl = FormCtl::new(move || {
        let mut e = Errors::default();
        let t = tax_id.get();
        if !t.trim().is_empty()
            && let Err(c) = validate::tax_id(t.trim())
        {
            e.push("search.tax_id", c);
        }
        let (f, t) = (from.get(), to.get());
        if !f.is_empty() && !t.is_empty() && f > t {
            e.push("search.to", FieldCode::Format);
        }
        e.0
    });
    let query = move || ApplicationQuery {
        from: Some(from.get()).filter(|s| !s.is_empty()),
        to: Some(to.get()).filter(|s| !s.is_empty()),
        app_type: ApplicationType::from_code(&app_type.get()),
        status: Status::from_code(&status.get()),
        tax_id: Some(tax_id.get().trim().to_owned()).filter(|s| !s.is_empty()),
        q: Some(q.get().trim().to_owned()).filter(|s| !s.is_empty()),
        page: Some(page.get()),
        page_size: Some(page_size.get()),
    };
    let search = move || {
        let qy = untrack(query);
        let order = sort.get_untracked();
        let ticket = latest.ticket();
        error.set(None);
        spawn_local(async move {
            let answer = api::admin_applications(&qy, order).await;
            if !latest.is_newest(ticket) {
                return;
            }
            match answer {
                Ok(r) => {
                    // The server clamps a page past the end; keep the pager in step.
                    page.set(r.page.page);
                    result.set(Some((r, order)));
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };
    search();
    let refresh = Callback::new(move |()| search());
    let first_page = move || {
        page.set(1);
        search();
    };
    let sort_by = Callback::new(move |key: SortKey| {
        sort.update(|s| {
            let dir = if s.sort.unwrap_or_default() == key {
                match s.dir.unwrap_or_default() {
                    SortDir::Asc => SortDir::Desc,
                    SortDir::Desc => SortDir::Asc,
                }
            } else if key == SortKey::CreatedAt {
                SortDir::Desc
            } else {
                SortDir::Asc
            };
            *s = GridSort {
                sort: Some(key),
                dir: Some(dir),
            };
        });
        first_page();
    });
    let export_href = move || api::admin_export_url(&query(), sort.get());

    view! {
        <div class="operator-page">
        <h1>{tr("申請案件管理", "Applications (operator)")}</h1>
        <PaymentForm bill_no=String::new() on_done=refresh />
        <form class="card" on:submit=move |ev| {
            ev.prevent_default();
            if ctl.submit() {
                first_page();
            }
        }>
            <h2>{tr("查詢", "Search")}</h2>
            <div class="filters">
                <TextField ctl=ctl field="search.q" zh="序號／繳款書號碼" en="Serial / bill no." value=q />
                <TextField ctl=ctl field="search.tax_id" zh="統一編號" en="Tax ID" value=tax_id inputmode="numeric" maxlength=8
                    hint=("8 位數字", "8 digits") />
                <TextField ctl=ctl field="search.from" zh="申請日期（起）" en="From date" value=from kind="date" />
                <TextField ctl=ctl field="search.to" zh="申請日期（迄）" en="To date" value=to kind="date" />
                <SelectField ctl=ctl field="search.app_type" zh="申請類別" en="Type" value=app_type options=type_options() empty=("全部", "All") />
                <SelectField ctl=ctl field="search.status" zh="申請狀態" en="Status" value=status options=status_options() empty=("全部", "All") />
                <div class="buttons">
                    <button type="submit" class="primary" id="admin-search">{tr("查詢", "Search")}</button>
                </div>
            </div>
        </form>
        {move || result.get().map(|(r, _)| {
            let all: u64 = r.counts.iter().map(|c| c.count).sum();
            let tab = move |code: &'static str, zh: String, en: String, n: u64| {
                let pressed = move || status.get() == code;
                view! {
                    <li><button type="button" data-status=code
                        aria-pressed=move || if pressed() { "true" } else { "false" }
                        on:click=move |_| { status.set(code.to_owned()); first_page(); }>
                        {move || pick(lang.get(), zh.clone(), en.clone())}<span class="count">{n}</span>
                    </button></li>
                }
            };
            view! {
                <ul class="status-tabs" id="status-counts" aria-label=move || pick(lang.get(), "各狀態件數", "Count per status")>
                    {tab("", "全部".to_owned(), "All".to_owned(), all)}
                    {r.counts.iter().map(|c| {
                        let s = c.status;
                        let words = |l| format!("{} {}", s.code(), s.label(l));
                        tab(s.code(), words(Lang::ZhTw), words(Lang::En), c.count)
                    }).collect_view()}
                </ul>
            }
        })}
        {move || error.get().map(|e| view! { <ErrorBox error=e /> })}
        {move || match result.get() {
            None => view! { <p class="loading" role="status">{tr("查詢中…", "Searching…")}</p> }.into_any(),
            Some((r, shown)) => {
                let p = r.page.clone();
                let (pages, first, last, total) = (p.pages(), p.first(), p.last(), p.total);
                let current = p.page;
                let (at_first, at_last) = (current <= 1, current >= pages);
                let go = move |n: u32| { page.set(n); search(); };
                view! {
                    <div class="pager" id="admin-pager">
                        <span class="range" role="status">{move || match lang.get() {
                            Lang::ZhTw => format!("第 {current} 頁 共 {pages} 頁，{first} - {last} 共 {total} 筆"),
                            Lang::En => format!("Page {current} of {pages}, {first} - {last} of {total}"),
                        }}</span>
                        <button type="button" id="page-prev" disabled=at_first on:click=move |_| go(current - 1)>{tr("上一頁", "Previous")}</button>
                        <button type="button" id="page-next" disabled=at_last on:click=move |_| go(current + 1)>{tr("下一頁", "Next")}</button>
                        <label for="page-size">{tr("每頁筆數", "Rows per page")}</label>
                        <select id="page-size" on:change=move |ev| {
                            page_size.set(event_target_value(&ev).parse().unwrap_or(GRID_DEFAULT_SIZE));
                            first_page();
                        }>
                            {GRID_SIZES.iter().map(|n| {
                                let chosen = *n == page_size.get_untracked();
                                view! { <option value=n.to_string() selected=chosen>{n.to_string()}</option> }
                            }).collect_view()}
                        </select>
                        <a id="admin-export" class="button" href=export_href download="">{tr("匯出 CSV（目前條件）", "Export CSV (current filter)")}</a>
                    </div>
                    {if p.items.is_empty() {
                        view! { <p id="no-results">{tr("查無資料。", "Nothing found.")}</p> }.into_any()
                    } else {
                        view! { <AdminTable list=p.items shown=shown sort_by=sort_by refresh=refresh /> }.into_any()
                    }}
                }.into_any()
            }
        }}
        </div>
    }
}

/// A column header that sorts the grid by `key` (again: the other direction). `shown` is
/// the order of the rows on screen.
#[component]
fn SortTh(
    col: SortKey,
    zh: &'static str,
    en: &'static str,
    shown: GridSort,
    sort_by: Callback<SortKey>,
) -> impl IntoView {
    let state = move || {
        let s = shown;
        if s.sort.unwrap_or_default() != col {
            "none"
        } else {
            match s.dir.unwrap_or_default() {
                SortDir::Asc => "ascending",
                SortDir::Desc => "descending",
            }
        }
    };
    view! {
        <th scope="col" aria-sort=state>
            <button type="button" class="sort" data-sort=col.code() on:click=move |_| sort_by.run(col)>
                {tr(zh, en)}
                <span aria-hidden="true">{move || match state() { "ascending" => " ▲", "descending" => " ▼", _ => "" }}</span>
            </button>
        </th>
    }
}

#[component]
fn AdminTable(
    list: Vec<ApplicationView>,
    shown: GridSort,
    sort_by: Callback<SortKey>,
    refresh: Callback<()>,
) -> impl IntoView {
    let lang = lang();
    let th = move |zh: &'static str, en: &'static str| view! { <th scope="col">{tr(zh, en)}</th> };
    view! {
        <div class="table-scroll">
        <table class="data" id="admin-applications">
            <caption>{tr("查詢結果", "Results")}</caption>
            <thead><tr>
                <SortTh col=SortKey::Serial zh="申請序號" en="Serial" shown=shown sort_by=sort_by />
                <SortTh col=SortKey::CreatedAt zh="申請日期" en="Applied at" shown=shown sort_by=sort_by />
                <SortTh col=SortKey::TaxId zh="統一編號" en="Tax ID" shown=shown sort_by=sort_by />
                <SortTh col=SortKey::Company zh="公司名稱" en="Company" shown=shown sort_by=sort_by />
                <SortTh col=SortKey::AppType zh="類別" en="Type" shown=shown sort_by=sort_by />
                <SortTh col=SortKey::Status zh="狀態" en="Status" shown=shown sort_by=sort_by />
                {th("規費單號", "Bill no.")}
                {th("金額", "Amount")}
                {th("憑證序號", "Certificate serial")}
                {th("憑證狀態", "Certificate status")}
                {th("功能", "Actions")}
            </tr></thead>
            <tbody>
                {list.into_iter().map(|a| {
                    let l = move |zh: &'static str, en: &'static str| move || pick(lang.get(), zh, en);
                    let t = a.app_type;
                    let bill = a.bill.clone();
                    let bill2 = a.bill.clone();
                    let cert = a.certificate.clone();
                    let cert2 = a.certificate.clone();
                    view! {
                        <tr data-serial=a.serial.clone()>
                            <td data-label=l("申請序號", "Serial") class="mono">{a.serial.clone()}</td>
                            <td data-label=l("申請日期", "Applied at") class="num">{local_time(&a.created_at)}</td>
                            <td data-label=l("統一編號", "Tax ID") class="mono">{a.tax_id.clone()}</td>
                            <td data-label=l("公司名稱", "Company")>{a.company.name.clone()}</td>
                            <td data-label=l("類別", "Type") class="nowrap">{move || t.label(lang.get())}</td>
                            <td data-label=l("狀態", "Status")><StatusBadge status=a.status /></td>
                            <td data-label=l("規費單號", "Bill no.") class="mono">{bill.map(|b| b.bill_no)}</td>
                            <td data-label=l("金額", "Amount") class="num">{bill2.map(|b| view! {
                                {ntd(b.amount)}" "<span class="nowrap">{move || b.status.label(lang.get())}</span>
                            })}</td>
                            <td data-label=l("憑證序號", "Certificate serial") class="mono">{cert.map(|c| c.serial_hex)}</td>
                            <td data-label=l("憑證狀態", "Certificate status")>{cert2.map(|c| view! {
                                <span class=format!("badge cert-{}", c.status.code())>{move || c.status.label(lang.get())}</span>
                                <ExpiryMark soon=c.expiring_soon />
                            })}</td>
                            <td data-label=l("功能", "Actions") class="actions">
                                <div class="action-list"><RowActions app=a.clone() refresh=refresh /></div>
                            </td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
        </div>
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Open {
    None,
    Pay,
    Cert(&'static str),
}

/// The operator's buttons for one row: exactly the `actions` the server lists for it (the
/// rows of its transition table an operator may fire now).
#[component]
fn RowActions(app: ApplicationView, refresh: Callback<()>) -> impl IntoView {
    let open = RwSignal::new(Open::None);
    let bill_no = app
        .bill
        .as_ref()
        .map(|b| b.bill_no.clone())
        .unwrap_or_default();
    let serial_hex = app
        .certificate
        .as_ref()
        .map(|c| c.serial_hex.clone())
        .unwrap_or_default();
    let buttons: Vec<(Action, Open)> = app
        .actions
        .iter()
        .filter_map(|a| match a {
            Action::RecordPayment => Some((*a, Open::Pay)),
            Action::Revoke | Action::Suspend | Action::Unsuspend => {
                Some((*a, Open::Cert(a.code())))
            }
            _ => None,
        })
        .collect();
    let lang = lang();
    view! {
        {buttons.into_iter().map(|(a, target)| view! {
            <button type="button" class="small" class:danger=a == Action::Revoke data-action=a.code()
                on:click=move |_| open.set(target)>{move || a.label(lang.get())}</button>
        }).collect_view()}
        {move || match open.get() {
            Open::None => ().into_any(),
            Open::Pay => view! {
                <PaymentForm bill_no=bill_no.clone() on_done=Callback::new(move |()| {
                    open.set(Open::None);
                    refresh.run(());
                }) />
            }.into_any(),
            Open::Cert(action) => view! {
                <CertAction serial_hex=serial_hex.clone() action=action
                    on_done=Callback::new(move |()| { open.set(Open::None); refresh.run(()); })
                    on_cancel=Callback::new(move |()| open.set(Open::None)) />
            }.into_any(),
        }}
    }
}

/// Records one payment by bill number (prefilled from a row, or typed in).
#[component]
fn PaymentForm(bill_no: String, on_done: Callback<()>) -> impl IntoView {
    let lang = lang();
    let prefilled = !bill_no.is_empty();
    let bill = RwSignal::new(bill_no);
    let amount = RwSignal::new(FEE_PER_CERTIFICATE.to_string());
    let paid_on = RwSignal::new(today());
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<ApiError>);
    let ok = RwSignal::new(None::<String>);
    let prefix = if prefilled { "rowpay" } else { "pay" };
    let f = move |s: &'static str| -> &'static str {
        match (prefilled, s) {
            (true, "bill_no") => "rowpay.bill_no",
            (true, "amount") => "rowpay.amount",
            (true, _) => "rowpay.paid_on",
            (false, "bill_no") => "pay.bill_no",
            (false, "amount") => "pay.amount",
            (false, _) => "pay.paid_on",
        }
    };
    let ctl = FormCtl::new(move || {
        let mut e = Errors::default();
        if bill.with(|b| b.trim().is_empty()) {
            e.push(f("bill_no"), FieldCode::Required);
        }
        if amount.with(|a| a.trim().parse::<i64>().map(|v| v <= 0).unwrap_or(true)) {
            e.push(f("amount"), FieldCode::Format);
        }
        if paid_on.with(String::is_empty) {
            e.push(f("paid_on"), FieldCode::Required);
        }
        e.0
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() || !ctl.submit() {
            return;
        }
        busy.set(true);
        error.set(None);
        ok.set(None);
        let rec = PaymentRecord {
            bill_no: bill.get_untracked().trim().to_owned(),
            amount: amount.get_untracked().trim().parse().unwrap_or(0),
            paid_on: paid_on.get_untracked(),
        };
        spawn_local(async move {
            match api::record_payment(&rec).await {
                Ok(a) => {
                    ok.set(Some(a.serial.clone()));
                    if !prefilled {
                        bill.set(String::new());
                        ctl.reset();
                    }
                    on_done.run(());
                }
                Err(e) => {
                    ctl.set_server(e.fields().to_vec());
                    error.set(Some(e));
                }
            }
            busy.set(false);
        });
    };
    view! {
        <form class="card" on:submit=submit novalidate=true id=format!("{prefix}-form")>
            <h2>{tr("記錄繳費", "Record a payment")}</h2>
            <div class="filters">
                <TextField ctl=ctl field=f("bill_no") zh="規費繳款書號碼" en="Bill number" value=bill required=true readonly=prefilled />
                <TextField ctl=ctl field=f("amount") zh="金額（新臺幣）" en="Amount (NT$)" value=amount required=true inputmode="numeric" />
                <TextField ctl=ctl field=f("paid_on") zh="繳費日期" en="Paid on" value=paid_on required=true kind="date" />
                <div class="buttons">
                    <button type="submit" class="primary" id=format!("{prefix}-submit") disabled=move || busy.get()>{tr("記錄", "Record")}</button>
                </div>
            </div>
            {move || error.get().map(|e| view! { <ErrorBox error=e /> })}
            {move || ok.get().map(|s| view! {
                <p class="success-box" role="status">{move || match lang.get() {
                    Lang::ZhTw => format!("已記錄繳費，申請序號 {s}。"),
                    Lang::En => format!("Payment recorded for application {s}."),
                }}</p>
            })}
        </form>
    }
}

#[component]
fn CertAction(
    serial_hex: String,
    action: &'static str,
    on_done: Callback<()>,
    on_cancel: Callback<()>,
) -> impl IntoView {
    let reason = RwSignal::new(String::new());
    let reason_code = RwSignal::new(String::new());
    let confirm = RwSignal::new(false);
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<ApiError>);
    let revoke = action == "revoke";
    let ctl = FormCtl::new(move || {
        let mut e = Errors::default();
        if reason.with(|r| r.trim().is_empty()) {
            e.push("cert.reason", FieldCode::Required);
        }
        if revoke && RevocationReason::from_code(&reason_code.get()).is_none() {
            e.push("cert.reason_code", FieldCode::Required);
        }
        e.0
    });
    let (qzh, qen) = match action {
        "revoke" => (
            "註銷後憑證立即失效且無法恢復，確定註銷？",
            "A revoked certificate stops working at once and cannot be restored. Revoke?",
        ),
        "suspend" => (
            "暫禁後憑證暫停使用，確定暫禁？",
            "The certificate cannot be used while suspended. Suspend?",
        ),
        _ => ("確定解除暫禁？", "Lift the suspension?"),
    };
    let send = {
        let serial_hex = serial_hex.clone();
        move || {
            busy.set(true);
            error.set(None);
            let s = serial_hex.clone();
            spawn_local(async move {
                let code = RevocationReason::from_code(&reason_code.get_untracked());
                match api::certificate_action(
                    &s,
                    action,
                    reason.get_untracked().trim().to_owned(),
                    code,
                )
                .await
                {
                    Ok(_) => on_done.run(()),
                    Err(e) => error.set(Some(e)),
                }
                busy.set(false);
            });
        }
    };
    view! {
        <form class="card" novalidate=true id="cert-action-form" on:submit=move |ev| {
            ev.prevent_default();
            if ctl.submit() {
                confirm.set(true);
            }
        }>
            <p class="mono">{serial_hex.clone()}</p>
            {revoke.then(|| view! {
                <SelectField ctl=ctl field="cert.reason_code" zh="註銷原因 (RFC 5280)" en="Revocation reason (RFC 5280)"
                    value=reason_code required=true options=revocation_reason_options() />
            })}
            <TextField ctl=ctl field="cert.reason" zh="原因" en="Reason" value=reason required=true maxlength=200 />
            {move || error.get().map(|e| view! { <ErrorBox error=e /> })}
            <Confirm open=confirm zh=qzh.to_owned() en=qen.to_owned() confirm_zh="確定" confirm_en="Confirm"
                danger=action != "unsuspend" on_confirm=Callback::new(move |()| send()) />
            <div class="buttons">
                <button type="submit" class="primary" id="cert-action-submit" disabled=move || busy.get()>{tr("送出", "Submit")}</button>
                <button type="button" on:click=move |_| on_cancel.run(())>{tr("取消", "Cancel")}</button>
            </div>
        </form>
    }
}
