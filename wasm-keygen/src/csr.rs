//! PKCS#10 certification requests (RFC 2986) signed with the applicant's key.
//!
//! The subject is written RDN by RDN in the order C, O, OU, serialNumber, CN (most
//! significant first, as X.500 and the CA expect); a string parser such as x509-cert's
//! `Name::from_str` would follow RFC 4514 and reverse it. C and serialNumber are
//! PrintableString, the rest UTF8String (Chinese company names).

use crate::der;
use crate::error::KeygenError;
use crate::keygen::PrivateKey;
use crate::oid;
use crate::pem;

/// Upper bounds from RFC 5280 appendix A (ub-common-name etc.), in characters.
const MAX_NAME_CHARS: usize = 64;

/// The subject the portal asks for. Empty optional fields are left out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Subject {
    pub cn: String,
    pub o: Option<String>,
    pub ou: Option<String>,
    pub c: Option<String>,
    pub serial_number: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Csr {
    pub der: Vec<u8>,
    pub pem: String,
}

/// Builds and signs the CSR for the key in `pkcs8`.
pub fn build_csr(pkcs8: &[u8], subject: &Subject) -> Result<Csr, KeygenError> {
    let name = encode_name(subject)?;
    let key = PrivateKey::from_pkcs8(pkcs8)?;
    sign_request(&key, &name)
}

fn sign_request(key: &PrivateKey, name: &[u8]) -> Result<Csr, KeygenError> {
    // CertificationRequestInfo ::= SEQUENCE { version 0, subject, subjectPKInfo,
    //   attributes [0] IMPLICIT SET OF Attribute } — no attributes: the CA decides extensions.
    let info = der::sequence(&[
        &der::uint(0),
        name,
        &key.spki()?,
        &der::tlv(der::context(0), &[]),
    ]);
    let signed = key.sign_sha256(&info)?;
    let der = der::sequence(&[
        &info,
        &signed.algorithm,
        &der::bit_string(&signed.signature),
    ]);
    let pem = pem::encode("CERTIFICATE REQUEST", &der);
    Ok(Csr { der, pem })
}

/// The DER `Name` for `subject`, after checking every field.
pub fn encode_name(subject: &Subject) -> Result<Vec<u8>, KeygenError> {
    fn present(v: &Option<String>) -> Option<&str> {
        v.as_deref().filter(|s| !s.is_empty())
    }
    let mut rdns: Vec<Vec<u8>> = Vec::new();
    if let Some(c) = present(&subject.c) {
        if c.len() != 2 || !c.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(KeygenError::SubjectFormat("c"));
        }
        rdns.push(rdn(oid::COUNTRY, der::PRINTABLE_STRING, c));
    }
    if let Some(o) = present(&subject.o) {
        rdns.push(rdn(oid::ORGANIZATION, der::UTF8_STRING, text("o", o)?));
    }
    if let Some(ou) = present(&subject.ou) {
        rdns.push(rdn(
            oid::ORGANIZATIONAL_UNIT,
            der::UTF8_STRING,
            text("ou", ou)?,
        ));
    }
    if let Some(sn) = present(&subject.serial_number) {
        let sn = text("serialNumber", sn)?;
        if !sn.bytes().all(is_printable) {
            return Err(KeygenError::SubjectFormat("serialNumber"));
        }
        rdns.push(rdn(oid::SERIAL_NUMBER, der::PRINTABLE_STRING, sn));
    }
    if subject.cn.is_empty() {
        return Err(KeygenError::SubjectRequired("cn"));
    }
    rdns.push(rdn(
        oid::COMMON_NAME,
        der::UTF8_STRING,
        text("cn", &subject.cn)?,
    ));
    Ok(der::tlv(der::SEQUENCE, &rdns.concat()))
}

