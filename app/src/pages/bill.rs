//! After applying: the fee bill (規費繳款書) and a printable payment slip.

use leptos::prelude::*;
use leptos::task::spawn_local;
use proto::api::ApplicationView;

use crate::api::{self, ApiError};
use crate::i18n::{lang, pick, tr};
use crate::route::Route;
use crate::widgets::{ErrorBox, StatusBadge, local_date, local_time, ntd};

#[component]
pub fn Bill(serial: String) -> impl IntoView {
    let app = RwSignal::new(None::<ApplicationView>);
    let error = RwSignal::new(None::<ApiError>);
    {
        let serial = serial.clone();
        spawn_local(async move {
            match api::application(&serial).await {
                Ok(a) => app.set(Some(a)),
                Err(e) => error.set(Some(e)),
            }
        });
    }
    view! {
        <h1>{tr("規費繳款書", "Fee bill")}</h1>
        {move || error.get().map(|e| view! { <ErrorBox error=e /> })}
        {move || app.get().map(|a| view! { <Slip app=a /> })}
    }
}

#[component]
fn Slip(app: ApplicationView) -> impl IntoView {
    let lang = lang();
    let Some(bill) = app.bill.clone() else {
        return view! {
            <p>{tr("此申請不需繳費。", "This application has no fee.")}</p>
            <p><a href=Route::Applications.href()>{tr("回申請查詢", "Back to applications")}</a></p>
        }
        .into_any();
    };
    let serial = app.serial.clone();
    let b = bill.clone();
    view! {
        <section class="slip" id="slip" aria-labelledby="slip-title">
            <h2 id="slip-title">{tr("通關專屬憑證規費繳款單", "Customs certificate fee payment slip")}</h2>
            <dl class="facts">
                <dt>{tr("規費繳款書號碼", "Bill number")}</dt>
                <dd class="bill-no mono" id="bill-no">{b.bill_no.clone()}</dd>
                <dt>{tr("存款種類", "Deposit kind")}</dt>
                <dd>{proto::payment::DEPOSIT_KIND}</dd>
                <dt>{tr("金額（新臺幣）", "Amount (NTD)")}</dt>
                <dd id="bill-amount">{ntd(b.amount)}</dd>
                <dt>{tr("通匯解款行", "Payee bank")}</dt>
                <dd>{proto::payment::PAYEE_BANK}</dd>
                <dt>{tr("通匯解款行代號", "Payee bank code")}</dt>
                <dd class="mono">{proto::payment::PAYEE_BANK_CODE}</dd>
                <dt>{tr("戶名", "Account name")}</dt>
                <dd>{proto::payment::PAYEE_ACCOUNT_NAME}</dd>
                <dt>{tr("帳號", "Account number")}</dt>
                <dd class="mono" id="bill-account">{b.virtual_account.clone().unwrap_or_default()}</dd>
                <dt>{tr("繳費期限", "Pay by")}</dt>
                <dd>{local_date(&b.due_at)}</dd>
                <dt>{tr("繳費狀態", "Payment")}</dt>
                <dd id="bill-status">{move || b.status.label(lang.get())}
                    {b.paid_at.clone().map(|p| format!(" ({})", local_time(&p)))}</dd>
                <dt>{tr("申請序號", "Application")}</dt>
                <dd class="mono">{serial.clone()}</dd>
                <dt>{tr("申請狀態", "Status")}</dt>
                <dd><StatusBadge status=app.status /></dd>
                <dt>{tr("繳款人", "Payer")}</dt>
                <dd>{app.company.name.clone()}" ("{app.tax_id.clone()}")"</dd>
            </dl>
            <h3>{tr("繳費方式", "How to pay")}</h3>
            <ul class="channels">
                <li>{tr("ATM 轉帳：轉入上列帳號（虛擬帳號，末碼為檢查碼）。", "ATM transfer: to the account number above (a virtual account; its last digit is a check digit).")}</li>
                <li>{tr("臨櫃繳款：持列印之繳款書至通匯解款行或其分行繳納。", "Bank counter: take the printed slip to the payee bank or any of its branches.")}</li>
            </ul>
            <p class="note">{move || pick(
                lang.get(),
                "逾期未繳費，繳款書即作廢並取消申請。繳費完成後，請回到本系統產製金鑰並下載憑證。",
                "Unpaid by the due date, the bill is void and the application cancelled. After paying, come back to generate your key and download the certificate.",
            )}</p>
        </section>
        <div class="buttons">
            <a class="button primary" id="print-slip" href=api::slip_url(&serial) target="_blank" rel="noopener">
                {tr("列印繳款單", "Print payment slip")}
            </a>
            <a class="button" href=Route::Applications.href()>{tr("回申請查詢", "Back to applications")}</a>
        </div>
    }
    .into_any()
}
