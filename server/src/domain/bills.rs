//! 規費繳款書: bill numbers, creation with the application, and the printable payment slip.

use proto::{FEE_PER_CERTIFICATE, PAYMENT_DAYS};
use sqlx::AnyConnection;
use time::{Date, Duration, OffsetDateTime};

use super::{
    Actor, DomainError, DomainResult, Services, TAIPEI, applications, format_date, taipei_date,
};
use crate::db::applications::AppRow;
use crate::db::bills::BillRow;
use crate::db::{self, Lock, counters};

/// `AAF` + ROC year (3 digits) + month + 6-digit monthly sequence: `AAF11511000151`.
pub fn bill_number(day: Date, seq: i64) -> String {
    let roc_year = day.year() - 1911;
    format!("AAF{roc_year:03}{:02}{seq:06}", u8::from(day.month()))
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

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The slip's only style block; its hash goes into the response's CSP (no `unsafe-inline`).
pub const SLIP_STYLE: &str = "body{font-family:sans-serif;margin:2em;color:#000}\
table{border-collapse:collapse;width:100%;max-width:40em}\
th,td{border:1px solid #000;padding:.5em;text-align:left}\
th{width:12em;background:#eee}h1{font-size:1.4em}.amount{font-size:1.3em;font-weight:bold}\
@media print{.noprint{display:none}}";

/// A self-contained HTML payment slip: bill number, amount, due date, payer.
pub fn slip_html(app: &AppRow, bill: &BillRow) -> String {
    let due = OffsetDateTime::from_unix_timestamp(bill.due_at)
        .map(|t| t.to_offset(TAIPEI))
        .ok();
    let due_text = due
        .map(|t| {
            format!(
                "{} {:02}:{:02} (UTC+8)",
                format_date(t.date()),
                t.hour(),
                t.minute()
            )
        })
        .unwrap_or_default();
    let status = bill.status.label(proto::Lang::ZhTw);
    format!(
        "<!DOCTYPE html>\n<html lang=\"zh-Hant-TW\"><head><meta charset=\"utf-8\">\
<title>規費繳款書 {bill_no}</title><style>{style}</style></head><body>\
<h1>關港貿單一窗口 通關專屬憑證 規費繳款書</h1>\
<table>\
<tr><th>規費繳款書號碼 Bill number</th><td>{bill_no}</td></tr>\
<tr><th>繳款金額 Amount</th><td class=\"amount\">新臺幣 NT$ {amount}</td></tr>\
<tr><th>繳費期限 Due</th><td>{due}</td></tr>\
<tr><th>繳款人 Payer</th><td>{company}（統一編號 {tax_id}）</td></tr>\
<tr><th>申請序號 Application</th><td>{serial}</td></tr>\
<tr><th>憑證名稱 Certificate</th><td>{cert_name}</td></tr>\
<tr><th>狀態 Status</th><td>{status}</td></tr>\
</table>\
<p>每張憑證規費新臺幣 2,000 元。逾期未繳費者，繳款書作廢並取消申請。</p>\
<p class=\"noprint\">請使用瀏覽器的列印功能列印本繳款書。</p>\
</body></html>\n",
        bill_no = escape(&bill.bill_no),
        style = SLIP_STYLE,
        amount = bill.amount,
        due = escape(&due_text),
        company = escape(&app.company.name),
        tax_id = escape(&app.tax_id),
        serial = escape(&app.serial),
        cert_name = escape(app.cert_name.as_deref().unwrap_or("")),
        status = escape(status),
    )
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

    #[test]
    fn html_is_escaped() {
        assert_eq!(escape("<a&\"'>"), "&lt;a&amp;&quot;&#39;&gt;");
    }
}
