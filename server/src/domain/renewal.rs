//! 展期 (renewal) and the certificate it replaces. A renew application targets a valid
//! certificate and, once paid and generated, gets a certificate of its own. The old one is
//! then superseded (revoked with reasonCode superseded, row `Supersede` of
//! [`super::transitions::CERTIFICATES`]):
//! - at once when the new certificate is registered at the registration centre (the broker
//!   has switched over: [`on_registration`], in the registration's transaction);
//! - otherwise when the grace period (`lifecycle.renewal_grace_days`) after the new
//!   certificate's issuance has run out ([`run`], a job), so two valid certificates of one
//!   company never outlive the switch-over.
//!
//! An old certificate that expires first is left alone (expired is final).

use proto::{ApplicationType, CertStatus};
use sqlx::AnyConnection;
use time::{Duration, OffsetDateTime};

use super::certificates::act;
use super::transitions::CertEvent;
use super::{Actor, DomainError, DomainResult, Services, applications};
use crate::db::applications::AppRow;
use crate::db::{self, Lock};

/// Renewals handled per run; the next run takes the rest.
const BATCH: i64 = 500;

fn reason(renewal: &AppRow) -> String {
    format!(
        "由展期申請 {} 之新憑證取代 (superseded by renewal {})",
        renewal.serial, renewal.serial
    )
}

/// Supersedes the certificate `renewal` replaces, if it is still valid or suspended.
/// Returns whether it did. Runs in the caller's write transaction.
async fn supersede_target(
    conn: &mut AnyConnection,
    svc: &Services,
    actor: &Actor,
    renewal: &AppRow,
    lock: Lock,
    now: OffsetDateTime,
) -> DomainResult<bool> {
    let Some(target_id) = renewal.target_id else {
        return Ok(false);
    };
    if renewal.app_type != ApplicationType::Renew {
        return Ok(false);
    }
    let Some(old) = db::certificates::of_application(conn, target_id).await? else {
        return Ok(false);
    };
    // Re-read under the lock: the job and a registration may race for the same certificate.
    let Some(old) = db::certificates::by_serial(conn, &old.serial_hex, lock).await? else {
        return Ok(false);
    };
    let live = matches!(
        old.shown_status(now.unix_timestamp()),
        CertStatus::Valid | CertStatus::Suspended
    );
    if !live || old.cert_der.is_none() {
        return Ok(false);
    }
    let issuing = applications::by_id(conn, old.application_id).await?;
    let why = reason(renewal);
    match act(
        conn,
        svc,
        actor,
        CertEvent::Supersede,
        &old,
        &issuing,
        &why,
        // The Supersede row of the transition table carries reasonCode superseded.
        None,
        &issuing,
        now,
    )
    .await
    {
        Ok(()) => Ok(true),
        // Moved meanwhile (revoked by an operator, superseded by the other path).
        Err(DomainError::InvalidTransition(_)) => Ok(false),
        Err(e) => Err(e),
    }
}

/// Called when the certificate of `issuing` is registered: a renewal's registration
/// supersedes the certificate it renews.
pub async fn on_registration(
    conn: &mut AnyConnection,
    svc: &Services,
    actor: &Actor,
    issuing: &AppRow,
    now: OffsetDateTime,
) -> DomainResult<bool> {
    supersede_target(conn, svc, actor, issuing, svc.db.for_update(), now).await
}

/// Supersedes every certificate whose renewal's certificate was issued `grace_days` or more
/// before `now`. Returns the serials of the renew applications whose targets it revoked.
pub async fn run(
    svc: &Services,
    grace_days: u32,
    now: OffsetDateTime,
) -> DomainResult<Vec<String>> {
    let issued_before = (now - Duration::days(i64::from(grace_days))).unix_timestamp();
    let due = {
        let mut conn = svc.db.conn().await?;
        db::certificates::renewals_past_grace(&mut conn, issued_before, now.unix_timestamp(), BATCH)
            .await?
    };
    let mut done = Vec::new();
    for renewal_id in due {
        let mut tx = svc.db.write().await?;
        let renewal = applications::by_id(&mut tx, renewal_id).await?;
        let job = Actor::System("renewal");
        if supersede_target(&mut tx, svc, &job, &renewal, svc.db.for_update(), now).await? {
            tx.commit().await?;
            done.push(renewal.serial);
        }
    }
    if !done.is_empty() {
        tracing::info!(count = done.len(), "superseded renewed certificates");
    }
    Ok(done)
}
