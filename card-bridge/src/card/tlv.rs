//! BER-TLV as PIV uses it: multi-byte tags (`5F C1 05`), lengths up to `82 xx xx`.
//!
//! Own code, not the `der` crate, on purpose: these are ISO 7816-4 / SP 800-73 data objects
//! inside APDUs, not DER-encoded ASN.1. Cards answer with BER (non-minimal lengths such as
//! `82 00 10` occur) and PIV puts proprietary tags in data objects, which a DER decoder
//! must refuse; the certificate inside (tag `70`) is handed on as bytes and read with
//! `x509-parser`/`card-auth`.

use super::CardError;

/// Encodes one element; `tag` is the full tag bytes.
pub fn encode(tag: &[u8], value: &[u8]) -> Vec<u8> {
    let mut out = tag.to_vec();
    let n = value.len();
    if n < 0x80 {
        out.push(n as u8);
    } else if n < 0x100 {
        out.extend([0x81, n as u8]);
    } else {
        out.extend([0x82, (n >> 8) as u8, n as u8]);
    }
    out.extend_from_slice(value);
    out
}

/// One element: full tag bytes and the value.
pub type Element<'a> = (Vec<u8>, &'a [u8]);

/// Parses a flat list of elements.
pub fn parse(mut input: &[u8]) -> Result<Vec<Element<'_>>, CardError> {
    let bad = |what: &str| CardError::Card(format!("malformed TLV: {what}"));
    let mut out = Vec::new();
    while !input.is_empty() {
        let mut i = 0;
        let first = input[i];
        i += 1;
        if first & 0x1F == 0x1F {
            loop {
                let b = *input.get(i).ok_or_else(|| bad("truncated tag"))?;
                i += 1;
                if b & 0x80 == 0 {
                    break;
                }
            }
        }
        let tag = input[..i].to_vec();
        let l0 = *input.get(i).ok_or_else(|| bad("missing length"))?;
        i += 1;
        let len = if l0 < 0x80 {
            usize::from(l0)
        } else {
            let n = usize::from(l0 & 0x7F);
            if n == 0 || n > 3 {
                return Err(bad("unsupported length form"));
            }
            let bytes = input.get(i..i + n).ok_or_else(|| bad("truncated length"))?;
            i += n;
            bytes
                .iter()
                .fold(0usize, |acc, b| (acc << 8) | usize::from(*b))
        };
        let value = input
            .get(i..i + len)
            .ok_or_else(|| bad("truncated value"))?;
        out.push((tag, value));
        input = &input[i + len..];
    }
    Ok(out)
}

/// The value of the first element with `tag`.
pub fn find<'a>(input: &'a [u8], tag: &[u8]) -> Result<Option<&'a [u8]>, CardError> {
    Ok(parse(input)?
        .into_iter()
        .find(|(t, _)| t == tag)
        .map(|(_, v)| v))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_with_long_lengths_and_multibyte_tags() {
        let big = vec![0xAB; 300];
        let mid = vec![0xCD; 200];
        let buf = [
            encode(&[0x5F, 0xC1, 0x05], &big),
            encode(&[0x71], &mid),
            encode(&[0xFE], &[]),
        ]
        .concat();
        assert_eq!(&buf[..6], &[0x5F, 0xC1, 0x05, 0x82, 0x01, 0x2C]);
        let items = parse(&buf).unwrap();
        assert_eq!(items.len(), 3);
        assert_eq!(items[0].0, vec![0x5F, 0xC1, 0x05]);
        assert_eq!(items[0].1, big.as_slice());
        assert_eq!(items[1].1, mid.as_slice());
        assert_eq!(find(&buf, &[0xFE]).unwrap(), Some(&[][..]));
        assert_eq!(find(&buf, &[0x70]).unwrap(), None);
    }

    #[test]
    fn truncated_input_is_an_error() {
        assert!(parse(&[0x53, 0x05, 0x01]).is_err());
        assert!(parse(&[0x5F]).is_err());
        assert!(parse(&[0x53, 0x82, 0x01]).is_err());
        assert!(parse(&[0x53, 0x80]).is_err());
    }
}
