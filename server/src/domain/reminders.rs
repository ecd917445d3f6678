//! Expiry reminders: a mail to the certificate's contact `reminder_days` (60, 30 and 7 by
//! default) before its notAfter, with a link to 展期. One mail per certificate and threshold:
//! the `expiry_reminders` row is claimed in the same transaction as the outbox row, so a
//! second run, or a second instance running the job at once, queues nothing. A certificate
//! first seen inside several thresholds (the job was off) gets one mail, for the nearest.
//! Certificates with a renewal under way (not cancelled) get none.

use time::{Duration, OffsetDateTime};

use super::notify::{self, Extra};
use super::{Actor, DomainResult, Services, applications, audit, from_unix, taipei_date};
use crate::db::{self, Lock};

/// Certificates reminded per threshold and run; the next run takes the rest.
const BATCH: i64 = 500;

/// Whether a certificate expiring at `not_after` is "expiring soon" for the grid.
pub const GRID_WARNING_DAYS: i64 = 60;

pub fn expiring_soon(not_after: i64, now: i64) -> bool {
    now < not_after && not_after - now <= GRID_WARNING_DAYS * 86_400
}

/// Queues the reminders due at `now`. Returns (certificate serial, days) of each mail queued.
pub async fn run(
    svc: &Services,
    reminder_days: &[u32],
    now: OffsetDateTime,
) -> DomainResult<Vec<(String, u32)>> {
    let mut days: Vec<u32> = reminder_days.iter().copied().filter(|d| *d > 0).collect();
    days.sort_unstable();
    days.dedup();
    let t = now.unix_timestamp();
    let mut queued = Vec::new();
    let mut nearer = 0u32;
    for d in days {
        // The band (nearer threshold, d]: a certificate inside a nearer band gets that one.
        let after = (now + Duration::days(i64::from(nearer))).unix_timestamp();
        let until = (now + Duration::days(i64::from(d))).unix_timestamp();
        nearer = d;
        let due = {
            let mut conn = svc.db.conn().await?;
            db::reminders::due(&mut conn, after.max(t), until, i64::from(d), BATCH).await?
        };
        for id in due {
            if let Some(serial) = remind(svc, id, d, now).await? {
                queued.push((serial, d));
            }
        }
    }
    if !queued.is_empty() {
        tracing::info!(count = queued.len(), "queued certificate expiry reminders");
    }
    Ok(queued)
}

async fn remind(
    svc: &Services,
    certificate_id: i64,
    days: u32,
    now: OffsetDateTime,
) -> DomainResult<Option<String>> {
    let mut tx = svc.db.write().await?;
    let Some(cert) = db::certificates::by_id(&mut tx, certificate_id, Lock::NONE).await? else {
        return Ok(None);
    };
    if !db::reminders::claim(&mut tx, cert.id, i64::from(days), now.unix_timestamp()).await? {
        return Ok(None);
    }
    let app = applications::by_id(&mut tx, cert.application_id).await?;
    // The last day it is valid, as the applicant reads dates (Taipei).
    let last_day = taipei_date(from_unix(cert.not_after - 1)?);
    audit::record(
        &mut tx,
        &Actor::System("reminders"),
        audit::Entry {
            action: "certificate.expiry_reminder",
            application_serial: Some(&app.serial),
            certificate_serial: Some(&cert.serial_hex),
            detail: serde_json::json!({
                "days_before": days,
                "not_after": super::rfc3339(cert.not_after),
            }),
            ..audit::Entry::default()
        },
        now,
    )
    .await?;
    notify::queue(
        &mut tx,
        svc,
        mailer::MailKind::ExpiryReminder,
        &app,
        Extra {
            due_on: Some(last_day),
            certificate_name: Some(cert.cert_name.clone()),
            certificate_serial: Some(cert.serial_hex.clone()),
            ..Extra::default()
        },
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(Some(cert.serial_hex))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_grid_warns_within_60_days_of_not_after() {
        let day = 86_400;
        assert!(expiring_soon(100 * day, 40 * day));
        assert!(!expiring_soon(100 * day, 39 * day));
        assert!(!expiring_soon(100 * day, 100 * day));
    }
}