/// Checks a free-text attribute: not blank, no control characters, not too long.
fn text<'a>(field: &'static str, value: &'a str) -> Result<&'a str, KeygenError> {
    if value.trim().is_empty() {
        return Err(KeygenError::SubjectRequired(field));
    }
    if value.chars().any(char::is_control) {
        return Err(KeygenError::SubjectFormat(field));
    }
    if value.chars().count() > MAX_NAME_CHARS {
        return Err(KeygenError::SubjectTooLong(field));
    }
    Ok(value)
}

/// The PrintableString alphabet (X.680 41.4).
fn is_printable(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b" '()+,-./:=?".contains(&b)
}

/// One single-valued RelativeDistinguishedName.
fn rdn(attr: oid::Oid, string_tag: u8, value: &str) -> Vec<u8> {
    let atv = der::sequence(&[&der::oid(attr), &der::tlv(string_tag, value.as_bytes())]);
    der::tlv(der::SET, &atv)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::der::Reader;
    use crate::keygen::tests::{p256, rsa2048};

    fn portal_subject() -> Subject {
        Subject {
            cn: "SingleWindow-01-B00051".into(),
            o: Some("台灣報關股份有限公司".into()),
            ou: Some("12345675".into()),
            c: Some("TW".into()),
            serial_number: Some("12345675".into()),
        }
    }

    fn bad(why: &'static str) -> KeygenError {
        KeygenError::BadCertificate(why.into())
    }

    /// (attribute OID element, string tag, value) for each RDN, in encoded order.
    fn rdns(name: &[u8]) -> Vec<(Vec<u8>, u8, String)> {
        let name = der::single(name, der::SEQUENCE, bad).unwrap();
        let mut r = Reader::new(name.content, bad);
        let mut out = Vec::new();
        while !r.is_empty() {
            let set = r.expect(der::SET).unwrap();
            let atv = der::single(set.content, der::SEQUENCE, bad).unwrap();
            let mut a = Reader::new(atv.content, bad);
            let id = a.expect(der::OID).unwrap().raw.to_vec();
            let v = a.read().unwrap();
            out.push((id, v.tag, String::from_utf8(v.content.to_vec()).unwrap()));
        }
        out
    }

    #[test]
    fn name_is_in_x500_order_with_printable_c_and_serial() {
        let got = rdns(&encode_name(&portal_subject()).unwrap());
        let want = vec![
            (
                der::oid(oid::COUNTRY),
                der::PRINTABLE_STRING,
                "TW".to_owned(),
            ),
            (
                der::oid(oid::ORGANIZATION),
                der::UTF8_STRING,
                "台灣報關股份有限公司".to_owned(),
            ),
            (
                der::oid(oid::ORGANIZATIONAL_UNIT),
                der::UTF8_STRING,
                "12345675".to_owned(),
            ),
            (
                der::oid(oid::SERIAL_NUMBER),
                der::PRINTABLE_STRING,
                "12345675".to_owned(),
            ),
            (
                der::oid(oid::COMMON_NAME),
                der::UTF8_STRING,
                "SingleWindow-01-B00051".to_owned(),
            ),
        ];
        assert_eq!(got, want);
    }

    #[test]
    fn empty_optional_fields_are_left_out() {
        let s = Subject {
            cn: "x".into(),
            o: Some(String::new()),
            ..Subject::default()
        };
        let got = rdns(&encode_name(&s).unwrap());
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].2, "x");
    }

    #[test]
    fn subject_rejections() {
        type Case = (fn(&mut Subject), KeygenError);
        let cases: Vec<Case> = vec![
            (|s| s.cn.clear(), KeygenError::SubjectRequired("cn")),
            (|s| s.cn = "   ".into(), KeygenError::SubjectRequired("cn")),
            (|s| s.cn = "a\nb".into(), KeygenError::SubjectFormat("cn")),
            (|s| s.cn = "x".repeat(65), KeygenError::SubjectTooLong("cn")),
            (
                |s| s.o = Some("台".repeat(65)),
                KeygenError::SubjectTooLong("o"),
            ),
            (
                |s| s.ou = Some(" ".into()),
                KeygenError::SubjectRequired("ou"),
            ),
            (|s| s.c = Some("tw".into()), KeygenError::SubjectFormat("c")),
            (
                |s| s.c = Some("TWN".into()),
                KeygenError::SubjectFormat("c"),
            ),
            (
                |s| s.serial_number = Some("12_34".into()),
                KeygenError::SubjectFormat("serialNumber"),
            ),
            (
                |s| s.serial_number = Some("統一編號".into()),
                KeygenError::SubjectFormat("serialNumber"),
            ),
        ];
        for (mutate, want) in cases {
            let mut s = portal_subject();
            mutate(&mut s);
            assert_eq!(encode_name(&s), Err(want.clone()), "{want:?}");
            assert_eq!(build_csr(&rsa2048().pkcs8, &s), Err(want));
        }
        // 64 characters is still fine.
        let mut s = portal_subject();
        s.o = Some("台".repeat(64));
        assert!(encode_name(&s).is_ok());
    }

    /// Splits a CSR into (info, algorithm, signature) and checks the info's public key.
    fn parts(csr: &[u8]) -> (Vec<u8>, Vec<u8>, Vec<u8>) {
        let outer = der::single(csr, der::SEQUENCE, bad).unwrap();
        let mut r = Reader::new(outer.content, bad);
        let info = r.expect(der::SEQUENCE).unwrap();
        let alg = r.expect(der::SEQUENCE).unwrap();
        let sig = r.expect(der::BIT_STRING).unwrap();
        r.finish().unwrap();
        assert_eq!(sig.content[0], 0, "no unused bits");
        (
            info.raw.to_vec(),
            alg.raw.to_vec(),
            sig.content[1..].to_vec(),
        )
    }

    #[test]
    fn rsa_csr_is_signed_with_sha256_rsa_by_the_key() {
        use crate::encoding::{PublicKey, parse_spki};
        use rsa::signature::Verifier;
        let csr = build_csr(&rsa2048().pkcs8, &portal_subject()).unwrap();
        assert!(csr.pem.starts_with("-----BEGIN CERTIFICATE REQUEST-----\n"));
        assert_eq!(
            pem::decode_all(&csr.pem, "CERTIFICATE REQUEST").unwrap(),
            vec![csr.der.clone()]
        );
        let (info, alg, sig) = parts(&csr.der);
        assert_eq!(
            alg,
            der::algorithm(oid::SHA256_WITH_RSA, Some(&der::null()))
        );
        let spki = &rsa2048().spki;
        assert!(info.windows(spki.len()).any(|w| w == spki.as_slice()));
        let Ok(PublicKey::Rsa(pk)) = parse_spki(spki) else {
            panic!("not an RSA key")
        };
        let vk = rsa::pkcs1v15::VerifyingKey::<sha2::Sha256>::new(pk);
        vk.verify(
            &info,
            &rsa::pkcs1v15::Signature::try_from(sig.as_slice()).unwrap(),
        )
        .unwrap();
    }

    #[test]
    fn p256_csr_is_signed_with_ecdsa_sha256() {
        use crate::encoding::{PublicKey, parse_spki};
        use p256::ecdsa::signature::Verifier;
        let csr = build_csr(&p256().pkcs8, &portal_subject()).unwrap();
        let (info, alg, sig) = parts(&csr.der);
        assert_eq!(alg, der::algorithm(oid::ECDSA_WITH_SHA256, None));
        let Ok(PublicKey::P256(pk)) = parse_spki(&p256().spki) else {
            panic!("not a P-256 key")
        };
        let vk = p256::ecdsa::VerifyingKey::from(pk);
        vk.verify(&info, &p256::ecdsa::Signature::from_der(&sig).unwrap())
            .unwrap();
    }

    #[test]
    fn bad_keys_are_refused() {
        assert_eq!(
            build_csr(b"junk", &portal_subject())
                .err()
                .map(|e| e.code()),
            Some("bad_key")
        );
    }
}
