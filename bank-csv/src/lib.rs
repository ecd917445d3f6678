//! The bank reconciliation CSV the operators import: `bill_no,amount,paid_on` per line, a
//! header line optional, amounts as whole NT$ (thousands commas allowed), dates as
//! YYYY-MM-DD or YYYY/MM/DD. Parsing only: applying the payments is the server's job. Kept
//! apart from the server so the fuzz targets build without the database stack.

use time::Date;

fn parse_date(s: &str) -> Option<Date> {
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(s, &fmt).ok()
}

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

#[cfg(test)]
mod tests {
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
}
