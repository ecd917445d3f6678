//! Signing the applicant's CSR for a paid application (status 20), exactly once.
//!
//! In one write transaction (application row locked on PostgreSQL, the database write lock on
//! SQLite): if a certificate row exists for the application, a retry with the same CSR gets
//! the same certificate and a different CSR gets `conflict`; otherwise the serial (128 random
//! bits), validity, key and CSR hash are stored first, the certificate is signed from that
//! stored request (deterministic), stored with a conditional update, and the application
//! moves 20 → A0 with its audit row and mail. Any number of concurrent submits yield one
//! certificate.

use ca::{IssueRequest, LeafSubject, Serial};
use proto::api::IssuedCertificate;
use proto::{CertKind, CertStatus, Status};
use sqlx::AnyConnection;
use time::{Duration, OffsetDateTime};

use super::notify::Extra;
use super::transitions::{self, AppEvent, Note, Step};
use super::{Actor, DomainError, DomainResult, Services, applications, from_unix, hex, rfc3339};
use crate::db::applications::AppRow;
use crate::db::certificates::{CertRow, NewRequest};
use crate::db::{self, Lock};

fn key_info(k: ca::KeyInfo) -> String {
    match k {
        ca::KeyInfo::Rsa { bits } => format!("RSA-{bits}"),
        ca::KeyInfo::EcP256 => "ECDSA-P256".into(),
    }
}

fn check_issuable(app: &AppRow) -> DomainResult<()> {
    if !app.app_type.issues_certificate() {
        return Err(DomainError::transition(
            "this application type does not issue a certificate",
        ));
    }
    match app.status {
        Status::Paid | Status::Completed => Ok(()),
        Status::Submitted => Err(DomainError::transition(
            "the fee has not been paid yet (status 10)",
        )),
        Status::Cancelled => Err(DomainError::transition(
            "the application was cancelled (status A9)",
        )),
    }
}

pub fn issued_view(
    svc: &Services,
    app: &AppRow,
    cert: &CertRow,
) -> DomainResult<IssuedCertificate> {
    let der = cert
        .cert_der
        .as_deref()
        .ok_or(DomainError::NotFound("certificate"))?;
    Ok(IssuedCertificate {
        application_serial: app.serial.clone(),
        serial_hex: cert.serial_hex.clone(),
        cert_name: cert.cert_name.clone(),
        certificate_pem: ca::cert_der_to_pem(der),
        // Issuing CA first, the root last: the PFX carries the whole path.
        chain_pem: svc.ca.chain_pem(),
        not_before: rfc3339(cert.not_before),
        not_after: rfc3339(cert.not_after),
    })
}

/// The stored request a certificate row describes.
/// `validity_days` after `not_before`, cut short at the CA certificate's own end: a leaf
/// valid after its issuer would not validate for the rest of its life.
fn leaf_not_after(svc: &Services, not_before: OffsetDateTime) -> DomainResult<OffsetDateTime> {
    let wanted = not_before + Duration::days(i64::from(svc.profile.validity_days));
    let ca_end = svc.ca.not_after();
    if ca_end <= not_before {
        return Err(DomainError::Internal(format!(
            "the CA certificate expired at {ca_end}; an operator must install a new CA"
        )));
    }
    Ok(wanted.min(ca_end))
}

fn issue_request(cert: &CertRow) -> DomainResult<IssueRequest> {
    Ok(IssueRequest {
        spki_der: cert.spki_der.clone(),
        serial: Serial::from_hex(&cert.serial_hex)
            .ok_or_else(|| DomainError::Internal(format!("bad serial {}", cert.serial_hex)))?,
        not_before: from_unix(cert.not_before)?,
        not_after: from_unix(cert.not_after)?,
        subject: LeafSubject {
            cert_name: cert.cert_name.clone(),
            organization: cert.organization.clone(),
            tax_id: cert.tax_id.clone(),
            organizational_unit: cert.organizational_unit.clone(),
        },
    })
}

/// Sign the stored request and store the DER, unless a certificate is already stored.
async fn sign_stored(
    conn: &mut AnyConnection,
    svc: &Services,
    cert: &CertRow,
    now: OffsetDateTime,
) -> DomainResult<Vec<u8>> {
    let der = svc.ca.issue(&svc.profile, &issue_request(cert)?)?;
    if !db::certificates::store_der(conn, cert.id, &der, now.unix_timestamp()).await? {
        return Err(DomainError::Conflict(
            "the certificate was stored by another request".into(),
        ));
    }
    // Its OCSP answer (`good`) exists from the moment the certificate does.
    super::ocsp::produce(conn, svc, &cert.serial_hex, now).await?;
    Ok(der)
}

