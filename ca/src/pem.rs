//! PEM in and out. Reading goes through x509-parser's lenient reader (it skips text around
//! the block, as in files exported by `openssl pkcs12`); writing is RFC 7468 with 64-column
//! lines and LF endings.

use x509_parser::pem::Pem;
use zeroize::Zeroizing;

use crate::CsrError;

/// PEM (`CERTIFICATE REQUEST` or `NEW CERTIFICATE REQUEST`) to DER.
pub fn csr_pem_to_der(pem: &str) -> Result<Vec<u8>, CsrError> {
    for block in Pem::iter_from_buffer(pem.as_bytes()) {
        let block = block.map_err(|e| CsrError::Parse(format!("PEM: {e}")))?;
        if block.label == "CERTIFICATE REQUEST" || block.label == "NEW CERTIFICATE REQUEST" {
            return Ok(block.contents);
        }
    }
    Err(CsrError::Parse(
        "no -----BEGIN CERTIFICATE REQUEST----- block".into(),
    ))
}

/// DER certificate to PEM.
pub fn cert_der_to_pem(der: &[u8]) -> String {
    encode("CERTIFICATE", der)
}

/// An RFC 7468 block.
pub fn encode(label: &str, der: &[u8]) -> String {
    let mut out = String::with_capacity(encoded_len(label, der));
    write_block(&mut out, label, der);
    out
}

/// [`encode`] for key material: written straight into one buffer of the final size, so no
/// intermediate copy is left behind when it is wiped.
pub fn encode_secret(label: &str, der: &[u8]) -> Zeroizing<String> {
    let mut out = Zeroizing::new(String::with_capacity(encoded_len(label, der)));
    write_block(&mut out, label, der);
    out
}

fn encoded_len(label: &str, der: &[u8]) -> usize {
    let b64 = der.len().div_ceil(3) * 4;
    b64 + b64.div_ceil(64) + 2 * label.len() + 2 * "-----BEGIN -----\n".len()
}

fn write_block(out: &mut String, label: &str, der: &[u8]) {
    out.push_str("-----BEGIN ");
    out.push_str(label);
    out.push_str("-----\n");
    for line in der.chunks(48) {
        push_base64(out, line);
        out.push('\n');
    }
    out.push_str("-----END ");
    out.push_str(label);
    out.push_str("-----\n");
}

/// The first block with one of `labels`, as (label, DER).
pub fn decode_first(text: &str, labels: &[&str]) -> Result<(String, Zeroizing<Vec<u8>>), String> {
    for block in Pem::iter_from_buffer(text.as_bytes()) {
        let block = block.map_err(|e| format!("PEM: {e}"))?;
        if labels.contains(&block.label.as_str()) {
            return Ok((block.label, Zeroizing::new(block.contents)));
        }
    }
    Err(format!("no PEM block labelled {}", labels.join(" or ")))
}

/// Appends standard base64 (RFC 4648, padded).
fn push_base64(out: &mut String, data: &[u8]) {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        let sextets = [n >> 18, n >> 12, n >> 6, n];
        for (i, s) in sextets.iter().enumerate() {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(s & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc4648_vectors() {
        let cases: [(&[u8], &str); 7] = [
            (b"", ""),
            (b"f", "Zg=="),
            (b"fo", "Zm8="),
            (b"foo", "Zm9v"),
            (b"foob", "Zm9vYg=="),
            (b"fooba", "Zm9vYmE="),
            (b"foobar", "Zm9vYmFy"),
        ];
        for (input, want) in cases {
            let mut out = String::new();
            push_base64(&mut out, input);
            assert_eq!(out, want);
        }
    }

    #[test]
    fn pem_round_trips_through_the_reader() {
        let der: Vec<u8> = (0..=255u8).cycle().take(1000).collect();
        let pem = encode("CERTIFICATE REQUEST", &der);
        assert!(pem.lines().all(|l| l.len() <= 64));
        assert!(
            pem.lines()
                .filter(|l| !l.starts_with("-----"))
                .rev()
                .skip(1)
                .all(|l| l.len() == 64)
        );
        // The buffer was sized up front: no reallocation left a copy behind.
        assert!(pem.len() <= encoded_len("CERTIFICATE REQUEST", &der));
        assert_eq!(csr_pem_to_der(&pem).unwrap(), der);
        let (label, back) = decode_first(&pem, &["X", "CERTIFICATE REQUEST"]).unwrap();
        assert_eq!(label, "CERTIFICATE REQUEST");
        assert_eq!(*back, der);
    }

    #[test]
    fn csr_reader_accepts_the_new_label_and_surrounding_text() {
        let pem = format!(
            "subject=CN=x\r\n{}",
            encode("NEW CERTIFICATE REQUEST", b"abc").replace('\n', "\r\n")
        );
        assert_eq!(csr_pem_to_der(&pem).unwrap(), b"abc");
    }

    #[test]
    fn csr_reader_refuses_other_blocks_and_garbage() {
        assert!(matches!(
            csr_pem_to_der(&encode("CERTIFICATE", b"abc")),
            Err(CsrError::Parse(_))
        ));
        assert!(matches!(csr_pem_to_der("hello"), Err(CsrError::Parse(_))));
        assert!(matches!(
            csr_pem_to_der(
                "-----BEGIN CERTIFICATE REQUEST-----\n!!!\n-----END CERTIFICATE REQUEST-----\n"
            ),
            Err(CsrError::Parse(_))
        ));
    }
}
