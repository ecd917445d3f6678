//! Bank reconciliation import: a CSV of `bill_no,amount,paid_on` (header optional). The file
//! is applied whole or not at all: every line is checked inside one write transaction, and
//! if any line is refused the transaction is rolled back and the report lists the refusals.

use std::collections::HashSet;

use proto::api::{IMPORT_ERRORS_LISTED, ImportReport, ImportRowError};
use proto::validate::FieldCode;
use time::{Date, OffsetDateTime};

use super::payments::{self, Outcome};
use super::{Actor, DomainError, DomainResult, Services, parse_date};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// 1-based line number in the file.
    pub line: usize,
    pub bill_no: String,
    pub parsed: Result<(i64, Date), String>,
}

/// Splits one CSV record; fields may be double-quoted (`"2,000"`), `""` is a literal quote.
fn fields(record: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = record.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (',', false) => out.push(std::mem::take(&mut cur)),
            (c, _) => cur.push(c),
        }
    }
    out.push(cur);
    out.into_iter().map(|f| f.trim().to_owned()).collect()
}

fn parse_amount(s: &str) -> Option<i64> {
    let digits: String = s.chars().filter(|c| *c != ',').collect();
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) || digits.len() > 12 {
        return None;
    }
    digits.parse().ok()
}

fn parse_paid_on(s: &str) -> Option<Date> {
    parse_date(&s.replace('/', "-"))
}

/// Every non-empty line of the file; a first line starting with `bill_no` is a header.
pub fn parse(text: &str) -> Vec<Line> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let raw = raw.trim();
        if raw.is_empty() {
            continue;
        }
        let f = fields(raw);
        if out.is_empty()
            && i == 0
            && f.first()
                .is_some_and(|h| h.trim_matches('"').eq_ignore_ascii_case("bill_no"))
        {
            continue;
        }
        let bill_no = f.first().cloned().unwrap_or_default();
        let parsed = if f.len() != 3 {
            Err(format!(
                "expected 3 fields (bill_no,amount,paid_on), found {}",
                f.len()
            ))
        } else if bill_no.is_empty() {
            Err("bill number is empty".to_owned())
        } else {
            match (parse_amount(&f[1]), parse_paid_on(&f[2])) {
                (None, _) => Err(format!("amount {:?} is not a whole number", f[1])),
                (_, None) => Err(format!("paid date {:?} is not YYYY-MM-DD", f[2])),
                (Some(a), Some(d)) => Ok((a, d)),
            }
        };
        out.push(Line {
            line: i + 1,
            bill_no,
            parsed,
        });
    }
    out
}

fn row_error(line: &Line, code: &str, message: String) -> ImportRowError {
    ImportRowError {
        line: line.line,
        bill_no: line.bill_no.clone(),
        code: code.to_owned(),
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
    let mut tx = svc.db.write().await?;
    for line in &lines {
        let (amount, paid_on) = match &line.parsed {
            Ok(v) => *v,
            Err(why) => {
                report
                    .errors
                    .push(row_error(line, "malformed", why.clone()));
                continue;
            }
        };
        if !seen.insert(line.bill_no.clone()) {
            report.errors.push(row_error(
                line,
                "duplicate",
                "the bill appears more than once in the file".into(),
            ));
            continue;
        }
        if !payments::check_paid_on(paid_on, now) {
            report.errors.push(row_error(
                line,
                "malformed",
                "the paid date is in the future".into(),
            ));
            continue;
        }
        let refusal =
            match payments::assess(&mut tx, svc.db.for_update(), &line.bill_no, amount, paid_on)
                .await?
            {
                Outcome::AlreadyPaid => {
                    report.already_paid.push(line.bill_no.clone());
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
                            report.applied.push(line.bill_no.clone());
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

/// Codes a report may carry, for the docs and tests.
pub const ROW_CODES: [&str; 7] = [
    "malformed",
    "duplicate",
    "unknown_bill",
    "wrong_amount",
    "void_bill",
    "already_paid",
    "not_payable",
];

#[cfg(test)]
mod tests {
    use super::payments::Refusal;
    use super::*;
    use time::macros::date;

    #[test]
    fn header_quotes_and_blank_lines() {
        let lines = parse(
            "\u{feff}bill_no,amount,paid_on\r\nAAF11511000001,2000,2026-11-24\r\n\r\n\"AAF11511000002\",\"2,000\",2026/11/25\n",
        );
        assert_eq!(
            lines,
            vec![
                Line {
                    line: 2,
                    bill_no: "AAF11511000001".into(),
                    parsed: Ok((2000, date!(2026 - 11 - 24))),
                },
                Line {
                    line: 4,
                    bill_no: "AAF11511000002".into(),
                    parsed: Ok((2000, date!(2026 - 11 - 25))),
                },
            ]
        );
    }

    #[test]
    fn no_header_is_fine() {
        let lines = parse("AAF11511000001,2000,2026-11-24");
        assert_eq!(lines.len(), 1);
        assert_eq!(lines[0].line, 1);
        assert!(lines[0].parsed.is_ok());
    }

    #[test]
    fn malformed_lines_say_why() {
        let lines =
            parse("A,2000\nB,abc,2026-11-24\nC,2000,24/11/2026\n,2000,2026-11-24\nD,-5,2026-11-24");
        let errs: Vec<_> = lines
            .iter()
            .map(|l| l.parsed.clone().unwrap_err())
            .collect();
        assert!(errs[0].contains("3 fields"), "{errs:?}");
        assert!(errs[1].contains("amount"));
        assert!(errs[2].contains("paid date"));
        assert!(errs[3].contains("empty"));
        assert!(errs[4].contains("amount"));
    }

    #[test]
    fn every_refusal_has_a_listed_code() {
        for r in [
            Refusal::UnknownBill,
            Refusal::WrongAmount { expected: 2000 },
            Refusal::VoidBill,
            Refusal::AlreadyPaid,
            Refusal::NotPayable,
        ] {
            assert!(ROW_CODES.contains(&r.code()), "{r:?}");
        }
    }
}
