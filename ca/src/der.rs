//! The DER writer behind every certificate and CRL this CA signs. Hand-written so each
//! emitted byte is visible here and the output is a pure function of the input (signing the
//! same request twice must give the same bytes). Parsing is left to x509-parser.

use time::OffsetDateTime;

use crate::oid::Oid;

pub const BOOLEAN: u8 = 0x01;
pub const INTEGER: u8 = 0x02;
pub const BIT_STRING: u8 = 0x03;
pub const OCTET_STRING: u8 = 0x04;
pub const NULL: u8 = 0x05;
pub const OID: u8 = 0x06;
pub const ENUMERATED: u8 = 0x0a;
pub const UTF8_STRING: u8 = 0x0c;
pub const PRINTABLE_STRING: u8 = 0x13;
pub const UTC_TIME: u8 = 0x17;
pub const GENERALIZED_TIME: u8 = 0x18;
pub const SEQUENCE: u8 = 0x30;
pub const SET: u8 = 0x31;

/// `[n]` constructed, context-specific (EXPLICIT tagging, or IMPLICIT of a constructed type).
pub const fn context(n: u8) -> u8 {
    0xa0 | n
}

/// `[n]` primitive, context-specific (IMPLICIT tagging of a primitive type).
pub const fn context_primitive(n: u8) -> u8 {
    0x80 | n
}

/// One tag-length-value with a definite, minimal length.
pub fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(content.len() + 6);
    out.push(tag);
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|b| **b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
    out.extend_from_slice(content);
    out
}

pub fn sequence(parts: &[&[u8]]) -> Vec<u8> {
    tlv(SEQUENCE, &parts.concat())
}

pub fn set(parts: &[&[u8]]) -> Vec<u8> {
    tlv(SET, &parts.concat())
}

pub fn explicit(n: u8, inner: &[u8]) -> Vec<u8> {
    tlv(context(n), inner)
}

pub fn octet_string(content: &[u8]) -> Vec<u8> {
    tlv(OCTET_STRING, content)
}

pub fn null() -> Vec<u8> {
    tlv(NULL, &[])
}

pub fn boolean(v: bool) -> Vec<u8> {
    tlv(BOOLEAN, &[if v { 0xff } else { 0x00 }])
}

/// `BIT STRING` with no unused bits (keys, signatures).
pub fn bit_string(content: &[u8]) -> Vec<u8> {
    let mut c = Vec::with_capacity(content.len() + 1);
    c.push(0);
    c.extend_from_slice(content);
    tlv(BIT_STRING, &c)
}

/// A named-bit `BIT STRING` (KeyUsage): bit 0 is the most significant bit of the first
/// byte; DER drops trailing zero bits and counts them as unused.
pub fn named_bits(bits: &[u8]) -> Vec<u8> {
    let Some(&highest) = bits.iter().max() else {
        return tlv(BIT_STRING, &[0]);
    };
    let mut bytes = vec![0u8; usize::from(highest / 8) + 1];
    for &b in bits {
        bytes[usize::from(b / 8)] |= 0x80 >> (b % 8);
    }
    let last = bytes[bytes.len() - 1];
    let unused = last.trailing_zeros() as u8;
    let mut c = Vec::with_capacity(bytes.len() + 1);
    c.push(unused);
    c.extend_from_slice(&bytes);
    tlv(BIT_STRING, &c)
}

/// A non-negative INTEGER from big-endian magnitude bytes, in minimal form.
pub fn unsigned(magnitude: &[u8]) -> Vec<u8> {
    let skip = magnitude.iter().take_while(|b| **b == 0).count();
    let digits = &magnitude[skip..];
    let mut c = Vec::with_capacity(digits.len() + 1);
    if digits.first().is_none_or(|b| b & 0x80 != 0) {
        c.push(0);
    }
    c.extend_from_slice(digits);
    tlv(INTEGER, &c)
}

pub fn uint(n: u64) -> Vec<u8> {
    unsigned(&n.to_be_bytes())
}

pub fn enumerated(n: u8) -> Vec<u8> {
    tlv(ENUMERATED, &[n])
}

pub fn oid(arcs: Oid) -> Vec<u8> {
    let mut c = Vec::with_capacity(arcs.len() * 2);
    let (first, rest) = match arcs {
        [a, b, rest @ ..] => (a * 40 + b, rest),
        [a] => (a * 40, &[][..]),
        [] => (0, &[][..]),
    };
    push_base128(&mut c, first);
    for &arc in rest {
        push_base128(&mut c, arc);
    }
    tlv(OID, &c)
}

fn push_base128(out: &mut Vec<u8>, mut v: u32) {
    let mut tmp = [0u8; 5];
    let mut i = tmp.len();
    loop {
        i -= 1;
        tmp[i] = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            break;
        }
    }
    let last = tmp.len() - 1;
    for (j, b) in tmp.iter().enumerate().skip(i) {
        out.push(if j == last { *b } else { b | 0x80 });
    }
}

/// `AlgorithmIdentifier` with NULL parameters (the RSA family).
pub fn algorithm_null(alg: Oid) -> Vec<u8> {
    sequence(&[&oid(alg), &null()])
}

/// `AlgorithmIdentifier` with absent parameters (the ECDSA family).
pub fn algorithm_bare(alg: Oid) -> Vec<u8> {
    sequence(&[&oid(alg)])
}

