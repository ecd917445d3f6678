//! Operator: the audit log (newest first, paged by id) in words, each detail a labelled
//! field, in the page's language; and undelivered mail.

use leptos::prelude::*;
use leptos::task::spawn_local;
use proto::Lang;
use proto::admin::{audit_action_label, audit_actor_text, audit_field_label, audit_value_text};
use proto::api::{AuditEntry, MailView};
use proto::validate::Errors;

use crate::api::{self, ApiError};
use crate::form::{FormCtl, TextField};
use crate::i18n::{lang, pick, tr};
use crate::widgets::{ErrorBox, local_time};

const PAGE: u32 = 50;

#[component]
pub fn AdminAudit() -> impl IntoView {
    let lang = lang();
    let from = RwSignal::new(String::new());
    let to = RwSignal::new(String::new());
    let application = RwSignal::new(String::new());
    let entries = RwSignal::new(Vec::<AuditEntry>::new());
    let more = RwSignal::new(false);
    let error = RwSignal::new(None::<ApiError>);
    let mail = RwSignal::new(None::<Vec<MailView>>);
    let ctl = FormCtl::new(|| Errors::default().0);

    let latest = api::Latest::new();
    let load = move |before: Option<i64>| {
        let (f, t, a) = (
            from.get_untracked(),
            to.get_untracked(),
            application.get_untracked(),
        );
        error.set(None);
        let ticket = latest.ticket();
        spawn_local(async move {
            let opt = |s: &String| (!s.trim().is_empty()).then(|| s.trim().to_owned());
            let (f, t, a) = (opt(&f), opt(&t), opt(&a));
            let answer = api::audit(f.as_deref(), t.as_deref(), a.as_deref(), before, PAGE).await;
            if !latest.is_newest(ticket) {
                return;
            }
            match answer {
                Ok(list) => {
                    more.set(list.len() as u32 == PAGE);
                    if before.is_some() {
                        entries.update(|e| e.extend(list));
                    } else {
                        entries.set(list);
                    }
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };
    load(None);
    spawn_local(async move {
        if let Ok(m) = api::failed_mail().await {
            mail.set(Some(m));
        }
    });

    view! {
        <div class="operator-page">
        <h1>{tr("稽核紀錄", "Audit log")}</h1>
        <form class="card" on:submit=move |ev| { ev.prevent_default(); load(None); }>
            <div class="filters">
                <TextField ctl=ctl field="audit.from" zh="日期（起）" en="From" value=from kind="date" />
                <TextField ctl=ctl field="audit.to" zh="日期（迄）" en="To" value=to kind="date" />
                <TextField ctl=ctl field="audit.application" zh="申請序號" en="Application" value=application />
                <div class="buttons"><button type="submit" class="primary" id="audit-search">{tr("查詢", "Search")}</button></div>
            </div>
        </form>
        {move || error.get().map(|e| view! { <ErrorBox error=e /> })}
        <table class="data" id="audit">
            <thead><tr>
                <th scope="col">{tr("時間", "Time")}</th>
                <th scope="col">{tr("執行者", "Actor")}</th>
                <th scope="col">{tr("動作", "Action")}</th>
                <th scope="col">{tr("申請／憑證", "Application / certificate")}</th>
                <th scope="col">{tr("內容", "Detail")}</th>
            </tr></thead>
            <tbody>
                <For each=move || entries.get() key=|e| e.id let:e>
                    {
                        let l = move |zh: &'static str, en: &'static str| move || pick(lang.get(), zh, en);
                        let (actor, action, detail) = (e.actor.clone(), e.action.clone(), e.detail.clone());
                        view! {
                            <tr data-action=e.action.clone()>
                                <td data-label=l("時間", "Time") class="num">{local_time(&e.at)}</td>
                                <td data-label=l("執行者", "Actor")>{move || audit_actor_text(&actor, lang.get())}</td>
                                <td data-label=l("動作", "Action")>{move || {
                                    audit_action_label(&action, lang.get()).map_or_else(|| action.clone(), str::to_owned)
                                }}</td>
                                <td data-label=l("申請／憑證", "Application / certificate") class="mono">
                                    {e.application_serial.clone().unwrap_or_default()}<br/>
                                    {e.certificate_serial.clone().unwrap_or_default()}
                                </td>
                                <td data-label=l("內容", "Detail")>{move || detail_fields(&detail, lang.get())}</td>
                            </tr>
                        }
                    }
                </For>
            </tbody>
        </table>
        <Show when=move || more.get()>
            <div class="buttons">
                <button type="button" id="audit-more" on:click=move |_| {
                    let last = entries.with(|e| e.last().map(|e| e.id));
                    load(last);
                }>{tr("載入較舊紀錄", "Load older entries")}</button>
            </div>
        </Show>
        {move || mail.get().map(|m| view! {
            <h2>{tr("寄送失敗的通知信", "Undelivered mail")}</h2>
            {if m.is_empty() {
                view! { <p>{tr("沒有寄送失敗的信件。", "No failed mail.")}</p> }.into_any()
            } else {
                view! {
                    <ul>{m.into_iter().map(|m| view! {
                        <li>{format!("{} → {} ({}×) {}", m.subject, m.to, m.attempts, m.last_error.unwrap_or_default())}</li>
                    }).collect_view()}</ul>
                }.into_any()
            }}
        })}
        </div>
    }
}

/// The detail JSON as labelled fields: known keys and values in words, others as they are.
fn detail_fields(detail: &str, lang: Lang) -> AnyView {
    let Ok(serde_json::Value::Object(map)) = serde_json::from_str::<serde_json::Value>(detail)
    else {
        return view! { <span>{detail.to_owned()}</span> }.into_any();
    };
    if map.is_empty() {
        return ().into_any();
    }
    let rows: Vec<(String, String)> = map
        .iter()
        .map(|(k, v)| {
            let raw = match v {
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Null => "—".to_owned(),
                other => other.to_string(),
            };
            let label = audit_field_label(k, lang).map_or_else(|| k.clone(), str::to_owned);
            let value = audit_value_text(k, &raw, lang).unwrap_or(raw);
            (label, value)
        })
        .collect();
    view! {
        <dl class="detail">
            {rows.into_iter().map(|(k, v)| view! { <dt>{k}</dt><dd>{v}</dd> }).collect_view()}
        </dl>
    }
    .into_any()
}
