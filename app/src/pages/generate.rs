//! 產製 and 下載: one click generates the key in this browser, stores it (encrypted) in the
//! vault, sends only the CSR and receives the certificate; then the download & backup form
//! packs the `.pfx` here and saves `<name>.pfx` and `<name>.cer`. Reopening the page after
//! a closed tab finishes the job from the stored key, which the user may also discard
//! (after a confirmation). The vault is opened for the logged-in company only.

use leptos::prelude::*;
use leptos::task::spawn_local;
use proto::Status;
use proto::api::{ApplicationView, IssuedCertificate};
use proto::validate::{self, Errors};

use crate::api::{self, ApiError};
use crate::download;
use crate::form::{FormCtl, RadioField, TextField};
use crate::i18n::{lang, pick, tr};
use crate::keygen::{self, Key, KeygenError, PfxRequest, Profile, Subject, Vault, vault_owner};
use crate::route::Route;
use crate::session::{Session, use_session};
use crate::widgets::{Alert, ErrorBox, StatusBadge, local_date};

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Step {
    Loading,
    /// Paid, no key yet: the generate button.
    Ready,
    Working,
    /// Certificate received: the download & backup form.
    Issued,
    Saved,
    /// Completed, but this browser holds no key: only the `.cer` can be offered.
    NoKey,
    /// The status allows neither generating nor downloading.
    NotNow,
}

/// Progress of the generate flow, in order.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Phase {
    Key,
    Store,
    Sign,
    Send,
    Done,
}

#[derive(Clone)]
struct Saved {
    name: String,
    pfx_url: String,
    cer_url: String,
}

#[derive(Clone, Copy)]
struct Ctx {
    serial: StoredValue<String>,
    app: RwSignal<Option<ApplicationView>>,
    step: RwSignal<Step>,
    phase: RwSignal<Phase>,
    key_phase: RwSignal<String>,
    issued: RwSignal<Option<IssuedCertificate>>,
    /// The key object in page memory (also in the vault unless the vault failed).
    key: StoredValue<Option<Key>, LocalStorage>,
    api_error: RwSignal<Option<ApiError>>,
    error: RwSignal<Option<(String, String)>>,
    /// The vault could not store the key: the user must not close the tab.
    vault_failed: RwSignal<bool>,
    resumed: RwSignal<bool>,
    saved: RwSignal<Option<Saved>>,
    session: Session,
    /// The discard confirmation is open.
    confirm_discard: RwSignal<bool>,
    /// The user discarded the stored key.
    discarded: RwSignal<bool>,
}

fn keygen_error(e: &KeygenError) -> (String, String) {
    (
        format!("金鑰元件錯誤（{}）：{}", e.code, e.message),
        format!("Key component error ({}): {}", e.code, e.message),
    )
}

impl Ctx {
    /// The vault of the logged-in company.
    async fn vault(&self) -> Result<Vault, KeygenError> {
        match vault_owner(&self.session) {
            Some(owner) => Vault::open(&owner).await,
            None => Err(KeygenError {
                code: "vault_owner".into(),
                message: "no company is logged in".into(),
            }),
        }
    }

    /// This company's stored key for the application, if any.
    async fn stored_key(&self, serial: &str) -> Option<Key> {
        match self.vault().await {
            Ok(v) => v.get(serial).await.ok().flatten(),
            Err(_) => None,
        }
    }

    /// Deletes the stored key (after the user confirmed) and shows what is left to do.
    async fn discard(self) {
        self.confirm_discard.set(false);
        self.error.set(None);
        let Some(serial) = self.serial.try_get_value() else {
            return;
        };
        match self.vault().await {
            Ok(v) => {
                if let Err(e) = v.delete(&serial).await {
                    return self.error.set(Some(keygen_error(&e)));
                }
            }
            // A key the vault never held lives only in this page: dropping it is enough.
            Err(_) if self.vault_failed.get_untracked() => {}
            Err(e) => return self.error.set(Some(keygen_error(&e))),
        }
        self.key.set_value(None);
        self.resumed.set(false);
        self.discarded.set(true);
        let issued = self.issued.with_untracked(Option::is_some)
            || self.app.with_untracked(|a| a.as_ref().map(|a| a.status)) == Some(Status::Completed);
        self.step
            .set(if issued { Step::NoKey } else { Step::Ready });
    }

