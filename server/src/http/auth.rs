//! Login, logout and the current session.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use proto::Role;
use proto::api::{CardLoginRequest, DevLoginRequest, OperatorLoginRequest, PasswordChange};
use proto::validate::{FieldCode, FieldError};

use super::extract::{ApiJson, ClientIp};
use crate::auth::extract::{
    Authed, Operator, check_login_request, clear_cookie, session_cookie, session_token,
};
use crate::auth::rate_limit::Account;
use crate::auth::sessions::{self, NewSession};
use crate::auth::{card, operators};
use crate::error::ApiError;
use crate::state::AppState;

/// The current session. While the development login is on, every answer (the 401 before a
/// login too) carries `X-Portal-Dev-Login: on`, so the app shows its red banner on every page.
pub async fn session(State(state): State<AppState>, authed: Result<Authed, ApiError>) -> Response {
    let mut resp = match authed {
        Ok(Authed(s)) => axum::Json(s.view(&state.config.auth)).into_response(),
        Err(e) => e.into_response(),
    };
    if state.config.auth.dev_login {
        resp.headers_mut()
            .insert(DEV_LOGIN_HEADER, header::HeaderValue::from_static("on"));
    }
    resp
}

/// Says that the server runs with the development login on.
pub const DEV_LOGIN_HEADER: &str = "x-portal-dev-login";

/// Start a session (dropping the one the browser had, if any) and set the cookie.
async fn start(
    state: &AppState,
    headers: &HeaderMap,
    who: NewSession,
) -> Result<Response, ApiError> {
    if let Some(old) = session_token(headers, &state.config) {
        sessions::delete(&state.svc.db, &old).await?;
    }
    let (token, s) = sessions::create(&state.svc.db, who, &state.config.auth, state.now())
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let cookie = session_cookie(&state.config, &token)
        .ok_or_else(|| ApiError::Internal("session cookie".into()))?;
    let mut resp = axum::Json(s.view(&state.config.auth)).into_response();
    resp.headers_mut().insert(header::SET_COOKIE, cookie);
    resp.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    Ok(resp)
}

pub async fn dev_login(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<ApiJson<DevLoginRequest>, ApiError>,
) -> Result<Response, ApiError> {
    if !state.config.auth.dev_login {
        return Err(ApiError::NotFound("not found".into()));
    }
    check_login_request(&headers, &state.config)?;
    let ApiJson(req) = body?;
    // Operators always log in with their password: a development session may never mark
    // bills paid or revoke anything.
    if req.role != Role::Applicant {
        return Err(ApiError::Forbidden(
            "the development login is for applicants only; operators log in with their password"
                .into(),
        ));
    }
    let tax_id = req.tax_id.trim().to_owned();
    if let Err(code) = proto::validate::tax_id(&tax_id) {
        return Err(ApiError::Validation(vec![FieldError::new("tax_id", code)]));
    }
    let display = match req.display_name.trim() {
        "" => format!("開發測試 {tax_id}"),
        d => d.to_owned(),
    };
    // No card proves the company name: it stays declared by the form.
    let who = NewSession {
        role: Role::Applicant,
        tax_id: Some(tax_id),
        username: None,
        operator_id: None,
        display_name: display,
        company_name: None,
        operator_role: None,
    };
    tracing::warn!(role = %req.role, "development login used");
    start(&state, &headers, who).await
}

pub async fn operator_login(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    body: Result<ApiJson<OperatorLoginRequest>, ApiError>,
) -> Result<Response, ApiError> {
    check_login_request(&headers, &state.config)?;
    let ApiJson(req) = body?;
    let username = req.username.trim().to_owned();
    let now = state.now().unix_timestamp();
    let account = Some(Account::Operator(&username));
    if !state
        .limiter
        .allowed(&state.svc.db, &ip, account, now)
        .await?
    {
        tracing::warn!(%ip, "operator login rate limited");
        state.svc.metrics.login_failed("operator_rate_limited");
        return Err(ApiError::RateLimited);
    }
    let op = operators::verify_login(&state.svc.db, &username, &req.password)
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    // An account whose stored role this build does not know may not log in.
    let Some((op, role)) = op.and_then(|o| o.role.map(|r| (o, r))) else {
        state
            .limiter
            .failed(&state.svc.db, &ip, account, now)
            .await?;
        tracing::info!(%ip, "operator login failed");
        state.svc.metrics.login_failed("operator");
        return Err(ApiError::Unauthenticated(
            "wrong username or password".into(),
        ));
    };
    state
        .limiter
        .succeeded(&state.svc.db, &ip, Account::Operator(&username))
        .await?;
    start(
        &state,
        &headers,
        NewSession {
            role: Role::Operator,
            tax_id: None,
            username: Some(op.username),
            operator_id: Some(op.id),
            display_name: op.display_name,
            company_name: None,
            operator_role: Some(role),
        },
    )
    .await
}

