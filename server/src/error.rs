//! The one place where errors become HTTP answers: `{"error": {code, message, fields}}` with
//! the status and code from docs/API.md. Internal errors are logged with a request id and
//! answered without details.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use proto::ErrorCode;
use proto::api::{ErrorBody, ErrorInfo, ImportReport};
use proto::validate::FieldError;

use crate::domain::DomainError;

#[derive(Debug)]
pub enum ApiError {
    BadRequest(String),
    Unauthenticated(String),
    Forbidden(String),
    Csrf(String),
    NotFound(String),
    InvalidTransition(String),
    Conflict(String),
    IdempotencyKeyReused,
    TooLarge,
    Validation(Vec<FieldError>),
    BadCsr(String),
    BadCertificate(String),
    PaymentRejected(String),
    /// A refused reconciliation file: the report rides along in the error body.
    ImportRejected(Box<ImportReport>),
    RateLimited,
    /// The company filed `server.applications_per_company_per_day` applications today.
    ApplicationLimit(String),
    /// The card certificate is on its CA's CRL (revoked or suspended).
    CardRevoked(String),
    /// `auth.card_revocation = "require"` and the card's CRL could not be had or believed.
    CardRevocationUnknown(String),
    Internal(String),
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthenticated(_) | ApiError::CardRevoked(_) => StatusCode::UNAUTHORIZED,
            ApiError::CardRevocationUnknown(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Forbidden(_) | ApiError::Csrf(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::InvalidTransition(_)
            | ApiError::Conflict(_)
            | ApiError::IdempotencyKeyReused => StatusCode::CONFLICT,
            ApiError::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Validation(_)
            | ApiError::BadCsr(_)
            | ApiError::BadCertificate(_)
            | ApiError::PaymentRejected(_)
            | ApiError::ImportRejected(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::RateLimited | ApiError::ApplicationLimit(_) => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn code(&self) -> ErrorCode {
        match self {
            ApiError::BadRequest(_) => ErrorCode::BadRequest,
            ApiError::Unauthenticated(_) => ErrorCode::Unauthenticated,
            ApiError::Forbidden(_) => ErrorCode::Forbidden,
            ApiError::Csrf(_) => ErrorCode::Csrf,
            ApiError::NotFound(_) => ErrorCode::NotFound,
            ApiError::InvalidTransition(_) => ErrorCode::InvalidTransition,
            ApiError::Conflict(_) => ErrorCode::Conflict,
            ApiError::IdempotencyKeyReused => ErrorCode::IdempotencyKeyReused,
            ApiError::TooLarge => ErrorCode::TooLarge,
            ApiError::Validation(_) => ErrorCode::ValidationFailed,
            ApiError::BadCsr(_) => ErrorCode::BadCsr,
            ApiError::BadCertificate(_) => ErrorCode::BadCertificate,
            ApiError::PaymentRejected(_) | ApiError::ImportRejected(_) => {
                ErrorCode::PaymentRejected
            }
            ApiError::RateLimited => ErrorCode::RateLimited,
            ApiError::ApplicationLimit(_) => ErrorCode::ApplicationLimit,
            ApiError::CardRevoked(_) => ErrorCode::CardRevoked,
            ApiError::CardRevocationUnknown(_) => ErrorCode::CardRevocationUnknown,
            ApiError::Internal(_) => ErrorCode::Internal,
        }
    }

    fn message(&self, request_id: Option<&str>) -> String {
        match self {
            ApiError::BadRequest(m)
            | ApiError::Unauthenticated(m)
            | ApiError::Forbidden(m)
            | ApiError::Csrf(m)
            | ApiError::NotFound(m)
            | ApiError::InvalidTransition(m)
            | ApiError::Conflict(m)
            | ApiError::BadCsr(m)
            | ApiError::BadCertificate(m)
            | ApiError::PaymentRejected(m)
            | ApiError::CardRevoked(m)
            | ApiError::ApplicationLimit(m)
            | ApiError::CardRevocationUnknown(m) => m.clone(),
            ApiError::IdempotencyKeyReused => {
                "this Idempotency-Key already made an application from a different form; \
                 see your applications before applying again"
                    .into()
            }
            ApiError::TooLarge => "the request body is too large".into(),
            ApiError::Validation(_) => "some fields are not valid".into(),
            ApiError::ImportRejected(r) => format!(
                "{} of {} lines were refused; nothing was applied",
                r.errors.len() + r.errors_not_listed,
                r.rows
            ),
            ApiError::RateLimited => "too many attempts; wait a few minutes".into(),
            ApiError::Internal(_) => {
                format!("internal error (request id {})", request_id.unwrap_or("-"))
            }
        }
    }

    /// The JSON body, without logging (see `into_response`).
    pub fn body(&self, request_id: Option<&str>) -> serde_json::Value {
        let info = ErrorInfo {
            code: self.code(),
            message: self.message(request_id),
            fields: match self {
                ApiError::Validation(f) => f.clone(),
                _ => Vec::new(),
            },
        };
        let mut v = serde_json::to_value(ErrorBody { error: info }).unwrap_or_default();
        if let (ApiError::ImportRejected(report), Some(err)) = (self, v.get_mut("error"))
            && let Some(obj) = err.as_object_mut()
        {
            obj.insert(
                "report".into(),
                serde_json::to_value(report.as_ref()).unwrap_or_default(),
            );
        }
        v
    }
}

fn request_id() -> String {
    if let Some(id) = crate::http::ops::current_request_id() {
        return id;
    }
    let mut b = [0u8; 8];
    if getrandom::fill(&mut b).is_err() {
        return "unknown".into();
    }
    crate::domain::hex(&b)
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let id = match &self {
            ApiError::Internal(detail) => {
                let id = request_id();
                tracing::error!(request_id = %id, error = %detail, "internal error");
                Some(id)
            }
            _ => None,
        };
        let status = self.status();
        let mut resp = (status, axum::Json(self.body(id.as_deref()))).into_response();
        resp.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        resp
    }
}

impl From<DomainError> for ApiError {
    fn from(e: DomainError) -> Self {
        match e {
            DomainError::NotFound(what) => ApiError::NotFound(format!("{what} not found")),
            DomainError::Forbidden(m) => ApiError::Forbidden(m.into()),
            DomainError::InvalidTransition(m) => ApiError::InvalidTransition(m),
            DomainError::Conflict(m) => ApiError::Conflict(m),
            DomainError::IdempotencyKeyReused => ApiError::IdempotencyKeyReused,
            e @ DomainError::ApplicationLimit(_) => ApiError::ApplicationLimit(e.to_string()),
            DomainError::Validation(f) => ApiError::Validation(f),
            DomainError::BadCsr(e) => ApiError::BadCsr(e.to_string()),
            DomainError::BadCertificate(m) => ApiError::BadCertificate(m),
            DomainError::PaymentRejected(m) => ApiError::PaymentRejected(m),
            DomainError::ImportRejected(r) => ApiError::ImportRejected(r),
            e @ (DomainError::Db(_)
            | DomainError::Ca(_)
            | DomainError::Mail(_)
            | DomainError::Internal(_)) => ApiError::Internal(e.to_string()),
        }
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> Self {
        ApiError::Internal(format!("database: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proto::validate::FieldCode;

    #[test]
    fn every_variant_has_the_documented_status_and_code() {
        let cases: Vec<(ApiError, u16, ErrorCode)> = vec![
            (ApiError::BadRequest("x".into()), 400, ErrorCode::BadRequest),
            (
                ApiError::Unauthenticated("x".into()),
                401,
                ErrorCode::Unauthenticated,
            ),
            (ApiError::Forbidden("x".into()), 403, ErrorCode::Forbidden),
            (ApiError::Csrf("x".into()), 403, ErrorCode::Csrf),
            (ApiError::NotFound("x".into()), 404, ErrorCode::NotFound),
            (
                ApiError::InvalidTransition("x".into()),
                409,
                ErrorCode::InvalidTransition,
            ),
            (ApiError::Conflict("x".into()), 409, ErrorCode::Conflict),
            (
                ApiError::IdempotencyKeyReused,
                409,
                ErrorCode::IdempotencyKeyReused,
            ),
            (ApiError::TooLarge, 413, ErrorCode::TooLarge),
            (
                ApiError::Validation(vec![]),
                422,
                ErrorCode::ValidationFailed,
            ),
            (ApiError::BadCsr("x".into()), 422, ErrorCode::BadCsr),
            (
                ApiError::BadCertificate("x".into()),
                422,
                ErrorCode::BadCertificate,
            ),
            (
                ApiError::PaymentRejected("x".into()),
                422,
                ErrorCode::PaymentRejected,
            ),
            (ApiError::RateLimited, 429, ErrorCode::RateLimited),
            (
                ApiError::ApplicationLimit("x".into()),
                429,
                ErrorCode::ApplicationLimit,
            ),
            (
                ApiError::CardRevoked("x".into()),
                401,
                ErrorCode::CardRevoked,
            ),
            (
                ApiError::CardRevocationUnknown("x".into()),
                503,
                ErrorCode::CardRevocationUnknown,
            ),
            (
                ApiError::Internal("secret detail".into()),
                500,
                ErrorCode::Internal,
            ),
        ];
        for (e, status, code) in cases {
            assert_eq!(e.status().as_u16(), status, "{code}");
            assert_eq!(e.code(), code);
        }
    }

    /// docs/API.md's table names every code with the status answered here.
    #[test]
    fn the_api_document_lists_every_code_with_its_status() {
        let doc = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/API.md"),
        )
        .unwrap();
        let example = |code: ErrorCode| -> ApiError {
            match code {
                ErrorCode::BadRequest => ApiError::BadRequest(String::new()),
                ErrorCode::Unauthenticated => ApiError::Unauthenticated(String::new()),
                ErrorCode::Forbidden => ApiError::Forbidden(String::new()),
                ErrorCode::Csrf => ApiError::Csrf(String::new()),
                ErrorCode::NotFound => ApiError::NotFound(String::new()),
                ErrorCode::InvalidTransition => ApiError::InvalidTransition(String::new()),
                ErrorCode::Conflict => ApiError::Conflict(String::new()),
                ErrorCode::IdempotencyKeyReused => ApiError::IdempotencyKeyReused,
                ErrorCode::TooLarge => ApiError::TooLarge,
                ErrorCode::ValidationFailed => ApiError::Validation(vec![]),
                ErrorCode::BadCsr => ApiError::BadCsr(String::new()),
                ErrorCode::BadCertificate => ApiError::BadCertificate(String::new()),
                ErrorCode::PaymentRejected => ApiError::PaymentRejected(String::new()),
                ErrorCode::RateLimited => ApiError::RateLimited,
                ErrorCode::ApplicationLimit => ApiError::ApplicationLimit(String::new()),
                ErrorCode::CardRevoked => ApiError::CardRevoked(String::new()),
                ErrorCode::CardRevocationUnknown => ApiError::CardRevocationUnknown(String::new()),
                ErrorCode::Internal => ApiError::Internal(String::new()),
            }
        };
        for code in ErrorCode::ALL {
            let e = example(*code);
            assert_eq!(e.code(), *code);
            let row = format!("| {} | `{}` |", e.status().as_u16(), code.code());
            assert!(doc.contains(&row), "docs/API.md lacks the row {row}");
        }
    }

    #[test]
    fn validation_errors_carry_fields() {
        let e = ApiError::Validation(vec![FieldError::new("contact.mobile", FieldCode::Format)]);
        let v = e.body(None);
        assert_eq!(v["error"]["code"], "validation_failed");
        assert_eq!(v["error"]["fields"][0]["field"], "contact.mobile");
        assert_eq!(v["error"]["fields"][0]["code"], "format");
        let plain = ApiError::NotFound("application not found".into()).body(None);
        assert!(plain["error"].get("fields").is_none());
    }

    #[test]
    fn internal_errors_hide_details() {
        let v = ApiError::Internal("database: password=hunter2".into()).body(Some("abcd"));
        let text = v.to_string();
        assert!(!text.contains("hunter2"));
        assert!(text.contains("abcd"));
    }

    #[test]
    fn import_reports_ride_in_the_error() {
        let report = ImportReport {
            rows: 2,
            applied: vec![],
            already_paid: vec![],
            errors: vec![proto::api::ImportRowError {
                line: 2,
                bill_no: "AAF1".into(),
                code: proto::ImportRowCode::UnknownBill,
                message: "no such bill number".into(),
            }],
            errors_not_listed: 0,
        };
        let v = ApiError::ImportRejected(Box::new(report.clone())).body(None);
        assert_eq!(v["error"]["code"], "payment_rejected");
        let back: ImportReport = serde_json::from_value(v["error"]["report"].clone()).unwrap();
        assert_eq!(back, report);
    }

    #[test]
    fn domain_errors_map_to_api_errors() {
        let e: ApiError = DomainError::NotFound("application").into();
        assert_eq!(e.code(), ErrorCode::NotFound);
        let e: ApiError = DomainError::transition("no").into();
        assert_eq!(e.code(), ErrorCode::InvalidTransition);
        let e: ApiError = DomainError::BadCsr(ca::CsrError::KeySize(1024)).into();
        assert_eq!(e.code(), ErrorCode::BadCsr);
        assert!(e.message(None).contains("1024"));
        let e: ApiError = DomainError::IdempotencyKeyReused.into();
        assert_eq!(e.code(), ErrorCode::IdempotencyKeyReused);
        assert_eq!(e.status(), StatusCode::CONFLICT);
        let e: ApiError = DomainError::Internal("x".into()).into();
        assert_eq!(e.code(), ErrorCode::Internal);
    }
}
