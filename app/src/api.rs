//! The server's JSON API (docs/API.md) over `fetch`: same-origin cookies, the CSRF token
//! from the session on every state change, typed bodies from `proto::api`.

use std::cell::RefCell;

use proto::admin::{AdminApplications, GridSort};
use proto::api::{
    ApplicationForm, ApplicationQuery, ApplicationView, AuditEntry, CardChallenge,
    CardLoginRequest, CertificateActionRequest, CertificateView, CsrSubmission, DevLoginRequest,
    ErrorBody, ErrorInfo, HistoryEntry, ImportReport, IssuedCertificate, MailView,
    OperatorLoginRequest, Page, PasswordChange, PaymentRecord, RegistrationRequest,
    RegistrationView, SessionView,
};
use proto::validate::FieldError;
use proto::{ErrorCode, Lang, RevocationReason};
use serde::Serialize;
use serde::de::DeserializeOwned;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Headers, RequestCredentials, RequestInit, Response};

use crate::i18n::pick;

thread_local! {
    // The token of the current session; every POST must echo it (double-submit CSRF check).
    static CSRF: RefCell<Option<String>> = const { RefCell::new(None) };
}

fn set_csrf(token: Option<String>) {
    CSRF.with(|c| *c.borrow_mut() = token);
}

fn csrf() -> Option<String> {
    CSRF.with(|c| c.borrow().clone())
}

/// Numbers a screen's requests so that only the answer to the newest one is shown: a slow
/// answer to an older click (another page, another order) must not replace a newer one.
#[derive(Clone, Copy)]
pub struct Latest(leptos::prelude::StoredValue<u64>);

impl Latest {
    pub fn new() -> Self {
        Self(leptos::prelude::StoredValue::new(0))
    }

    /// The ticket of a request about to be sent; every earlier ticket is now stale.
    pub fn ticket(self) -> u64 {
        use leptos::prelude::UpdateValue;
        self.0
            .try_update_value(|n| {
                *n = n.wrapping_add(1);
                *n
            })
            .unwrap_or_default()
    }

    /// Whether no request was sent after the one holding `ticket`, and the page that sent
    /// it is still open (an answer that arrives after the user left is dropped; reading a
    /// disposed value would panic, and a panic aborts the app).
    pub fn is_newest(self, ticket: u64) -> bool {
        use leptos::prelude::GetValue;
        self.0.try_get_value() == Some(ticket)
    }
}

impl Default for Latest {
    fn default() -> Self {
        Self::new()
    }
}

thread_local! {
    // Set once any answer said the server runs with the development login on.
    static DEV_LOGIN: RefCell<bool> = const { RefCell::new(false) };
}

/// Whether the server said (header `X-Portal-Dev-Login: on`) that its development login
/// is on: every page then shows the red banner.
pub fn dev_login_on() -> bool {
    DEV_LOGIN.with(|d| *d.borrow())
}

#[derive(Debug, Clone, PartialEq)]
pub enum ApiError {
    /// The server answered with an error body (or a bare status).
    Http {
        status: u16,
        info: ErrorInfo,
        /// The raw body, for answers that carry more than the error (an import report).
        body: String,
    },
    /// No answer: offline, server down, blocked.
    Network(String),
    /// An answer we could not read.
    Decode(String),
}

impl ApiError {
    pub fn status(&self) -> u16 {
        match self {
            ApiError::Http { status, .. } => *status,
            _ => 0,
        }
    }

    /// The server's code; `None` when there was no (readable) answer.
    pub fn code(&self) -> Option<ErrorCode> {
        match self {
            ApiError::Http { info, .. } => Some(info.code),
            ApiError::Network(_) | ApiError::Decode(_) => None,
        }
    }

    pub fn fields(&self) -> &[FieldError] {
        match self {
            ApiError::Http { info, .. } => &info.fields,
            _ => &[],
        }
    }

    /// What to tell the user: the text of the error's code in the page's language (every
    /// code has one, see `proto::ErrorCode`), never the server's English message.
    pub fn message(&self, lang: Lang) -> &'static str {
        match self {
            ApiError::Http { info, .. } => info.code.label(lang),
            ApiError::Network(_) => pick(
                lang,
                "無法連線到伺服器，請檢查網路後再試",
                "Cannot reach the server; check the network and try again",
            ),
            ApiError::Decode(_) => pick(
                lang,
                "無法解讀伺服器的回應，請重新整理頁面後再試",
                "The server's answer could not be read; reload the page and try again",
            ),
        }
    }

    /// The technical detail behind the message (the server's words: which check failed, a
    /// request id), shown folded under it; `None` where it adds nothing.
    pub fn detail(&self) -> Option<&str> {
        let text = match self {
            ApiError::Http { info, .. } if info.code == ErrorCode::ValidationFailed => "",
            ApiError::Http { info, .. } => &info.message,
            ApiError::Network(m) | ApiError::Decode(m) => m,
        };
        Some(text.trim()).filter(|t| !t.is_empty())
    }
}

