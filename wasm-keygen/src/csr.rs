//! PKCS#10 certification requests (RFC 2986) signed with the applicant's key, written with
//! `der` and `spki` types. x509-cert's `Name` and `CertReqInfo` were tried: their
//! constructors sort every SET OF (a generic sort per element type) and decoding a
//! `CertReqInfo` pulls in its whole `Name` decoder, ~30 KB of wasm before compression for
//! structures whose fields are fixed here.
//!
//! The subject is written RDN by RDN in the order C, O, OU, serialNumber, CN (most
//! significant first, as X.500 and the CA expect); a string parser such as x509-cert's
//! `Name::from_str` would follow RFC 4514 and reverse it. C and serialNumber are
//! PrintableString, the rest UTF8String (Chinese company names).

use der::asn1::{Any, AnyRef, BitStringRef, SetOfVec};
use der::{Decode, Sequence, Tag, ValueOrd};
use spki::AlgorithmIdentifierOwned;

use rsa::traits::PublicKeyParts;

use crate::encoding::{self, PublicKey, to_der};
use crate::error::KeygenError;
use crate::keygen::{PrivateKey, check_public_key};
use crate::oid::{self, Oid};
use crate::pem;
use crate::reader::{self, Reader};

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

fn encoding(_: der::Error) -> KeygenError {
    KeygenError::Crypto("DER encoding".into())
}

/// Builds and signs the CSR for the key in `pkcs8`.
pub fn build_csr(pkcs8: &[u8], subject: &Subject) -> Result<Csr, KeygenError> {
    let name = encode_name(subject)?;
    let key = PrivateKey::from_pkcs8(pkcs8)?;
    let info = to_der(&info(name, &key.spki()?)?)?;
    let signed = key.sign_sha256(&info)?;
    assemble(&info, signed.algorithm, &signed.signature)
}

/// The DER `CertificationRequestInfo` for `subject` and the public key `spki`, to be signed
/// elsewhere (by WebCrypto, which holds the private key) and joined with its signature by
/// [`assemble_signed`]. The key must pass the same rules as a generated one.
pub fn request_info(spki: &[u8], subject: &Subject) -> Result<Vec<u8>, KeygenError> {
    let name = encode_name(subject)?;
    check_public_key(spki)?;
    to_der(&info(name, spki)?)
}

/// The signed request from `info` (from [`request_info`]) and a SHA-256 signature over it
/// as WebCrypto returns it: RSASSA-PKCS1-v1_5 bytes, or ECDSA `r || s` (IEEE P1363), which
/// X.509 wants DER-encoded. The signature algorithm follows the key inside `info`.
pub fn assemble_signed(info: &[u8], signature: &[u8]) -> Result<Csr, KeygenError> {
    let bad = |why: &'static str| KeygenError::Crypto(why.into());
    let spki = spki_of_info(info).ok_or_else(|| bad("not a CertificationRequestInfo"))?;
    match encoding::parse_spki(spki)? {
        PublicKey::Rsa(key) => {
            if signature.len() != key.n_bytes().len() {
                return Err(bad("RSA signature of the wrong length"));
            }
            assemble(info, sha256_with_rsa()?, signature)
        }
        PublicKey::P256(_) => {
            let sig = p256::ecdsa::Signature::from_slice(signature)
                .map_err(|_| bad("ECDSA signature is not r || s"))?;
            assemble(info, ecdsa_with_sha256(), sig.to_der().as_bytes())
        }
    }
}

/// `sha256WithRSAEncryption` with NULL parameters (RFC 4055).
pub(crate) fn sha256_with_rsa() -> Result<AlgorithmIdentifierOwned, KeygenError> {
    Ok(AlgorithmIdentifierOwned {
        oid: oid::SHA256_WITH_RSA,
        parameters: Some(Any::new(Tag::Null, [0u8; 0]).map_err(encoding)?),
    })
}

/// `ecdsa-with-SHA256`: the parameters field is absent (RFC 5758).
pub(crate) fn ecdsa_with_sha256() -> AlgorithmIdentifierOwned {
    AlgorithmIdentifierOwned {
        oid: oid::ECDSA_WITH_SHA256,
        parameters: None,
    }
}

