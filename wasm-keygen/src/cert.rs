//! X.509 certificates as opaque DER with a checked outer structure and the position of the
//! SubjectPublicKeyInfo, walked with [`crate::reader`]. Nothing more is needed to pack a PFX,
//! so no full X.509 parser (x509-cert's `Certificate` decodes every extension) is pulled into
//! the wasm.

use std::ops::Range;

use crate::error::KeygenError;
use crate::pem;
use crate::reader::{self, Reader};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Certificate {
    der: Vec<u8>,
    spki: Range<usize>,
}

impl Certificate {
    /// Checks `Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signature }`
    /// and the TBS fields up to the public key.
    pub fn from_der(der: Vec<u8>) -> Result<Self, KeygenError> {
        let bad = KeygenError::bad_certificate;
        let outer = reader::single(&der, reader::SEQUENCE, bad)?;
        let mut cert = Reader::new(outer.content, bad);
        let tbs = cert.expect(reader::SEQUENCE)?;
        cert.expect(reader::SEQUENCE)?;
        cert.expect(reader::BIT_STRING)?;
        cert.finish()?;

        let mut t = Reader::new(tbs.content, bad);
        let mut field = t.read()?;
        if field.tag == reader::context(0) {
            field = t.read()?;
        }
        if field.tag != reader::INTEGER {
            return Err(bad("certificate without a serial number"));
        }
        t.expect(reader::SEQUENCE)?; // signature
        t.expect(reader::SEQUENCE)?; // issuer
        t.expect(reader::SEQUENCE)?; // validity
        t.expect(reader::SEQUENCE)?; // subject
        let spki = t.expect(reader::SEQUENCE)?;
        let start = spki.raw.as_ptr() as usize - der.as_ptr() as usize;
        let spki = start..start + spki.raw.len();
        Ok(Certificate { der, spki })
    }

    /// Every certificate in `input`: PEM text with one or more `CERTIFICATE` blocks, or
    /// one DER certificate.
    pub fn parse_all(input: &[u8]) -> Result<Vec<Self>, KeygenError> {
        if input.first() == Some(&reader::SEQUENCE) {
            return Ok(vec![Certificate::from_der(input.to_vec())?]);
        }
        let text = std::str::from_utf8(input)
            .map_err(|_| KeygenError::bad_certificate("neither DER nor PEM"))?;
        let blocks = pem::decode_all(text, "CERTIFICATE")?;
        if blocks.is_empty() {
            return Err(KeygenError::bad_certificate("no CERTIFICATE block found"));
        }
        blocks.into_iter().map(Certificate::from_der).collect()
    }

    /// Exactly one certificate, PEM or DER.
    pub fn parse(input: &[u8]) -> Result<Self, KeygenError> {
        let mut all = Certificate::parse_all(input)?;
        match all.len() {
            1 => Ok(all.remove(0)),
            _ => Err(KeygenError::bad_certificate(
                "expected one certificate, found several",
            )),
        }
    }

    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// The DER `SubjectPublicKeyInfo`.
    pub fn spki(&self) -> &[u8] {
        &self.der[self.spki.clone()]
    }

    pub fn to_pem(&self) -> String {
        pem::encode("CERTIFICATE", &self.der)
    }
}

/// `.cer` bytes (DER) from PEM text or DER.
pub fn certificate_to_der(input: &[u8]) -> Result<Vec<u8>, KeygenError> {
    Certificate::parse(input).map(|c| c.der)
}

/// PEM text from DER.
pub fn certificate_to_pem(der: &[u8]) -> Result<String, KeygenError> {
    Certificate::from_der(der.to_vec()).map(|c| c.to_pem())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::testder::{self as der, bit_string, sequence, tlv, uint};

    /// A structurally valid certificate around `spki` (the signature is not real; nothing
    /// here verifies signatures).
    pub(crate) fn fake_cert(spki: &[u8]) -> Vec<u8> {
        let name = sequence(&[]);
        let tbs = sequence(&[
            &tlv(der::context(0), &uint(2)),
            &uint(1234),
            &sequence(&[]),
            &name,
            &sequence(&[]),
            &name,
            spki,
        ]);
        sequence(&[&tbs, &sequence(&[]), &bit_string(&[1, 2, 3])])
    }

    fn spki() -> Vec<u8> {
        sequence(&[
            &sequence(&[&der::oid(&der::arcs("1.2.3"))]),
            &bit_string(&[9, 9]),
        ])
    }

    #[test]
    fn finds_the_public_key() {
        let c = Certificate::from_der(fake_cert(&spki())).unwrap();
        assert_eq!(c.spki(), spki().as_slice());
        assert_eq!(c.der(), fake_cert(&spki()).as_slice());
    }

    #[test]
    fn pem_and_der_convert_both_ways() {
        let der = fake_cert(&spki());
        let pem = certificate_to_pem(&der).unwrap();
        assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"));
        assert_eq!(certificate_to_der(pem.as_bytes()).unwrap(), der);
        assert_eq!(certificate_to_der(&der).unwrap(), der);
    }

    #[test]
    fn chains_in_one_pem_parse_in_order() {
        let a = fake_cert(&spki());
        let b = fake_cert(&sequence(&[&sequence(&[]), &bit_string(&[1])]));
        let text = format!(
            "{}{}",
            pem::encode("CERTIFICATE", &a),
            pem::encode("CERTIFICATE", &b)
        );
        let all = Certificate::parse_all(text.as_bytes()).unwrap();
        assert_eq!(all.len(), 2);
        assert_eq!(all[0].der(), a.as_slice());
        assert_eq!(all[1].der(), b.as_slice());
        assert_eq!(
            Certificate::parse(text.as_bytes()),
            Err(KeygenError::bad_certificate(
                "expected one certificate, found several"
            ))
        );
    }

    #[test]
    fn rejects_what_is_not_a_certificate() {
        let mut truncated = fake_cert(&spki());
        truncated.pop();
        let no_spki = sequence(&[
            &sequence(&[&uint(1), &sequence(&[])]),
            &sequence(&[]),
            &bit_string(&[]),
        ]);
        for bad in [
            truncated,
            no_spki,
            b"hello".to_vec(),
            vec![0xff, 0xfe],
            sequence(&[]),
        ] {
            let e = certificate_to_der(&bad).unwrap_err();
            assert_eq!(e.code(), "bad_certificate", "{bad:?}");
        }
        // certificateToPem takes DER only.
        let pem = certificate_to_pem(&fake_cert(&spki())).unwrap();
        assert_eq!(
            certificate_to_pem(pem.as_bytes()).err().map(|e| e.code()),
            Some("bad_certificate")
        );
    }
}
