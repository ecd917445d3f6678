//! The server's JSON API (docs/API.md) over `fetch`: same-origin cookies, the CSRF token
//! from the session on every state change, typed bodies from `proto::api`.

use std::cell::RefCell;

use proto::Lang;
use proto::api::{
    ApplicationForm, ApplicationQuery, ApplicationView, AuditEntry, CardChallenge,
    CardLoginRequest, CertificateActionRequest, CertificateView, CsrSubmission, DevLoginRequest,
    ErrorBody, ErrorInfo, ImportReport, IssuedCertificate, MailView, OperatorLoginRequest,
    PaymentRecord, RegistrationRequest, RegistrationView, SessionView,
};
use proto::validate::FieldError;
use serde::Serialize;
use serde::de::DeserializeOwned;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Headers, RequestCredentials, RequestInit, Response};

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

    pub fn code(&self) -> &str {
        match self {
            ApiError::Http { info, .. } => &info.code,
            ApiError::Network(_) => "network",
            ApiError::Decode(_) => "decode",
        }
    }

    pub fn fields(&self) -> &[FieldError] {
        match self {
            ApiError::Http { info, .. } => &info.fields,
            _ => &[],
        }
    }

    /// What to tell the user: our own words for known codes, the server's otherwise.
    pub fn message(&self, lang: Lang) -> String {
        let zh = lang == Lang::ZhTw;
        let known = match self.code() {
            "unauthenticated" if zh => "登入已逾時或帳號密碼錯誤，請重新登入",
            "unauthenticated" => "Not logged in, session expired or wrong credentials",
            "forbidden" if zh => "您沒有執行此動作的權限",
            "forbidden" => "You are not allowed to do this",
            "csrf" if zh => "安全檢查失敗，請重新整理頁面後再試",
            "csrf" => "Security check failed; reload the page and try again",
            "not_found" if zh => "查無資料",
            "not_found" => "Not found",
            "invalid_transition" if zh => "目前的申請狀態不允許此動作",
            "invalid_transition" => "The application's status does not allow this now",
            "validation_failed" if zh => "請修正標示的欄位",
            "validation_failed" => "Please correct the marked fields",
            "rate_limited" if zh => "嘗試次數過多，請稍後再試",
            "rate_limited" => "Too many attempts; please wait and try again",
            "card_revoked" if zh => {
                "此工商憑證已被廢止或暫禁，無法登入，請洽經濟部工商憑證管理中心"
            }
            "card_revoked" => {
                "This business certificate has been revoked or suspended and cannot log in; \
                 contact the MOEA Certification Authority (MOEACA)"
            }
            "card_revocation_unknown" if zh => "無法確認工商憑證是否已被廢止，請稍後再試",
            "card_revocation_unknown" => {
                "The card certificate's revocation status could not be determined; try again later"
            }
            "idempotency_key_reused" if zh => {
                "此頁面已送出過一份內容不同的申請，請先至申請紀錄查看；如需再申請，請重新開啟申請頁"
            }
            "idempotency_key_reused" => {
                "This page already submitted an application with different data; check your \
                 applications, and open the application page again to apply once more"
            }
            "too_large" if zh => "檔案過大",
            "too_large" => "The file is too large",
            "network" if zh => "無法連線到伺服器，請檢查網路後再試",
            "network" => "Cannot reach the server; check the network and try again",
            _ => "",
        };
        if !known.is_empty() {
            return known.to_owned();
        }
        match self {
            ApiError::Http { info, .. } if !info.message.is_empty() => info.message.clone(),
            ApiError::Http { status, info, .. } => format!("HTTP {status} {}", info.code),
            ApiError::Network(m) | ApiError::Decode(m) => m.clone(),
        }
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
                code: match status {
                    401 => "unauthenticated",
                    403 => "forbidden",
                    404 => "not_found",
                    409 => "conflict",
                    413 => "too_large",
                    422 => "validation_failed",
                    429 => "rate_limited",
                    _ => "internal",
                }
                .into(),
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

pub async fn applications(q: &ApplicationQuery) -> Result<Vec<ApplicationView>, ApiError> {
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

pub async fn admin_applications(q: &ApplicationQuery) -> Result<Vec<ApplicationView>, ApiError> {
    get(&format!("/api/admin/applications{}", application_query(q))).await
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
) -> Result<CertificateView, ApiError> {
    post(
        &format!("/api/admin/certificates/{}/{action}", seg(serial_hex)),
        &CertificateActionRequest { reason },
    )
    .await
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