/// `AttributeTypeAndValue` (RFC 5280).
#[derive(Clone, Debug, PartialEq, Eq, Sequence, ValueOrd)]
struct AttributeTypeAndValue {
    oid: Oid,
    value: Any,
}

/// One RelativeDistinguishedName: a SET OF with a single element.
type Rdn = SetOfVec<AttributeTypeAndValue>;

/// `Name`: the RDNs, most significant first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Name(Vec<Rdn>);

impl Name {
    /// The DER of the Name (a SEQUENCE OF RDN), as it appears in the CSR: the CA's tests build
    /// CSRs with other keys around the same subject.
    pub fn to_der(&self) -> Result<Vec<u8>, KeygenError> {
        to_der(&self.0)
    }
}

/// CertificationRequestInfo { version 0, subject, subjectPKInfo, attributes [0] {} }: no
/// attributes, the CA decides the extensions.
#[derive(Sequence)]
struct RequestInfo<'a> {
    version: u8,
    subject: Vec<Rdn>,
    /// A SubjectPublicKeyInfo as written by `encoding` or checked by `check_public_key`.
    public_key: AnyRef<'a>,
    #[asn1(context_specific = "0", tag_mode = "IMPLICIT")]
    attributes: SetOfVec<AnyRef<'a>>,
}

fn info(subject: Name, spki: &[u8]) -> Result<RequestInfo<'_>, KeygenError> {
    Ok(RequestInfo {
        version: 0,
        subject: subject.0,
        public_key: AnyRef::from_der(spki)
            .map_err(|_| KeygenError::bad_key("not a SubjectPublicKeyInfo"))?,
        attributes: SetOfVec::new(),
    })
}

/// The SubjectPublicKeyInfo inside a CertificationRequestInfo.
fn spki_of_info(info: &[u8]) -> Option<&[u8]> {
    let bad = KeygenError::bad_key;
    let seq = reader::single(info, reader::SEQUENCE, bad).ok()?;
    let mut r = Reader::new(seq.content, bad);
    (r.expect(reader::INTEGER).ok()?.content == [0]).then_some(())?;
    r.expect(reader::SEQUENCE).ok()?;
    let spki = r.expect(reader::SEQUENCE).ok()?;
    r.expect(reader::context(0)).ok()?;
    r.finish().ok()?;
    Some(spki.raw)
}

/// `CertificationRequest`, with the info as the DER that was signed.
#[derive(Sequence)]
struct CertificationRequest<'a> {
    info: AnyRef<'a>,
    algorithm: AlgorithmIdentifierOwned,
    signature: BitStringRef<'a>,
}

/// CertificationRequest ::= SEQUENCE { info, signatureAlgorithm, signature BIT STRING }.
fn assemble(
    info: &[u8],
    algorithm: AlgorithmIdentifierOwned,
    signature: &[u8],
) -> Result<Csr, KeygenError> {
    let der = to_der(&CertificationRequest {
        info: AnyRef::from_der(info).map_err(encoding)?,
        algorithm,
        signature: BitStringRef::from_bytes(signature).map_err(encoding)?,
    })?;
    let pem = pem::encode("CERTIFICATE REQUEST", &der);
    Ok(Csr { der, pem })
}

