//! 規費繳款書: bill numbers, creation with the application, and the printable payment slip.

use proto::{FEE_PER_CERTIFICATE, PAYMENT_DAYS};
use sqlx::AnyConnection;
use time::{Date, Duration, OffsetDateTime};

use super::{Actor, DomainError, DomainResult, Services, applications, format_date, taipei_date};
use crate::db::applications::AppRow;
use crate::db::bills::BillRow;
use crate::db::{self, Lock, counters};

/// `AAF` + ROC year (3 digits) + month + 6-digit monthly sequence: `AAF11511000151`.
pub fn bill_number(day: Date, seq: i64) -> String {
    let roc_year = day.year() - 1911;
    format!("AAF{roc_year:03}{:02}{seq:06}", u8::from(day.month()))
}

/// The next 繳納證號 (monthly sequence, Taipei month of the recording), e.g. PAY11512000001.
pub async fn next_receipt_number(
    conn: &mut AnyConnection,
    now: OffsetDateTime,
) -> DomainResult<String> {
    let day = taipei_date(now);
    let month = u8::from(day.month());
    let seq = counters::next(conn, &format!("receipt:{:04}{month:02}", day.year())).await?;
    Ok(proto::payment::receipt_number(day.year(), month, seq))
}

/// `SW` + Taipei date + 6-digit daily sequence: `SW20261124000001`.
pub fn application_serial(day: Date, seq: i64) -> String {
    format!(
        "SW{:04}{:02}{:02}{seq:06}",
        day.year(),
        u8::from(day.month()),
        day.day()
    )
}

pub async fn next_application_serial(
    conn: &mut AnyConnection,
    now: OffsetDateTime,
) -> DomainResult<String> {
    let day = taipei_date(now);
    let key = format!("application:{}", format_date(day));
    let seq = counters::next(conn, &key).await?;
    Ok(application_serial(day, seq))
}

/// Issue the bill of a new or renew application, due [`PAYMENT_DAYS`] after submission.
pub async fn create(
    conn: &mut AnyConnection,
    application_id: i64,
    now: OffsetDateTime,
) -> DomainResult<BillRow> {
    let day = taipei_date(now);
    let key = format!("bill:{:04}{:02}", day.year(), u8::from(day.month()));
    let seq = counters::next(conn, &key).await?;
    let bill_no = bill_number(day, seq);
    let issued_at = now.unix_timestamp();
    let due_at = (now + Duration::days(PAYMENT_DAYS)).unix_timestamp();
    let id = db::bills::insert_unpaid(
        conn,
        &bill_no,
        application_id,
        FEE_PER_CERTIFICATE,
        issued_at,
        due_at,
    )
    .await?;
    Ok(BillRow {
        id,
        bill_no,
        application_id,
        amount: FEE_PER_CERTIFICATE,
        issued_at,
        due_at,
        status: proto::BillStatus::Unpaid,
        paid_at: None,
        paid_on: None,
        paid_amount: None,
        receipt_no: None,
    })
}

/// The application and bill a payment slip shows, for the caller's company only.
pub async fn for_slip(
    svc: &Services,
    actor: &Actor,
    serial: &str,
) -> DomainResult<(AppRow, BillRow)> {
    let mut conn = svc.db.conn().await?;
    let app = applications::by_serial(&mut conn, serial, actor.company(), Lock::NONE).await?;
    let bill = db::bills::of_application(&mut conn, app.id, Lock::NONE)
        .await?
        .ok_or(DomainError::NotFound("bill"))?;
    Ok((app, bill))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn numbers_follow_the_seed_style() {
        assert_eq!(bill_number(date!(2026 - 11 - 24), 151), "AAF11511000151");
        assert_eq!(
            application_serial(date!(2026 - 11 - 24), 1),
            "SW20261124000001"
        );
    }
}
