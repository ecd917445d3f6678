//! JSON bodies of the portal's HTTP API (see docs/API.md for the routes). Timestamps are
//! RFC 3339 UTC strings, dates `YYYY-MM-DD`, binary data standard base64 or PEM.

use serde::{Deserialize, Serialize};

use crate::error::{ErrorCode, ImportRowCode};
use crate::model::{
    Action, ApplicationType, BillStatus, BusinessType, CertKind, CertStatus, CustomsOffice,
    OperatorRole, RevocationReason, Role, Status,
};
use crate::validate::FieldError;

/// 公司資料. Optional fields are empty strings when absent. The tax ID is not here: it
/// comes from the session, never from the client.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CompanyInput {
    pub name: String,
    pub phone: String,
    pub fax: String,
    pub responsible_person: String,
    pub responsible_phone: String,
}

/// 聯絡人資料; every field required.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ContactInput {
    pub name: String,
    pub phone: String,
    pub mobile: String,
    pub email: String,
}

/// `POST /api/applications`. For every type but `new`, `target` is the serial of the
/// completed application whose certificate the request acts on, and the certificate
/// attributes (office, business type, box number, kind, staff) are copied from it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplicationForm {
    pub app_type: ApplicationType,
    #[serde(default)]
    pub target: Option<String>,
    #[serde(default)]
    pub company: CompanyInput,
    #[serde(default)]
    pub contact: ContactInput,
    #[serde(default)]
    pub customs_office: Option<CustomsOffice>,
    #[serde(default)]
    pub business_type: Option<BusinessType>,
    #[serde(default)]
    pub box_number: String,
    #[serde(default)]
    pub cert_kind: Option<CertKind>,
    #[serde(default)]
    pub staff_code: String,
    #[serde(default)]
    pub staff_national_id: String,
    #[serde(default)]
    pub privacy_consent: bool,
    /// Free text for revoke / suspend / unsuspend (kept in the audit log).
    #[serde(default)]
    pub reason: String,
    /// The RFC 5280 reason of a revoke (one of [`RevocationReason::REVOCATION`]; absent:
    /// unspecified). Suspensions are always `certificateHold`.
    #[serde(default)]
    pub reason_code: Option<RevocationReason>,
}

/// Query string of `GET /api/applications` (and the operator's search).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ApplicationQuery {
    /// First day, inclusive, `YYYY-MM-DD` (Taiwan time).
    pub from: Option<String>,
    /// Last day, inclusive, `YYYY-MM-DD` (Taiwan time).
    pub to: Option<String>,
    pub app_type: Option<ApplicationType>,
    pub status: Option<Status>,
    /// Operator search only: restrict to one company.
    pub tax_id: Option<String>,
    /// Operator search only: application serial, bill number or certificate serial.
    pub q: Option<String>,
    /// 1-based page number; `None` is the first page.
    pub page: Option<u32>,
    /// Rows per page, one of [`PAGE_SIZES`]; `None` is [`DEFAULT_PAGE_SIZE`].
    pub page_size: Option<u32>,
}

/// The page sizes a list offers (the manual's grid shows 10 rows).
pub const PAGE_SIZES: [u32; 4] = [10, 20, 50, 100];
pub const DEFAULT_PAGE_SIZE: u32 = 10;

/// One page of a list, newest first, and where it sits in the whole result:
/// "第 {page} 頁 共 {pages()} 頁, {first()} - {last()} 共 {total} 筆".
/// Offset paging: `page` and `page_size` are echoed after clamping (a page past the end
/// answers the last page, an unknown size the default).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// 1-based.
    pub page: u32,
    pub page_size: u32,
    /// Rows matching the filter on every page.
    pub total: u64,
}

impl<T> Page<T> {
    /// Number of pages, at least 1 (an empty result is "第 1 頁 共 1 頁").
    pub fn pages(&self) -> u32 {
        page_count(self.total, self.page_size)
    }

    /// 1-based index of the first row on this page; 0 when the result is empty.
    pub fn first(&self) -> u64 {
        if self.total == 0 {
            0
        } else {
            u64::from(self.page.saturating_sub(1)) * u64::from(self.page_size) + 1
        }
    }

    /// 1-based index of the last row on this page; 0 when the result is empty.
    pub fn last(&self) -> u64 {
        (self.first() + self.items.len() as u64).saturating_sub(1)
    }
}

/// Pages needed for `total` rows, at least 1.
pub fn page_count(total: u64, page_size: u32) -> u32 {
    let size = u64::from(page_size.max(1));
    u32::try_from(total.div_ceil(size).max(1)).unwrap_or(u32::MAX)
}

/// The page size a request asked for if it is one of [`PAGE_SIZES`], else the default.
pub fn page_size_or_default(asked: Option<u32>) -> u32 {
    asked
        .filter(|s| PAGE_SIZES.contains(s))
        .unwrap_or(DEFAULT_PAGE_SIZE)
}

