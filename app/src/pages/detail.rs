//! 檢視: one application read-only, as the manual's 檢視 button shows it: every field, the
//! bill, the certificate with its status, and the history from the audit log in words.

use leptos::prelude::*;
use leptos::task::spawn_local;
use proto::api::{ApplicationView, HistoryActor, HistoryEntry};
use proto::history::action_words;

use crate::api::{self, ApiError};
use crate::i18n::{lang, pick, tr};
use crate::route::Route;
use crate::widgets::{CertBadge, ErrorBox, StatusBadge, local_date_time, local_time, ntd};

#[component]
pub fn Detail(serial: String) -> impl IntoView {
    let app = RwSignal::new(None::<ApplicationView>);
    let history = RwSignal::new(Vec::<HistoryEntry>::new());
    let error = RwSignal::new(None::<ApiError>);
    spawn_local(async move {
        match api::application(&serial).await {
            Ok(a) => app.set(Some(a)),
            Err(e) => error.set(Some(e)),
        }
        match api::history(&serial).await {
            Ok(h) => history.set(h),
            Err(e) => error.set(Some(e)),
        }
    });
    view! {
        <h1>{tr("檢視申請資料", "Application details")}</h1>
        {move || error.get().map(|e| view! { <ErrorBox error=e /> })}
        {move || app.get().map(|a| view! { <Facts app=a /> })}
        <section class="group" aria-labelledby="history-title">
            <h2 id="history-title">{tr("處理紀錄", "History")}</h2>
            <History entries=history />
        </section>
        <div class="buttons">
            <a class="button" href=Route::Applications.href()>{tr("返回", "Back")}</a>
        </div>
    }
}