/// The `Name` for `subject`, after checking every field.
pub fn encode_name(subject: &Subject) -> Result<Name, KeygenError> {
    fn present(v: &Option<String>) -> Option<&str> {
        v.as_deref().filter(|s| !s.is_empty())
    }
    let mut rdns = Vec::new();
    if let Some(c) = present(&subject.c) {
        if c.len() != 2 || !c.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(KeygenError::SubjectFormat("c"));
        }
        rdns.push(rdn(oid::COUNTRY, Tag::PrintableString, c)?);
    }
    if let Some(o) = present(&subject.o) {
        rdns.push(rdn(oid::ORGANIZATION, Tag::Utf8String, text("o", o)?)?);
    }
    if let Some(ou) = present(&subject.ou) {
        rdns.push(rdn(
            oid::ORGANIZATIONAL_UNIT,
            Tag::Utf8String,
            text("ou", ou)?,
        )?);
    }
    if let Some(sn) = present(&subject.serial_number) {
        let sn = text("serialNumber", sn)?;
        if !sn.bytes().all(is_printable) {
            return Err(KeygenError::SubjectFormat("serialNumber"));
        }
        rdns.push(rdn(oid::SERIAL_NUMBER, Tag::PrintableString, sn)?);
    }
    if subject.cn.is_empty() {
        return Err(KeygenError::SubjectRequired("cn"));
    }
    rdns.push(rdn(
        oid::COMMON_NAME,
        Tag::Utf8String,
        text("cn", &subject.cn)?,
    )?);
    Ok(Name(rdns))
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
fn rdn(attr: Oid, string_tag: Tag, value: &str) -> Result<Rdn, KeygenError> {
    let mut rdn = SetOfVec::new();
    rdn.insert_ordered(AttributeTypeAndValue {
        oid: attr,
        value: Any::new(string_tag, value.as_bytes()).map_err(encoding)?,
    })
    .map_err(encoding)?;
    Ok(rdn)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keygen::tests::{p256, rsa2048};
    use crate::testder::{self as der, Reader};

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
    fn rdns(name: &Name) -> Vec<(Vec<u8>, u8, String)> {
        let name = to_der(&name.0).unwrap();
        let name = der::single(&name, der::SEQUENCE, bad).unwrap();
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
                der::oid(&oid::COUNTRY),
                der::PRINTABLE_STRING,
                "TW".to_owned(),
            ),
            (
                der::oid(&oid::ORGANIZATION),
                der::UTF8_STRING,
                "台灣報關股份有限公司".to_owned(),
            ),
            (
                der::oid(&oid::ORGANIZATIONAL_UNIT),
                der::UTF8_STRING,
                "12345675".to_owned(),
            ),
            (
                der::oid(&oid::SERIAL_NUMBER),
                der::PRINTABLE_STRING,
                "12345675".to_owned(),
            ),
            (
                der::oid(&oid::COMMON_NAME),
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
        use crate::encoding::parse_spki;
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
        use crate::encoding::parse_spki;
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

    /// What WebCrypto does in `signCsr`: sign the info elsewhere, then assemble. With the
    /// same key the result is the request `build_csr` makes (both signatures are
    /// deterministic: PKCS#1 v1.5, and RFC 6979 ECDSA).
    #[test]
    fn info_signed_elsewhere_assembles_into_the_same_request() {
        for key in [rsa2048(), p256()] {
            let info = request_info(&key.spki, &portal_subject()).unwrap();
            let signer = PrivateKey::from_pkcs8(&key.pkcs8).unwrap();
            let signed = signer.sign_sha256(&info).unwrap();
            let raw = match key.algorithm {
                crate::KeyAlgorithm::EcP256 => p256::ecdsa::Signature::from_der(&signed.signature)
                    .unwrap()
                    .to_bytes()
                    .to_vec(),
                crate::KeyAlgorithm::Rsa { .. } => signed.signature.clone(),
            };
            let csr = assemble_signed(&info, &raw).unwrap();
            assert_eq!(csr, build_csr(&key.pkcs8, &portal_subject()).unwrap());
            let (got_info, _, _) = parts(&csr.der);
            assert_eq!(got_info, info);
            // A truncated signature is refused, not wrapped.
            assert_eq!(
                assemble_signed(&info, &raw[1..]).err().map(|e| e.code()),
                Some("crypto")
            );
        }
    }

    #[test]
    fn request_info_checks_subject_key_and_input() {
        assert_eq!(
            request_info(&rsa2048().spki, &Subject::default()),
            Err(KeygenError::SubjectRequired("cn"))
        );
        assert_eq!(
            request_info(b"junk", &portal_subject())
                .err()
                .map(|e| e.code()),
            Some("bad_key")
        );
        let small = rsa::PrivateKey::new(&mut getrandom::SysRng, 1024).unwrap();
        let spki = crate::encoding::rsa_to_spki(&rsa::PublicKey::from(&small)).unwrap();
        assert_eq!(
            request_info(&spki, &portal_subject()),
            Err(KeygenError::KeySize(1024))
        );
        assert_eq!(
            assemble_signed(b"junk", &[0; 256]).err().map(|e| e.code()),
            Some("crypto")
        );
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