    fn fail_keygen(&self, e: &KeygenError) {
        self.error.set(Some(keygen_error(e)));
        self.step.set(Step::Ready);
    }

    /// Generates (unless a key is already held), stores, signs, sends.
    async fn run(self) {
        self.error.set(None);
        self.discarded.set(false);
        self.api_error.set(None);
        self.step.set(Step::Working);
        let (Some(Some(app)), Some(serial)) =
            (self.app.try_get_untracked(), self.serial.try_get_value())
        else {
            return;
        };
        let cert_name = app.cert_name.clone().unwrap_or_else(|| serial.clone());
        if let Err(e) = keygen::init().await {
            return self.fail_keygen(&e);
        }
        // The user may have left the page while the module loaded.
        let Some(held) = self.key.try_get_value() else {
            return;
        };
        let key = match held {
            Some(k) => k,
            None => {
                self.phase.set(Phase::Key);
                let kp = self.key_phase;
                let key = match keygen::generate_key(move |p| kp.set(p)).await {
                    Ok(k) => k,
                    Err(e) => return self.fail_keygen(&e),
                };
                // Stored before the CSR leaves: if the tab closes while the server signs,
                // the key is still here for the certificate.
                self.phase.set(Phase::Store);
                let stored = match self.vault().await {
                    Ok(v) => v.put(&serial, &key, &cert_name).await,
                    Err(e) => Err(e),
                };
                self.vault_failed.set(stored.is_err());
                self.key.set_value(Some(key.clone()));
                key
            }
        };
        self.phase.set(Phase::Sign);
        let subject = Subject {
            cn: &cert_name,
            o: &app.company.name,
            c: "TW",
            serial_number: &app.tax_id,
        };
        let csr = match keygen::sign_csr(&key, &subject).await {
            Ok(c) => c,
            Err(e) => return self.fail_keygen(&e),
        };
        self.phase.set(Phase::Send);
        match api::submit_csr(&serial, csr).await {
            Ok(cert) => {
                self.issued.set(Some(cert));
                self.phase.set(Phase::Done);
                self.step.set(Step::Issued);
                // Issuing moved the application to A0: show it now, then the server's view
                // (the certificate, the actions) without a reload.
                self.app.update(|a| {
                    if let Some(a) = a {
                        a.status = Status::Completed;
                    }
                });
                if let Ok(fresh) = api::application(&serial).await {
                    self.app.set(Some(fresh));
                }
            }
            Err(e) => {
                self.api_error.set(Some(e));
                self.step.set(Step::Ready);
            }
        }
    }

    /// What to show for the application as it is now, resuming from a stored key.
    async fn load(self) {
        let Some(serial) = self.serial.try_get_value() else {
            return;
        };
        let (app, init) = (api::application(&serial).await, keygen::init().await);
        let app = match app {
            Ok(a) => a,
            Err(e) => {
                self.api_error.set(Some(e));
                self.step.set(Step::NotNow);
                return;
            }
        };
        if let Err(e) = init {
            self.error.set(Some(keygen_error(&e)));
        }
        let status = app.status;
        self.app.set(Some(app));
        let stored = self.stored_key(&serial).await;
        let has_key = stored.is_some();
        if has_key {
            self.key.set_value(stored);
            self.resumed.set(true);
        }
        match (status, has_key) {
            (Status::Paid, true) => self.run().await,
            (Status::Paid, false) => self.step.set(Step::Ready),
            (Status::Completed, true) => match api::certificate(&serial).await {
                Ok(c) => {
                    self.issued.set(Some(c));
                    self.phase.set(Phase::Done);
                    self.step.set(Step::Issued);
                }
                Err(e) => {
                    self.api_error.set(Some(e));
                    self.step.set(Step::NotNow);
                }
            },
            (Status::Completed, false) => self.step.set(Step::NoKey),
            _ => self.step.set(Step::NotNow),
        }
    }
}

