//! Revoke (註銷, final), suspend (暫禁, certificateHold) and unsuspend (解禁) of an issued
//! certificate: conditional status change, a new CRL, audit and mail, in one transaction.

use mailer::MailKind;
use proto::CertStatus;
use proto::api::CertificateView;
use sqlx::AnyConnection;
use time::OffsetDateTime;

use super::notify::{self, Extra};
use super::rows::{self, AppRow, CertRow, StoredCertStatus};
use super::{Actor, DomainError, DomainResult, Services, audit, crl, views};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CertAction {
    Revoke,
    Suspend,
    Unsuspend,
}

impl CertAction {
    fn name(self) -> &'static str {
        match self {
            CertAction::Revoke => "revoke",
            CertAction::Suspend => "suspend",
            CertAction::Unsuspend => "unsuspend",
        }
    }

    fn mail(self) -> MailKind {
        match self {
            CertAction::Revoke => MailKind::Revoked,
            CertAction::Suspend => MailKind::Suspended,
            CertAction::Unsuspend => MailKind::Unsuspended,
        }
    }

    /// `(from, to)` stored statuses this action moves between.
    fn transition(self) -> (&'static [StoredCertStatus], StoredCertStatus) {
        match self {
            CertAction::Revoke => (
                &[StoredCertStatus::Valid, StoredCertStatus::Suspended],
                StoredCertStatus::Revoked,
            ),
            CertAction::Suspend => (&[StoredCertStatus::Valid], StoredCertStatus::Suspended),
            CertAction::Unsuspend => (&[StoredCertStatus::Suspended], StoredCertStatus::Valid),
        }
    }
}

/// Whether `action` is allowed on `cert` now; the refusal says why.
pub fn check(cert: &CertRow, action: CertAction, now: i64) -> DomainResult<()> {
    if cert.cert_der.is_none() {
        return Err(DomainError::transition(
            "the certificate has not been issued yet",
        ));
    }
    let shown = cert.shown_status(now);
    if shown == CertStatus::Revoked {
        return Err(DomainError::transition("the certificate is revoked"));
    }
    if shown == CertStatus::Expired {
        return Err(DomainError::transition("the certificate has expired"));
    }
    let (from, _) = action.transition();
    if !from.contains(&cert.status) {
        return Err(DomainError::transition(match action {
            CertAction::Suspend => "only a valid certificate can be suspended",
            CertAction::Unsuspend => "only a suspended certificate can be unsuspended",
            CertAction::Revoke => "the certificate cannot be revoked now",
        }));
    }
    Ok(())
}

/// Apply `action` to `cert` inside the caller's transaction. `mail_app` is the application
/// whose contact is told (the request for applicant actions, the issuing one for operators).
#[allow(clippy::too_many_arguments)]
pub async fn apply(
    conn: &mut AnyConnection,
    svc: &Services,
    actor: &Actor,
    cert: &CertRow,
    action: CertAction,
    reason: &str,
    mail_app: &AppRow,
    now: OffsetDateTime,
) -> DomainResult<StoredCertStatus> {
    let t = now.unix_timestamp();
    check(cert, action, t)?;
    let (_, to) = action.transition();
    let changed = sqlx::query(
        "UPDATE certificates SET status = $1, status_changed_at = $2 \
         WHERE id = $3 AND status = $4",
    )
    .bind(to.code())
    .bind(t)
    .bind(cert.id)
    .bind(cert.status.code())
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if changed != 1 {
        return Err(DomainError::transition(
            "the certificate's status changed meanwhile; reload and try again",
        ));
    }
    let crl_number = crl::regenerate(conn, svc, now).await?;
    let issuing = rows::app_by_id(conn, cert.application_id).await?;
    audit::record(
        conn,
        actor,
        audit::Entry {
            action: match action {
                CertAction::Revoke => "certificate.revoke",
                CertAction::Suspend => "certificate.suspend",
                CertAction::Unsuspend => "certificate.unsuspend",
            },
            application_serial: Some(&issuing.serial),
            certificate_serial: Some(&cert.serial_hex),
            csr_sha256: None,
            detail: serde_json::json!({
                "from": cert.status.code(),
                "to": to.code(),
                "reason": reason,
                "crl_number": crl_number,
                "request": mail_app.serial,
            }),
        },
        now,
    )
    .await?;
    notify::queue(
        conn,
        svc,
        action.mail(),
        mail_app,
        Extra {
            certificate_name: Some(cert.cert_name.clone()),
            certificate_serial: Some(cert.serial_hex.clone()),
            reason: Some(reason.to_owned()),
            ..Extra::default()
        },
        now,
    )
    .await?;
    Ok(to)
}

/// The operator's direct action on a certificate by serial.
pub async fn act_by_serial(
    svc: &Services,
    actor: &Actor,
    serial_hex: &str,
    action: CertAction,
    reason: &str,
    now: OffsetDateTime,
) -> DomainResult<CertificateView> {
    let serial = serial_hex.trim().to_ascii_lowercase();
    if reason.chars().count() > 200 {
        return Err(DomainError::field(
            "reason",
            proto::validate::FieldCode::TooLong,
        ));
    }
    let mut tx = svc.db.write().await?;
    let cert = rows::cert_by_serial(&mut tx, &serial, svc.db.for_update())
        .await?
        .filter(|c| c.cert_der.is_some())
        .ok_or(DomainError::NotFound("certificate"))?;
    let issuing = rows::app_by_id(&mut tx, cert.application_id).await?;
    let to = apply(&mut tx, svc, actor, &cert, action, reason, &issuing, now).await?;
    let registered = rows::is_registered(&mut tx, cert.id).await?;
    tx.commit().await?;
    let updated = CertRow {
        status: to,
        status_changed_at: Some(now.unix_timestamp()),
        ..cert
    };
    tracing::info!(serial = %updated.serial_hex, action = action.name(), "certificate status changed");
    Ok(views::certificate_view(
        &updated,
        registered,
        now.unix_timestamp(),
    ))
}
