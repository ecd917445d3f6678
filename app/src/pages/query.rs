//! DC02 query: the company's applications by date range, type and status, with the actions
//! the server allows for each, and "finish download" for keys waiting in this browser.

use std::collections::HashSet;

use leptos::prelude::*;
use leptos::task::spawn_local;
use proto::api::{ApplicationQuery, ApplicationView, Page};
use proto::{Action, ApplicationType, Status};

use crate::api::{self, ApiError};
use crate::form::{FormCtl, ReadOnly, SelectField, TextField};
use crate::i18n::{lang, pick, tr};
use crate::keygen::{Vault, vault_owner};
use crate::route::Route;
use crate::session::use_session;
use crate::widgets::{
    CertBadge, Confirm, ErrorBox, ExpiryMark, PageInfo, Pager, StatusBadge, local_date_time,
};

pub fn type_options() -> Vec<(&'static str, &'static str, &'static str)> {
    ApplicationType::ALL
        .iter()
        .map(|t| {
            (
                t.code(),
                t.label(proto::Lang::ZhTw),
                t.label(proto::Lang::En),
            )
        })
        .collect()
}

pub fn status_options() -> Vec<(&'static str, &'static str, &'static str)> {
    Status::ALL
        .iter()
        .map(|s| {
            (
                s.code(),
                s.label(proto::Lang::ZhTw),
                s.label(proto::Lang::En),
            )
        })
        .collect()
}

/// Serials with a key of `owner` stored in this browser's vault (empty if the vault cannot
/// open or nobody is logged in).
pub async fn pending_keys(owner: Option<String>) -> HashSet<String> {
    let Some(owner) = owner else {
        return HashSet::new();
    };
    match Vault::open(&owner).await {
        Ok(v) => v.ids().await.unwrap_or_default().into_iter().collect(),
        Err(_) => HashSet::new(),
    }
}

