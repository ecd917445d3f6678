//! DC02 query: the company's applications by date range, type and status, with the actions
//! the server allows for each, and "finish download" for keys waiting in this browser.

use std::collections::HashSet;

use leptos::prelude::*;
use leptos::task::spawn_local;
use proto::api::{ApplicationQuery, ApplicationView};
use proto::{Action, ApplicationType, Status};

use crate::api::{self, ApiError};
use crate::form::{FormCtl, ReadOnly, SelectField, TextField};
use crate::i18n::{lang, pick, tr};
use crate::keygen::{Vault, vault_owner};
use crate::route::Route;
use crate::session::use_session;
use crate::widgets::{ErrorBox, ExpiryMark, StatusBadge, local_date};

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
    let rows = RwSignal::new(None::<Vec<ApplicationView>>);
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

    let search = move || {
        let q = ApplicationQuery {
            from: Some(from.get_untracked()).filter(|s| !s.is_empty()),
            to: Some(to.get_untracked()).filter(|s| !s.is_empty()),
            app_type: ApplicationType::from_code(&app_type.get_untracked()),
            status: Status::from_code(&status.get_untracked()),
            tax_id: None,
            q: None,
        };
        error.set(None);
        let owner = vault_owner(&session);
        spawn_local(async move {
            match api::applications(&q).await {
                Ok(list) => rows.set(Some(list)),
                Err(e) => error.set(Some(e)),
            }
            pending.set(pending_keys(owner).await);
        });
    };
    search();

    let resumable = move || {
        let p = pending.get();
        rows.with(|r| {
            r.as_ref()
                .map(|r| {
                    r.iter()
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
            <a class="button primary" href=Route::Apply { app_type: ApplicationType::New, target: None }.href()>
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
            Some(list) if list.is_empty() => view! {
                <p id="no-results">{tr("查無申請資料。", "No applications found.")}</p>
            }.into_any(),
            Some(list) => view! { <Results list=list pending=pending /> }.into_any(),
        }}
    }
}

#[component]
fn Results(list: Vec<ApplicationView>, pending: RwSignal<HashSet<String>>) -> impl IntoView {
    let lang = lang();
    let th = move |zh: &'static str, en: &'static str| view! { <th scope="col">{tr(zh, en)}</th> };
    view! {
        <div class="table-wrap">
            <table class="data" id="applications">
                <caption>{tr("查詢結果", "Results")}</caption>
                <thead>
                    <tr>
                        {th("申請序號", "Serial")}
                        {th("公司名稱", "Company")}
                        {th("申請日期", "Date")}
                        {th("申請類別", "Type")}
                        {th("申請狀態", "Status")}
                        {th("憑證種類", "Certificate kind")}
                        {th("專責人員代碼", "Staff code")}
                        {th("功能", "Actions")}
                    </tr>
                </thead>
                <tbody>
                    {list.into_iter().map(|a| {
                        let serial = a.serial.clone();
                        let l = move |zh: &'static str, en: &'static str| move || pick(lang.get(), zh, en);
                        let app_type = a.app_type;
                        let kind = a.cert_kind;
                        view! {
                            <tr data-serial=serial.clone()>
                                <td data-label=l("申請序號", "Serial") class="mono">{serial.clone()}</td>
                                <td data-label=l("公司名稱", "Company")>{a.company.name.clone()}</td>
                                <td data-label=l("申請日期", "Date")>{local_date(&a.created_at)}</td>
                                <td data-label=l("申請類別", "Type")>{move || app_type.label(lang.get())}</td>
                                <td data-label=l("申請狀態", "Status")><StatusBadge status=a.status />
                                    // 15.8 (screens-b): certificates expiring within 60 days.
                                    <ExpiryMark soon=a.certificate.as_ref().is_some_and(|c| c.expiring_soon) renew=serial.clone() />
                                </td>
                                <td data-label=l("憑證種類", "Certificate kind")>{move || kind.label(lang.get())}</td>
                                <td data-label=l("專責人員代碼", "Staff code")>{a.staff_code.clone()}</td>
                                <td data-label=l("功能", "Actions") class="actions">
                                    <div class="action-list"><ActionButtons app=a.clone() pending=pending /></div>
                                </td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

/// Only the actions the server lists for this application, each a link to its page.
#[component]
fn ActionButtons(app: ApplicationView, pending: RwSignal<HashSet<String>>) -> impl IntoView {
    let lang = lang();
    let serial = app.serial.clone();
    let has_key = {
        let serial = serial.clone();
        move || pending.with(|p| p.contains(&serial))
    };
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
                // An operator's action; never listed for an applicant.
                Action::RecordPayment => return None,
                Action::Generate => Route::Generate(s.clone()),
                Action::Download => Route::Generate(s.clone()),
                Action::PrintSlip => Route::Bill(s.clone()),
                Action::Register => Route::Register(s.clone()),
                Action::Change => target(ApplicationType::Modify),
                Action::Renew => target(ApplicationType::Renew),
                Action::Revoke => target(ApplicationType::Revoke),
                Action::Suspend => target(ApplicationType::Suspend),
                Action::Unsuspend => target(ApplicationType::Unsuspend),
            };
            Some((*a, r))
        })
        .collect();
    let status = app.status;
    let resume_serial = serial.clone();
    view! {
        {move || (has_key() && matches!(status, Status::Paid | Status::Completed)).then(|| view! {
            <a class="button small primary" data-action="resume" href=Route::Generate(resume_serial.clone()).href()>
                {tr("完成下載", "Finish download")}
            </a>
        })}
        {links.into_iter().map(|(a, r)| {
            let primary = matches!(a, Action::Generate);
            view! {
                <a class="button small" class:primary=primary data-action=a.code() href=r.href()>
                    {move || a.label(lang.get())}
                </a>
            }
        }).collect_view()}
    }
}
