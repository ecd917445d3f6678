//! PEM (RFC 7468) and the base64 under it.

use crate::error::KeygenError;

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

pub fn base64_encode(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for (i, shift) in [18, 12, 6, 0].into_iter().enumerate() {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> shift) as usize & 63] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Decodes standard base64, ignoring ASCII whitespace. `None` on any other deviation.
pub fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let symbols: Vec<u8> = text.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    if !symbols.len().is_multiple_of(4) {
        return None;
    }
    let mut out = Vec::with_capacity(symbols.len() / 4 * 3);
    let last = symbols.len() / 4;
    for (idx, quad) in symbols.chunks(4).enumerate() {
        let pad = quad.iter().rev().take_while(|b| **b == b'=').count();
        if pad > 2 || (pad > 0 && idx + 1 != last) {
            return None;
        }
        let mut n = 0u32;
        for &s in &quad[..4 - pad] {
            let v = ALPHABET.iter().position(|a| *a == s)? as u32;
            n = (n << 6) | v;
        }
        n <<= 6 * pad as u32;
        let bytes = n.to_be_bytes();
        out.extend_from_slice(&bytes[1..4 - pad]);
    }
    Some(out)
}

/// Wraps DER in PEM armour with 64-column lines.
pub fn encode(label: &str, der: &[u8]) -> String {
    let b64 = base64_encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(line));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// Every `label` block in `text`, decoded, in order. Text outside the blocks is ignored
/// (OpenSSL writes "Bag Attributes" and similar before blocks).
pub fn decode_all(text: &str, label: &str) -> Result<Vec<Vec<u8>>, KeygenError> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let mut blocks = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find(&begin) {
        let after = &rest[start + begin.len()..];
        let stop = after
            .find(&end)
            .ok_or_else(|| KeygenError::bad_certificate("PEM block without END line"))?;
        let der = base64_decode(&after[..stop])
            .ok_or_else(|| KeygenError::bad_certificate("PEM block is not valid base64"))?;
        blocks.push(der);
        rest = &after[stop + end.len()..];
    }
    Ok(blocks)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_round_trips_every_tail_length() {
        for len in 0..10 {
            let data: Vec<u8> = (0..len).map(|i| (i * 37 + 11) as u8).collect();
            let text = base64_encode(&data);
            assert_eq!(base64_decode(&text), Some(data), "len {len}");
        }
        assert_eq!(base64_encode(b"foobar"), "Zm9vYmFy");
        assert_eq!(base64_encode(b"fo"), "Zm8=");
        assert_eq!(base64_decode("Zm9v\r\nYmE="), Some(b"fooba".to_vec()));
    }

    #[test]
    fn base64_rejects_garbage() {
        for bad in ["Zm9", "Zm9v!", "Zg==Zm9v", "Z===", "Zm-v"] {
            assert_eq!(base64_decode(bad), None, "{bad}");
        }
    }

    #[test]
    fn pem_wraps_at_64_columns_and_decodes_all_blocks() {
        let der = vec![7u8; 100];
        let pem = encode("CERTIFICATE", &der);
        assert!(pem.starts_with("-----BEGIN CERTIFICATE-----\n"));
        assert!(pem.ends_with("-----END CERTIFICATE-----\n"));
        assert!(pem.lines().all(|l| l.len() <= 64));
        let two = format!("Bag Attributes\n{pem}junk\n{}", encode("CERTIFICATE", &[1]));
        assert_eq!(decode_all(&two, "CERTIFICATE").unwrap(), vec![der, vec![1]]);
        assert!(
            decode_all("nothing here", "CERTIFICATE")
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn pem_rejects_broken_blocks() {
        assert_eq!(
            decode_all("-----BEGIN CERTIFICATE-----\nAAAA\n", "CERTIFICATE"),
            Err(KeygenError::bad_certificate("PEM block without END line"))
        );
        assert_eq!(
            decode_all(
                "-----BEGIN CERTIFICATE-----\n@@@@\n-----END CERTIFICATE-----",
                "CERTIFICATE"
            ),
            Err(KeygenError::bad_certificate(
                "PEM block is not valid base64"
            ))
        );
    }
}
