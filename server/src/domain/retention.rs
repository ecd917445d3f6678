//! Personal-data retention. The privacy statement limits the use of the contact and the
//! staff's national ID to handling the application and its certificate; once an application
//! was cancelled (A9), or its certificate expired, `personal_data_retention_days` ago, this
//! job blanks them (and the addresses and bodies of its sent mails). What stays is what the
//! portal must keep: the company data, serials, bill and payment, certificate and the audit
//! log, which never records contact data or national IDs (only serials, codes and statuses).

use time::{Duration, OffsetDateTime};

use super::{Actor, DomainResult, Services, applications, audit};
use crate::db;

/// Applications erased per run; the next run takes the rest.
const BATCH: i64 = 500;

/// Erases what is due at `now`. Returns the serials of the applications erased.
pub async fn run(
    svc: &Services,
    retention_days: u32,
    now: OffsetDateTime,
) -> DomainResult<Vec<String>> {
    let before = (now - Duration::days(i64::from(retention_days))).unix_timestamp();
    let due = {
        let mut conn = svc.db.conn().await?;
        db::retention::due(&mut conn, before, BATCH).await?
    };
    let t = now.unix_timestamp();
    let mut erased = Vec::new();
    for id in due {
        let mut tx = svc.db.write().await?;
        if !db::retention::erase(&mut tx, id, t).await? {
            continue;
        }
        let app = applications::by_id(&mut tx, id).await?;
        let mails = mailer::erase_recipients(&mut tx, &app.serial).await?;
        audit::record(
            &mut tx,
            &Actor::System("retention"),
            audit::Entry {
                action: "application.personal_data_erased",
                application_serial: Some(&app.serial),
                detail: serde_json::json!({
                    "retention_days": retention_days,
                    "mails": mails,
                }),
                ..audit::Entry::default()
            },
            now,
        )
        .await?;
        tx.commit().await?;
        erased.push(app.serial);
    }
    if !erased.is_empty() {
        tracing::info!(
            count = erased.len(),
            "erased personal data of closed applications"
        );
    }
    Ok(erased)
}
