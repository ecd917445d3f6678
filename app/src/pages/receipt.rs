//! 繳納證明: the payment receipt of a paid bill, printed from the grid's 列印 (繳納證號).

use leptos::prelude::*;
use leptos::task::spawn_local;
use proto::api::ApplicationView;

use crate::api::{self, ApiError};
use crate::i18n::{lang, pick, tr};
use crate::route::Route;
use crate::widgets::{ErrorBox, local_time, ntd};

#[component]
pub fn Receipt(serial: String) -> impl IntoView {
    let app = RwSignal::new(None::<ApplicationView>);
    let error = RwSignal::new(None::<ApiError>);
    spawn_local(async move {
        match api::application(&serial).await {
            Ok(a) => app.set(Some(a)),
            Err(e) => error.set(Some(e)),
        }
    });
    view! {
        <h1>{tr("規費繳納證明", "Fee payment receipt")}</h1>
        {move || error.get().map(|e| view! { <ErrorBox error=e /> })}
        {move || app.get().map(|a| view! { <Paper app=a /> })}
    }
}

#[component]
fn Paper(app: ApplicationView) -> impl IntoView {
    let lang = lang();
    let l = move |zh: &'static str, en: &'static str| move || pick(lang.get(), zh, en);
    let Some((bill, receipt)) = app
        .bill
        .clone()
        .and_then(|b| b.receipt_no.clone().map(|r| (b, r)))
    else {
        return view! {
            <p id="no-receipt">{tr("此申請尚無繳納紀錄。", "No payment is recorded for this application.")}</p>
            <p><a href=Route::Applications.href()>{tr("返回", "Back")}</a></p>
        }
        .into_any();
    };
    view! {
        <section class="slip receipt" id="receipt" aria-labelledby="receipt-title">
            <h2 id="receipt-title">{tr("通關專屬憑證規費繳納證明", "Customs certificate fee receipt")}</h2>
            <dl class="facts">
                <dt>{l("繳納證號", "Receipt number")}</dt><dd class="mono" id="receipt-no">{receipt}</dd>
                <dt>{l("規費繳款書號碼", "Bill number")}</dt><dd class="mono">{bill.bill_no.clone()}</dd>
                <dt>{l("存款種類", "Deposit kind")}</dt><dd>{proto::payment::DEPOSIT_KIND}</dd>
                <dt>{l("金額（新臺幣）", "Amount (NTD)")}</dt><dd id="receipt-amount">{ntd(bill.amount)}</dd>
                <dt>{l("繳費時間", "Paid at")}</dt><dd>{bill.paid_at.as_deref().map(local_time).unwrap_or_default()}</dd>
                <dt>{l("繳款人統編", "Payer tax ID")}</dt><dd class="mono">{app.tax_id.clone()}</dd>
                <dt>{l("繳款人名稱", "Payer")}</dt><dd>{app.company.name.clone()}</dd>
                <dt>{l("申請序號", "Application")}</dt><dd class="mono">{app.serial.clone()}</dd>
                <dt>{l("收款機關", "Payee")}</dt><dd>{proto::payment::PAYEE_AGENCY}</dd>
            </dl>
        </section>
        <div class="buttons noprint">
            <button type="button" class="primary" id="print-receipt" on:click=move |_| {
                let _ = window().print();
            }>{tr("列印", "Print")}</button>
            <a class="button" href=Route::Applications.href()>{tr("返回", "Back")}</a>
        </div>
    }
    .into_any()
}
