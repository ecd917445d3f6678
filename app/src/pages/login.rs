//! Login: the development login for applicants (until IC-card login is wired in) and the
//! operators' username/password login.

use leptos::prelude::*;
use leptos::task::spawn_local;
use proto::api::{CardLoginRequest, DevLoginRequest, OperatorLoginRequest};
use proto::validate::{self, Errors, FieldCode};
use proto::{ErrorCode, Lang, Role};

use crate::api::{self, ApiError};
use crate::card::{CardError, Popup};
use crate::form::{FormCtl, TextField};
use crate::i18n::{lang, pick, tr};
use crate::route::{Route, navigate};
use crate::session::use_session;
use crate::widgets::ErrorBox;

#[component]
pub fn Login() -> impl IntoView {
    view! {
        <h1>{tr("登入", "Log in")}</h1>
        <div class="login-grid">
            <CardLogin />
            <DevLogin />
            <OperatorLogin />
        </div>
    }
}

#[component]
fn DevLogin() -> impl IntoView {
    let session = use_session();
    let tax_id = RwSignal::new(String::new());
    let name = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<ApiError>);
    let ctl = FormCtl::new(move || {
        let mut e = Errors::default();
        if let Err(c) = validate::tax_id(tax_id.get().trim()) {
            e.push("tax_id", c);
        }
        if name.with(|n| n.chars().count() > 60) {
            e.push("display_name", FieldCode::TooLong);
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
        let req = DevLoginRequest {
            role: Role::Applicant,
            tax_id: tax_id.get_untracked().trim().to_owned(),
            display_name: name.get_untracked().trim().to_owned(),
        };
        spawn_local(async move {
            match api::dev_login(&req).await {
                Ok(s) => {
                    session.view.set(Some(s));
                    navigate(&Route::Applications);
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
        <section class="card" aria-labelledby="dev-login-title">
            <h2 id="dev-login-title">{tr("業者登入（開發用）", "Applicant login (development)")}</h2>
            <p class="note">{tr(
                "正式環境以工商憑證 IC 卡登入；此登入僅在伺服器啟用開發模式時可用。",
                "Production uses the MOEA business certificate IC card; this login works only when the server enables development mode.",
            )}</p>
            <form on:submit=submit novalidate=true>
                <TextField ctl=ctl field="tax_id" zh="統一編號" en="Business tax ID" value=tax_id
                    required=true inputmode="numeric" maxlength=8 autocomplete="username" />
                <TextField ctl=ctl field="display_name" zh="顯示名稱" en="Display name" value=name
                    autocomplete="organization" />
                {move || error.get().map(|e| view! { <ErrorBox error=e /> })}
                <button type="submit" class="primary" id="dev-login-submit" disabled=move || busy.get()>
                    {tr("登入", "Log in")}
                </button>
            </form>
        </section>
    }
}

#[component]
fn OperatorLogin() -> impl IntoView {
    let session = use_session();
    let username = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<ApiError>);
    let ctl = FormCtl::new(move || {
        let mut e = Errors::default();
        if username.with(|u| u.trim().is_empty()) {
            e.push("op.username", FieldCode::Required);
        }
        if password.with(String::is_empty) {
            e.push("op.password", FieldCode::Required);
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
        let req = OperatorLoginRequest {
            username: username.get_untracked().trim().to_owned(),
            password: password.get_untracked(),
        };
        spawn_local(async move {
            match api::operator_login(&req).await {
                Ok(s) => {
                    password.set(String::new());
                    session.view.set(Some(s));
                    navigate(&Route::Admin);
                }
                Err(e) => error.set(Some(e)),
            }
            busy.set(false);
        });
    };
    view! {
        <section class="card" aria-labelledby="op-login-title">
            <h2 id="op-login-title">{tr("系統管理者登入", "Operator login")}</h2>
            <form on:submit=submit novalidate=true>
                <TextField ctl=ctl field="op.username" zh="帳號" en="Username" value=username
                    required=true autocomplete="username" />
                <TextField ctl=ctl field="op.password" zh="密碼" en="Password" value=password
                    required=true kind="password" autocomplete="current-password" />
                {move || error.get().map(|e| view! { <ErrorBox error=e /> })}
                <button type="submit" class="primary" id="op-login-submit" disabled=move || busy.get()>
                    {tr("登入", "Log in")}
                </button>
            </form>
        </section>
    }
}

/// PIN of the MOEA business certificate card: digits on most cards, but HiCOS cards also
/// accept letters, so 4-12 ASCII letters or digits.
fn pin_rule(pin: &str) -> Result<(), FieldCode> {
    if pin.is_empty() {
        Err(FieldCode::Required)
    } else if (4..=12).contains(&pin.len()) && pin.bytes().all(|b| b.is_ascii_alphanumeric()) {
        Ok(())
    } else {
        Err(FieldCode::Format)
    }
}

/// Where the portal explains how to get and run card-bridge (a server page, so that it
/// can name this portal's origin and the operator's download location).
pub const BRIDGE_DOWNLOAD_PATH: &str = "/downloads/card-bridge";

/// A card problem to show under the form; `download` adds the link to the component's
/// download page (when the component could not be reached).
#[derive(Debug, Clone, PartialEq)]
struct CardNotice {
    zh: String,
    en: String,
    download: bool,
}

fn card_message(e: &CardError) -> CardNotice {
    let (zh, en, download) = match e {
        CardError::PopupBlocked => (
            "瀏覽器封鎖了憑證元件視窗，請允許此網站開啟快顯視窗後再試。".into(),
            "The browser blocked the card component window; allow pop-ups for this site and try again.".into(),
            false,
        ),
        CardError::NoComponent => (
            "無法連線到本機憑證元件（card-bridge 或 HiPKI 元件），請確認已安裝並執行。".into(),
            "Cannot reach the local card component (card-bridge or HiPKI); make sure it is installed and running.".into(),
            true,
        ),
        CardError::Refused(m) => (format!("IC 卡簽章失敗：{m}"), format!("The card refused to sign: {m}"), false),
        CardError::Other(m) => (format!("IC 卡登入失敗：{m}"), format!("IC card login failed: {m}"), false),
    };
    CardNotice { zh, en, download }
}

/// The portal refused the card (untrusted issuer, expired, no tax ID, ...): say that it is
/// the certificate, with the server's reason, rather than the generic "wrong credentials".
/// A revoked card and an unknown revocation status have their own words (`api.rs`).
fn card_refused(e: &ApiError) -> Option<CardNotice> {
    if matches!(
        e.code(),
        Some(ErrorCode::CardRevoked | ErrorCode::CardRevocationUnknown)
    ) {
        return Some(CardNotice {
            zh: e.message(Lang::ZhTw).to_owned(),
            en: e.message(Lang::En).to_owned(),
            download: false,
        });
    }
    let ApiError::Http {
        status: 401, info, ..
    } = e
    else {
        return None;
    };
    let why = info.message.trim_start_matches("card login failed: ");
    Some(CardNotice {
        zh: format!("本系統不接受此 IC 卡的憑證，無法登入：{why}"),
        en: format!("The portal does not accept this card's certificate: {why}"),
        download: false,
    })
}

#[component]
fn CardNoticeBox(notice: CardNotice) -> impl IntoView {
    let lang = lang();
    let CardNotice { zh, en, download } = notice;
    view! {
        <div class="error-box" role="alert">
            <p>{move || pick(lang.get(), zh.clone(), en.clone())}</p>
            {download.then(|| view! {
                <p>
                    <a href=BRIDGE_DOWNLOAD_PATH id="card-bridge-download" target="_blank" rel="noopener">
                        {move || pick(lang.get(), "下載與執行說明：本機憑證元件 card-bridge", "How to download and run the card component (card-bridge)")}
                    </a>
                </p>
            })}
        </div>
    }
}

#[component]
fn CardLogin() -> impl IntoView {
    let lang = lang();
    let session = use_session();
    let pin = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<ApiError>);
    let card_error = RwSignal::new(None::<CardNotice>);
    let ctl = FormCtl::new(move || {
        let mut e = Errors::default();
        if let Err(c) = pin_rule(&pin.get()) {
            e.push("pin", c);
        }
        e.0
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() || !ctl.submit() {
            return;
        }
        error.set(None);
        card_error.set(None);
        // Opened here, in the click: later (after an await) the browser would block it.
        let popup = match Popup::open() {
            Ok(p) => p,
            Err(e) => return card_error.set(Some(card_message(&e))),
        };
        busy.set(true);
        let the_pin = pin.get_untracked();
        spawn_local(async move {
            let challenge = match api::card_challenge().await {
                Ok(c) => c,
                Err(e) => {
                    popup.close();
                    error.set(Some(e));
                    busy.set(false);
                    return;
                }
            };
            match popup.sign(&challenge, &the_pin).await {
                Ok((signature_b64, certificate_b64)) => {
                    let req = CardLoginRequest {
                        challenge_id: challenge.challenge_id,
                        signature_b64,
                        certificate_b64,
                    };
                    match api::card_login(&req).await {
                        Ok(s) => {
                            pin.set(String::new());
                            session.view.set(Some(s));
                            navigate(&Route::Applications);
                        }
                        Err(e) => match card_refused(&e) {
                            Some(n) => card_error.set(Some(n)),
                            None => error.set(Some(e)),
                        },
                    }
                }
                Err(e) => card_error.set(Some(card_message(&e))),
            }
            busy.set(false);
        });
    };
    view! {
        <section class="card" aria-labelledby="card-login-title">
            <h2 id="card-login-title">{tr("工商憑證 IC 卡登入", "Business certificate IC card")}</h2>
            <p class="note">{move || pick(
                lang.get(),
                "請插入工商憑證 IC 卡並執行本機憑證元件（card-bridge 或 HiPKI 跨平台網頁元件）。統一編號取自卡片憑證。",
                "Insert the MOEA business certificate card and run the local card component (card-bridge or HiPKI). The tax ID comes from the card's certificate.",
            )}</p>
            <form on:submit=submit novalidate=true id="card-login-form">
                <TextField ctl=ctl field="pin" zh="PIN 碼" en="PIN" value=pin required=true kind="password"
                    inputmode="numeric" maxlength=12 autocomplete="off"
                    hint=("IC 卡的 PIN 碼（4 至 12 個英數字）", "The card's PIN (4-12 letters or digits)") />
                {move || error.get().map(|e| view! { <ErrorBox error=e /> })}
                {move || card_error.get().map(|n| view! { <CardNoticeBox notice=n /> })}
                <button type="submit" class="primary" id="card-login-submit" disabled=move || busy.get()>
                    {move || if busy.get() { pick(lang.get(), "等待 IC 卡…", "Waiting for the card…") } else { pick(lang.get(), "IC 卡登入", "Log in with the card") }}
                </button>
            </form>
        </section>
    }
}
