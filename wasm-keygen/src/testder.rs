//! Test-only DER writer: the crate's former hand-written encoder (the library now writes
//! with the `der` crate and the types built on it). The tests use it to build inputs,
//! malformed ones included, and read what the library writes with `crate::reader`.

pub use crate::reader::{
    BIT_STRING, Element, INTEGER, OCTET_STRING, OID, Reader, SEQUENCE, context, single,
};

pub const SET: u8 = 0x31;
pub const NULL: u8 = 0x05;
pub const UTF8_STRING: u8 = 0x0c;
pub const PRINTABLE_STRING: u8 = 0x13;
pub const BMP_STRING: u8 = 0x1e;

/// `[n]` primitive, context-specific (IMPLICIT tagging of a primitive type).
pub const fn context_primitive(n: u8) -> u8 {
    0x80 | n
}

/// One tag-length-value.
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

/// A constructed value made of already encoded parts.
pub fn cons(tag: u8, parts: &[&[u8]]) -> Vec<u8> {
    tlv(tag, &parts.concat())
}

pub fn sequence(parts: &[&[u8]]) -> Vec<u8> {
    cons(SEQUENCE, parts)
}

/// `SET OF`: DER wants the elements sorted by their encodings.
pub fn set_of(mut elements: Vec<Vec<u8>>) -> Vec<u8> {
    elements.sort();
    tlv(SET, &elements.concat())
}

pub fn octet_string(content: &[u8]) -> Vec<u8> {
    tlv(OCTET_STRING, content)
}

pub fn null() -> Vec<u8> {
    tlv(NULL, &[])
}

/// `BIT STRING` with no unused bits.
pub fn bit_string(content: &[u8]) -> Vec<u8> {
    let mut c = Vec::with_capacity(content.len() + 1);
    c.push(0);
    c.extend_from_slice(content);
    tlv(BIT_STRING, &c)
}

/// A non-negative INTEGER in minimal form.
pub fn uint(n: u64) -> Vec<u8> {
    let bytes = n.to_be_bytes();
    let skip = bytes.iter().take_while(|b| **b == 0).count().min(7);
    let mut c = Vec::with_capacity(9);
    if bytes[skip] & 0x80 != 0 {
        c.push(0);
    }
    c.extend_from_slice(&bytes[skip..]);
    tlv(INTEGER, &c)
}

/// `BMPString`: UTF-16 big-endian (PKCS#12 friendlyName).
pub fn bmp_string(s: &str) -> Vec<u8> {
    let c: Vec<u8> = s.encode_utf16().flat_map(u16::to_be_bytes).collect();
    tlv(BMP_STRING, &c)
}

/// An object identifier's DER encoding.
pub fn oid(o: &crate::oid::Oid) -> Vec<u8> {
    use ::der::Encode;
    o.to_der().unwrap()
}

/// An object identifier from its dotted form (for OIDs the crate does not name).
pub fn arcs(dotted: &str) -> crate::oid::Oid {
    crate::oid::Oid::new_unwrap(dotted)
}

/// `AlgorithmIdentifier { oid, params }`; `params: None` omits the field.
pub fn algorithm(o: crate::oid::Oid, params: Option<&[u8]>) -> Vec<u8> {
    match params {
        Some(p) => sequence(&[&oid(&o), p]),
        None => sequence(&[&oid(&o)]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_are_minimal_and_positive() {
        assert_eq!(uint(0), vec![2, 1, 0]);
        assert_eq!(uint(3), vec![2, 1, 3]);
        assert_eq!(uint(128), vec![2, 2, 0, 128]);
        assert_eq!(uint(2048), vec![2, 2, 8, 0]);
        assert_eq!(uint(u64::MAX).len(), 11);
    }

    #[test]
    fn oids_match_known_encodings() {
        use crate::oid;
        assert_eq!(
            super::oid(&oid::RSA_ENCRYPTION),
            vec![6, 9, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 1, 1, 1]
        );
        assert_eq!(
            super::oid(&oid::PRIME256V1),
            vec![6, 8, 0x2a, 0x86, 0x48, 0xce, 0x3d, 3, 1, 7]
        );
        assert_eq!(super::oid(&oid::COUNTRY), vec![6, 3, 0x55, 4, 6]);
    }

    #[test]
    fn set_of_sorts_elements() {
        let s = set_of(vec![vec![4, 1, 9], vec![4, 1, 1]]);
        assert_eq!(s, vec![0x31, 6, 4, 1, 1, 4, 1, 9]);
    }

    #[test]
    fn bmp_string_is_utf16_be() {
        assert_eq!(bmp_string("A台"), vec![0x1e, 4, 0, 0x41, 0x53, 0xf0]);
    }
}