pub async fn card_challenge(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    if state.card_trust.is_none() {
        return Err(ApiError::NotFound("IC-card login is not configured".into()));
    }
    check_login_request(&headers, &state.config)?;
    let t = state.now().unix_timestamp();
    if !state.limiter.challenge(&state.svc.db, &ip, t).await? {
        tracing::warn!(%ip, "card challenges rate limited");
        return Err(ApiError::RateLimited);
    }
    let c = card::challenge(&state.svc.db, state.now())
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(axum::Json(c).into_response())
}

pub async fn card_login(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    body: Result<ApiJson<CardLoginRequest>, ApiError>,
) -> Result<Response, ApiError> {
    let Some(trust) = &state.card_trust else {
        return Err(ApiError::NotFound("IC-card login is not configured".into()));
    };
    check_login_request(&headers, &state.config)?;
    let ApiJson(req) = body?;
    let now = state.now();
    let t = now.unix_timestamp();
    // The tax ID the card claims (checked only by `verify`): failures count against it
    // from this address, which locks no one else out of that company's account.
    let claimed = card_auth::decode_base64_certificate(&req.certificate_b64)
        .ok()
        .and_then(|der| card_auth::CertificateInfo::from_der(&der).ok())
        .and_then(|info| info.tax_id);
    let account = claimed.as_deref().map(Account::Card);
    if !state
        .limiter
        .allowed(&state.svc.db, &ip, account, t)
        .await?
    {
        state.svc.metrics.login_failed("card_rate_limited");
        return Err(ApiError::RateLimited);
    }
    let identity = match card::verify(&state.svc.db, trust, &req, now).await {
        Ok(id) => id,
        Err(card::CardLoginError::Db(e)) => return Err(e.into()),
        // Not the user's doing: no failure counted.
        Err(card::CardLoginError::Refused(e @ card_auth::CardAuthError::RevocationUnknown(_))) => {
            tracing::warn!(%ip, error = %e, "card login refused: revocation status unknown");
            return Err(ApiError::CardRevocationUnknown(e.to_string()));
        }
        Err(card::CardLoginError::Refused(e @ card_auth::CardAuthError::Revoked { .. })) => {
            state.limiter.failed(&state.svc.db, &ip, account, t).await?;
            tracing::info!(%ip, error = %e, "card login refused: revoked card");
            state.svc.metrics.login_failed("card_revoked");
            return Err(ApiError::CardRevoked(e.to_string()));
        }
        Err(e) => {
            state.limiter.failed(&state.svc.db, &ip, account, t).await?;
            tracing::info!(%ip, error = %e, "card login refused");
            state.svc.metrics.login_failed("card");
            return Err(ApiError::Unauthenticated(format!("card login failed: {e}")));
        }
    };
    start(
        &state,
        &headers,
        NewSession {
            role: Role::Applicant,
            display_name: identity.display_name().to_owned(),
            // What the card certificate says the company is called: applications take it
            // instead of the form's name.
            company_name: identity
                .organization
                .clone()
                .or_else(|| identity.subject_cn.clone()),
            tax_id: Some(identity.tax_id),
            username: None,
            operator_id: None,
            operator_role: None,
        },
    )
    .await
}

/// An operator changes their own password (the current one checked); their other sessions
/// end.
pub async fn change_password(
    State(state): State<AppState>,
    who: Operator,
    body: Result<ApiJson<PasswordChange>, ApiError>,
) -> Result<StatusCode, ApiError> {
    let ApiJson(req) = body?;
    let now = state.now();
    let result = operators::change_own_password(
        &state.svc.db,
        &who.actor(),
        &who.username,
        &req.current_password,
        &req.new_password,
        &who.session.id_hash,
        now,
    )
    .await;
    match result {
        Ok(()) => Ok(StatusCode::NO_CONTENT),
        // Only a logged-in operator gets here, and each try costs an argon2 hash.
        Err(operators::OperatorError::WrongPassword) => {
            Err(ApiError::Validation(vec![FieldError::new(
                "current_password",
                FieldCode::Format,
            )]))
        }
        Err(operators::OperatorError::WeakPassword) => {
            Err(ApiError::Validation(vec![FieldError::new(
                "new_password",
                FieldCode::Format,
            )]))
        }
        Err(e) => Err(ApiError::Internal(e.to_string())),
    }
}

pub async fn logout(
    State(state): State<AppState>,
    Authed(s): Authed,
) -> Result<Response, ApiError> {
    sessions::end(&state.svc.db, &s.id_hash).await?;
    let mut resp = StatusCode::NO_CONTENT.into_response();
    if let Some(c) = clear_cookie(&state.config) {
        resp.headers_mut().insert(header::SET_COOKIE, c);
    }
    Ok(resp)
}