#[component]
pub fn Generate(serial: String) -> impl IntoView {
    let cx = Ctx {
        serial: StoredValue::new(serial),
        app: RwSignal::new(None),
        step: RwSignal::new(Step::Loading),
        phase: RwSignal::new(Phase::Key),
        key_phase: RwSignal::new(String::new()),
        issued: RwSignal::new(None),
        key: StoredValue::new_local(None),
        api_error: RwSignal::new(None),
        error: RwSignal::new(None),
        vault_failed: RwSignal::new(false),
        resumed: RwSignal::new(false),
        saved: RwSignal::new(None),
        session: use_session(),
        confirm_discard: RwSignal::new(false),
        discarded: RwSignal::new(false),
    };
    spawn_local(cx.load());
    on_cleanup(move || {
        if let Some(Some(s)) = cx.saved.try_get_untracked() {
            download::revoke(&s.pfx_url);
            download::revoke(&s.cer_url);
        }
    });

    view! {
        <h1>{tr("憑證金鑰產製與下載", "Generate key and download certificate")}</h1>
        {move || cx.app.get().map(|a| view! { <AppFacts app=a /> })}
        {move || cx.error.get().map(|(zh, en)| view! { <Alert zh=zh en=en /> })}
        {move || cx.api_error.get().map(|e| view! { <ErrorBox error=e /> })}
        {move || cx.discarded.get().then(|| view! {
            <div class="success-box" role="status" id="key-discarded">{tr(
                "已捨棄此瀏覽器保存的金鑰。",
                "The key stored in this browser was discarded.",
            )}</div>
        })}
        {move || cx.vault_failed.get().then(|| view! {
            <div class="warn-box" role="alert">{tr(
                "此瀏覽器無法安全保存金鑰（IndexedDB 無法使用）：完成下載前請勿關閉此分頁。",
                "This browser cannot store the key (IndexedDB unavailable): do not close this tab before the files are saved.",
            )}</div>
        })}
        {move || match cx.step.get() {
            Step::Loading => view! { <p class="loading" role="status">{tr("載入中…", "Loading…")}</p> }.into_any(),
            Step::Ready => view! { <ReadyView cx=cx /> <DiscardKey cx=cx /> }.into_any(),
            Step::Working => view! { <Progress cx=cx /> }.into_any(),
            Step::Issued => view! { <Progress cx=cx /> <DownloadForm cx=cx /> <DiscardKey cx=cx /> }.into_any(),
            Step::Saved => view! { <SavedView cx=cx /> }.into_any(),
            Step::NoKey => view! { <NoKeyView cx=cx /> }.into_any(),
            Step::NotNow => view! {
                <p id="not-now">{tr("此申請目前的狀態無法產製或下載憑證。", "This application's status allows neither generating nor downloading now.")}</p>
                <p><a href=Route::Applications.href()>{tr("回申請查詢", "Back to applications")}</a></p>
            }.into_any(),
        }}
    }
}

#[component]
fn AppFacts(app: ApplicationView) -> impl IntoView {
    view! {
        <dl class="facts card">
            <dt>{tr("申請序號", "Application")}</dt>
            <dd class="mono">{app.serial.clone()}</dd>
            <dt>{tr("憑證名稱", "Certificate name")}</dt>
            <dd class="mono" id="cert-name">{app.cert_name.clone().unwrap_or_default()}</dd>
            <dt>{tr("申請狀態", "Status")}</dt>
            <dd id="app-status" data-status=app.status.code()><StatusBadge status=app.status /></dd>
        </dl>
    }
}

#[component]
fn ReadyView(cx: Ctx) -> impl IntoView {
    let retry = cx.key.with_value(Option::is_some);
    view! {
        <section class="card">
            <p>{tr(
                "按下「產製」後，瀏覽器會產生 RSA 2048 位元金鑰並只把憑證請求 (CSR) 送到伺服器；私密金鑰不會離開此電腦。",
                "\"Generate\" makes an RSA 2048-bit key in this browser and sends only the certificate request (CSR); the private key never leaves this computer.",
            )}</p>
            <div class="buttons">
                <button type="button" class="primary" id="generate" on:click=move |_| spawn_local(cx.run())>
                    {if retry { tr("重新送出", "Try again") } else { tr("產製", "Generate") }}
                </button>
            </div>
        </section>
    }
}

