//! Operator: search every application, record a payment, revoke / suspend / unsuspend a
//! certificate (with confirmation), download the CRL.

use leptos::prelude::*;
use leptos::task::spawn_local;
use proto::api::{ApplicationQuery, ApplicationView, PaymentRecord};
use proto::validate::{self, Errors, FieldCode};
use proto::{Action, ApplicationType, FEE_PER_CERTIFICATE, Lang, RevocationReason, Status};

use crate::api::{self, ApiError};
use crate::form::{FormCtl, SelectField, TextField, revocation_reason_options};
use crate::i18n::{lang, pick, tr};
use crate::pages::query::{status_options, type_options};
use crate::widgets::{Confirm, ErrorBox, StatusBadge, local_date, ntd, today};

#[component]
pub fn Admin() -> impl IntoView {
    let from = RwSignal::new(String::new());
    let to = RwSignal::new(String::new());
    let app_type = RwSignal::new(String::new());
    let status = RwSignal::new(String::new());
    let tax_id = RwSignal::new(String::new());
    let q = RwSignal::new(String::new());
    let rows = RwSignal::new(None::<Vec<ApplicationView>>);
    let error = RwSignal::new(None::<ApiError>);
    let ctl = FormCtl::new(move || {
        let mut e = Errors::default();
        let t = tax_id.get();
        if !t.trim().is_empty()
            && let Err(c) = validate::tax_id(t.trim())
        {
            e.push("search.tax_id", c);
        }
        e.0
    });
    let search = move || {
        let query = ApplicationQuery {
            from: Some(from.get_untracked()).filter(|s| !s.is_empty()),
            to: Some(to.get_untracked()).filter(|s| !s.is_empty()),
            app_type: ApplicationType::from_code(&app_type.get_untracked()),
            status: Status::from_code(&status.get_untracked()),
            tax_id: Some(tax_id.get_untracked().trim().to_owned()).filter(|s| !s.is_empty()),
            q: Some(q.get_untracked().trim().to_owned()).filter(|s| !s.is_empty()),
            ..ApplicationQuery::default()
        };
        error.set(None);
        spawn_local(async move {
            match api::admin_applications(&query).await {
                Ok(list) => rows.set(Some(list)),
                Err(e) => error.set(Some(e)),
            }
        });
    };
    search();
    let refresh = Callback::new(move |()| search());

    view! {
        <h1>{tr("申請案件管理", "Applications (operator)")}</h1>
        <PaymentForm bill_no=String::new() on_done=refresh />
        <form class="card" on:submit=move |ev| {
            ev.prevent_default();
            if ctl.submit() {
                search();
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
        {move || error.get().map(|e| view! { <ErrorBox error=e /> })}
        {move || match rows.get() {
            None => view! { <p class="loading" role="status">{tr("查詢中…", "Searching…")}</p> }.into_any(),
            Some(list) if list.is_empty() => view! { <p id="no-results">{tr("查無資料。", "Nothing found.")}</p> }.into_any(),
            Some(list) => view! { <AdminTable list=list refresh=refresh /> }.into_any(),
        }}
    }
}

#[component]
fn AdminTable(list: Vec<ApplicationView>, refresh: Callback<()>) -> impl IntoView {
    let lang = lang();
    let th = move |zh: &'static str, en: &'static str| view! { <th scope="col">{tr(zh, en)}</th> };
    view! {
        <table class="data" id="admin-applications">
            <caption>{tr("查詢結果", "Results")}</caption>
            <thead><tr>
                {th("申請序號", "Serial")}
                {th("統一編號／公司", "Tax ID / company")}
                {th("類別", "Type")}
                {th("狀態", "Status")}
                {th("繳款書", "Bill")}
                {th("憑證", "Certificate")}
                {th("功能", "Actions")}
            </tr></thead>
            <tbody>
                {list.into_iter().map(|a| {
                    let l = move |zh: &'static str, en: &'static str| move || pick(lang.get(), zh, en);
                    let t = a.app_type;
                    let bill = a.bill.clone();
                    let cert = a.certificate.clone();
                    view! {
                        <tr data-serial=a.serial.clone()>
                            <td data-label=l("申請序號", "Serial") class="mono">{a.serial.clone()}<br/>{local_date(&a.created_at)}</td>
                            <td data-label=l("統一編號／公司", "Tax ID / company")>{a.tax_id.clone()}<br/>{a.company.name.clone()}</td>
                            <td data-label=l("類別", "Type")>{move || t.label(lang.get())}</td>
                            <td data-label=l("狀態", "Status")><StatusBadge status=a.status /></td>
                            <td data-label=l("繳款書", "Bill")>{bill.clone().map(|b| view! {
                                <span class="mono">{b.bill_no.clone()}</span><br/>
                                {ntd(b.amount)}" "{move || b.status.label(lang.get())}
                            })}</td>
                            <td data-label=l("憑證", "Certificate")>{cert.clone().map(|c| view! {
                                <span class="mono">{c.serial_hex.clone()}</span><br/>
                                <span class=format!("badge cert-{}", c.status.code())>{move || c.status.label(lang.get())}</span>
                            })}</td>
                            <td data-label=l("功能", "Actions") class="actions">
                                <div class="action-list"><RowActions app=a.clone() refresh=refresh /></div>
                            </td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
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
