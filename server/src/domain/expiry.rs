//! Applications unpaid [`proto::PAYMENT_DAYS`] days after submission are cancelled (A9) and
//! their bill voided. Each application is claimed with the `Expire` transition's conditional
//! UPDATE, so two instances running the job at once never cancel (or mail) the same one
//! twice.

use proto::BillStatus;
use time::OffsetDateTime;

use super::notify::Extra;
use super::transitions::{self, AppEvent, Before, Note, Step};
use super::{Actor, DomainError, DomainResult, Services, applications};
use crate::db;

/// Applications claimed per run; the next run takes the rest.
const BATCH: i64 = 500;

/// Cancel every application whose bill fell due at or before `now`. Returns their serials.
pub async fn run(svc: &Services, now: OffsetDateTime) -> DomainResult<Vec<String>> {
    let t = now.unix_timestamp();
    let Before::In(states) = transitions::app_row(AppEvent::Expire)?.from else {
        return Ok(Vec::new());
    };
    let mut due = Vec::new();
    {
        let mut conn = svc.db.conn().await?;
        for status in states {
            due.extend(db::applications::unpaid_and_due(&mut conn, *status, t, BATCH).await?);
        }
    }
    let mut cancelled = Vec::new();
    for id in due {
        if let Some(serial) = cancel(svc, id, now).await? {
            cancelled.push(serial);
        }
    }
    if !cancelled.is_empty() {
        tracing::info!(count = cancelled.len(), "cancelled unpaid applications");
    }
    Ok(cancelled)
}

async fn cancel(svc: &Services, id: i64, now: OffsetDateTime) -> DomainResult<Option<String>> {
    let t = now.unix_timestamp();
    let mut tx = svc.db.write().await?;
    // The bill first, then the application: the order payments take them in (the bill is
    // locked when the payment line is checked), so a payment and the job racing for the
    // same application wait for each other instead of deadlocking on PostgreSQL.
    let bill = db::bills::of_application(&mut tx, id, svc.db.for_update()).await?;
    let app = applications::by_id(&mut tx, id).await?;
    let due = bill
        .as_ref()
        .is_some_and(|b| b.status == BillStatus::Unpaid && b.due_at <= t);
    if !due {
        return Ok(None);
    }
    // The claim: only the transaction that moves 10 → A9 goes on; one that finds the
    // application moved (paid, or cancelled by another instance) leaves it alone.
    let claimed = transitions::apply(
        &mut tx,
        svc,
        &Actor::System("expiry"),
        Step::App {
            event: AppEvent::Expire,
            app: &app,
        },
        Note {
            detail: serde_json::json!({
                "bill_no": bill.as_ref().map(|b| b.bill_no.clone()),
                "bill": BillStatus::Void.code(),
            }),
            mail: Extra {
                bill_no: bill.as_ref().map(|b| b.bill_no.clone()),
                reason: Some("逾期未繳費 (unpaid after 14 days)".into()),
                ..Extra::default()
            },
            ..Note::default()
        },
        now,
    )
    .await;
    match claimed {
        Ok(()) => {}
        Err(DomainError::InvalidTransition(_)) => return Ok(None),
        Err(e) => return Err(e),
    }
    db::bills::void_unpaid(&mut tx, id, t).await?;
    tx.commit().await?;
    Ok(Some(app.serial))
}