#[component]
pub fn Query() -> impl IntoView {
    let session = use_session();
    let from = RwSignal::new(String::new());
    let to = RwSignal::new(String::new());
    let app_type = RwSignal::new(String::new());
    let status = RwSignal::new(String::new());
    let page_no = RwSignal::new(1u32);
    let page_size = RwSignal::new(proto::api::DEFAULT_PAGE_SIZE);
    let rows = RwSignal::new(None::<Page<ApplicationView>>);
    let pending = RwSignal::new(HashSet::<String>::new());
    let error = RwSignal::new(None::<ApiError>);
    let ctl = FormCtl::new(move || {
        let mut e = proto::validate::Errors::default();
        let (f, t) = (from.get(), to.get());
        if !f.is_empty() && !t.is_empty() && f > t {
            e.push("to", proto::validate::FieldCode::Format);
        }
        e.0
    });

    let latest = api::Latest::new();
    let search = move || {
        let q = ApplicationQuery {
            from: Some(from.get_untracked()).filter(|s| !s.is_empty()),
            to: Some(to.get_untracked()).filter(|s| !s.is_empty()),
            app_type: ApplicationType::from_code(&app_type.get_untracked()),
            status: Status::from_code(&status.get_untracked()),
            page: Some(page_no.get_untracked()),
            page_size: Some(page_size.get_untracked()),
            ..ApplicationQuery::default()
        };
        error.set(None);
        let owner = vault_owner(&session);
        let ticket = latest.ticket();
        spawn_local(async move {
            let answer = api::applications(&q).await;
            if !latest.is_newest(ticket) {
                return;
            }
            match answer {
                Ok(p) => rows.set(Some(p)),
                Err(e) => error.set(Some(e)),
            }
            pending.set(pending_keys(owner).await);
        });
    };
    search();
    let on_page = Callback::new(move |p: u32| {
        page_no.set(p);
        search();
    });
    let on_size = Callback::new(move |n: u32| {
        page_size.set(n);
        page_no.set(1);
        search();
    });

    let resumable = move || {
        let p = pending.get();
        rows.with(|r| {
            r.as_ref()
                .map(|r| {
                    r.items
                        .iter()
                        .filter(|a| {
                            p.contains(&a.serial)
                                && matches!(a.status, Status::Paid | Status::Completed)
                        })
                        .map(|a| a.serial.clone())
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default()
        })
    };

    view! {
        <div class="page-head">
            <h1>{tr("通關專屬憑證申請查詢", "Certificate applications")}</h1>
            <a class="button primary" id="new-application" href=Route::Apply { app_type: ApplicationType::New, target: None }.href()>
                {tr("新申請", "New application")}
            </a>
        </div>
        {move || {
            let list = resumable();
            (!list.is_empty()).then(|| view! {
                <div class="warn-box" role="status" id="resume-banner">
                    {tr(
                        "此瀏覽器中有已產製但尚未完成下載的金鑰，請點選「完成下載」儲存憑證檔案：",
                        "This browser holds keys whose download was not finished; choose \"Finish download\" to save the files:",
                    )}
                    " "
                    {list.into_iter().map(|s| view! {
                        <a class="button small" href=Route::Generate(s.clone()).href()>{s.clone()}</a>" "
                    }).collect_view()}
                </div>
            })
        }}
        <form class="card" on:submit=move |ev| {
            ev.prevent_default();
            if ctl.submit() {
                page_no.set(1);
                search();
            }
        }>
            <div class="filters">
                <ReadOnly field="tax_id" zh="統一編號" en="Tax ID" value=Signal::derive(move || session.tax_id()) />
                <TextField ctl=ctl field="from" zh="申請日期（起）" en="From date" value=from kind="date" />
                <TextField ctl=ctl field="to" zh="申請日期（迄）" en="To date" value=to kind="date" />
                <SelectField ctl=ctl field="app_type" zh="申請類別" en="Application type" value=app_type
                    options=type_options() empty=("全部", "All") />
                <SelectField ctl=ctl field="status" zh="申請狀態" en="Status" value=status
                    options=status_options() empty=("全部", "All") />
                <div class="buttons">
                    <button type="submit" class="primary" id="query-submit">{tr("查詢", "Search")}</button>
                </div>
            </div>
        </form>
        {move || error.get().map(|e| view! { <ErrorBox error=e /> })}
        {move || match rows.get() {
            None => view! { <p class="loading" role="status">{tr("查詢中…", "Searching…")}</p> }.into_any(),
            Some(p) if p.items.is_empty() => view! {
                <p id="no-results">{tr("查無申請資料。", "No applications found.")}</p>
            }.into_any(),
            Some(p) => {
                let info = PageInfo::of(&p);
                view! {
                    <Results list=p.items pending=pending on_withdrawn=Callback::new(move |()| search()) />
                    <Pager id="applications-pager" info=info on_page=on_page on_size=on_size />
                }.into_any()
            }
        }}
    }
}

/// The manual's result grid: 公司名稱, 申請日期, 申請類別, 狀態, 憑證類型, 專責人員代碼,
/// 金鑰 [產製], 憑證下載 [下載], 憑證異動 [檢視]/[異動], 規費單號, 繳納證號 [列印]; plus the
/// certificate's status and the other actions the server allows.
#[component]
fn Results(
    list: Vec<ApplicationView>,
    pending: RwSignal<HashSet<String>>,
    on_withdrawn: Callback<()>,
) -> impl IntoView {
    let lang = lang();
    let th = move |zh: &'static str, en: &'static str| view! { <th scope="col">{tr(zh, en)}</th> };
    view! {
        <div class="table-wrap">
            <table class="data grid-dc02" id="applications">
                <caption>{tr("查詢結果", "Results")}</caption>
                <thead>
                    <tr>
                        {th("申請序號", "Serial")}
                        {th("公司名稱", "Company")}
                        {th("申請日期", "Date")}
                        {th("申請類別", "Type")}
                        {th("狀態", "Status")}
                        {th("憑證類型", "Certificate kind")}
                        {th("專責人員代碼", "Staff code")}
                        {th("金鑰", "Key")}
                        {th("憑證下載", "Download")}
                        {th("憑證狀態", "Certificate")}
                        {th("憑證異動", "Change")}
                        {th("規費單號", "Bill number")}
                        {th("繳納證號", "Receipt number")}
                        {th("其他功能", "More")}
                    </tr>
                </thead>
                <tbody>
                    {list.into_iter().map(|a| {
                        let serial = a.serial.clone();
                        let l = move |zh: &'static str, en: &'static str| move || pick(lang.get(), zh, en);
                        let app_type = a.app_type;
                        let kind = a.cert_kind;
                        let has = |x: Action| a.actions.contains(&x);
                        let link = |x: Action, r: Route| has(x).then(|| view! {
                            <a class="button small" class:primary=x == Action::Generate data-action=x.code() href=r.href()>
                                {move || x.label(lang.get())}
                            </a>
                        });
                        let bill_no = a.bill.as_ref().map(|b| b.bill_no.clone()).unwrap_or_default();
                        let receipt = a.bill.as_ref().and_then(|b| b.receipt_no.clone());
                        view! {
                            <tr data-serial=serial.clone()>
                                <td data-label=l("申請序號", "Serial") class="mono">{serial.clone()}</td>
                                <td data-label=l("公司名稱", "Company")>{a.company.name.clone()}</td>
                                <td data-label=l("申請日期", "Date") class="nowrap">{local_date_time(&a.created_at)}</td>
                                <td data-label=l("申請類別", "Type")>{move || app_type.label(lang.get())}</td>
                                <td data-label=l("狀態", "Status")><StatusBadge status=a.status />
                                    <ExpiryMark soon=a.certificate.as_ref().is_some_and(|c| c.expiring_soon) renew=serial.clone() />
                                </td>
                                <td data-label=l("憑證類型", "Certificate kind")>{move || kind.label(lang.get())}</td>
                                <td data-label=l("專責人員代碼", "Staff code")>{a.staff_code.clone()}</td>
                                <td data-label=l("金鑰", "Key")>
                                    <Resume serial=serial.clone() status=a.status pending=pending />
                                    {link(Action::Generate, Route::Generate(serial.clone()))}
                                </td>
                                <td data-label=l("憑證下載", "Download")>{link(Action::Download, Route::Generate(serial.clone()))}</td>
                                <td data-label=l("憑證狀態", "Certificate")>
                                    {a.certificate.as_ref().map(|c| view! { <CertBadge status=c.status /> })}
                                </td>
                                <td data-label=l("憑證異動", "Change") class="actions">
                                    <a class="button small" data-action="view" href=Route::Detail(serial.clone()).href()>{tr("檢視", "View")}</a>
                                    {link(Action::Change, Route::Apply { app_type: ApplicationType::Modify, target: Some(serial.clone()) })}
                                </td>
                                <td data-label=l("規費單號", "Bill number") class="mono">{bill_no}</td>
                                <td data-label=l("繳納證號", "Receipt number") class="actions">
                                    {receipt.map(|r| view! {
                                        <span class="mono receipt-no">{r}</span>" "
                                        <a class="button small" data-action="print_receipt" href=Route::Receipt(serial.clone()).href()>{tr("列印", "Print")}</a>
                                    })}
                                </td>
                                <td data-label=l("其他功能", "More") class="actions">
                                    <div class="action-list"><MoreActions app=a.clone() on_withdrawn=on_withdrawn /></div>
                                </td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

/// "完成下載" when this browser holds the key of a paid or completed application.
#[component]
fn Resume(serial: String, status: Status, pending: RwSignal<HashSet<String>>) -> impl IntoView {
    let href = Route::Generate(serial.clone()).href();
    move || {
        (pending.with(|p| p.contains(&serial))
            && matches!(status, Status::Paid | Status::Completed))
        .then(|| {
            view! {
                <a class="button small primary" data-action="resume" href=href.clone()>
                    {tr("完成下載", "Finish download")}
                </a>
            }
        })
    }
}

/// The actions the server lists beyond the manual's columns, each a link to its page;
/// 撤回 asks first and then withdraws in place.
#[component]
fn MoreActions(app: ApplicationView, on_withdrawn: Callback<()>) -> impl IntoView {
    let lang = lang();
    let serial = app.serial.clone();
    let links: Vec<(Action, Route)> = app
        .actions
        .iter()
        .filter_map(|a| {
            let s = serial.clone();
            let target = |t: ApplicationType| Route::Apply {
                app_type: t,
                target: Some(s.clone()),
            };
            let r = match a {
                // In their own columns, a button of their own, or an operator's action.
                Action::Generate
                | Action::Download
                | Action::Change
                | Action::Withdraw
                | Action::RecordPayment => return None,
                Action::PrintSlip => Route::Bill(s.clone()),
                Action::Register => Route::Register(s.clone()),
                Action::Renew => target(ApplicationType::Renew),
                Action::Revoke => target(ApplicationType::Revoke),
                Action::Suspend => target(ApplicationType::Suspend),
                Action::Unsuspend => target(ApplicationType::Unsuspend),
            };
            Some((*a, r))
        })
        .collect();
    let can_withdraw = app.actions.contains(&Action::Withdraw);
    view! {
        {links.into_iter().map(|(a, r)| view! {
            <a class="button small" data-action=a.code() href=r.href()>
                {move || a.label(lang.get())}
            </a>
        }).collect_view()}
        {can_withdraw.then(|| view! { <Withdraw serial=serial.clone() on_done=on_withdrawn /> })}
    }
}

/// 撤回申請: confirm, then withdraw (the bill becomes void, the status A9).
#[component]
fn Withdraw(serial: String, on_done: Callback<()>) -> impl IntoView {
    let open = RwSignal::new(false);
    let error = RwSignal::new(None::<ApiError>);
    let go = Callback::new(move |()| {
        let serial = serial.clone();
        spawn_local(async move {
            match api::withdraw(&serial).await {
                Ok(_) => on_done.run(()),
                Err(e) => error.set(Some(e)),
            }
        });
    });
    view! {
        <button type="button" class="small danger" data-action="withdraw" on:click=move |_| open.set(true)>
            {tr("撤回申請", "Withdraw")}
        </button>
        <Confirm
            open=open
            zh="撤回後繳款書作廢，申請取消且無法恢復。確定要撤回嗎？".to_owned()
            en="The bill becomes void and the application is cancelled for good. Withdraw?".to_owned()
            confirm_zh="確定撤回"
            confirm_en="Yes, withdraw"
            danger=true
            on_confirm=go
        />
        {move || error.get().map(|e| view! { <ErrorBox error=e /> })}
    }
}
