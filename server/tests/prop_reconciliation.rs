//! Property tests of the bank reconciliation CSV parser (issue 7, bad input): well-formed
//! files in every accepted spelling (header or not, BOM, CRLF, quoted `"2,000"`, `/` dates)
//! parse to exactly the rows written; arbitrary and mutated files never panic and report
//! line numbers inside the file. Replays the seeds and regression inputs of the libFuzzer
//! target `fuzz/fuzz_targets/csv_import.rs`.

// A failed assertion is the finding; unwrapping in helpers is a test failure too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;

use proptest::prelude::*;
use server::domain::reconciliation::{Line, parse};
use time::{Date, Month};

fn check_any(text: &str) -> Vec<Line> {
    let lines = parse(text);
    let total = text.lines().count();
    let mut last = 0;
    for l in &lines {
        assert!(
            l.line > last && l.line <= total,
            "line {} of {total}",
            l.line
        );
        last = l.line;
        if let Ok((amount, _)) = l.parsed {
            assert!((0..1_000_000_000_000).contains(&amount), "amount {amount}");
            assert!(!l.bill_no.is_empty());
        }
    }
    lines
}

fn seeds() -> Vec<Vec<u8>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz");
    let mut out = Vec::new();
    for dir in ["corpus/csv_import", "regressions/csv_import"] {
        let Ok(entries) = std::fs::read_dir(root.join(dir)) else {
            continue;
        };
        for e in entries.flatten() {
            out.push(std::fs::read(e.path()).unwrap());
        }
    }
    out
}

#[test]
fn fuzz_seeds_and_regressions_replay() {
    let seeds = seeds();
    assert!(seeds.len() >= 3, "fuzz/corpus/csv_import has the seeds");
    let mut good = 0;
    let mut bad = 0;
    for s in &seeds {
        for l in check_any(&String::from_utf8_lossy(s)) {
            if l.parsed.is_ok() {
                good += 1
            } else {
                bad += 1
            }
        }
    }
    // The hand-written seeds hold both accepted and refused rows.
    assert!(good >= 3 && bad >= 3, "good {good}, bad {bad}");
}

#[derive(Debug, Clone)]
struct Row {
    bill_no: String,
    amount: i64,
    date: Date,
    quote_amount: bool,
    slash_date: bool,
}

fn row() -> impl Strategy<Value = Row> {
    (
        "[A-Z0-9]{1,16}",
        0i64..1_000_000_000_000,
        (1990i32..2100, 1u8..=12, 1u8..=28),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(
            |(bill_no, amount, (y, m, d), quote_amount, slash_date)| Row {
                bill_no,
                amount,
                date: Date::from_calendar_date(y, Month::try_from(m).unwrap(), d).unwrap(),
                quote_amount,
                slash_date,
            },
        )
}

/// `1234567` → `1,234,567`.
fn thousands(n: i64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn render(r: &Row) -> String {
    let amount = if r.quote_amount {
        format!("\"{}\"", thousands(r.amount))
    } else {
        r.amount.to_string()
    };
    let sep = if r.slash_date { '/' } else { '-' };
    let date = format!(
        "{:04}{sep}{:02}{sep}{:02}",
        r.date.year(),
        u8::from(r.date.month()),
        r.date.day()
    );
    format!("{},{amount},{date}", r.bill_no)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn well_formed_files_parse_to_their_rows(
        rows in prop::collection::vec(row(), 1..20),
        header in any::<bool>(),
        bom in any::<bool>(),
        crlf in any::<bool>(),
    ) {
        let eol = if crlf { "\r\n" } else { "\n" };
        let mut text = String::new();
        if bom { text.push('\u{feff}'); }
        if header { text.push_str("bill_no,amount,paid_on"); text.push_str(eol); }
        for r in &rows { text.push_str(&render(r)); text.push_str(eol); }
        let lines = check_any(&text);
        prop_assert_eq!(lines.len(), rows.len());
        for (i, (l, r)) in lines.iter().zip(&rows).enumerate() {
            prop_assert_eq!(l.line, i + 1 + usize::from(header));
            prop_assert_eq!(&l.bill_no, &r.bill_no);
            prop_assert_eq!(&l.parsed, &Ok((r.amount, r.date)));
        }
    }

    #[test]
    fn arbitrary_text_never_panics(text in prop_oneof![
        any::<String>(),
        "[0-9A-Za-z,\"/\\-\r\n \u{feff}]{0,200}",
    ]) {
        check_any(&text);
    }

    #[test]
    fn mutated_seeds_never_panic(
        pick in any::<prop::sample::Index>(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..10),
    ) {
        let seeds = seeds();
        let mut data = seeds[pick.index(seeds.len())].clone();
        for (at, byte) in edits {
            let i = at.index(data.len() + 1);
            data.insert(i, byte);
        }
        check_any(&String::from_utf8_lossy(&data));
    }

    #[test]
    fn too_many_digits_or_bad_dates_are_refused(
        bill in "[A-Z0-9]{1,8}",
        digits in "[1-9][0-9]{12,20}",
        day in 29u8..=40,
    ) {
        let lines = check_any(&format!("{bill},{digits},2026-01-01\n{bill},1,2026-02-{day}\n"));
        prop_assert_eq!(lines.len(), 2);
        prop_assert!(lines[0].parsed.is_err());
        prop_assert!(lines[1].parsed.is_err());
    }
}
