//! 憑證註冊: upload the `.cer` to the certificate registration centre with the staff name,
//! customs office and broker code.

use base64::Engine;
use leptos::prelude::*;
use leptos::task::spawn_local;
use proto::api::{ApplicationView, RegistrationRequest, RegistrationView};
use proto::validate::{Errors, FieldCode};
use proto::{CustomsOffice, Lang};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use crate::api::{self, ApiError};
use crate::cerfile::{self, Refusal};
use crate::form::{FormCtl, ReadOnly, SelectField, TextField, dom_id};
use crate::i18n::{lang, tr};
use crate::route::Route;
use crate::widgets::{ErrorBox, local_time};

/// The only certificate type registered here: 非IC卡 通關專屬憑證.
const CERT_TYPE: &str = "customs_dedicated";

async fn read_file(input_id: &str) -> Option<Vec<u8>> {
    let input = document()
        .get_element_by_id(input_id)?
        .dyn_into::<web_sys::HtmlInputElement>()
        .ok()?;
    let file = input.files()?.get(0)?;
    let buf = JsFuture::from(file.array_buffer()).await.ok()?;
    Some(js_sys::Uint8Array::new(&buf).to_vec())
}

/// What the page says about a refused file (nothing was uploaded).
fn refusal_text(why: Refusal) -> (&'static str, &'static str) {
    match why {
        Refusal::Pkcs12 => (
            "這是 .pfx 檔（含私密金鑰），絕不可上傳。請選擇下載的憑證檔 (.cer)。",
            "This is a .pfx file (it holds your private key) and is never uploaded. Choose the downloaded certificate file (.cer).",
        ),
        Refusal::Several => (
            "檔案含有多張憑證，請只選擇本申請的憑證檔 (.cer)。",
            "The file holds several certificates; choose only this application's certificate file (.cer).",
        ),
        Refusal::Empty | Refusal::NotCertificate => (
            "這不是憑證檔。請選擇下載的單一 X.509 憑證檔 (.cer，DER 或 PEM)。",
            "This is not a certificate file. Choose the downloaded single X.509 certificate (.cer, DER or PEM).",
        ),
    }
}