pub async fn submit_csr(
    svc: &Services,
    tax_id: &str,
    serial: &str,
    csr_pem: &str,
    now: OffsetDateTime,
) -> DomainResult<IssuedCertificate> {
    // Cheap refusals (ownership, status) before the CPU work on the CSR.
    {
        let mut conn = svc.db.conn().await?;
        let app = applications::by_serial(&mut conn, serial, Some(tax_id), Lock::NONE).await?;
        check_issuable(&app)?;
    }
    let csr_der = ca::csr_pem_to_der(csr_pem)?;
    let ca = svc.ca.clone();
    let profile = svc.profile.clone();
    let checked = tokio::task::spawn_blocking(move || ca.check_csr(&profile, &csr_der))
        .await
        .map_err(|e| DomainError::Internal(format!("CSR check task: {e}")))??;
    let csr_hash = hex(&checked.csr_sha256);

    let mut tx = svc.db.write().await?;
    let app = applications::by_serial(&mut tx, serial, Some(tax_id), svc.db.for_update()).await?;
    check_issuable(&app)?;
    if let Some(existing) = db::certificates::of_application(&mut tx, app.id).await? {
        if existing.csr_sha256 != csr_hash {
            return Err(DomainError::Conflict(
                "a certificate was already issued for this application from a different CSR".into(),
            ));
        }
        let cert = if existing.cert_der.is_some() {
            existing
        } else {
            // A stored request without a certificate: finish it from the stored values.
            let der = sign_stored(&mut tx, svc, &existing, now).await?;
            CertRow {
                cert_der: Some(der),
                ..existing
            }
        };
        let view = issued_view(svc, &app, &cert)?;
        tx.commit().await?;
        return Ok(view);
    }
    let actor = Actor::Applicant {
        tax_id: tax_id.to_owned(),
    };
    let issue = Step::App {
        event: AppEvent::Issue,
        app: &app,
    };
    // The status and the caller before the serial and the CA's work.
    transitions::check(&mut tx, &actor, issue, now).await?;
    let cert_name = app.cert_name.clone().ok_or_else(|| {
        DomainError::Internal(format!("application {} has no cert name", app.serial))
    })?;
    let not_before = now.replace_nanosecond(0).unwrap_or(now);
    let not_after = leaf_not_after(svc, not_before)?;
    let cert_serial = Serial::try_random()?.to_hex();
    let ou = (app.cert_kind == CertKind::Individual && !app.staff_code.is_empty())
        .then_some(app.staff_code.as_str());
    let key = key_info(checked.key);
    let id = db::certificates::insert_request(
        &mut tx,
        &NewRequest {
            application_id: app.id,
            serial_hex: &cert_serial,
            tax_id: &app.tax_id,
            cert_name: &cert_name,
            organization: &app.company.name,
            organizational_unit: ou,
            spki_der: &checked.spki_der,
            csr_sha256: &csr_hash,
            key_info: &key,
            not_before: not_before.unix_timestamp(),
            not_after: not_after.unix_timestamp(),
            requested_at: now.unix_timestamp(),
            status: CertStatus::Valid,
        },
    )
    .await?;
    let stored = db::certificates::of_application(&mut tx, app.id)
        .await?
        .filter(|c| c.id == id)
        .ok_or_else(|| DomainError::Internal("certificate row vanished".into()))?;
    let der = sign_stored(&mut tx, svc, &stored, now).await?;
    transitions::apply(
        &mut tx,
        svc,
        &actor,
        issue,
        Note {
            detail: serde_json::json!({
                "cert_name": cert_name,
                "key": key,
                "not_before": rfc3339(stored.not_before),
                "not_after": rfc3339(stored.not_after),
            }),
            certificate_serial: Some(&stored.serial_hex),
            csr_sha256: Some(&csr_hash),
            mail: Extra {
                certificate_name: Some(cert_name.clone()),
                certificate_serial: Some(stored.serial_hex.clone()),
                ..Extra::default()
            },
            ..Note::default()
        },
        now,
    )
    .await?;
    let cert = CertRow {
        cert_der: Some(der),
        ..stored
    };
    let view = issued_view(svc, &app, &cert)?;
    tx.commit().await?;
    svc.metrics.certificates_issued.inc();
    tracing::info!(application = %app.serial, serial = %cert.serial_hex, "certificate issued");
    Ok(view)
}

/// The issued certificate of the caller's application (`not_found` before issuance).
pub async fn get(svc: &Services, actor: &Actor, serial: &str) -> DomainResult<(AppRow, CertRow)> {
    let mut conn = svc.db.conn().await?;
    let app = applications::by_serial(&mut conn, serial, actor.company(), Lock::NONE).await?;
    let cert = if app.app_type.issues_certificate() {
        db::certificates::of_application(&mut conn, app.id).await?
    } else {
        None
    };
    match cert {
        Some(c) if c.cert_der.is_some() => Ok((app, c)),
        _ => Err(DomainError::NotFound("certificate")),
    }
}
