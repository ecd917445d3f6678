//! Operator: import a bank reconciliation CSV (`bill_no,amount,paid_on`). The server applies
//! the file whole or not at all and reports every refused line.

use leptos::prelude::*;
use leptos::task::spawn_local;
use proto::Lang;
use proto::api::{ImportReport, ImportRowError};
use proto::validate::{Errors, FieldCode};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use crate::api::{self, ApiError};
use crate::form::{FormCtl, dom_id};
use crate::i18n::{lang, pick, tr};
use crate::widgets::ErrorBox;

#[component]
pub fn AdminImport() -> impl IntoView {
    let lang = lang();
    let csv = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<ApiError>);
    let report = RwSignal::new(None::<(ImportReport, bool)>);
    let ctl = FormCtl::new(move || {
        let mut e = Errors::default();
        if csv.with(|c| c.trim().is_empty()) {
            e.push("csv", FieldCode::Required);
        }
        e.0
    });
    let on_file = move |ev: leptos::ev::Event| {
        let file = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
            .and_then(|i| i.files())
            .and_then(|f| f.get(0));
        if let Some(file) = file {
            spawn_local(async move {
                if let Ok(text) = JsFuture::from(file.text()).await {
                    csv.set(text.as_string().unwrap_or_default());
                    ctl.changed("csv");
                }
            });
        }
    };
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() || !ctl.submit() {
            return;
        }
        busy.set(true);
        error.set(None);
        report.set(None);
        let body = csv.get_untracked();
        spawn_local(async move {
            match api::import_reconciliation(body).await {
                Ok(r) => report.set(Some((r, true))),
                Err(e) => match api::report_of(&e) {
                    Some(r) => report.set(Some((r, false))),
                    None => error.set(Some(e)),
                },
            }
            busy.set(false);
        });
    };
    let csv_id = dom_id("csv");
    view! {
        <h1>{tr("銀行對帳檔匯入", "Bank reconciliation import")}</h1>
        <form class="card" on:submit=submit novalidate=true id="import-form">
            <p class="note">{tr(
                "CSV 欄位：bill_no,amount,paid_on（標題列可省略）。整份檔案全部成功才會套用。",
                "CSV columns: bill_no,amount,paid_on (header optional). The file is applied only if every line is accepted.",
            )}</p>
            <div class="field">
                <label for="csv-file">{tr("選擇檔案", "Choose a file")}</label>
                <input type="file" id="csv-file" accept=".csv,text/csv,text/plain" on:change=on_file />
            </div>
            <div class="field" class:invalid=move || ctl.error("csv").is_some()>
                <label for=csv_id.clone()>{tr("檔案內容", "File content")}<span class="req" aria-hidden="true">"*"</span></label>
                <textarea id=csv_id.clone() name="csv" aria-describedby=format!("{csv_id}-error") spellcheck="false"
                    prop:value=move || csv.get()
                    on:input=move |ev| { csv.set(event_target_value(&ev)); ctl.changed("csv"); }></textarea>
                <p class="field-error" id=format!("{csv_id}-error")>{move || ctl.error("csv").map(|e| e.message(lang.get()))}</p>
            </div>
            <div class="buttons">
                <button type="submit" class="primary" id="import-submit" disabled=move || busy.get()>{tr("匯入", "Import")}</button>
            </div>
        </form>
        {move || error.get().map(|e| view! { <ErrorBox error=e /> })}
        {move || report.get().map(|(r, ok)| view! { <Report report=r ok=ok /> })}
    }
}

/// A refused line in the page's language: the code's own text in Chinese; in English the
/// server's more specific words (e.g. the bill's amount) when it sent any.
fn row_error(e: &ImportRowError) -> impl Fn() -> String + use<> {
    let lang = lang();
    let code = e.code;
    let mut chars = e.message.trim().chars();
    let detail: String = chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default();
    move || match lang.get() {
        Lang::En if !detail.is_empty() => detail.clone(),
        l => code.label(l).to_owned(),
    }
}

#[component]
fn Report(report: ImportReport, ok: bool) -> impl IntoView {
    let lang = lang();
    let (rows, applied, already) = (report.rows, report.applied.len(), report.already_paid.len());
    view! {
        <section class="card" id="import-report" aria-labelledby="report-title">
            <h2 id="report-title">{tr("匯入結果", "Import result")}</h2>
            <p class=if ok { "success-box" } else { "error-box" } role="status">{move || match (ok, lang.get()) {
                (true, proto::Lang::ZhTw) => format!("共 {rows} 筆：{applied} 筆入帳，{already} 筆先前已入帳。"),
                (true, proto::Lang::En) => format!("{rows} lines: {applied} payments applied, {already} already recorded."),
                (false, proto::Lang::ZhTw) => format!("共 {rows} 筆，有錯誤，整份檔案未套用。"),
                (false, proto::Lang::En) => format!("{rows} lines with errors: nothing was applied."),
            }}</p>
            {(!report.applied.is_empty()).then(|| view! {
                <h3>{tr("入帳", "Applied")}</h3>
                <ul>{report.applied.iter().map(|b| view! { <li class="mono">{b.clone()}</li> }).collect_view()}</ul>
            })}
            {(!report.errors.is_empty()).then(|| view! {
                <table class="data" id="import-errors">
                    <thead><tr>
                        <th scope="col">{tr("行", "Line")}</th>
                        <th scope="col">{tr("繳款書號碼", "Bill")}</th>
                        <th scope="col">{tr("錯誤", "Error")}</th>
                    </tr></thead>
                    <tbody>
                        {report.errors.iter().map(|e| {
                            let l = move |zh: &'static str, en: &'static str| move || pick(lang.get(), zh, en);
                            view! {
                                <tr>
                                    <td data-label=l("行", "Line")>{e.line}</td>
                                    <td data-label=l("繳款書號碼", "Bill") class="mono">{e.bill_no.clone()}</td>
                                    <td data-label=l("錯誤", "Error") data-code=e.code.code()>{row_error(e)}</td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
            })}
            {(report.errors_not_listed > 0).then(|| {
                let more = report.errors_not_listed;
                view! {
                    <p>{move || match lang.get() {
                        proto::Lang::ZhTw => format!("另有 {more} 筆錯誤未列出。"),
                        proto::Lang::En => format!("{more} more refused lines are not listed."),
                    }}</p>
                }
            })}
        </section>
    }
}