/// 捨棄金鑰: shown while this browser holds the application's key; asks before deleting.
#[component]
fn DiscardKey(cx: Ctx) -> impl IntoView {
    let held = cx.key.with_value(Option::is_some);
    held.then(|| {
        view! {
            <section class="card" aria-labelledby="discard-title">
                <h2 id="discard-title">{tr("捨棄金鑰", "Discard the key")}</h2>
                <p>{tr(
                    "不再需要此瀏覽器保存的金鑰時（例如要在另一台電腦重新產製），可以將它捨棄。",
                    "If you no longer need the key stored in this browser (for example to generate a new one on another computer), you can discard it.",
                )}</p>
                {move || if cx.confirm_discard.get() {
                    view! {
                        <div class="warn-box" role="alertdialog" aria-labelledby="discard-question" id="discard-dialog">
                            <p id="discard-question">{tr(
                                "確定要捨棄此金鑰嗎？捨棄後無法復原；若憑證已核發，將無法再為它產生 .pfx 檔，須重新申請憑證。",
                                "Discard this key? This cannot be undone; if the certificate was already issued, no .pfx can be made for it any more and a new certificate must be applied for.",
                            )}</p>
                            <div class="buttons">
                                <button type="button" class="danger" id="discard-confirm" on:click=move |_| spawn_local(cx.discard())>
                                    {tr("確定捨棄", "Discard")}
                                </button>
                                <button type="button" id="discard-cancel" on:click=move |_| cx.confirm_discard.set(false)>
                                    {tr("取消", "Cancel")}
                                </button>
                            </div>
                        </div>
                    }.into_any()
                } else {
                    view! {
                        <div class="buttons">
                            <button type="button" id="discard-key" on:click=move |_| cx.confirm_discard.set(true)>
                                {tr("捨棄金鑰…", "Discard key…")}
                            </button>
                        </div>
                    }.into_any()
                }}
            </section>
        }
    })
}

#[component]
fn Progress(cx: Ctx) -> impl IntoView {
    let lang = lang();
    let (phase, step, key_phase) = (cx.phase, cx.step, cx.key_phase);
    let item = move |p: Phase, zh: &'static str, en: &'static str| {
        view! {
            <li
                class:done=move || { phase.get() > p || phase.get() == Phase::Done }
                class:active=move || phase.get() == p && step.get() == Step::Working
            >
                {move || pick(lang.get(), zh, en)}
                {move || (p == Phase::Key && phase.get() == Phase::Key && step.get() == Step::Working).then(|| {
                    let k = key_phase.get();
                    let (z, e) = match k.as_str() {
                        "loading" => ("（載入元件）", " (loading)"),
                        "generating" => ("（計算中）", " (computing)"),
                        "exporting" => ("（匯出）", " (exporting)"),
                        _ => ("", ""),
                    };
                    pick(lang.get(), z, e)
                })}
            </li>
        }
    };
    view! {
        <section class="card" aria-labelledby="progress-title">
            <h2 id="progress-title">{tr("產製進度", "Progress")}</h2>
            <ol class="progress" id="progress" aria-live="polite">
                {item(Phase::Key, "在瀏覽器中產生金鑰", "Generate the key in this browser")}
                {item(Phase::Store, "加密保存金鑰於此瀏覽器", "Store the key, encrypted, in this browser")}
                {item(Phase::Sign, "簽署憑證請求", "Sign the certificate request")}
                {item(Phase::Send, "送出請求並取得憑證", "Send the request and receive the certificate")}
            </ol>
            {move || cx.resumed.get().then(|| view! {
                <p class="note" id="resumed">{tr(
                    "已從此瀏覽器保存的金鑰接續先前未完成的作業。",
                    "Continued from the key this browser stored earlier.",
                )}</p>
            })}
        </section>
    }
}

