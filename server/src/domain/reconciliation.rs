//! Bank reconciliation import: a CSV of `bill_no,amount,paid_on` (header optional). The file
//! is applied whole or not at all: every line is checked inside one write transaction, and
//! if any line is refused the transaction is rolled back and the report lists the refusals.

use std::collections::HashSet;

use proto::ImportRowCode;
use proto::api::{IMPORT_ERRORS_LISTED, ImportReport, ImportRowError};
use proto::validate::FieldCode;
use time::OffsetDateTime;

use super::payments::{self, Outcome};
use super::{Actor, DomainError, DomainResult, Services};

pub use bank_csv::{Line, parse};

fn row_error(line: &Line, code: ImportRowCode, message: String) -> ImportRowError {
    ImportRowError {
        line: line.line,
        bill_no: line.bill_no.clone(),
        code,
        message,
    }
}

/// Check and apply the whole file. Any refused line → `ImportRejected` with the full report
/// and nothing applied.
pub async fn import(
    svc: &Services,
    actor: &Actor,
    text: &str,
    now: OffsetDateTime,
) -> DomainResult<ImportReport> {
    let lines = parse(text);
    if lines.is_empty() {
        return Err(DomainError::field("file", FieldCode::Required));
    }
    let mut report = ImportReport {
        rows: lines.len(),
        applied: Vec::new(),
        already_paid: Vec::new(),
        errors: Vec::new(),
        errors_not_listed: 0,
    };
    let mut seen = HashSet::new();
    // Bills are locked one by one as the lines are checked. Taken in bill-number order, two
    // imports that share bills (a file sent twice, overlapping statements) wait for each
    // other; in file order they could each hold a bill the other needs (a deadlock, which
    // PostgreSQL ends by failing one of them). The sort is stable, so the first of two
    // lines with the same bill is still the one accepted; the report is put back in file
    // order below.
    let mut order: Vec<&Line> = lines.iter().collect();
    order.sort_by(|a, b| a.bill_no.cmp(&b.bill_no));
    let mut applied = Vec::new();
    let mut already_paid = Vec::new();
    let mut tx = svc.db.write().await?;
    for line in order {
        let (amount, paid_on) = match &line.parsed {
            Ok(v) => *v,
            Err(why) => {
                report
                    .errors
                    .push(row_error(line, ImportRowCode::Malformed, why.clone()));
                continue;
            }
        };
        if !seen.insert(line.bill_no.clone()) {
            report.errors.push(row_error(
                line,
                ImportRowCode::Duplicate,
                "the bill appears more than once in the file".into(),
            ));
            continue;
        }
        if !payments::check_paid_on(paid_on, now) {
            report.errors.push(row_error(
                line,
                ImportRowCode::Malformed,
                "the paid date is in the future".into(),
            ));
            continue;
        }
        let refusal =
            match payments::assess(&mut tx, svc.db.for_update(), &line.bill_no, amount, paid_on)
                .await?
            {
                Outcome::AlreadyPaid => {
                    already_paid.push((line.line, line.bill_no.clone()));
                    None
                }
                Outcome::Refused(r) => Some(r),
                Outcome::Payable(bill) => {
                    match payments::apply(
                        &mut tx,
                        svc,
                        actor,
                        &bill,
                        paid_on,
                        "reconciliation",
                        now,
                    )
                    .await?
                    {
                        Ok(()) => {
                            applied.push((line.line, line.bill_no.clone()));
                            None
                        }
                        Err(r) => Some(r),
                    }
                }
            };
        if let Some(r) = refusal {
            report.errors.push(row_error(line, r.code(), r.message()));
        }
    }
    applied.sort();
    already_paid.sort();
    report.applied = applied.into_iter().map(|(_, bill)| bill).collect();
    report.already_paid = already_paid.into_iter().map(|(_, bill)| bill).collect();
    report.errors.sort_by_key(|e| e.line);
    if report.errors.len() > IMPORT_ERRORS_LISTED {
        report.errors_not_listed = report.errors.len() - IMPORT_ERRORS_LISTED;
        report.errors.truncate(IMPORT_ERRORS_LISTED);
    }
    if !report.errors.is_empty() {
        tx.rollback().await?;
        report.applied.clear();
        return Err(DomainError::ImportRejected(Box::new(report)));
    }
    tx.commit().await?;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::payments::Refusal;
    use super::*;

    #[test]
    fn refusals_have_distinct_codes() {
        let codes: Vec<ImportRowCode> = [
            Refusal::UnknownBill,
            Refusal::WrongAmount { expected: 2000 },
            Refusal::VoidBill,
            Refusal::AlreadyPaid,
            Refusal::NotPayable,
        ]
        .iter()
        .map(Refusal::code)
        .collect();
        for (i, c) in codes.iter().enumerate() {
            assert!(!codes[..i].contains(c), "{c:?}");
            assert_ne!(*c, ImportRowCode::Malformed);
            assert_ne!(*c, ImportRowCode::Duplicate);
        }
    }
}
