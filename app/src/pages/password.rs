//! An operator changes their own password: the current one, the new one twice (at least 12
//! characters, as the server requires). The server ends the operator's other sessions.

use leptos::prelude::*;
use leptos::task::spawn_local;
use proto::api::PasswordChange;
use proto::validate::{Errors, FieldCode};

use crate::api::{self, ApiError};
use crate::form::{FormCtl, TextField};
use crate::i18n::tr;
use crate::widgets::ErrorBox;

/// The server's minimum (`auth::operators`).
const MIN_CHARS: usize = 12;

#[component]
pub fn Password() -> impl IntoView {
    let current = RwSignal::new(String::new());
    let new = RwSignal::new(String::new());
    let again = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let done = RwSignal::new(false);
    let error = RwSignal::new(None::<ApiError>);
    let ctl = FormCtl::new(move || {
        let mut e = Errors::default();
        if current.with(String::is_empty) {
            e.push("current_password", FieldCode::Required);
        }
        match new.with(|n| n.chars().count()) {
            0 => e.push("new_password", FieldCode::Required),
            n if n < MIN_CHARS => e.push("new_password", FieldCode::Format),
            _ => {}
        }
        if new.get() != again.get() {
            e.push("new_password_confirm", FieldCode::Mismatch);
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
        done.set(false);
        let req = PasswordChange {
            current_password: current.get_untracked(),
            new_password: new.get_untracked(),
        };
        spawn_local(async move {
            match api::change_password(&req).await {
                Ok(()) => {
                    for s in [current, new, again] {
                        s.set(String::new());
                    }
                    done.set(true);
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
        <h1>{tr("變更密碼", "Change password")}</h1>
        <form class="card" on:submit=submit novalidate=true id="password-form">
            <TextField ctl=ctl field="current_password" zh="目前密碼" en="Current password" value=current
                required=true kind="password" autocomplete="current-password" />
            <TextField ctl=ctl field="new_password" zh="新密碼" en="New password" value=new
                required=true kind="password" autocomplete="new-password" />
            <TextField ctl=ctl field="new_password_confirm" zh="再次輸入新密碼" en="New password again" value=again
                required=true kind="password" autocomplete="new-password" />
            {move || error.get().map(|e| view! { <ErrorBox error=e /> })}
            {move || done.get().then(|| view! {
                <p class="success-box" role="status" id="password-changed">{tr(
                    "密碼已變更；您在其他裝置的登入已結束。",
                    "Password changed; your sessions elsewhere have ended.",
                )}</p>
            })}
            <div class="buttons">
                <button type="submit" class="primary" id="password-submit" disabled=move || busy.get()>
                    {tr("變更", "Change")}
                </button>
            </div>
        </form>
    }
}
