//! A strict DER reader (definite lengths, minimal length encoding, single-byte tags) over
//! which PKCS#8 keys, SubjectPublicKeyInfos, certificates and the CSR's info are read.
//!
//! Everything this crate writes goes through the RustCrypto crates (`der`, `spki`, `pkcs8`,
//! `pkcs12`). Reading stays here: the `der` decoders of the same structures (`pkcs8`'s
//! `PrivateKeyInfo`, `spki`, derived RSA and EC key structures, the certificate walk) took
//! the wasm from 209,714 to 221,259 bytes gzip, past its 210 KiB budget (README.md), and a
//! reader that only walks tag-length-value needs nothing more than this file.

use crate::error::KeygenError;

pub const SEQUENCE: u8 = 0x30;
pub const INTEGER: u8 = 0x02;
pub const BIT_STRING: u8 = 0x03;
pub const OCTET_STRING: u8 = 0x04;
pub const OID: u8 = 0x06;

/// `[n]` constructed, context-specific (EXPLICIT tagging and constructed IMPLICIT).
pub const fn context(n: u8) -> u8 {
    0xa0 | n
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
    use crate::testder::tlv;

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