/// RFC 5280 `Time`: UTCTime through 2049, GeneralizedTime from 2050, whole seconds in UTC.
pub fn time(t: OffsetDateTime) -> Result<Vec<u8>, &'static str> {
    let t = t.to_offset(time::UtcOffset::UTC);
    let year = t.year();
    let rest = format!(
        "{:02}{:02}{:02}{:02}{:02}Z",
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    );
    if (1950..2050).contains(&year) {
        Ok(tlv(UTC_TIME, format!("{:02}{rest}", year % 100).as_bytes()))
    } else if (0..=9999).contains(&year) {
        Ok(tlv(GENERALIZED_TIME, format!("{year:04}{rest}").as_bytes()))
    } else {
        Err("date outside the years 0000-9999")
    }
}

/// An `Extension`; `critical` FALSE is the DEFAULT and therefore left out.
pub fn extension(id: Oid, critical: bool, value: &[u8]) -> Vec<u8> {
    if critical {
        sequence(&[&oid(id), &boolean(true), &octet_string(value)])
    } else {
        sequence(&[&oid(id), &octet_string(value)])
    }
}

/// One DER element split off the front of `input`: (tag, content, rest). Definite minimal
/// lengths only; enough for the few structures read here (RSAPublicKey).
pub fn read(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n || rest[0] == 0 {
            return None;
        }
        let len = rest[..n]
            .iter()
            .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
        if len < 0x80 {
            return None;
        }
        (len, &rest[n..])
    };
    if rest.len() < len {
        return None;
    }
    Some((tag, &rest[..len], &rest[len..]))
}

/// The magnitude of a positive, minimally encoded INTEGER's content.
pub fn positive_integer(content: &[u8]) -> Option<&[u8]> {
    match content {
        [] => None,
        [0] => Some(&[]),
        [0, next, ..] if next & 0x80 == 0 => None,
        [0, rest @ ..] => Some(rest),
        [first, ..] if first & 0x80 != 0 => None,
        all => Some(all),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn lengths_use_the_short_and_long_forms() {
        assert_eq!(tlv(OCTET_STRING, &[1, 2]), vec![0x04, 0x02, 1, 2]);
        let long = tlv(OCTET_STRING, &[0u8; 200]);
        assert_eq!(&long[..3], &[0x04, 0x81, 200]);
        let longer = tlv(OCTET_STRING, &[0u8; 300]);
        assert_eq!(&longer[..4], &[0x04, 0x82, 0x01, 0x2c]);
    }

    #[test]
    fn integers_are_minimal_and_positive() {
        assert_eq!(uint(0), vec![0x02, 0x01, 0x00]);
        assert_eq!(uint(127), vec![0x02, 0x01, 0x7f]);
        assert_eq!(uint(128), vec![0x02, 0x02, 0x00, 0x80]);
        assert_eq!(unsigned(&[0, 0, 0x12, 0x34]), vec![0x02, 0x02, 0x12, 0x34]);
        assert_eq!(unsigned(&[0xff]), vec![0x02, 0x02, 0x00, 0xff]);
    }

    #[test]
    fn oids_encode_like_openssl() {
        // 1.2.840.113549.1.1.11 = sha256WithRSAEncryption
        assert_eq!(
            oid(&[1, 2, 840, 113549, 1, 1, 11]),
            vec![
                0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b
            ]
        );
        assert_eq!(oid(&[2, 5, 29, 19]), vec![0x06, 0x03, 0x55, 0x1d, 0x13]);
    }

    #[test]
    fn key_usage_bits_drop_trailing_zeros() {
        // digitalSignature + nonRepudiation
        assert_eq!(named_bits(&[0, 1]), vec![0x03, 0x02, 0x06, 0xc0]);
        // keyCertSign + cRLSign
        assert_eq!(named_bits(&[5, 6]), vec![0x03, 0x02, 0x01, 0x06]);
    }

    #[test]
    fn reader_takes_minimal_definite_lengths_only() {
        let long = tlv(OCTET_STRING, &[7u8; 300]);
        let (tag, content, rest) = read(&long).unwrap();
        assert_eq!((tag, content.len(), rest.len()), (OCTET_STRING, 300, 0));
        // Long form for a short length, indefinite length, truncated content.
        assert_eq!(read(&[0x04, 0x81, 0x05, 1, 2, 3, 4, 5]), None);
        assert_eq!(read(&[0x30, 0x80, 0, 0]), None);
        assert_eq!(read(&[0x04, 0x03, 1, 2]), None);
        assert_eq!(positive_integer(&[0x00, 0x80]), Some(&[0x80u8][..]));
        assert_eq!(positive_integer(&[0x00, 0x7f]), None);
        assert_eq!(positive_integer(&[0x80]), None);
        assert_eq!(positive_integer(&[0x01, 0x00]), Some(&[1u8, 0][..]));
    }

    #[test]
    fn times_switch_to_generalized_in_2050() {
        assert_eq!(
            time(datetime!(2049-12-31 23:59:59 UTC)).unwrap(),
            tlv(UTC_TIME, b"491231235959Z")
        );
        assert_eq!(
            time(datetime!(2050-01-01 00:00:00 UTC)).unwrap(),
            tlv(GENERALIZED_TIME, b"20500101000000Z")
        );
        // Offsets are converted to UTC; sub-second precision is dropped.
        assert_eq!(
            time(datetime!(2026-03-01 08:00:00.75 +08:00)).unwrap(),
            tlv(UTC_TIME, b"260301000000Z")
        );
    }
}
