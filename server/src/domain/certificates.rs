//! Revoke (註銷, final), suspend (暫禁, certificateHold) and unsuspend (解禁) of an issued
//! certificate: the applicant's request and the operator's direct action are the same rows
//! of [`transitions::CERTIFICATES`] (status change, a new CRL, audit and mail, in one
//! transaction).

use proto::CertStatus;
use proto::api::CertificateView;
use sqlx::AnyConnection;
use time::OffsetDateTime;

use super::notify::Extra;
use super::transitions::{self, CertEvent, Note, Step};
use super::{Actor, DomainError, DomainResult, Services, applications, views};
use crate::db::applications::AppRow;
use crate::db::certificates::CertRow;
use crate::db::{self, registrations};

impl CertRow {
    /// What the caller sees: the stored status, with expiry derived from `now` (a revoked
    /// certificate stays revoked).
    pub fn shown_status(&self, now: i64) -> CertStatus {
        match self.status {
            CertStatus::Revoked => CertStatus::Revoked,
            _ if now >= self.not_after => CertStatus::Expired,
            s => s,
        }
    }
}

/// The RFC 5280 reason a revoke gives: one of [`proto::RevocationReason::REVOCATION`] or
/// none (unspecified). Suspensions are always certificateHold and ignore it.
pub fn revocation_reason(
    event: CertEvent,
    code: Option<proto::RevocationReason>,
) -> DomainResult<Option<proto::RevocationReason>> {
    match (event, code) {
        (CertEvent::Revoke, Some(c)) if !proto::RevocationReason::REVOCATION.contains(&c) => Err(
            DomainError::field("reason_code", proto::validate::FieldCode::NotAllowed),
        ),
        (CertEvent::Revoke, c) => Ok(c),
        _ => Ok(None),
    }
}

/// Applies a revoke, suspend or unsuspend to `cert` (issued for `issuing`) inside the caller's
/// transaction. The audit row is filed under the issuing application; `request` is the
/// application whose contact is told (the applicant's request, or the issuing one when an
/// operator acts).
#[allow(clippy::too_many_arguments)]
pub async fn act(
    conn: &mut AnyConnection,
    svc: &Services,
    actor: &Actor,
    event: CertEvent,
    cert: &CertRow,
    issuing: &AppRow,
    reason: &str,
    reason_code: Option<proto::RevocationReason>,
    request: &AppRow,
    now: OffsetDateTime,
) -> DomainResult<()> {
    let reason_code = revocation_reason(event, reason_code)?;
    transitions::apply(
        conn,
        svc,
        actor,
        Step::Cert {
            event,
            cert,
            issuing,
        },
        Note {
            detail: serde_json::json!({
                "reason": reason,
                "request": request.serial,
            }),
            reason_code,
            certificate_serial: Some(&cert.serial_hex),
            mail_to: Some(request),
            mail: Extra {
                certificate_name: Some(cert.cert_name.clone()),
                certificate_serial: Some(cert.serial_hex.clone()),
                reason: Some(reason.to_owned()),
                ..Extra::default()
            },
            ..Note::default()
        },
        now,
    )
    .await
}

/// The operator's direct action on a certificate by serial.
pub async fn act_by_serial(
    svc: &Services,
    actor: &Actor,
    serial_hex: &str,
    event: CertEvent,
    reason: &str,
    reason_code: Option<proto::RevocationReason>,
    now: OffsetDateTime,
) -> DomainResult<CertificateView> {
    let serial = serial_hex.trim().to_ascii_lowercase();
    if reason.chars().count() > 200 {
        return Err(DomainError::field(
            "reason",
            proto::validate::FieldCode::TooLong,
        ));
    }
    let not_found = || DomainError::NotFound("certificate");
    let mut tx = svc.db.write().await?;
    let cert = db::certificates::by_serial(&mut tx, &serial, svc.db.for_update())
        .await?
        .filter(|c| c.cert_der.is_some())
        .ok_or_else(not_found)?;
    let issuing = applications::by_id(&mut tx, cert.application_id).await?;
    act(
        &mut tx,
        svc,
        actor,
        event,
        &cert,
        &issuing,
        reason,
        reason_code,
        &issuing,
        now,
    )
    .await?;
    let updated = db::certificates::by_serial(&mut tx, &serial, svc.db.for_update())
        .await?
        .ok_or_else(not_found)?;
    let registered = registrations::exists(&mut tx, cert.id).await?;
    tx.commit().await?;
    tracing::info!(serial = %updated.serial_hex, action = ?event, "certificate status changed");
    Ok(views::certificate_view(
        &updated,
        registered,
        now.unix_timestamp(),
    ))
}
