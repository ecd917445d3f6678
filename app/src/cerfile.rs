//! The 註冊 page's check of the chosen file, before anything is uploaded: it must be exactly
//! one X.509 certificate, DER or PEM. A `.pfx` (PKCS#12: it holds the private key), a key, a
//! certificate request or a bundle of several certificates is refused here and never sent.

use base64::Engine as _;

/// Why a file is not a single certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    Empty,
    /// A PKCS#12 file (.pfx / .p12): the private key must never leave the browser.
    Pkcs12,
    /// Several certificates (a PEM bundle, a chain).
    Several,
    /// Anything else: a key, a CSR, a text file, a damaged certificate.
    NotCertificate,
}

/// The certificate's DER if `bytes` is exactly one X.509 certificate (DER, or one PEM
/// `CERTIFICATE` block).
pub fn single_certificate(bytes: &[u8]) -> Result<Vec<u8>, Refusal> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(Refusal::Empty);
    }
    match std::str::from_utf8(bytes) {
        Ok(text) if text.contains("-----BEGIN ") => from_pem(text),
        _ => check_der(bytes).map(|()| bytes.to_vec()),
    }
}

fn from_pem(text: &str) -> Result<Vec<u8>, Refusal> {
    let mut blocks: Vec<(String, String)> = Vec::new();
    let mut open: Option<(String, String)> = None;
    for line in text.lines().map(str::trim) {
        let begin = line
            .strip_prefix("-----BEGIN ")
            .and_then(|l| l.strip_suffix("-----"));
        let end = line
            .strip_prefix("-----END ")
            .and_then(|l| l.strip_suffix("-----"));
        match (begin, end, open.as_mut()) {
            (Some(label), _, None) => open = Some((label.to_owned(), String::new())),
            (_, Some(label), Some((l, _))) if l == label => {
                blocks.extend(open.take());
            }
            (None, None, Some((_, body))) => body.push_str(line),
            // Text around the blocks (openssl prints `subject=` lines) is allowed.
            (None, None, None) => {}
            _ => return Err(Refusal::NotCertificate),
        }
    }
    if open.is_some() {
        return Err(Refusal::NotCertificate);
    }
    match blocks.as_slice() {
        [(label, body)] if label == "CERTIFICATE" => {
            let der = base64::engine::general_purpose::STANDARD
                .decode(body)
                .map_err(|_| Refusal::NotCertificate)?;
            check_der(&der)?;
            Ok(der)
        }
        [(label, _)] if label == "PKCS12" => Err(Refusal::Pkcs12),
        many if many.len() > 1 && many.iter().all(|(l, _)| l == "CERTIFICATE") => {
            Err(Refusal::Several)
        }
        _ => Err(Refusal::NotCertificate),
    }
}

/// One DER element: tag, contents, what follows. Definite lengths only (DER).
fn tlv(b: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = b.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let len = rest[..n]
            .iter()
            .fold(0usize, |acc, &x| (acc << 8) | usize::from(x));
        (len, &rest[n..])
    };
    (rest.len() >= len).then(|| (tag, &rest[..len], &rest[len..]))
}

const SEQUENCE: u8 = 0x30;
const INTEGER: u8 = 0x02;
const BIT_STRING: u8 = 0x03;
const VERSION: u8 = 0xa0;

/// Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue } and
/// nothing after it; the TBS has [0] version (optional), serial, then five SEQUENCEs
/// (signature, issuer, validity, subject, subjectPublicKeyInfo) — which a PFX (INTEGER 3
/// first) or a CSR (name, key, then [0] attributes) does not.
fn check_der(b: &[u8]) -> Result<(), Refusal> {
    let bad = Refusal::NotCertificate;
    let (tag, body, rest) = tlv(b).ok_or(bad)?;
    if tag != SEQUENCE {
        return Err(bad);
    }
    if !rest.is_empty() {
        return Err(if tlv(rest).is_some_and(|(t, ..)| t == SEQUENCE) {
            Refusal::Several
        } else {
            bad
        });
    }
    let (t1, tbs, r1) = tlv(body).ok_or(bad)?;
    if t1 == INTEGER && tbs == [3] {
        return Err(Refusal::Pkcs12);
    }
    let (t2, _, r2) = tlv(r1).ok_or(bad)?;
    let (t3, _, r3) = tlv(r2).ok_or(bad)?;
    if (t1, t2, t3) != (SEQUENCE, SEQUENCE, BIT_STRING) || !r3.is_empty() {
        return Err(bad);
    }
    let mut fields = tbs;
    if let Some((VERSION, _, after)) = tlv(fields) {
        fields = after;
    }
    let (serial, _, mut fields) = tlv(fields).ok_or(bad)?;
    if serial != INTEGER {
        return Err(bad);
    }
    for _ in 0..5 {
        let (t, _, after) = tlv(fields).ok_or(bad)?;
        if t != SEQUENCE {
            return Err(bad);
        }
        fields = after;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn el(tag: u8, content: &[u8]) -> Vec<u8> {
        let mut v = vec![tag];
        if content.len() < 0x80 {
            v.push(content.len() as u8);
        } else {
            v.extend([0x82, (content.len() >> 8) as u8, content.len() as u8]);
        }
        v.extend_from_slice(content);
        v
    }

    fn cat(parts: &[Vec<u8>]) -> Vec<u8> {
        parts.concat()
    }

    /// The shape of a v3 certificate (contents are placeholders).
    fn cert() -> Vec<u8> {
        let seq = |n: u8| el(SEQUENCE, &[0x05, n]);
        let tbs = cat(&[
            el(VERSION, &el(INTEGER, &[2])),
            el(INTEGER, &[0x11, 0x22]),
            seq(1),
            seq(2),
            seq(3),
            seq(4),
            seq(5),
        ]);
        el(
            SEQUENCE,
            &cat(&[el(SEQUENCE, &tbs), seq(6), el(BIT_STRING, &[0, 1, 2])]),
        )
    }

    fn pem(label: &str, der: &[u8]) -> String {
        let b64 = base64::engine::general_purpose::STANDARD.encode(der);
        format!("-----BEGIN {label}-----\n{b64}\n-----END {label}-----\n")
    }

    #[test]
    fn one_certificate_der_or_pem() {
        let der = cert();
        assert_eq!(single_certificate(&der), Ok(der.clone()));
        let text = format!("subject=CN = x\n{}", pem("CERTIFICATE", &der));
        assert_eq!(single_certificate(text.as_bytes()), Ok(der));
    }

    #[test]
    fn pfx_keys_requests_and_bundles_are_refused() {
        // PFX ::= SEQUENCE { version 3, authSafe ContentInfo, macData }
        let pfx = el(
            SEQUENCE,
            &cat(&[
                el(INTEGER, &[3]),
                el(SEQUENCE, &[0x06, 0]),
                el(SEQUENCE, &[]),
            ]),
        );
        assert_eq!(single_certificate(&pfx), Err(Refusal::Pkcs12));
        // CertificationRequestInfo: version 0, subject, key, [0] attributes.
        let info = cat(&[
            el(INTEGER, &[0]),
            el(SEQUENCE, &[]),
            el(SEQUENCE, &[]),
            el(0xa0, &[]),
        ]);
        let csr = el(
            SEQUENCE,
            &cat(&[el(SEQUENCE, &info), el(SEQUENCE, &[]), el(BIT_STRING, &[0])]),
        );
        assert_eq!(single_certificate(&csr), Err(Refusal::NotCertificate));
        let key = pem("PRIVATE KEY", &[1, 2, 3]);
        assert_eq!(
            single_certificate(key.as_bytes()),
            Err(Refusal::NotCertificate)
        );
        let two = format!(
            "{}{}",
            pem("CERTIFICATE", &cert()),
            pem("CERTIFICATE", &cert())
        );
        assert_eq!(single_certificate(two.as_bytes()), Err(Refusal::Several));
        assert_eq!(
            single_certificate(&cat(&[cert(), cert()])),
            Err(Refusal::Several)
        );
        let with_key = format!("{}{}", pem("CERTIFICATE", &cert()), key);
        assert_eq!(
            single_certificate(with_key.as_bytes()),
            Err(Refusal::NotCertificate)
        );
        let mut cut = cert();
        cut.pop();
        assert_eq!(single_certificate(&cut), Err(Refusal::NotCertificate));
        assert_eq!(single_certificate(b"  \n"), Err(Refusal::Empty));
        assert_eq!(single_certificate(b"hello"), Err(Refusal::NotCertificate));
    }
}
