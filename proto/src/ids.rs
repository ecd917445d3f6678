//! Taiwan identifiers: 統一編號 (business tax ID) and 身分證字號 / 居留證號 (national and
//! resident IDs). Pure functions, no allocation, shared by the server and the browser.

/// Why an identifier was refused; the form layer turns this into a field error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdError {
    /// Wrong length or characters for the identifier's pattern.
    Format,
    /// Pattern is right, check digit is wrong.
    Checksum,
}

/// 統一編號: 8 digits, weights 1,2,1,2,1,2,4,1, the two digits of each product added.
/// Valid when the sum is divisible by 5 (the 2023 rule; before, 10), or when the 7th digit
/// is 7 and sum + 1 is divisible by 5 (the product 28 may count as 10 or 11).
pub fn check_tax_id(s: &str) -> Result<(), IdError> {
    let b = s.as_bytes();
    if b.len() != 8 || !b.iter().all(u8::is_ascii_digit) {
        return Err(IdError::Format);
    }
    const WEIGHTS: [u32; 8] = [1, 2, 1, 2, 1, 2, 4, 1];
    let sum: u32 = b
        .iter()
        .zip(WEIGHTS)
        .map(|(d, w)| {
            let p = u32::from(d - b'0') * w;
            p / 10 + p % 10
        })
        .sum();
    if sum.is_multiple_of(5) || (b[6] == b'7' && (sum + 1).is_multiple_of(5)) {
        Ok(())
    } else {
        Err(IdError::Checksum)
    }
}

/// Two-digit code of the first letter (A=10 … Z=33; I, O, W, X, Y, Z are out of order
/// because they were added after the original 20 counties).
fn letter_code(c: u8) -> Option<u32> {
    const CODES: [u32; 26] = [
        10, 11, 12, 13, 14, 15, 16, 17, 34, 18, 19, 20, 21, 22, 35, 23, 24, 25, 26, 27, 28, 29, 32,
        30, 31, 33,
    ];
    c.is_ascii_uppercase().then(|| CODES[usize::from(c - b'A')])
}

/// 身分證字號 `^[A-Z][12]\d{8}$`, new resident number `^[A-Z][89]\d{8}$`, and old resident
/// number `^[A-Z][A-D]\d{8}$` (second letter's code mod 10 stands in for the gender digit).
/// Checksum: weights 1,9 on the letter code's digits, 8..1 on the next 8 digits, 1 on the last.
pub fn check_national_id(s: &str) -> Result<(), IdError> {
    let b = s.as_bytes();
    if b.len() != 10 || !b[2..].iter().all(u8::is_ascii_digit) {
        return Err(IdError::Format);
    }
    let first = letter_code(b[0]).ok_or(IdError::Format)?;
    let second = match b[1] {
        b'1' | b'2' | b'8' | b'9' => u32::from(b[1] - b'0'),
        b'A'..=b'D' => letter_code(b[1]).ok_or(IdError::Format)? % 10,
        _ => return Err(IdError::Format),
    };
    let mut digits = [0u32; 9];
    digits[0] = second;
    for (slot, d) in digits[1..].iter_mut().zip(&b[2..]) {
        *slot = u32::from(d - b'0');
    }
    let weighted: u32 = digits[..8]
        .iter()
        .zip((1..=8).rev())
        .map(|(d, w)| d * w)
        .sum();
    let sum = first / 10 + (first % 10) * 9 + weighted + digits[8];
    if sum.is_multiple_of(10) {
        Ok(())
    } else {
        Err(IdError::Checksum)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tax_ids_from_the_design_notes() {
        for ok in ["04595257", "12345675", "12345670"] {
            assert_eq!(check_tax_id(ok), Ok(()), "{ok}");
        }
        assert_eq!(check_tax_id("12345678"), Err(IdError::Checksum));
        assert_eq!(check_tax_id("04595253"), Err(IdError::Checksum));
    }

    #[test]
    fn tax_id_seventh_digit_seven_rule() {
        // 10458574: products 1,0,4,10,8,10,28,4 -> digit sums 1+0+4+1+8+1+10+4 = 29;
        // 29 % 5 != 0 but the 7th digit is 7 and 30 % 5 == 0.
        assert_eq!(check_tax_id("10458574"), Ok(()));
        // 10458594: 7th digit 9 -> 36 -> 9; sum 28, neither rule applies.
        assert_eq!(check_tax_id("10458594"), Err(IdError::Checksum));
    }

    #[test]
    fn tax_id_format() {
        for bad in [
            "",
            "1234567",
            "123456789",
            "1234567a",
            "１２３４５６７５",
            " 12345675",
        ] {
            assert_eq!(check_tax_id(bad), Err(IdError::Format), "{bad:?}");
        }
    }

    #[test]
    fn national_ids_from_the_design_notes() {
        assert_eq!(check_national_id("A123456789"), Ok(()));
        assert_eq!(check_national_id("A123456788"), Err(IdError::Checksum));
        assert_eq!(check_national_id("A800000014"), Ok(()));
        assert_eq!(check_national_id("AA00000009"), Ok(()));
        assert_eq!(check_national_id("AA00000008"), Err(IdError::Checksum));
    }

    #[test]
    fn national_id_format() {
        for bad in [
            "a123456789",
            "A323456789",
            "AE00000009",
            "A12345678",
            "A1234567890",
            "A12345678X",
        ] {
            assert_eq!(check_national_id(bad), Err(IdError::Format), "{bad:?}");
        }
    }

    /// Computes the check digit independently and confirms every letter/second-char
    /// combination agrees with the validator (exactly one of the ten last digits passes).
    #[test]
    fn national_id_exactly_one_check_digit_per_body() {
        for first in b'A'..=b'Z' {
            for second in [b'1', b'2', b'8', b'9', b'A', b'B', b'C', b'D'] {
                let passing = (0..10u8)
                    .filter(|last| {
                        let id = [
                            first,
                            second,
                            b'3',
                            b'1',
                            b'4',
                            b'1',
                            b'5',
                            b'9',
                            b'2',
                            b'0' + last,
                        ];
                        check_national_id(std::str::from_utf8(&id).unwrap()).is_ok()
                    })
                    .count();
                assert_eq!(passing, 1, "{} {}", first as char, second as char);
            }
        }
    }
}
