//! Minimal DER writing for hand-built test CSRs (kept apart from the crate's own writer so
//! the tests do not reuse the code under test).

pub fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else if len < 0x100 {
        out.extend_from_slice(&[0x81, len as u8]);
    } else {
        out.extend_from_slice(&[0x82, (len >> 8) as u8, len as u8]);
    }
    out.extend_from_slice(content);
    out
}

pub fn seq(parts: &[&[u8]]) -> Vec<u8> {
    tlv(0x30, &parts.concat())
}

pub fn uint_bytes(magnitude: &[u8]) -> Vec<u8> {
    let mut c: Vec<u8> = magnitude.iter().copied().skip_while(|b| *b == 0).collect();
    if c.first().is_none_or(|b| b & 0x80 != 0) {
        c.insert(0, 0);
    }
    tlv(0x02, &c)
}

pub fn bit_string(content: &[u8]) -> Vec<u8> {
    let mut c = vec![0];
    c.extend_from_slice(content);
    tlv(0x03, &c)
}

/// rsaEncryption AlgorithmIdentifier with NULL.
pub const RSA_ENCRYPTION_ALG: [u8; 15] = [
    0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00,
];

/// sha256WithRSAEncryption AlgorithmIdentifier with NULL.
pub const SHA256_WITH_RSA_ALG: [u8; 15] = [
    0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b, 0x05, 0x00,
];

/// Position of `needle` in `haystack`.
pub fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}
