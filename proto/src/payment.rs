//! What a broker needs to pay a fee bill, computed the same way on the server's printed slip
//! and in the app's bill page: the virtual account number derived from the bill number, the
//! payee, and the amount written as NT$2,000.
//!
//! Virtual account rule (16 digits): [`VIRTUAL_ACCOUNT_PREFIX`] (4 digits, the collection
//! code of the fee account) + the 11 digits of the bill number after `AAF` (ROC year, month,
//! monthly sequence) + one check digit. The check digit covers the first 15 digits: weights
//! 3, 7, 1 repeated from the left, each digit times its weight, summed; the check digit is
//! `(10 - sum % 10) % 10`. A bank teller or ATM refuses a mistyped account because one wrong
//! digit (or most swaps of neighbours) changes the sum's last digit.

/// 存款種類 on the slip.
pub const DEPOSIT_KIND: &str = "通關專屬憑證費";
/// 戶名 of the fee account.
pub const PAYEE_ACCOUNT_NAME: &str = "財政部關務署規費收入專戶";
/// 通匯解款行.
pub const PAYEE_BANK: &str = "臺灣銀行營業部";
/// 通匯解款行代號 (bank 004, branch 0037).
pub const PAYEE_BANK_CODE: &str = "0040037";
/// 存款機關.
pub const PAYEE_AGENCY: &str = "財政部關務署";
/// First four digits of every virtual account (the fee account's collection code).
pub const VIRTUAL_ACCOUNT_PREFIX: &str = "9528";

/// The check digit of `digits` (ASCII digits only; `None` otherwise): weights 3, 7, 1
/// repeated from the left, `(10 - sum % 10) % 10`.
pub fn check_digit(digits: &str) -> Option<u8> {
    let mut sum = 0u32;
    for (i, c) in digits.chars().enumerate() {
        let d = c.to_digit(10)?;
        sum += d * [3, 7, 1][i % 3];
    }
    u8::try_from((10 - sum % 10) % 10).ok()
}

/// 帳號: the 16-digit virtual account of bill `bill_no` (`AAF` + 11 digits), or `None` for
/// anything else.
pub fn virtual_account(bill_no: &str) -> Option<String> {
    let digits = bill_no.strip_prefix("AAF")?;
    if digits.len() != 11 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let body = format!("{VIRTUAL_ACCOUNT_PREFIX}{digits}");
    let check = check_digit(&body)?;
    Some(format!("{body}{check}"))
}

/// Whether a 16-digit account passes the check digit (what a bank would verify).
pub fn virtual_account_is_valid(account: &str) -> bool {
    account.len() == 16
        && account
            .get(..15)
            .and_then(check_digit)
            .zip(account.get(15..).and_then(|c| c.parse::<u8>().ok()))
            .is_some_and(|(want, got)| want == got)
}

/// `NT$2,000`: the one number format of fees, on the bill page and on the slip.
pub fn ntd(amount: i64) -> String {
    let digits = amount.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    format!("NT${}{out}", if amount < 0 { "-" } else { "" })
}

/// 繳納證號: `PAY` + ROC year (3 digits) + month + 6-digit monthly sequence, e.g.
/// `PAY11512000001`.
pub fn receipt_number(year: i32, month: u8, seq: i64) -> String {
    format!("PAY{:03}{month:02}{seq:06}", year - 1911)
}

/// A Gregorian date as the ROC date the slip prints: 2018-12-07 → `107/12/07`.
pub fn roc_date(year: i32, month: u8, day: u8) -> String {
    format!("{:03}/{month:02}/{day:02}", year - 1911)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_digit_follows_the_written_rule() {
        // 9528 11511000151: 9*3+5*7+2*1 +8*3+1*7+1*1 +5*3+1*7+1*1 +0+0+0 +1*3+5*7+1*1
        // = 27+35+2+24+7+1+15+7+1+3+35+1 = 158 → (10 - 8) % 10 = 2.
        assert_eq!(check_digit("952811511000151"), Some(2));
        assert_eq!(check_digit("0"), Some(0));
        assert_eq!(check_digit("1"), Some(7));
        assert_eq!(check_digit("12a"), None);
    }

    #[test]
    fn virtual_account_comes_from_the_bill_number() {
        let acct = virtual_account("AAF11511000151").unwrap();
        assert_eq!(acct, "9528115110001512");
        assert_eq!(acct.len(), 16);
        assert!(virtual_account_is_valid(&acct));
        assert_eq!(virtual_account("BAF11511000151"), None);
        assert_eq!(virtual_account("AAF1151100015"), None);
        assert_eq!(virtual_account("AAF1151100015x"), None);
    }

    #[test]
    fn one_wrong_digit_or_a_swap_is_caught() {
        let acct = virtual_account("AAF11511000151").unwrap();
        let bytes = acct.as_bytes();
        for i in 0..16 {
            for d in b'0'..=b'9' {
                if d == bytes[i] {
                    continue;
                }
                let mut typo = bytes.to_vec();
                typo[i] = d;
                let typo = String::from_utf8(typo).unwrap();
                assert!(!virtual_account_is_valid(&typo), "{typo} passed");
            }
        }
        // Neighbours within the 15 weighted digits.
        for i in 0..14 {
            if bytes[i] == bytes[i + 1] {
                continue;
            }
            let mut swapped = bytes.to_vec();
            swapped.swap(i, i + 1);
            let swapped = String::from_utf8(swapped).unwrap();
            // A swap changes the sum by (a - b) * (weight difference); it goes unnoticed only
            // when that is a multiple of 10 (digits 5 apart under weights 3/7 or 7/1, whose
            // differences are even): the rule's known blind spot.
            let (a, b) = (bytes[i] - b'0', bytes[i + 1] - b'0');
            let w = [3i32, 7, 1];
            let diff = (i32::from(a) - i32::from(b)) * (w[i % 3] - w[(i + 1) % 3]);
            assert_eq!(
                virtual_account_is_valid(&swapped),
                diff % 10 == 0,
                "{swapped}"
            );
        }
    }

    #[test]
    fn amounts_receipts_and_roc_dates() {
        assert_eq!(ntd(2000), "NT$2,000");
        assert_eq!(ntd(1_234_567), "NT$1,234,567");
        assert_eq!(ntd(-4000), "NT$-4,000");
        assert_eq!(receipt_number(2026, 12, 1), "PAY11512000001");
        assert_eq!(roc_date(2018, 12, 7), "107/12/07");
    }
}