/// The 1-based page to show for `asked` (clamped to `1..=pages`).
pub fn page_or_last(asked: Option<u32>, total: u64, page_size: u32) -> u32 {
    asked.unwrap_or(1).clamp(1, page_count(total, page_size))
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BillView {
    /// 規費繳款書號碼, e.g. AAF11511000151.
    pub bill_no: String,
    /// NT$.
    pub amount: i64,
    pub due_at: String,
    pub status: BillStatus,
    pub paid_at: Option<String>,
    /// 繳納證號, given when the payment was recorded or imported.
    #[serde(default)]
    pub receipt_no: Option<String>,
    /// 帳號: the virtual account to pay into ([`crate::payment::virtual_account`]).
    #[serde(default)]
    pub virtual_account: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertificateView {
    /// Lower-case hex, no separators.
    pub serial_hex: String,
    pub cert_name: String,
    pub subject: String,
    pub not_before: String,
    pub not_after: String,
    pub status: CertStatus,
    pub registered: bool,
    /// Valid or suspended and its notAfter within 60 days: the grid marks it and offers 展期.
    #[serde(default)]
    pub expiring_soon: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplicationView {
    /// 申請序號.
    pub serial: String,
    pub tax_id: String,
    pub app_type: ApplicationType,
    pub status: Status,
    pub created_at: String,
    pub updated_at: String,
    pub target: Option<String>,
    pub company: CompanyInput,
    pub contact: ContactInput,
    pub customs_office: CustomsOffice,
    pub business_type: BusinessType,
    pub box_number: String,
    pub cert_kind: CertKind,
    pub staff_code: String,
    /// Masked except the first 3 characters (A12*******).
    pub staff_national_id_masked: String,
    /// Certificate name for issuing types (SingleWindow-01-B00051); the friendlyName in the PFX.
    pub cert_name: Option<String>,
    pub reason: String,
    pub bill: Option<BillView>,
    pub certificate: Option<CertificateView>,
    /// What the caller may do now.
    pub actions: Vec<Action>,
}

/// One line of an application's history (`GET /api/applications/{serial}/history`), from the
/// audit log, oldest first. The page writes `action` in words with
/// [`crate::history::action_words`]; who did it is a role, never an operator's name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryEntry {
    pub at: String,
    /// The audit action code, e.g. `payment.record`.
    pub action: String,
    pub by: HistoryActor,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HistoryActor {
    /// The company (an applicant of it).
    Applicant,
    /// Customs staff.
    Operator,
    /// A background job (expiry, reconciliation).
    System,
}

/// `POST /api/applications/{serial}/csr`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CsrSubmission {
    pub csr_pem: String,
}

/// The certificate and the chain to pack into the PFX. Returned by the CSR submission
/// (the same body on every retry) and by `GET /api/applications/{serial}/certificate`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuedCertificate {
    pub application_serial: String,
    pub serial_hex: String,
    pub cert_name: String,
    pub certificate_pem: String,
    /// Issuing CA first, root last.
    pub chain_pem: Vec<String>,
    pub not_before: String,
    pub not_after: String,
}

/// `POST /api/registrations`: register the `.cer` at the certificate registration centre.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegistrationRequest {
    /// The application whose certificate is registered (the 註冊 page's); when given, the
    /// uploaded certificate must be the one issued for it.
    #[serde(default)]
    pub application_serial: Option<String>,
    pub staff_name: String,
    pub customs_office: Option<CustomsOffice>,
    pub broker_code: String,
    /// Always `customs_dedicated` (通關專屬憑證, non-IC-card) for now.
    pub cert_type: String,
    /// The `.cer` file, DER, standard base64.
    pub cer_der_b64: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegistrationView {
    pub serial_hex: String,
    pub application_serial: String,
    pub staff_name: String,
    pub customs_office: CustomsOffice,
    pub broker_code: String,
    pub registered_at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionView {
    pub role: Role,
    /// The company's 統一編號 for applicants; `None` for operators.
    pub tax_id: Option<String>,
    pub display_name: String,
    /// Send back as the `X-CSRF-Token` header on every POST/PUT/DELETE.
    pub csrf_token: String,
    pub expires_at: String,
    /// The company name the IC-card certificate proves (card logins); applications take it
    /// instead of the form's.
    #[serde(default)]
    pub company_name: Option<String>,
    /// Operators: the role that decides what they may do.
    #[serde(default)]
    pub operator_role: Option<OperatorRole>,
    /// The server runs with the development login on (the app shows a red banner).
    #[serde(default)]
    pub dev_login: bool,
}

/// `POST /api/auth/dev-login`; only when the server's config enables it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DevLoginRequest {
    pub role: Role,
    #[serde(default)]
    pub tax_id: String,
    #[serde(default)]
    pub display_name: String,
}

/// `POST /api/auth/operator-login`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OperatorLoginRequest {
    pub username: String,
    pub password: String,
}

