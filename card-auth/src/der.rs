//! A minimal DER reader for the one structure x509-parser does not decode for us:
//! subjectDirectoryAttributes (`SEQUENCE OF Attribute`). Definite lengths only, as DER
//! requires.

pub(crate) const TAG_SEQUENCE: u8 = 0x30;
pub(crate) const TAG_SET: u8 = 0x31;
pub(crate) const TAG_OID: u8 = 0x06;
pub(crate) const TAG_UTF8_STRING: u8 = 0x0C;
pub(crate) const TAG_PRINTABLE_STRING: u8 = 0x13;
pub(crate) const TAG_IA5_STRING: u8 = 0x16;
pub(crate) const TAG_NUMERIC_STRING: u8 = 0x12;
pub(crate) const TAG_BMP_STRING: u8 = 0x1E;

/// One tag-length-value element; `value` is the content octets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Tlv<'a> {
    pub tag: u8,
    pub value: &'a [u8],
}

/// Splits the first element off `input`. Multi-byte tags and indefinite lengths are not
/// DER for the structures we read, so they are refused.
pub(crate) fn read_tlv(input: &[u8]) -> Option<(Tlv<'_>, &[u8])> {
    let (&tag, rest) = input.split_first()?;
    if tag & 0x1F == 0x1F {
        return None;
    }
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7F);
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let len = rest[..n]
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
        (len, &rest[n..])
    };
    if rest.len() < len {
        return None;
    }
    let (value, rest) = rest.split_at(len);
    Some((Tlv { tag, value }, rest))
}

/// All elements of a constructed value, in order; `None` if any is malformed.
pub(crate) fn read_all(mut input: &[u8]) -> Option<Vec<Tlv<'_>>> {
    let mut out = Vec::new();
    while !input.is_empty() {
        let (tlv, rest) = read_tlv(input)?;
        out.push(tlv);
        input = rest;
    }
    Some(out)
}

/// Dotted form of an OBJECT IDENTIFIER's content octets.
pub(crate) fn oid_to_string(content: &[u8]) -> Option<String> {
    let mut subids = Vec::new();
    let mut acc: u64 = 0;
    let mut pending = false;
    for &b in content {
        acc = acc.checked_mul(128)? | u64::from(b & 0x7F);
        pending = b & 0x80 != 0;
        if !pending {
            subids.push(acc);
            acc = 0;
        }
    }
    if pending || subids.is_empty() {
        return None;
    }
    // The first subidentifier packs two arcs: 40 * first + second (first ≤ 2).
    let first = (subids[0] / 40).min(2);
    let mut parts = vec![first, subids[0] - first * 40];
    parts.extend_from_slice(&subids[1..]);
    Some(
        parts
            .iter()
            .map(u64::to_string)
            .collect::<Vec<_>>()
            .join("."),
    )
}

/// The text of a directory string (the string types certificates use).
pub(crate) fn directory_string(tlv: &Tlv<'_>) -> Option<String> {
    match tlv.tag {
        TAG_UTF8_STRING | TAG_PRINTABLE_STRING | TAG_IA5_STRING | TAG_NUMERIC_STRING => {
            std::str::from_utf8(tlv.value).ok().map(str::to_owned)
        }
        TAG_BMP_STRING => {
            if !tlv.value.len().is_multiple_of(2) {
                return None;
            }
            let units: Vec<u16> = tlv
                .value
                .chunks_exact(2)
                .map(|c| u16::from_be_bytes([c[0], c[1]]))
                .collect();
            String::from_utf16(&units).ok()
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_short_and_long_lengths() {
        let mut long = vec![0x04, 0x81, 0x80];
        long.extend([7u8; 0x80]);
        long.push(0x05);
        long.push(0x00);
        let (tlv, rest) = read_tlv(&long).unwrap();
        assert_eq!(tlv.tag, 0x04);
        assert_eq!(tlv.value.len(), 0x80);
        assert_eq!(rest, &[0x05, 0x00]);
    }

    #[test]
    fn refuses_truncated_and_indefinite() {
        assert!(read_tlv(&[0x30, 0x05, 0x01]).is_none());
        assert!(read_tlv(&[0x30, 0x80, 0x00, 0x00]).is_none());
        assert!(read_tlv(&[0x1F, 0x01, 0x00]).is_none());
        assert!(read_all(&[0x30, 0x00, 0x30]).is_none());
    }

    #[test]
    fn oid_round_trip() {
        // 2.16.886.1.100.2.101
        let content = [0x60, 0x86, 0x76, 0x01, 0x64, 0x02, 0x65];
        assert_eq!(oid_to_string(&content).unwrap(), "2.16.886.1.100.2.101");
        assert_eq!(
            oid_to_string(&[0x55, 0x1D, 0x09]).unwrap(),
            "2.5.29.9".to_string()
        );
        assert!(oid_to_string(&[0x55, 0x86]).is_none());
    }

    #[test]
    fn bmp_and_utf8_strings() {
        let bmp = Tlv {
            tag: TAG_BMP_STRING,
            value: &[0x5E, 0x73, 0x00, 0x41],
        };
        assert_eq!(directory_string(&bmp).unwrap(), "平A");
        let utf8 = Tlv {
            tag: TAG_UTF8_STRING,
            value: "測試".as_bytes(),
        };
        assert_eq!(directory_string(&utf8).unwrap(), "測試");
        let int = Tlv {
            tag: 0x02,
            value: &[1],
        };
        assert!(directory_string(&int).is_none());
    }
}