/// 下載與備份: file name, password twice, PFX profile.
#[component]
fn DownloadForm(cx: Ctx) -> impl IntoView {
    let default_name: String = cx
        .issued
        .with_untracked(|i| i.as_ref().map(|c| c.cert_name.clone()))
        .unwrap_or_default()
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect();
    let name = RwSignal::new(default_name);
    let password = RwSignal::new(String::new());
    let confirm = RwSignal::new(String::new());
    let profile = RwSignal::new("compatible".to_owned());
    let busy = RwSignal::new(false);
    let ctl = FormCtl::new(move || {
        let mut e = Errors::default();
        if let Err(c) = validate::file_name(&name.get()) {
            e.push("file_name", c);
        }
        if let Err(v) = validate::pfx_password_pair(&password.get(), &confirm.get()) {
            e.0.extend(v);
        }
        e.0
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() || !ctl.submit() {
            return;
        }
        busy.set(true);
        let (n, pw, pr) = (
            name.get_untracked(),
            password.get_untracked(),
            profile.get_untracked(),
        );
        spawn_local(async move {
            save_files(cx, n, pw, pr).await;
            // The password is not needed any more; do not keep it in the page.
            password.set(String::new());
            confirm.set(String::new());
            busy.set(false);
        });
    };
    view! {
        <section class="card" aria-labelledby="download-title">
            <h2 id="download-title">{tr("下載與備份", "Download and back up")}</h2>
            <p>{tr(
                "請設定檔名與密碼。瀏覽器會把金鑰與憑證以此密碼加密成 .pfx 檔，並另存 .cer 憑證檔供註冊使用。請牢記密碼：遺失後無法補發。",
                "Choose a file name and a password. The browser packs key and certificate into a .pfx file protected by this password and also saves the .cer file for registration. Keep the password: it cannot be recovered.",
            )}</p>
            <form on:submit=submit novalidate=true id="download-form">
                <TextField ctl=ctl field="file_name" zh="檔案名稱" en="File name" value=name required=true maxlength=64 />
                <TextField ctl=ctl field="password" zh="密碼" en="Password" value=password required=true
                    kind="password" autocomplete="new-password" maxlength=20 />
                <TextField ctl=ctl field="password_confirm" zh="確認密碼" en="Confirm password" value=confirm required=true
                    kind="password" autocomplete="new-password" maxlength=20 hint=("請再輸入一次密碼", "Enter the password again") />
                <RadioField ctl=ctl field="profile" zh="PFX 格式" en="PFX format" value=profile
                    options=vec![
                        ("compatible", "相容（建議）", "Compatible (recommended)", Some((
                            "3DES 與 SHA-1 MAC：Windows 7 以後、舊版 Java、macOS 與 Android 都能開啟。",
                            "3DES with a SHA-1 MAC: opens on Windows 7 and later, old Java, macOS and Android.",
                        ))),
                        ("modern", "新式", "Modern", Some((
                            "AES-256 與 SHA-256：較強，但 Windows Server 2019 以前及 macOS 鑰匙圈無法開啟。",
                            "AES-256 with SHA-256: stronger, but Windows before Server 2019 and macOS Keychain cannot open it.",
                        ))),
                    ] />
                <div class="buttons">
                    <button type="submit" class="primary" id="download-submit" disabled=move || busy.get()>
                        {tr("下載憑證", "Download certificate")}
                    </button>
                </div>
            </form>
        </section>
    }
}

async fn save_files(cx: Ctx, name: String, password: String, profile: String) {
    cx.error.set(None);
    cx.api_error.set(None);
    let (Some(serial), Some(Some(issued)), Some(held)) = (
        cx.serial.try_get_value(),
        cx.issued.try_get_untracked(),
        cx.key.try_get_value(),
    ) else {
        return;
    };
    let key = match held {
        Some(k) => Some(k),
        None => cx.stored_key(&serial).await,
    };
    let Some(key) = key else {
        cx.error.set(Some((
            "找不到此申請的金鑰。".into(),
            "The key for this application is not in this browser.".into(),
        )));
        return;
    };
    let mut chain = issued.chain_pem.clone();
    if chain.is_empty() {
        match api::ca_pem().await {
            Ok(pem) => chain.push(pem),
            Err(e) => {
                cx.api_error.set(Some(e));
                return;
            }
        }
    }
    let profile = if profile == "modern" {
        Profile::Modern
    } else {
        Profile::Compatible
    };
    let pfx = keygen::build_pfx(
        &key,
        &PfxRequest {
            certificate_pem: &issued.certificate_pem,
            chain_pem: &chain,
            password: &password,
            friendly_name: &issued.cert_name,
            profile,
        },
    );
    let files = pfx.and_then(|pfx| Ok((pfx, keygen::certificate_to_der(&issued.certificate_pem)?)));
    let (pfx, cer) = match files {
        Ok(f) => f,
        Err(e) => {
            cx.error.set(Some(keygen_error(&e)));
            return;
        }
    };
    let (Some(pfx_url), Some(cer_url)) = (
        download::object_url(&pfx, "application/x-pkcs12"),
        download::object_url(&cer, "application/pkix-cert"),
    ) else {
        cx.error.set(Some((
            "無法建立下載檔案。".into(),
            "Cannot create the download files.".into(),
        )));
        return;
    };
    download::save(&cer_url, &format!("{name}.cer"));
    download::save(&pfx_url, &format!("{name}.pfx"));
    // The .pfx now holds the key (under the user's password): the stored copy goes.
    if let Ok(v) = cx.vault().await {
        let _ = v.delete(&serial).await;
    }
    cx.key.set_value(None);
    if let Some(Some(old)) = cx.saved.try_get_untracked() {
        download::revoke(&old.pfx_url);
        download::revoke(&old.cer_url);
    }
    cx.saved.set(Some(Saved {
        name,
        pfx_url,
        cer_url,
    }));
    cx.step.set(Step::Saved);
}

#[component]
fn SavedView(cx: Ctx) -> impl IntoView {
    let serial = cx.serial.get_value();
    move || {
        cx.saved.get().map(|s| {
            let serial = serial.clone();
            view! {
                <section class="card" aria-labelledby="saved-title">
                    <div class="success-box" role="status" id="saved">
                        <span id="saved-title">{tr("憑證已下載完成。", "The certificate files were saved.")}</span>
                    </div>
                    <p>{tr("瀏覽器已儲存下列檔案（若未自動下載，請點選連結）：", "Your browser saved these files (use the links if a download did not start):")}</p>
                    <ul class="files">
                        <li><a href=s.pfx_url.clone() download=format!("{}.pfx", s.name)>{format!("{}.pfx", s.name)}</a>
                            " — "{tr("金鑰與憑證（以密碼保護），請備份", "key and certificate (password protected): back it up")}</li>
                        <li><a href=s.cer_url.clone() download=format!("{}.cer", s.name)>{format!("{}.cer", s.name)}</a>
                            " — "{tr("憑證，供憑證註冊使用", "certificate, for registration")}</li>
                    </ul>
                    <p>{tr(
                        "下一步：至憑證註冊中心上傳 .cer 檔完成註冊。",
                        "Next: register the .cer file at the certificate registration centre.",
                    )}</p>
                    <div class="buttons">
                        <a class="button primary" href=Route::Register(serial.clone()).href()>{tr("憑證註冊", "Register certificate")}</a>
                        <a class="button" href=Route::Applications.href()>{tr("回申請查詢", "Back to applications")}</a>
                    </div>
                </section>
            }
        })
    }
}

#[component]
fn NoKeyView(cx: Ctx) -> impl IntoView {
    let serial = cx.serial.get_value();
    let cert = move || cx.app.get().and_then(|a| a.certificate);
    view! {
        <section class="card">
            <p id="no-key">{tr(
                "此瀏覽器中沒有這張憑證的金鑰：金鑰只存在當初產製它的瀏覽器，或已包含在您下載的 .pfx 檔中。您仍可下載 .cer 憑證檔。",
                "This browser does not hold the key for this certificate: it exists only in the browser that generated it, or in the .pfx you saved. You can still download the .cer file.",
            )}</p>
            {move || cert().map(|c| view! {
                <p class="note">{tr("有效期間", "Valid")}": "{local_date(&c.not_before)}" – "{local_date(&c.not_after)}</p>
            })}
            <div class="buttons">
                <a class="button primary" href=api::cer_url(&serial) download="">{tr("下載 .cer 憑證檔", "Download the .cer file")}</a>
                <a class="button" href=Route::Register(serial.clone()).href()>{tr("憑證註冊", "Register certificate")}</a>
                <a class="button" href=Route::Applications.href()>{tr("回申請查詢", "Back to applications")}</a>
            </div>
        </section>
    }
}
