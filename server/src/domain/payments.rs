//! Recording a payment: the bill becomes paid and its application moves 10 → 20, with audit
//! and the "paid, generate your key" mail, in one transaction.

use proto::api::{ApplicationView, PaymentRecord};
use proto::validate::FieldCode;
use proto::{BillStatus, ImportRowCode};
use sqlx::AnyConnection;
use time::{Date, OffsetDateTime};

use super::notify::Extra;
use super::transitions::{self, AppEvent, Note, Step};
use super::{
    Actor, DomainError, DomainResult, Services, applications, bills, format_date, parse_date,
    taipei_date, views,
};
use crate::db::bills::{BillRow, Payment};
use crate::db::{self, Lock};

/// Why a payment line is refused; codes appear in reconciliation reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    UnknownBill,
    WrongAmount {
        expected: i64,
    },
    VoidBill,
    /// Paid before, by a record that differs from this one.
    AlreadyPaid,
    /// The application is not waiting for payment (e.g. cancelled meanwhile).
    NotPayable,
}

impl Refusal {
    pub fn code(&self) -> ImportRowCode {
        match self {
            Refusal::UnknownBill => ImportRowCode::UnknownBill,
            Refusal::WrongAmount { .. } => ImportRowCode::WrongAmount,
            Refusal::VoidBill => ImportRowCode::VoidBill,
            Refusal::AlreadyPaid => ImportRowCode::AlreadyPaid,
            Refusal::NotPayable => ImportRowCode::NotPayable,
        }
    }

    pub fn message(&self) -> String {
        match self {
            Refusal::UnknownBill => "no such bill number".into(),
            Refusal::WrongAmount { expected } => {
                format!("wrong amount: the bill is for NT${expected}")
            }
            Refusal::VoidBill => "the bill is void (the application was cancelled)".into(),
            Refusal::AlreadyPaid => "the bill was already paid".into(),
            Refusal::NotPayable => "the application is not waiting for payment".into(),
        }
    }
}

/// How a bill stands against one payment line.
#[derive(Debug)]
pub enum Outcome {
    /// Unpaid and matching: apply it.
    Payable(BillRow),
    /// Already paid by an identical record: nothing to do.
    AlreadyPaid,
    Refused(Refusal),
}

/// Checks a payment line against the stored bill (locked for update on PostgreSQL).
pub async fn assess(
    conn: &mut AnyConnection,
    lock: Lock,
    bill_no: &str,
    amount: i64,
    paid_on: Date,
) -> DomainResult<Outcome> {
    let Some(bill) = db::bills::by_no(conn, bill_no, lock).await? else {
        return Ok(Outcome::Refused(Refusal::UnknownBill));
    };
    Ok(match bill.status {
        BillStatus::Void => Outcome::Refused(Refusal::VoidBill),
        BillStatus::Paid => {
            if bill.paid_amount == Some(amount)
                && bill.paid_on.as_deref() == Some(&format_date(paid_on))
            {
                Outcome::AlreadyPaid
            } else {
                Outcome::Refused(Refusal::AlreadyPaid)
            }
        }
        BillStatus::Unpaid if amount != bill.amount => Outcome::Refused(Refusal::WrongAmount {
            expected: bill.amount,
        }),
        BillStatus::Unpaid => Outcome::Payable(bill),
    })
}

/// Moves `bill`'s application 10 → 20 (the `Pay` transition: audit and mail) and marks the
/// bill paid. An application no longer waiting for payment, or a lost race, is a refusal.
pub async fn apply(
    conn: &mut AnyConnection,
    svc: &Services,
    actor: &Actor,
    bill: &BillRow,
    paid_on: Date,
    via: &str,
    now: OffsetDateTime,
) -> DomainResult<Result<(), Refusal>> {
    let app = applications::by_id(conn, bill.application_id).await?;
    let pay = Step::App {
        event: AppEvent::Pay,
        app: &app,
    };
    let paid_on = format_date(paid_on);
    // The application first, then the bill: the order the expiry job takes them in.
    let moved = transitions::apply(
        conn,
        svc,
        actor,
        pay,
        Note {
            detail: serde_json::json!({
                "bill_no": bill.bill_no,
                "amount": bill.amount,
                "paid_on": paid_on,
                "via": via,
            }),
            mail: Extra {
                bill_no: Some(bill.bill_no.clone()),
                amount: Some(bill.amount),
                ..Extra::default()
            },
            ..Note::default()
        },
        now,
    )
    .await;
    match moved {
        Ok(()) => {}
        Err(DomainError::InvalidTransition(_)) => return Ok(Err(Refusal::NotPayable)),
        Err(e) => return Err(e),
    }
    let receipt_no = bills::next_receipt_number(conn, now).await?;
    let payment = Payment {
        at: now.unix_timestamp(),
        paid_on: &paid_on,
        amount: bill.amount,
        via,
        receipt_no: &receipt_no,
    };
    if !db::bills::mark_paid(conn, bill.id, &payment).await? {
        return Ok(Err(Refusal::AlreadyPaid));
    }
    Ok(Ok(()))
}

/// A payment date may not lie in the future (Taipei time) nor before the bill existed.
pub fn check_paid_on(paid_on: Date, now: OffsetDateTime) -> bool {
    paid_on <= taipei_date(now)
}

/// The operator records one payment. Paying twice is `invalid_transition`; unknown bill,
/// wrong amount and void bill are `payment_rejected`.
pub async fn record(
    svc: &Services,
    actor: &Actor,
    p: &PaymentRecord,
    now: OffsetDateTime,
) -> DomainResult<ApplicationView> {
    let bill_no = p.bill_no.trim();
    if bill_no.is_empty() {
        return Err(DomainError::field("bill_no", FieldCode::Required));
    }
    let paid_on = parse_date(p.paid_on.trim())
        .filter(|d| check_paid_on(*d, now))
        .ok_or_else(|| DomainError::field("paid_on", FieldCode::Format))?;
    let mut tx = svc.db.write().await?;
    let bill = match assess(&mut tx, svc.db.for_update(), bill_no, p.amount, paid_on).await? {
        Outcome::Payable(bill) => bill,
        Outcome::AlreadyPaid | Outcome::Refused(Refusal::AlreadyPaid) => {
            return Err(DomainError::transition("the bill was already paid"));
        }
        Outcome::Refused(r) => return Err(DomainError::PaymentRejected(r.message())),
    };
    match apply(&mut tx, svc, actor, &bill, paid_on, "operator", now).await? {
        Ok(()) => {}
        Err(Refusal::NotPayable) => {
            return Err(DomainError::transition(
                "the application is not waiting for payment",
            ));
        }
        Err(Refusal::AlreadyPaid) => {
            return Err(DomainError::transition("the bill was already paid"));
        }
        Err(r) => return Err(DomainError::PaymentRejected(r.message())),
    }
    let app = applications::by_id(&mut tx, bill.application_id).await?;
    let view = views::application_view(&mut tx, &app, actor, now.unix_timestamp()).await?;
    tx.commit().await?;
    Ok(view)
}
