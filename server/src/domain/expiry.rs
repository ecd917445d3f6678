//! Applications unpaid [`proto::PAYMENT_DAYS`] days after submission are cancelled (A9) and
//! their bill voided. Each application is claimed with a conditional UPDATE, so two
//! instances running the job at once never cancel (or mail) the same one twice.

use mailer::MailKind;
use sqlx::Row as _;
use time::OffsetDateTime;

use super::notify::{self, Extra};
use super::{Actor, DomainResult, Services, audit, rows};

/// Cancel every application whose bill fell due at or before `now`. Returns their serials.
pub async fn run(svc: &Services, now: OffsetDateTime) -> DomainResult<Vec<String>> {
    let t = now.unix_timestamp();
    let due = {
        let mut conn = svc.db.pool.acquire().await?;
        sqlx::query(
            "SELECT a.id FROM applications a JOIN bills b ON b.application_id = a.id \
             WHERE a.status = '10' AND b.status = 'unpaid' AND b.due_at <= $1 \
             ORDER BY b.due_at LIMIT 500",
        )
        .bind(t)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| r.try_get::<i64, _>(0))
        .collect::<Result<Vec<_>, _>>()?
    };
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
    // The claim: only the transaction that moves 10 → A9 goes on.
    let claimed = sqlx::query(
        "UPDATE applications SET status = 'A9', updated_at = $1 WHERE id = $2 AND status = '10' \
         AND id IN (SELECT application_id FROM bills WHERE status = 'unpaid' AND due_at <= $3)",
    )
    .bind(t)
    .bind(id)
    .bind(t)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if claimed != 1 {
        return Ok(None);
    }
    sqlx::query(
        "UPDATE bills SET status = 'void', voided_at = $1 WHERE application_id = $2 AND status = 'unpaid'",
    )
    .bind(t)
    .bind(id)
    .execute(&mut *tx)
    .await?;
    let app = rows::app_by_id(&mut tx, id).await?;
    let bill = rows::bill_of(&mut tx, id).await?;
    let actor = Actor::System("expiry");
    audit::record(
        &mut tx,
        &actor,
        audit::Entry {
            action: "application.expire",
            application_serial: Some(&app.serial),
            detail: serde_json::json!({
                "from": "10",
                "to": "A9",
                "bill_no": bill.as_ref().map(|b| b.bill_no.clone()),
                "bill": "void",
            }),
            ..audit::Entry::default()
        },
        now,
    )
    .await?;
    notify::queue(
        &mut tx,
        svc,
        MailKind::Cancelled,
        &app,
        Extra {
            bill_no: bill.map(|b| b.bill_no),
            reason: Some("逾期未繳費 (unpaid after 14 days)".into()),
            ..Extra::default()
        },
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(Some(app.serial))
}
