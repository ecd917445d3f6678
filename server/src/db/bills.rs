//! The `bills` table (規費繳款書).

use proto::BillStatus;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row as _};

use super::query::Value;
use super::{Lock, decode, optional};

#[derive(Debug, Clone)]
pub struct BillRow {
    pub id: i64,
    pub bill_no: String,
    pub application_id: i64,
    pub amount: i64,
    pub issued_at: i64,
    pub due_at: i64,
    pub status: BillStatus,
    pub paid_at: Option<i64>,
    pub paid_on: Option<String>,
    pub paid_amount: Option<i64>,
    /// 繳納證號.
    pub receipt_no: Option<String>,
}

const COLUMNS: &str = "b.id, b.bill_no, b.application_id, b.amount, b.issued_at, \
    b.due_at, b.status, b.paid_at, b.paid_on, b.paid_amount, b.receipt_no";

impl BillRow {
    fn from_row(r: &AnyRow) -> Result<BillRow, sqlx::Error> {
        Ok(BillRow {
            id: r.try_get("id")?,
            bill_no: r.try_get("bill_no")?,
            application_id: r.try_get("application_id")?,
            amount: r.try_get("amount")?,
            issued_at: r.try_get("issued_at")?,
            due_at: r.try_get("due_at")?,
            status: decode("bill status", r.try_get("status")?, BillStatus::from_code)?,
            paid_at: r.try_get("paid_at")?,
            paid_on: r.try_get("paid_on")?,
            paid_amount: r.try_get("paid_amount")?,
            receipt_no: r.try_get("receipt_no")?,
        })
    }
}

pub async fn of_application(
    conn: &mut AnyConnection,
    application_id: i64,
    lock: Lock,
) -> Result<Option<BillRow>, sqlx::Error> {
    let sql = format!(
        "SELECT {COLUMNS} FROM bills b WHERE b.application_id = $1{}",
        lock.sql()
    );
    optional(conn, &sql, Value::Int(application_id), BillRow::from_row).await
}

pub async fn by_no(
    conn: &mut AnyConnection,
    bill_no: &str,
    lock: Lock,
) -> Result<Option<BillRow>, sqlx::Error> {
    let sql = format!(
        "SELECT {COLUMNS} FROM bills b WHERE b.bill_no = $1{}",
        lock.sql()
    );
    optional(
        conn,
        &sql,
        Value::Text(bill_no.to_owned()),
        BillRow::from_row,
    )
    .await
}

/// Inserts an unpaid bill; returns its id.
pub async fn insert_unpaid(
    conn: &mut AnyConnection,
    bill_no: &str,
    application_id: i64,
    amount: i64,
    issued_at: i64,
    due_at: i64,
) -> Result<i64, sqlx::Error> {
    sqlx::query(
        "INSERT INTO bills (bill_no, application_id, amount, issued_at, due_at, status) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(bill_no.to_owned())
    .bind(application_id)
    .bind(amount)
    .bind(issued_at)
    .bind(due_at)
    .bind(BillStatus::Unpaid.code())
    .fetch_one(&mut *conn)
    .await?
    .try_get(0)
}

/// How a payment was recorded.
#[derive(Debug, Clone)]
pub struct Payment<'a> {
    pub at: i64,
    /// `YYYY-MM-DD` from the payment record.
    pub paid_on: &'a str,
    pub amount: i64,
    /// `operator` or `reconciliation`.
    pub via: &'a str,
    /// 繳納證號 given to this payment.
    pub receipt_no: &'a str,
}

/// Unpaid → paid; false when the bill was not unpaid any more.
pub async fn mark_paid(
    conn: &mut AnyConnection,
    id: i64,
    p: &Payment<'_>,
) -> Result<bool, sqlx::Error> {
    let n = sqlx::query(
        "UPDATE bills SET status = $1, paid_at = $2, paid_on = $3, paid_amount = $4, \
         paid_via = $5, receipt_no = $6 WHERE id = $7 AND status = $8",
    )
    .bind(BillStatus::Paid.code())
    .bind(p.at)
    .bind(p.paid_on.to_owned())
    .bind(p.amount)
    .bind(p.via.to_owned())
    .bind(p.receipt_no.to_owned())
    .bind(id)
    .bind(BillStatus::Unpaid.code())
    .execute(&mut *conn)
    .await?
    .rows_affected();
    Ok(n == 1)
}

/// Voids the application's bill if it is unpaid.
pub async fn void_unpaid(
    conn: &mut AnyConnection,
    application_id: i64,
    at: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE bills SET status = $1, voided_at = $2 WHERE application_id = $3 AND status = $4",
    )
    .bind(BillStatus::Void.code())
    .bind(at)
    .bind(application_id)
    .bind(BillStatus::Unpaid.code())
    .execute(&mut *conn)
    .await?;
    Ok(())
}
