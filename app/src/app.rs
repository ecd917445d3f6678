//! The page frame: header with navigation and language switch, the environment check,
//! the session, and the routed page.

use leptos::prelude::*;
use leptos::task::spawn_local;
use proto::{Lang, Role};

use crate::env::{self, Missing};
use crate::i18n::{self, pick, tr};
use crate::pages;
use crate::route::{self, Route, navigate};
use crate::session;
use crate::{api, widgets::ErrorBox};

#[component]
pub fn App() -> impl IntoView {
    let lang = i18n::provide();
    let route = route::provide();
    let session = session::provide();
    let flash = session::provide_flash();
    let load_error = RwSignal::new(None::<api::ApiError>);
    // The server's development login is on (said by /api/session, logged in or not).
    let dev_login = RwSignal::new(false);

    spawn_local(async move {
        match api::session().await {
            Ok(s) => session.view.set(s),
            Err(e) => load_error.set(Some(e)),
        }
        dev_login.set(api::dev_login_on());
        session.loaded.set(true);
    });
    let dev_banner = move || {
        dev_login.get()
            || session
                .view
                .with(|s| s.as_ref().is_some_and(|s| s.dev_login))
    };

    // A flash message belongs to the page it was set for.
    Effect::new(move |_| {
        let r = route.get();
        if flash
            .0
            .with_untracked(|f| f.as_ref().is_some_and(|(to, _, _)| *to != r))
        {
            flash.0.set(None);
        }
    });

    let missing = env::check();

    view! {
        <a class="skip-link" href="#main" on:click=move |ev| {
            ev.prevent_default();
            crate::form::focus("main");
        }>{tr("跳到主要內容", "Skip to main content")}</a>
        <Header />
        {move || dev_banner().then(|| view! {
            <div class="dev-banner" role="alert" id="dev-login-banner">{tr(
                "開發模式：開發用登入已啟用，任何人都能以任一統一編號登入。請勿用於正式環境。",
                "Development mode: the development login is on and anyone can log in as any company. Not for production use.",
            )}</div>
        })}
        <main id="main" tabindex="-1">
            {(!missing.is_empty()).then(|| view! { <Unsupported missing=missing.clone() /> })}
            {move || flash.0.get().filter(|(to, _, _)| *to == route.get()).map(|(_, zh, en)| view! {
                <p class="flash" role="status">{move || pick(lang.get(), zh.clone(), en.clone())}</p>
            })}
            {move || load_error.get().map(|e| view! { <ErrorBox error=e /> })}
            {move || {
                if !session.loaded.get() {
                    return view! { <p class="loading" role="status">{tr("載入中…", "Loading…")}</p> }.into_any();
                }
                let r = route.get();
                let role = session.role();
                match (r, role) {
                    (_, None) => view! { <pages::login::Login /> }.into_any(),
                    (Route::Login, Some(_)) => {
                        navigate(&Route::Home);
                        ().into_any()
                    }
                    (Route::Home, Some(Role::Operator)) => {
                        navigate(&Route::Admin);
                        ().into_any()
                    }
                    (Route::Home, Some(Role::Applicant)) => {
                        navigate(&Route::Applications);
                        ().into_any()
                    }
                    (r, Some(Role::Applicant)) if r.is_operator() => view! { <Forbidden /> }.into_any(),
                    (r, Some(Role::Operator)) if !r.is_operator() && r != Route::NotFound => {
                        view! { <Forbidden /> }.into_any()
                    }
                    (r, Some(Role::Applicant)) if r == Route::Menu || r.crumb().is_some() => view! {
                        <pages::menu::Breadcrumb route=r.clone() />
                        {pages::view(r)}
                    }.into_any(),
                    (r, _) => pages::view(r),
                }
            }}
        </main>
        <footer class="site-footer">
            <p>{tr(
                "金鑰在您的瀏覽器中產生，私密金鑰不會傳送到伺服器。",
                "Your key is generated in your browser; the private key is never sent to the server.",
            )}</p>
        </footer>
    }
}