#[component]
pub fn Register(serial: String) -> impl IntoView {
    let lang = lang();
    let app = RwSignal::new(None::<ApplicationView>);
    let error = RwSignal::new(None::<ApiError>);
    let done = RwSignal::new(None::<RegistrationView>);
    let staff_name = RwSignal::new(String::new());
    let office = RwSignal::new(String::new());
    let broker = RwSignal::new(String::new());
    let has_file = RwSignal::new(false);
    // The chosen file is not a single certificate: nothing was sent.
    let refused = RwSignal::new(None::<Refusal>);
    let busy = RwSignal::new(false);
    {
        let serial = serial.clone();
        spawn_local(async move {
            match api::application(&serial).await {
                Ok(a) => {
                    office.set(a.customs_office.code().to_owned());
                    broker.set(a.staff_code.clone());
                    staff_name.set(a.contact.name.clone());
                    app.set(Some(a));
                }
                Err(e) => error.set(Some(e)),
            }
        });
    }
    let ctl = FormCtl::new(move || {
        let mut e = Errors::default();
        if staff_name.with(|s| s.trim().is_empty()) {
            e.push("staff_name", FieldCode::Required);
        }
        if CustomsOffice::from_code(&office.get()).is_none() {
            e.push("customs_office", FieldCode::Required);
        }
        if let Err(c) = proto::validate::staff_code(broker.get().trim()) {
            e.push("broker_code", c);
        }
        if !has_file.get() {
            e.push("cer_file", FieldCode::Required);
        }
        e.0
    });
    let file_id = dom_id("cer_file");
    let submit = {
        let file_id = file_id.clone();
        let serial = serial.clone();
        move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            if busy.get_untracked() || !ctl.submit() {
                return;
            }
            busy.set(true);
            error.set(None);
            refused.set(None);
            let file_id = file_id.clone();
            let serial = serial.clone();
            spawn_local(async move {
                // Read and check the file first: anything but one certificate (a .pfx with
                // the private key above all) never leaves the browser.
                let checked = read_file(&file_id)
                    .await
                    .map(|bytes| cerfile::single_certificate(&bytes));
                match checked {
                    None => ctl.set_server(vec![proto::validate::FieldError::new(
                        "cer_file",
                        FieldCode::Required,
                    )]),
                    Some(Err(why)) => {
                        refused.set(Some(why));
                        ctl.set_server(vec![proto::validate::FieldError::new(
                            "cer_file",
                            FieldCode::Format,
                        )]);
                    }
                    Some(Ok(der)) => {
                        // Read after the await: the page may be gone by now.
                        let (Some(name), Some(office), Some(broker)) = (
                            staff_name.try_get_untracked(),
                            office.try_get_untracked(),
                            broker.try_get_untracked(),
                        ) else {
                            return;
                        };
                        let req = RegistrationRequest {
                            application_serial: Some(serial),
                            staff_name: name.trim().to_owned(),
                            customs_office: CustomsOffice::from_code(&office),
                            broker_code: broker.trim().to_owned(),
                            cert_type: CERT_TYPE.to_owned(),
                            cer_der_b64: base64::engine::general_purpose::STANDARD.encode(der),
                        };
                        match api::register(&req).await {
                            Ok(r) => done.set(Some(r)),
                            Err(e) => {
                                ctl.set_server(e.fields().to_vec());
                                error.set(Some(e));
                            }
                        }
                    }
                }
                busy.set(false);
            });
        }
    };
    let offices = CustomsOffice::ALL
        .iter()
        .map(|o| (o.code(), o.label(Lang::ZhTw), o.label(Lang::En)))
        .collect::<Vec<_>>();

    view! {
        <h1>{tr("憑證註冊", "Register the certificate")}</h1>
        {move || error.get().map(|e| view! { <ErrorBox error=e /> })}
        <Show
            when=move || done.get().is_none()
            fallback=move || done.get().map(|r| view! {
                <div class="success-box" role="status" id="registered">
                    {tr("憑證註冊完成。", "The certificate is registered.")}
                </div>
                <dl class="facts card">
                    <dt>{tr("憑證序號", "Certificate serial")}</dt><dd class="mono">{r.serial_hex.clone()}</dd>
                    <dt>{tr("申請序號", "Application")}</dt><dd class="mono">{r.application_serial.clone()}</dd>
                    <dt>{tr("專責人員", "Staff")}</dt><dd>{r.staff_name.clone()}</dd>
                    <dt>{tr("關別", "Customs office")}</dt><dd>{move || r.customs_office.label(lang.get())}</dd>
                    <dt>{tr("註冊時間", "Registered at")}</dt><dd>{local_time(&r.registered_at)}</dd>
                </dl>
                <p><a class="button" href=Route::Applications.href()>{tr("回申請查詢", "Back to applications")}</a></p>
            })
        >
            <form class="card" on:submit=submit.clone() novalidate=true id="register-form">
                <ReadOnly field="reg_serial" zh="申請序號" en="Application" value=Signal::derive({
                    let s = serial.clone();
                    move || s.clone()
                }) />
                <ReadOnly field="cert_type" zh="憑證類型" en="Certificate type"
                    value=Signal::derive(move || crate::i18n::pick(lang.get(), "非IC卡 — 通關專屬憑證", "Non-IC-card — customs dedicated certificate").to_owned()) />
                <div class="grid">
                    <TextField ctl=ctl field="staff_name" zh="人員姓名" en="Staff name" value=staff_name required=true autocomplete="name" />
                    <SelectField ctl=ctl field="customs_office" zh="關別" en="Customs office" value=office required=true options=offices.clone() />
                    <TextField ctl=ctl field="broker_code" zh="專責報關人員代碼" en="Broker staff code" value=broker required=true
                        maxlength=12 hint=("英文字母或數字", "letters and digits only") />
                </div>
                <div class="field" class:invalid=move || ctl.error("cer_file").is_some()>
                    <label for=file_id.clone()>{tr("憑證檔 (.cer)", "Certificate file (.cer)")}<span class="req" aria-hidden="true">"*"</span></label>
                    <input type="file" id=file_id.clone() name="cer_file" accept=".cer,.crt,.der,application/pkix-cert"
                        aria-describedby=format!("{file_id}-error")
                        on:change=move |ev| {
                            let n = ev.target()
                                .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
                                .and_then(|i| i.files())
                                .map(|f| f.length())
                                .unwrap_or(0);
                            has_file.set(n > 0);
                            refused.set(None);
                            ctl.changed("cer_file");
                            ctl.touch("cer_file");
                        } />
                    <p class="field-error" id=format!("{file_id}-error")>
                        {move || ctl.error("cer_file").map(|e| e.message(lang.get()))}
                    </p>
                    {move || refused.get().map(|why| {
                        let (zh, en) = refusal_text(why);
                        view! {
                            <p class="error-box" role="alert" id="cer-file-refused">
                                {move || crate::i18n::pick(lang.get(), zh, en)}
                            </p>
                        }
                    })}
                </div>
                <div class="buttons">
                    <button type="submit" class="primary" id="register-submit" disabled=move || busy.get()>
                        {tr("註冊", "Register")}
                    </button>
                </div>
            </form>
        </Show>
        {move || app.get().map(|_| ())}
    }
}
