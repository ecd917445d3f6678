//! PEM in and out. Reading goes through x509-parser's lenient reader (it skips text around
//! the block, as in files exported by `openssl pkcs12`); writing is `pem-rfc7468` with
//! 64-column lines and LF endings.

use pem_rfc7468::LineEnding;
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

/// The first `CERTIFICATE` block of a PEM text, as DER.
pub fn cert_pem_to_der(pem: &str) -> Result<Vec<u8>, crate::CaError> {
    decode_all(pem, "CERTIFICATE")
        .map_err(crate::CaError::Load)?
        .into_iter()
        .next()
        .ok_or_else(|| crate::CaError::Load("no -----BEGIN CERTIFICATE----- block".into()))
}

/// DER certificate to PEM.
pub fn cert_der_to_pem(der: &[u8]) -> String {
    encode("CERTIFICATE", der)
}

/// An RFC 7468 block.
pub fn encode(label: &str, der: &[u8]) -> String {
    // Fails only for a label that is not RFC 7468 text; ours are constants.
    pem_rfc7468::encode_string(label, LineEnding::LF, der).unwrap_or_default()
}

/// [`encode`] for key material: written straight into one buffer of the final size, so no
/// intermediate copy is left behind when it is wiped.
pub fn encode_secret(label: &str, der: &[u8]) -> Zeroizing<String> {
    let Ok(len) = pem_rfc7468::encoded_len(label, LineEnding::LF, der) else {
        return Zeroizing::new(String::new());
    };
    let mut buf = Zeroizing::new(vec![0u8; len]);
    let written = pem_rfc7468::encode(label, LineEnding::LF, der, &mut buf)
        .map(str::len)
        .unwrap_or(0);
    buf.truncate(written);
    // The base64 alphabet and the label are ASCII; `from_utf8` takes the buffer as it is.
    match String::from_utf8(std::mem::take(&mut *buf)) {
        Ok(s) => Zeroizing::new(s),
        Err(e) => {
            drop(Zeroizing::new(e.into_bytes()));
            Zeroizing::new(String::new())
        }
    }
}

/// Every block labelled `label`, in order (a chain file).
pub fn decode_all(text: &str, label: &str) -> Result<Vec<Vec<u8>>, String> {
    let mut out = Vec::new();
    for block in Pem::iter_from_buffer(text.as_bytes()) {
        let block = block.map_err(|e| format!("PEM: {e}"))?;
        if block.label == label {
            out.push(block.contents);
        }
    }
    Ok(out)
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

#[cfg(test)]
mod tests {
    use super::*;

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
        assert_eq!(*encode_secret("CERTIFICATE REQUEST", &der), pem);
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