/// `POST /api/auth/card/challenge` answer: what the card must sign.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CardChallenge {
    pub challenge_id: String,
    /// The to-be-signed text handed to the card bridge (`tbs` in the HiPKI protocol).
    pub tbs: String,
    pub hash_algorithm: String,
    pub expires_at: String,
}

/// `POST /api/auth/card/login`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CardLoginRequest {
    pub challenge_id: String,
    /// PKCS#1 v1.5 signature over `tbs`, standard base64.
    pub signature_b64: String,
    /// The card's certificate, DER, standard base64.
    pub certificate_b64: String,
}

/// `POST /api/admin/payments`: an operator records one payment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentRecord {
    pub bill_no: String,
    pub amount: i64,
    /// `YYYY-MM-DD`.
    pub paid_on: String,
}

/// One refused line of a reconciliation file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportRowError {
    /// 1-based line number in the file.
    pub line: usize,
    pub bill_no: String,
    pub code: ImportRowCode,
    /// The server's English detail (e.g. the bill's amount); the app shows `code`'s text.
    pub message: String,
}

/// Answer to `POST /api/admin/reconciliation`. The file is applied whole or not at all:
/// if `errors` is non-empty, `applied` is empty.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportReport {
    pub rows: usize,
    /// Bill numbers marked paid by this import.
    pub applied: Vec<String>,
    /// Bill numbers already paid by an identical earlier record (re-import is harmless).
    pub already_paid: Vec<String>,
    /// The first refused lines (at most [`IMPORT_ERRORS_LISTED`]); a bank file with thousands
    /// of bad lines would otherwise answer with megabytes of JSON.
    pub errors: Vec<ImportRowError>,
    /// Refused lines beyond those listed in `errors`.
    #[serde(default)]
    pub errors_not_listed: usize,
}

/// How many refused lines an [`ImportReport`] lists.
pub const IMPORT_ERRORS_LISTED: usize = 200;

/// `POST /api/admin/certificates/{serial_hex}/{revoke|suspend|unsuspend}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CertificateActionRequest {
    pub reason: String,
    /// RFC 5280 reason of a revoke (absent: unspecified); ignored for suspend / unsuspend.
    #[serde(default)]
    pub reason_code: Option<RevocationReason>,
}

/// `POST /api/operator/password`: an operator changes their own password.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasswordChange {
    pub current_password: String,
    pub new_password: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub id: i64,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub application_serial: Option<String>,
    pub certificate_serial: Option<String>,
    pub csr_sha256: Option<String>,
    pub detail: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MailState {
    Pending,
    Sent,
    Failed,
}

/// An outbox row as operators see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailView {
    pub id: i64,
    pub to: String,
    pub subject: String,
    pub state: MailState,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub created_at: String,
    pub sent_at: Option<String>,
}

/// Every error the API returns: `{"error": {...}}` with a stable `code`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: ErrorInfo,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorInfo {
    /// Stable machine code, e.g. `validation_failed`, `invalid_transition`, `not_found`.
    pub code: ErrorCode,
    /// The server's English detail (which check failed, a request id); the app shows the
    /// code's own zh-TW or English text and this only as a detail.
    pub message: String,
    /// Per-field errors for `validation_failed`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldError>,
}

#[cfg(test)]
mod page_tests {
    use super::*;

    fn page(items: usize, page: u32, page_size: u32, total: u64) -> Page<u8> {
        Page {
            items: vec![0; items],
            page,
            page_size,
            total,
        }
    }

    #[test]
    fn range_words_match_the_manuals_pager() {
        // "第 1 頁 共 1 頁, 1 - 1 共 1 筆"
        let p = page(1, 1, 10, 1);
        assert_eq!((p.pages(), p.first(), p.last()), (1, 1, 1));
        // Page 3 of 25 rows by 10: rows 21 - 25.
        let p = page(5, 3, 10, 25);
        assert_eq!((p.pages(), p.first(), p.last()), (3, 21, 25));
        // Empty result: one page, no rows.
        let p = page(0, 1, 10, 0);
        assert_eq!((p.pages(), p.first(), p.last()), (1, 0, 0));
    }

    #[test]
    fn sizes_and_pages_are_clamped() {
        assert_eq!(page_size_or_default(None), 10);
        assert_eq!(page_size_or_default(Some(50)), 50);
        assert_eq!(page_size_or_default(Some(7)), 10);
        assert_eq!(page_size_or_default(Some(1_000_000)), 10);
        assert_eq!(page_or_last(None, 100, 10), 1);
        assert_eq!(page_or_last(Some(0), 100, 10), 1);
        assert_eq!(page_or_last(Some(99), 100, 10), 10);
        assert_eq!(page_or_last(Some(2), 0, 10), 1);
        assert_eq!(page_count(100_000, 10), 10_000);
    }
}