/// The code a bare status stands for, when an answer carries no error body (a proxy's page).
pub fn code_of_status(status: u16) -> ErrorCode {
    match status {
        400 => ErrorCode::BadRequest,
        401 => ErrorCode::Unauthenticated,
        403 => ErrorCode::Forbidden,
        404 => ErrorCode::NotFound,
        409 => ErrorCode::Conflict,
        413 => ErrorCode::TooLarge,
        422 => ErrorCode::ValidationFailed,
        429 => ErrorCode::RateLimited,
        _ => ErrorCode::Internal,
    }
}

fn js_err(e: JsValue) -> String {
    e.as_string()
        .or_else(|| {
            e.dyn_ref::<js_sys::Error>()
                .map(|e| String::from(e.message()))
        })
        .unwrap_or_else(|| "request failed".into())
}

enum Body {
    None,
    Json(String),
    Csv(String),
}

/// Login endpoints have no session yet: they prove same-origin with a custom header.
#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Normal,
    Login,
}

async fn send(
    method: &str,
    path: &str,
    body: Body,
    kind: Kind,
    extra: &[(&str, &str)],
) -> Result<(u16, String), ApiError> {
    let init = RequestInit::new();
    init.set_method(method);
    init.set_credentials(RequestCredentials::SameOrigin);
    let headers = Headers::new().map_err(|e| ApiError::Network(js_err(e)))?;
    let h = |k: &str, v: &str| headers.set(k, v).map_err(|e| ApiError::Network(js_err(e)));
    h("Accept", "application/json")?;
    match &body {
        Body::None => {}
        Body::Json(s) => {
            h("Content-Type", "application/json")?;
            init.set_body(&JsValue::from_str(s));
        }
        Body::Csv(s) => {
            h("Content-Type", "text/csv")?;
            init.set_body(&JsValue::from_str(s));
        }
    }
    if method != "GET" {
        if kind == Kind::Login {
            h("X-Requested-With", "portal")?;
        }
        if let Some(token) = csrf() {
            h("X-CSRF-Token", &token)?;
        }
    }
    for (k, v) in extra {
        h(k, v)?;
    }
    init.set_headers(&headers);
    let window = leptos::prelude::window();
    let resp = JsFuture::from(window.fetch_with_str_and_init(path, &init))
        .await
        .map_err(|e| ApiError::Network(js_err(e)))?;
    let resp: Response = resp
        .dyn_into()
        .map_err(|_| ApiError::Decode("not a Response".into()))?;
    let status = resp.status();
    if resp
        .headers()
        .get("x-portal-dev-login")
        .ok()
        .flatten()
        .is_some_and(|v| v == "on")
    {
        DEV_LOGIN.with(|d| *d.borrow_mut() = true);
    }
    let text = match resp.text() {
        Ok(p) => JsFuture::from(p)
            .await
            .map_err(|e| ApiError::Network(js_err(e)))?
            .as_string()
            .unwrap_or_default(),
        Err(e) => return Err(ApiError::Network(js_err(e))),
    };
    if (200..300).contains(&status) {
        Ok((status, text))
    } else {
        let info = serde_json::from_str::<ErrorBody>(&text)
            .map(|b| b.error)
            .unwrap_or_else(|_| ErrorInfo {
                code: code_of_status(status),
                message: String::new(),
                fields: vec![],
            });
        if status == 401 {
            set_csrf(None);
        }
        Err(ApiError::Http {
            status,
            info,
            body: text,
        })
    }
}

fn decode<T: DeserializeOwned>(text: &str) -> Result<T, ApiError> {
    serde_json::from_str(text).map_err(|e| ApiError::Decode(e.to_string()))
}

fn encode<T: Serialize>(v: &T) -> Result<String, ApiError> {
    serde_json::to_string(v).map_err(|e| ApiError::Decode(e.to_string()))
}

async fn get<T: DeserializeOwned>(path: &str) -> Result<T, ApiError> {
    let (_, text) = send("GET", path, Body::None, Kind::Normal, &[]).await?;
    decode(&text)
}

async fn post<B: Serialize, T: DeserializeOwned>(path: &str, body: &B) -> Result<T, ApiError> {
    let (_, text) = send("POST", path, Body::Json(encode(body)?), Kind::Normal, &[]).await?;
    decode(&text)
}

async fn login<B: Serialize>(path: &str, body: &B) -> Result<SessionView, ApiError> {
    let (_, text) = send("POST", path, Body::Json(encode(body)?), Kind::Login, &[]).await?;
    let s: SessionView = decode(&text)?;
    set_csrf(Some(s.csrf_token.clone()));
    Ok(s)
}

