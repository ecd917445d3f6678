//! Request extractors: the session from the cookie (401 without one), the CSRF token on
//! every state-changing method (403 `csrf`), the role (403 `forbidden`).

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, header};
use subtle::ConstantTimeEq as _;

use super::sessions::{self, Session};
use crate::config::Config;
use crate::domain::Actor;
use crate::domain::transitions::Duty;
use crate::error::ApiError;
use crate::state::AppState;

/// `__Host-` pins the cookie to this origin and path `/`; it requires `Secure`, so only
/// behind HTTPS.
pub fn cookie_name(config: &Config) -> &'static str {
    if config.https() {
        "__Host-sw_session"
    } else {
        "sw_session"
    }
}

pub fn session_cookie(config: &Config, token: &str) -> Option<HeaderValue> {
    let secure = if config.https() { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{}={token}; Path=/; HttpOnly; SameSite=Strict{secure}",
        cookie_name(config)
    ))
    .ok()
}

pub fn clear_cookie(config: &Config) -> Option<HeaderValue> {
    let secure = if config.https() { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0{secure}",
        cookie_name(config)
    ))
    .ok()
}

/// The session cookie's value, if the request carries one.
pub fn session_token(headers: &HeaderMap, config: &Config) -> Option<String> {
    let name = cookie_name(config);
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
        .filter(|v| !v.is_empty())
}

fn state_changing(m: &Method) -> bool {
    !matches!(*m, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Login endpoints have no session to hold a CSRF token: they require the custom header
/// (which a cross-site form cannot send) and, when the browser sends one, our own Origin.
pub fn check_login_request(headers: &HeaderMap, config: &Config) -> Result<(), ApiError> {
    let xrw = headers
        .get("x-requested-with")
        .and_then(|v| v.to_str().ok());
    if xrw != Some("portal") {
        return Err(ApiError::Csrf(
            "login requests must carry X-Requested-With: portal".into(),
        ));
    }
    if let Some(origin) = headers.get(header::ORIGIN)
        && origin.to_str().ok() != Some(config.public_origin().as_str())
    {
        return Err(ApiError::Csrf("cross-origin login refused".into()));
    }
    Ok(())
}

/// Any logged-in caller.
#[derive(Debug, Clone)]
pub struct Authed(pub Session);

impl FromRequestParts<AppState> for Authed {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = session_token(&parts.headers, &state.config)
            .ok_or_else(|| ApiError::Unauthenticated("not logged in".into()))?;
        let session = sessions::lookup(&state.svc.db, &token, &state.config.auth, state.now())
            .await?
            .ok_or_else(|| ApiError::Unauthenticated("the session has expired".into()))?;
        if state_changing(&parts.method) {
            let sent = parts
                .headers
                .get("x-csrf-token")
                .map(HeaderValue::as_bytes)
                .unwrap_or_default();
            let ok: bool = sent.ct_eq(session.csrf_token.as_bytes()).into();
            if !ok || sent.is_empty() {
                return Err(ApiError::Csrf("missing or wrong X-CSRF-Token".into()));
            }
        }
        Ok(Authed(session))
    }
}

/// A company user; `tax_id` comes from the login, never from the request.
#[derive(Debug, Clone)]
pub struct Applicant {
    pub tax_id: String,
    pub session: Session,
}

impl Applicant {
    pub fn actor(&self) -> Actor {
        Actor::Applicant {
            tax_id: self.tax_id.clone(),
        }
    }
}

impl FromRequestParts<AppState> for Applicant {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let Authed(session) = Authed::from_request_parts(parts, state).await?;
        match (&session.role, &session.tax_id) {
            (proto::Role::Applicant, Some(tax_id)) => Ok(Applicant {
                tax_id: tax_id.clone(),
                session,
            }),
            _ => Err(ApiError::Forbidden("for applicants only".into())),
        }
    }
}

/// An operator with an enabled account; `role` is the account's current one.
#[derive(Debug, Clone)]
pub struct Operator {
    pub username: String,
    pub role: proto::OperatorRole,
    pub session: Session,
}

impl Operator {
    pub fn actor(&self) -> Actor {
        Actor::Operator {
            username: self.username.clone(),
            role: self.role,
        }
    }

    /// 403 `forbidden` unless the operator's role grants `duty`.
    pub fn require(&self, duty: Duty) -> Result<(), ApiError> {
        if self.actor().has_duty(duty) {
            Ok(())
        } else {
            Err(ApiError::Forbidden(format!(
                "the {} role may not do this",
                self.role.code()
            )))
        }
    }
}

impl FromRequestParts<AppState> for Operator {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let Authed(session) = Authed::from_request_parts(parts, state).await?;
        match (&session.role, &session.username, session.operator_role) {
            (proto::Role::Operator, Some(username), Some(role)) => Ok(Operator {
                username: username.clone(),
                role,
                session,
            }),
            _ => Err(ApiError::Forbidden("for operators only".into())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookie_attributes_follow_the_public_url() {
        let http = Config::default();
        let c = session_cookie(&http, "tok").unwrap();
        assert_eq!(c, "sw_session=tok; Path=/; HttpOnly; SameSite=Strict");
        let https = Config {
            public_url: Some("https://portal.example".into()),
            ..Config::default()
        };
        let c = session_cookie(&https, "tok").unwrap();
        assert_eq!(
            c,
            "__Host-sw_session=tok; Path=/; HttpOnly; SameSite=Strict; Secure"
        );
    }

    #[test]
    fn token_is_read_from_any_cookie_header() {
        let config = Config::default();
        let mut h = HeaderMap::new();
        h.append(
            header::COOKIE,
            HeaderValue::from_static("a=1; sw_session=abc"),
        );
        assert_eq!(session_token(&h, &config).as_deref(), Some("abc"));
        let mut h = HeaderMap::new();
        h.append(header::COOKIE, HeaderValue::from_static("sw_session="));
        assert_eq!(session_token(&h, &config), None);
    }

    #[test]
    fn login_requests_need_the_header_and_our_origin() {
        let config = Config::default();
        let mut h = HeaderMap::new();
        assert!(check_login_request(&h, &config).is_err());
        h.insert("x-requested-with", HeaderValue::from_static("portal"));
        assert!(check_login_request(&h, &config).is_ok());
        h.insert(
            header::ORIGIN,
            HeaderValue::from_static("http://127.0.0.1:8080"),
        );
        assert!(check_login_request(&h, &config).is_ok());
        h.insert(
            header::ORIGIN,
            HeaderValue::from_static("https://evil.example"),
        );
        assert!(check_login_request(&h, &config).is_err());
    }
}
