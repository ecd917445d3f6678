//! Just enough DER to write a CSR and a PKCS#12 file and to find the public key in a
//! certificate. Hand-written instead of a generic ASN.1 crate so the wasm stays small and
//! every byte we emit is visible here.

use crate::error::KeygenError;

pub const SEQUENCE: u8 = 0x30;
pub const SET: u8 = 0x31;
pub const INTEGER: u8 = 0x02;
pub const BIT_STRING: u8 = 0x03;
pub const OCTET_STRING: u8 = 0x04;
pub const NULL: u8 = 0x05;
pub const OID: u8 = 0x06;
pub const UTF8_STRING: u8 = 0x0c;
pub const PRINTABLE_STRING: u8 = 0x13;
pub const BMP_STRING: u8 = 0x1e;

/// `[n]` constructed, context-specific (EXPLICIT tagging and constructed IMPLICIT).
pub const fn context(n: u8) -> u8 {
    0xa0 | n
}

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

/// An object identifier written as its dotted arcs. Only used with constants from
/// [`crate::oid`], so an invalid input is a programming error caught by the unit tests.
pub fn oid(arcs: &[u32]) -> Vec<u8> {
    let mut c = Vec::with_capacity(arcs.len() * 2);
    if arcs.len() >= 2 {
        push_base128(&mut c, arcs[0] * 40 + arcs[1]);
    }
    for arc in arcs.iter().skip(2) {
        push_base128(&mut c, *arc);
    }
    tlv(OID, &c)
}

fn push_base128(out: &mut Vec<u8>, mut v: u32) {
    let mut tmp = [0u8; 5];
    let mut i = tmp.len();
    loop {
        i -= 1;
        tmp[i] = (v & 0x7f) as u8 | if i == tmp.len() - 1 { 0 } else { 0x80 };
        v >>= 7;
        if v == 0 {
            break;
        }
    }
    out.extend_from_slice(&tmp[i..]);
}

/// `AlgorithmIdentifier { oid, params }`; `params: None` omits the field.
pub fn algorithm(arcs: &[u32], params: Option<&[u8]>) -> Vec<u8> {
    match params {
        Some(p) => sequence(&[&oid(arcs), p]),
        None => sequence(&[&oid(arcs)]),
    }
}

/// One decoded element: its tag, its content and its whole encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Element<'a> {
    pub tag: u8,
    pub content: &'a [u8],
    pub raw: &'a [u8],
}

/// A strict reader over concatenated DER elements (definite lengths, minimal length
/// encoding, single-byte tags), failing with `make_err` on anything else.
pub struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
    make_err: fn(&'static str) -> KeygenError,
}

impl<'a> Reader<'a> {
    pub fn new(data: &'a [u8], make_err: fn(&'static str) -> KeygenError) -> Self {
        Reader {
            data,
            pos: 0,
            make_err,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.pos >= self.data.len()
    }

    pub fn peek_tag(&self) -> Option<u8> {
        self.data.get(self.pos).copied()
    }

    fn err(&self, why: &'static str) -> KeygenError {
        (self.make_err)(why)
    }

    pub fn read(&mut self) -> Result<Element<'a>, KeygenError> {
        let start = self.pos;
        let rest = &self.data[start..];
        let (&tag, rest) = rest.split_first().ok_or_else(|| self.err("truncated"))?;
        if tag & 0x1f == 0x1f {
            return Err(self.err("multi-byte tag"));
        }
        let (&first, rest) = rest.split_first().ok_or_else(|| self.err("truncated"))?;
        let (len, header) = if first < 0x80 {
            (first as usize, 2)
        } else {
            let n = (first & 0x7f) as usize;
            if n == 0 || n > 4 {
                return Err(self.err("unsupported length"));
            }
            let bytes = rest.get(..n).ok_or_else(|| self.err("truncated"))?;
            if bytes[0] == 0 {
                return Err(self.err("non-minimal length"));
            }
            let len = bytes.iter().fold(0usize, |acc, b| (acc << 8) | *b as usize);
            if len < 0x80 {
                return Err(self.err("non-minimal length"));
            }
            (len, 2 + n)
        };
        let end = start
            .checked_add(header)
            .and_then(|h| h.checked_add(len))
            .ok_or_else(|| self.err("truncated"))?;
        if end > self.data.len() {
            return Err(self.err("truncated"));
        }
        self.pos = end;
        Ok(Element {
            tag,
            content: &self.data[start + header..end],
            raw: &self.data[start..end],
        })
    }

    /// Reads one element and checks its tag.
    pub fn expect(&mut self, tag: u8) -> Result<Element<'a>, KeygenError> {
        let e = self.read()?;
        if e.tag == tag {
            Ok(e)
        } else {
            Err(self.err("unexpected tag"))
        }
    }

    /// Fails unless everything was consumed.
    pub fn finish(&self) -> Result<(), KeygenError> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(self.err("trailing data"))
        }
    }
}

/// Parses `input` as exactly one element with `tag`.
pub fn single(
    input: &[u8],
    tag: u8,
    make_err: fn(&'static str) -> KeygenError,
) -> Result<Element<'_>, KeygenError> {
    let mut r = Reader::new(input, make_err);
    let e = r.expect(tag)?;
    r.finish()?;
    Ok(e)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bad(why: &'static str) -> KeygenError {
        KeygenError::BadCertificate(why.into())
    }

    #[test]
    fn lengths_short_and_long() {
        assert_eq!(tlv(OCTET_STRING, &[1, 2]), vec![4, 2, 1, 2]);
        let long = tlv(OCTET_STRING, &[0; 200]);
        assert_eq!(&long[..3], &[4, 0x81, 200]);
        let longer = tlv(OCTET_STRING, &[0; 300]);
        assert_eq!(&longer[..4], &[4, 0x82, 1, 44]);
        let mut r = Reader::new(&longer, bad);
        assert_eq!(r.read().unwrap().content.len(), 300);
        r.finish().unwrap();
    }

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
        // rsaEncryption
        assert_eq!(
            oid(&[1, 2, 840, 113549, 1, 1, 1]),
            vec![6, 9, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 1, 1, 1]
        );
        // prime256v1
        assert_eq!(
            oid(&[1, 2, 840, 10045, 3, 1, 7]),
            vec![6, 8, 0x2a, 0x86, 0x48, 0xce, 0x3d, 3, 1, 7]
        );
        // countryName
        assert_eq!(oid(&[2, 5, 4, 6]), vec![6, 3, 0x55, 4, 6]);
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

    #[test]
    fn reader_rejects_malformed_input() {
        for (input, why) in [
            (&[][..], "truncated"),
            (&[0x30][..], "truncated"),
            (&[0x30, 3, 1][..], "truncated"),
            (&[0x1f, 0][..], "multi-byte tag"),
            (&[0x30, 0x80][..], "unsupported length"),
            (&[0x30, 0x81, 5, 0, 0, 0, 0, 0][..], "non-minimal length"),
            (&[0x30, 0x82, 0, 0x90][..], "non-minimal length"),
            (&[0x30, 0x85, 1, 1, 1, 1, 1][..], "unsupported length"),
        ] {
            let mut r = Reader::new(input, bad);
            assert_eq!(r.read(), Err(bad(why)), "{input:?}");
        }
        assert_eq!(single(&[4, 0, 5, 0], 4, bad), Err(bad("trailing data")));
        assert_eq!(single(&[5, 0], 4, bad), Err(bad("unexpected tag")));
        assert_eq!(single(&[5, 0], 5, bad).unwrap().raw, &[5, 0]);
    }
}