/// `?a=b&c=d` from the non-empty pairs (empty string if none).
pub fn query_string(pairs: &[(&str, Option<&str>)]) -> String {
    let parts: Vec<String> = pairs
        .iter()
        .filter_map(|(k, v)| {
            v.filter(|v| !v.is_empty())
                .map(|v| format!("{k}={}", String::from(js_sys::encode_uri_component(v))))
        })
        .collect();
    if parts.is_empty() {
        String::new()
    } else {
        format!("?{}", parts.join("&"))
    }
}

fn application_query(q: &ApplicationQuery) -> String {
    query_string(&[
        ("from", q.from.as_deref()),
        ("to", q.to.as_deref()),
        ("app_type", q.app_type.map(|t| t.code())),
        ("status", q.status.map(|s| s.code())),
        ("tax_id", q.tax_id.as_deref()),
        ("q", q.q.as_deref()),
        ("page", q.page.map(|p| p.to_string()).as_deref()),
        ("page_size", q.page_size.map(|p| p.to_string()).as_deref()),
    ])
}

fn seg(s: &str) -> String {
    js_sys::encode_uri_component(s).into()
}

// --- session -------------------------------------------------------------------------

/// The current session, or `None` when not logged in.
pub async fn session() -> Result<Option<SessionView>, ApiError> {
    match get::<SessionView>("/api/session").await {
        Ok(s) => {
            set_csrf(Some(s.csrf_token.clone()));
            Ok(Some(s))
        }
        Err(e) if e.status() == 401 => Ok(None),
        Err(e) => Err(e),
    }
}

pub async fn dev_login(req: &DevLoginRequest) -> Result<SessionView, ApiError> {
    login("/api/auth/dev-login", req).await
}

pub async fn operator_login(req: &OperatorLoginRequest) -> Result<SessionView, ApiError> {
    login("/api/auth/operator-login", req).await
}

pub async fn card_challenge() -> Result<CardChallenge, ApiError> {
    let (_, text) = send(
        "POST",
        "/api/auth/card/challenge",
        Body::None,
        Kind::Login,
        &[],
    )
    .await?;
    decode(&text)
}

pub async fn card_login(req: &CardLoginRequest) -> Result<SessionView, ApiError> {
    login("/api/auth/card/login", req).await
}

pub async fn logout() -> Result<(), ApiError> {
    let r = send("POST", "/api/auth/logout", Body::None, Kind::Normal, &[]).await;
    set_csrf(None);
    r.map(|_| ())
}

// --- applicant -----------------------------------------------------------------------

pub async fn applications(q: &ApplicationQuery) -> Result<Page<ApplicationView>, ApiError> {
    get(&format!("/api/applications{}", application_query(q))).await
}

pub async fn application(serial: &str) -> Result<ApplicationView, ApiError> {
    get(&format!("/api/applications/{}", seg(serial))).await
}

/// `request_key` (from [`new_request_key`], one per opened form) makes a resend after a lost
/// answer return the application already made instead of a second one.
pub async fn apply(form: &ApplicationForm, request_key: &str) -> Result<ApplicationView, ApiError> {
    let (_, text) = send(
        "POST",
        "/api/applications",
        Body::Json(encode(form)?),
        Kind::Normal,
        &[("Idempotency-Key", request_key)],
    )
    .await?;
    decode(&text)
}

/// A fresh `Idempotency-Key`: 128 random bits as hex.
pub fn new_request_key() -> String {
    let mut b = [0u8; 16];
    let filled = leptos::prelude::window()
        .crypto()
        .and_then(|c| c.get_random_values_with_u8_array(&mut b))
        .is_ok();
    if !filled {
        // The key only has to be unique within the company, not secret.
        for x in &mut b {
            *x = (js_sys::Math::random() * 256.0) as u8;
        }
    }
    b.iter().map(|x| format!("{x:02x}")).collect()
}

pub async fn submit_csr(serial: &str, csr_pem: String) -> Result<IssuedCertificate, ApiError> {
    post(
        &format!("/api/applications/{}/csr", seg(serial)),
        &CsrSubmission { csr_pem },
    )
    .await
}

pub async fn certificate(serial: &str) -> Result<IssuedCertificate, ApiError> {
    get(&format!("/api/applications/{}/certificate", seg(serial))).await
}

/// 撤回: the unpaid application becomes A9 and its bill void.
pub async fn withdraw(serial: &str) -> Result<ApplicationView, ApiError> {
    let path = format!("/api/applications/{}/withdraw", seg(serial));
    let (_, text) = send("POST", &path, Body::None, Kind::Normal, &[]).await?;
    decode(&text)
}