#[component]
fn Facts(app: ApplicationView) -> impl IntoView {
    let lang = lang();
    let l = move |zh: &'static str, en: &'static str| move || pick(lang.get(), zh, en);
    let a = app;
    let (t, office, business, kind) = (a.app_type, a.customs_office, a.business_type, a.cert_kind);
    view! {
        <section class="group" aria-labelledby="facts-app">
            <h2 id="facts-app">{tr("申請資料", "Application")}</h2>
            <dl class="facts" id="detail-application">
                <dt>{l("申請序號", "Serial")}</dt><dd class="mono" id="detail-serial">{a.serial.clone()}</dd>
                <dt>{l("申請日期", "Date")}</dt><dd>{local_date_time(&a.created_at)}</dd>
                <dt>{l("申請類別", "Type")}</dt><dd>{move || t.label(lang.get())}</dd>
                <dt>{l("狀態", "Status")}</dt><dd><StatusBadge status=a.status /></dd>
                {a.target.clone().map(|s| view! {
                    <dt>{l("原申請序號", "Original application")}</dt>
                    <dd class="mono"><a href=Route::Detail(s.clone()).href()>{s.clone()}</a></dd>
                })}
                {(!a.reason.is_empty()).then(|| view! {
                    <dt>{l("申請原因", "Reason")}</dt><dd>{a.reason.clone()}</dd>
                })}
            </dl>
        </section>
        <section class="group" aria-labelledby="facts-company">
            <h2 id="facts-company">{tr("公司資料", "Company")}</h2>
            <dl class="facts">
                <dt>{l("統一編號", "Business tax ID")}</dt><dd class="mono">{a.tax_id.clone()}</dd>
                <dt>{l("公司名稱", "Company name")}</dt><dd>{a.company.name.clone()}</dd>
                <dt>{l("公司電話", "Company phone")}</dt><dd>{a.company.phone.clone()}</dd>
                <dt>{l("公司傳真", "Company fax")}</dt><dd>{a.company.fax.clone()}</dd>
                <dt>{l("負責人姓名", "Responsible person")}</dt><dd>{a.company.responsible_person.clone()}</dd>
                <dt>{l("負責人電話", "Responsible person's phone")}</dt><dd>{a.company.responsible_phone.clone()}</dd>
            </dl>
        </section>
        <section class="group" aria-labelledby="facts-contact">
            <h2 id="facts-contact">{tr("聯絡人資料", "Contact")}</h2>
            <dl class="facts">
                <dt>{l("聯絡人姓名", "Contact name")}</dt><dd>{a.contact.name.clone()}</dd>
                <dt>{l("聯絡電話", "Contact phone")}</dt><dd>{a.contact.phone.clone()}</dd>
                <dt>{l("行動電話", "Mobile")}</dt><dd>{a.contact.mobile.clone()}</dd>
                <dt>{l("電子郵件", "E-mail")}</dt><dd>{a.contact.email.clone()}</dd>
            </dl>
        </section>
        <section class="group" aria-labelledby="facts-cert">
            <h2 id="facts-cert">{tr("憑證資料", "Certificate")}</h2>
            <dl class="facts" id="detail-certificate">
                <dt>{l("申請關別", "Customs office")}</dt><dd>{move || office.label(lang.get())}</dd>
                <dt>{l("業別", "Business type")}</dt><dd>{move || business.label(lang.get())}</dd>
                <dt>{l("箱號", "Box number")}</dt><dd>{a.box_number.clone()}</dd>
                <dt>{l("憑證類型", "Certificate kind")}</dt><dd>{move || kind.label(lang.get())}</dd>
                <dt>{l("專責報關人員代碼", "Broker staff code")}</dt><dd>{a.staff_code.clone()}</dd>
                <dt>{l("專責報關人員身分證字號", "Staff national ID")}</dt><dd>{a.staff_national_id_masked.clone()}</dd>
                <dt>{l("憑證名稱", "Certificate name")}</dt><dd class="mono">{a.cert_name.clone().unwrap_or_default()}</dd>
                {a.certificate.clone().map(|c| { let registered = c.registered; view! {
                    <dt>{l("憑證狀態", "Certificate status")}</dt><dd id="detail-cert-status"><CertBadge status=c.status /></dd>
                    <dt>{l("憑證序號", "Certificate serial")}</dt><dd class="mono">{c.serial_hex.clone()}</dd>
                    <dt>{l("有效期間", "Valid")}</dt><dd>{local_time(&c.not_before)}" – "{local_time(&c.not_after)}</dd>
                    <dt>{l("憑證主體", "Subject")}</dt><dd class="mono">{c.subject.clone()}</dd>
                    <dt>{l("已註冊", "Registered")}</dt>
                    <dd>{move || if registered { pick(lang.get(), "是", "Yes") } else { pick(lang.get(), "否", "No") }}</dd>
                }})}
            </dl>
        </section>
        {a.bill.clone().map(|b| {
            let status = b.status;
            view! {
                <section class="group" aria-labelledby="facts-bill">
                    <h2 id="facts-bill">{tr("規費", "Fee")}</h2>
                    <dl class="facts" id="detail-bill">
                        <dt>{l("規費繳款書號碼", "Bill number")}</dt><dd class="mono">{b.bill_no.clone()}</dd>
                        <dt>{l("金額", "Amount")}</dt><dd>{ntd(b.amount)}</dd>
                        <dt>{l("繳費期限", "Pay by")}</dt><dd>{local_time(&b.due_at)}</dd>
                        <dt>{l("繳費狀態", "Payment")}</dt><dd>{move || status.label(lang.get())}</dd>
                        {b.paid_at.clone().map(|p| view! { <dt>{l("繳費時間", "Paid at")}</dt><dd>{local_time(&p)}</dd> })}
                        {b.receipt_no.clone().map(|r| view! { <dt>{l("繳納證號", "Receipt number")}</dt><dd class="mono">{r}</dd> })}
                    </dl>
                </section>
            }
        })}
    }
}

#[component]
fn History(entries: RwSignal<Vec<HistoryEntry>>) -> impl IntoView {
    let lang = lang();
    move || {
        let list = entries.get();
        if list.is_empty() {
            return view! { <p>{tr("尚無紀錄。", "Nothing recorded yet.")}</p> }.into_any();
        }
        view! {
            <ol class="history" id="history">
                {list.into_iter().map(|h| {
                    let by = h.by;
                    let action = h.action.clone();
                    view! {
                        <li data-action=h.action.clone()>
                            <span class="when">{local_time(&h.at)}</span>" "
                            <span class="what">{move || action_words(&action, lang.get()).to_owned()}</span>
                            <span class="who">{move || {
                                let (zh, en) = match by {
                                    HistoryActor::Applicant => ("（業者）", " (applicant)"),
                                    HistoryActor::Operator => ("（關務人員）", " (customs staff)"),
                                    HistoryActor::System => ("（系統）", " (system)"),
                                };
                                pick(lang.get(), zh, en)
                            }}</span>
                        </li>
                    }
                }).collect_view()}
            </ol>
        }
        .into_any()
    }
}