#[component]
fn Header() -> impl IntoView {
    let lang = i18n::lang();
    let session = session::use_session();
    let route = route::use_route();
    let logout = move |_| {
        spawn_local(async move {
            // Even if the server call fails, forget the session here.
            let _ = api::logout().await;
            session.view.set(None);
            navigate(&Route::Login);
        });
    };
    let nav_link = move |to: Route, zh: &'static str, en: &'static str| {
        let href = to.href();
        let active = {
            let to = to.clone();
            move || {
                let r = route.get();
                r == to || matches!((&r, &to), (Route::Apply { .. }, Route::Apply { .. }))
            }
        };
        view! {
            <li>
                <a href=href class:active=active.clone() aria-current=move || active().then_some("page")>
                    {tr(zh, en)}
                </a>
            </li>
        }
    };
    view! {
        <header class="site-header">
            <div class="brand">
                <span class="brand-title">{tr("關港貿單一窗口", "Customs Single Window")}</span>
                <span class="brand-sub">{tr("通關專屬憑證", "Customs dedicated certificate")}</span>
            </div>
            <nav aria-label=move || pick(lang.get(), "主選單", "Main menu")>
                <ul>
                    {move || match session.role() {
                        Some(Role::Applicant) => view! {
                            {nav_link(Route::Menu, "通關專屬憑證", "Certificate services")}
                            {nav_link(Route::Applications, "申請查詢", "Applications")}
                            {nav_link(Route::Apply { app_type: proto::ApplicationType::New, target: None }, "憑證申請", "Apply")}
                        }.into_any(),
                        Some(Role::Operator) => view! {
                            {nav_link(Route::Admin, "申請管理", "Applications")}
                            {nav_link(Route::AdminImport, "銀行對帳匯入", "Bank import")}
                            {nav_link(Route::AdminAudit, "稽核紀錄", "Audit log")}
                            {nav_link(Route::AdminPassword, "變更密碼", "Password")}
                            <li><a href="/crl/ca.crl" download="ca.crl">{tr("下載 CRL", "Download CRL")}</a></li>
                        }.into_any(),
                        None => ().into_any(),
                    }}
                </ul>
            </nav>
            <div class="tools">
                <button
                    type="button"
                    class="lang-switch"
                    lang=move || pick(lang.get(), "en", "zh-TW")
                    on:click=move |_| lang.update(|l| *l = pick(*l, Lang::En, Lang::ZhTw))
                >
                    {move || pick(lang.get(), "English", "中文")}
                </button>
                {move || session.view.get().map(|s| view! {
                    <span class="who">{s.display_name.clone()}</span>
                    <button type="button" class="link-button" on:click=logout>{tr("登出", "Log out")}</button>
                })}
            </div>
        </header>
    }
}

#[component]
fn Unsupported(missing: Vec<Missing>) -> impl IntoView {
    let lang = i18n::lang();
    view! {
        <section class="unsupported" role="alert">
            <h2>{tr("此瀏覽器無法產製憑證金鑰", "This browser cannot generate certificate keys")}</h2>
            <ul>
                {missing.into_iter().map(|m| {
                    let (zh, en) = match m {
                        Missing::SecureContext => (
                            "此頁面不是安全連線（需要 https）。請改用 https 網址開啟。",
                            "This page is not a secure context (https is required). Open it over https.",
                        ),
                        Missing::WebCrypto => (
                            "瀏覽器不支援 WebCrypto。請使用最新版 Chrome、Edge、Firefox 或 Safari。",
                            "The browser lacks WebCrypto. Use a current Chrome, Edge, Firefox or Safari.",
                        ),
                        Missing::IndexedDb => (
                            "瀏覽器停用了 IndexedDB（例如無痕模式），關閉分頁後將無法接續下載。",
                            "IndexedDB is disabled (e.g. private mode): closing the tab before saving would lose the key.",
                        ),
                    };
                    view! { <li>{move || pick(lang.get(), zh, en)}</li> }
                }).collect_view()}
            </ul>
        </section>
    }
}

#[component]
fn Forbidden() -> impl IntoView {
    view! {
        <section>
            <h1>{tr("無權限", "Not allowed")}</h1>
            <p>{tr("此頁面不屬於您的角色。", "This page is not for your role.")}</p>
            <p><a href="#/">{tr("回首頁", "Home")}</a></p>
        </section>
    }
}