pub async fn history(serial: &str) -> Result<Vec<HistoryEntry>, ApiError> {
    get(&format!("/api/applications/{}/history", seg(serial))).await
}

pub fn slip_url(serial: &str) -> String {
    format!("/api/applications/{}/slip", seg(serial))
}

pub fn cer_url(serial: &str) -> String {
    format!("/api/applications/{}/certificate.cer", seg(serial))
}

pub async fn register(req: &RegistrationRequest) -> Result<RegistrationView, ApiError> {
    post("/api/registrations", req).await
}

/// The CA certificate (PEM), for a chain the server did not send.
pub async fn ca_pem() -> Result<String, ApiError> {
    let (_, text) = send("GET", "/ca.pem", Body::None, Kind::Normal, &[]).await?;
    Ok(text)
}

// --- operator ------------------------------------------------------------------------

/// The operator grid's query string: the filter, the page and the order.
pub fn admin_grid_query(q: &ApplicationQuery, sort: GridSort) -> String {
    let filter = application_query(&ApplicationQuery {
        page: None,
        page_size: None,
        ..q.clone()
    });
    let page = q.page.map(|p| p.to_string());
    let size = q.page_size.map(|p| p.to_string());
    let rest = query_string(&[
        ("page", page.as_deref()),
        ("page_size", size.as_deref()),
        ("sort", sort.sort.map(|s| s.code())),
        ("dir", sort.dir.map(|d| d.code())),
    ]);
    match (filter.is_empty(), rest.strip_prefix('?')) {
        (_, None) => filter,
        (true, Some(_)) => rest,
        (false, Some(r)) => format!("{filter}&{r}"),
    }
}

pub async fn admin_applications(
    q: &ApplicationQuery,
    sort: GridSort,
) -> Result<AdminApplications, ApiError> {
    get(&format!(
        "/api/admin/applications{}",
        admin_grid_query(q, sort)
    ))
    .await
}

/// Where the CSV of the grid's current filter and order downloads from (every page).
pub fn admin_export_url(q: &ApplicationQuery, sort: GridSort) -> String {
    let all = ApplicationQuery {
        page: None,
        page_size: None,
        ..q.clone()
    };
    format!(
        "/api/admin/applications/export.csv{}",
        admin_grid_query(&all, sort)
    )
}

pub async fn record_payment(p: &PaymentRecord) -> Result<ApplicationView, ApiError> {
    post("/api/admin/payments", p).await
}

/// The report comes back on success and, with the refused rows, on 422.
pub async fn import_reconciliation(csv: String) -> Result<ImportReport, ApiError> {
    match send(
        "POST",
        "/api/admin/reconciliation",
        Body::Csv(csv),
        Kind::Normal,
        &[],
    )
    .await
    {
        Ok((_, text)) => decode(&text),
        Err(e) => Err(e),
    }
}

/// Re-reads a refused import's body as a report when the server sent one.
pub fn report_of(e: &ApiError) -> Option<ImportReport> {
    let ApiError::Http { body, .. } = e else {
        return None;
    };
    if let Ok(r) = serde_json::from_str::<ImportReport>(body) {
        return Some(r);
    }
    // Or nested in the error body: {"error": {..., "report": {...}}} / {"report": {...}}.
    let v: serde_json::Value = serde_json::from_str(body).ok()?;
    let nested = v
        .get("error")
        .and_then(|e| e.get("report"))
        .or_else(|| v.get("report"))?;
    serde_json::from_value(nested.clone()).ok()
}

pub async fn certificate_action(
    serial_hex: &str,
    action: &str,
    reason: String,
    reason_code: Option<RevocationReason>,
) -> Result<CertificateView, ApiError> {
    post(
        &format!("/api/admin/certificates/{}/{action}", seg(serial_hex)),
        &CertificateActionRequest {
            reason,
            reason_code,
        },
    )
    .await
}

/// The operator's own password; 204 on success.
pub async fn change_password(req: &PasswordChange) -> Result<(), ApiError> {
    send(
        "POST",
        "/api/operator/password",
        Body::Json(encode(req)?),
        Kind::Normal,
        &[],
    )
    .await
    .map(|_| ())
}

pub async fn audit(
    from: Option<&str>,
    to: Option<&str>,
    application: Option<&str>,
    before_id: Option<i64>,
    limit: u32,
) -> Result<Vec<AuditEntry>, ApiError> {
    let before = before_id.map(|b| b.to_string());
    let limit = limit.to_string();
    get(&format!(
        "/api/admin/audit{}",
        query_string(&[
            ("from", from),
            ("to", to),
            ("application", application),
            ("limit", Some(&limit)),
            ("before_id", before.as_deref()),
        ])
    ))
    .await
}

pub async fn failed_mail() -> Result<Vec<MailView>, ApiError> {
    get("/api/admin/mail?state=failed").await
}
