//! `signatureType: "PKCS7"`: a CMS SignedData (RFC 5652) with the content attached, one
//! signer, the signer's certificate, and signed attributes contentType, signingTime,
//! messageDigest, plus HiPKI's randomNonce (1.2.840.113549.1.9.25.3) when a nonce is given
//! and the card serial (2.16.886.1.100.2.204) when `withCardSN` is set.
//!
//! Built in two steps because the card signs in between: [`signed_attributes`] gives the
//! DER whose hash the card signs, [`signed_data`] assembles the result. The types and the
//! encoding are the `cms`, `x509-cert` and `der` crates'; the bytes are those of the
//! hand-written encoder this module had before (pinned by the tests below). One difference,
//! on purpose: a card serial that is not a PrintableString is now refused (the old encoder
//! wrote it as one anyway, an invalid encoding).

use cms::cert::IssuerAndSerialNumber;
use cms::content_info::{CmsVersion, ContentInfo};
use cms::signed_data::{
    CertificateSet, EncapsulatedContentInfo, SignedAttributes, SignedData, SignerIdentifier,
    SignerInfo, SignerInfos,
};
use const_oid::ObjectIdentifier;
use const_oid::db::rfc2985::PKCS_9_AT_RANDOM_NONCE;
use const_oid::db::rfc5911::{
    ID_CONTENT_TYPE, ID_DATA, ID_MESSAGE_DIGEST, ID_SIGNED_DATA, ID_SIGNING_TIME,
};
use const_oid::db::rfc5912::RSA_ENCRYPTION;
use der::asn1::{Any, OctetString, PrintableString, SetOfVec, UtcTime};
use der::{Decode, Encode, EncodeValue, Tagged};
use spki::AlgorithmIdentifierOwned;
use x509_cert::Certificate;
use x509_cert::attr::Attribute;

use crate::pkcs1::HashAlg;

/// 2.16.886.1.100.2.204, the card-serial attribute Taiwanese verifiers read.
const ID_CARD_SERIAL: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.886.1.100.2.204");

fn attribute(oid: ObjectIdentifier, value: &(impl Tagged + EncodeValue)) -> der::Result<Attribute> {
    Ok(Attribute {
        oid,
        values: SetOfVec::try_from(vec![Any::encode_from(value)?])?,
    })
}

/// The signed attributes, DER-encoded as the `SET OF Attribute` that gets hashed and
/// signed (RFC 5652 §5.4: the `[0] IMPLICIT` tag is replaced by SET for the signature).
pub fn signed_attributes(
    hash: HashAlg,
    content: &[u8],
    signing_time: time::OffsetDateTime,
    nonce: Option<&str>,
    card_serial: Option<&str>,
) -> der::Result<Vec<u8>> {
    let unix = u64::try_from(signing_time.unix_timestamp())
        .map_err(|_| der::Error::from(der::ErrorKind::DateTime))?;
    let mut attrs = vec![
        attribute(ID_CONTENT_TYPE, &ID_DATA)?,
        attribute(
            ID_SIGNING_TIME,
            &UtcTime::from_unix_duration(std::time::Duration::from_secs(unix))?,
        )?,
        attribute(ID_MESSAGE_DIGEST, &OctetString::new(hash.digest(content))?)?,
    ];
    if let Some(nonce) = nonce {
        attrs.push(attribute(
            PKCS_9_AT_RANDOM_NONCE,
            &OctetString::new(nonce.as_bytes())?,
        )?);
    }
    if let Some(serial) = card_serial {
        attrs.push(attribute(ID_CARD_SERIAL, &PrintableString::new(serial)?)?);
    }
    SignedAttributes::try_from(attrs)?.to_der()
}

/// `ContentInfo { signedData }` around the card's signature over `signed_attrs` (the DER
/// [`signed_attributes`] returned), signed by the holder of `certificate` (DER).
pub fn signed_data(
    hash: HashAlg,
    content: &[u8],
    signed_attrs: &[u8],
    signature: &[u8],
    certificate: &[u8],
) -> der::Result<Vec<u8>> {
    let certificate = Certificate::from_der(certificate)?;
    let digest_algorithm = AlgorithmIdentifierOwned {
        oid: hash.oid(),
        parameters: None,
    };
    let signer = SignerInfo {
        version: CmsVersion::V1,
        sid: SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
            issuer: certificate.tbs_certificate().issuer().clone(),
            serial_number: certificate.tbs_certificate().serial_number().clone(),
        }),
        digest_alg: digest_algorithm.clone(),
        signed_attrs: Some(SignedAttributes::from_der(signed_attrs)?),
        signature_algorithm: AlgorithmIdentifierOwned {
            oid: RSA_ENCRYPTION,
            parameters: Some(Any::null()),
        },
        signature: OctetString::new(signature)?,
        unsigned_attrs: None,
    };
    let signed = SignedData {
        version: CmsVersion::V1,
        digest_algorithms: SetOfVec::try_from(vec![digest_algorithm])?,
        encap_content_info: EncapsulatedContentInfo {
            econtent_type: ID_DATA,
            econtent: Some(Any::encode_from(&OctetString::new(content)?)?),
        },
        certificates: Some(CertificateSet(SetOfVec::try_from(vec![
            cms::cert::CertificateChoices::Certificate(certificate),
        ])?)),
        crls: None,
        signer_infos: SignerInfos(SetOfVec::try_from(vec![signer])?),
    };
    ContentInfo {
        content_type: ID_SIGNED_DATA,
        content: Any::encode_from(&signed)?,
    }
    .to_der()
}

/// The bytes this module produces are pinned: `testdata/cms-*.der` were written by the
/// hand-written DER encoder this module had before it used the `cms` crate, from the
/// fixed certificate and key beside them. Same inputs, same bytes.
#[cfg(test)]
mod tests {
    use rsa::pkcs8::DecodePrivateKey;

    use super::*;

    const CERT: &[u8] = include_bytes!("testdata/cms-signer.der");
    const KEY_PEM: &str = include_str!("testdata/cms-signer-key.pem");
    const CONTENT: &[u8] = b"customs-single-window-login|2026-01-01T00:00:00Z|golden";

    struct Case {
        golden: &'static str,
        hash: HashAlg,
        nonce: Option<&'static str>,
        card_serial: Option<&'static str>,
    }

    const CASES: [Case; 2] = [
        Case {
            golden: "cms-sha256-nonce-serial.der",
            hash: HashAlg::Sha256,
            nonce: Some("n-42"),
            card_serial: Some("0A0B0C0D"),
        },
        Case {
            golden: "cms-sha384-plain.der",
            hash: HashAlg::Sha384,
            nonce: None,
            card_serial: None,
        },
    ];

    fn build(case: &Case) -> Vec<u8> {
        let key = rsa::PrivateKey::from_pkcs8_pem(KEY_PEM).unwrap();
        let time = time::OffsetDateTime::from_unix_timestamp(1_767_225_600).unwrap();
        let attrs =
            signed_attributes(case.hash, CONTENT, time, case.nonce, case.card_serial).unwrap();
        let digest_info = crate::pkcs1::digest_info(case.hash, &case.hash.digest(&attrs)).unwrap();
        let signature = key
            .sign(rsa::Pkcs1v15Sign::new_unprefixed(), &digest_info)
            .unwrap();
        signed_data(case.hash, CONTENT, &attrs, &signature, CERT).unwrap()
    }

    fn testdata(name: &str) -> std::path::PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("src/hipki/testdata")
            .join(name)
    }

    #[test]
    fn same_bytes_as_the_hand_written_encoder() {
        for case in &CASES {
            let ours = build(case);
            if std::env::var_os("CMS_WRITE_GOLDEN").is_some() {
                std::fs::write(testdata(case.golden), &ours).unwrap();
            }
            let golden = std::fs::read(testdata(case.golden)).unwrap();
            assert_eq!(ours, golden, "{}", case.golden);
        }
    }

    #[test]
    fn a_card_serial_that_is_not_printable_is_refused() {
        let time = time::OffsetDateTime::from_unix_timestamp(1_767_225_600).unwrap();
        assert!(signed_attributes(HashAlg::Sha256, CONTENT, time, None, Some("0A@0B")).is_err());
    }

    #[test]
    fn openssl_verifies_the_fixture_signatures() {
        let ca = testdata("cms-ca.pem");
        for case in &CASES {
            let content = crate::test_support::openssl_cms_verify_with(&build(case), &ca);
            assert_eq!(content, CONTENT, "{}", case.golden);
        }
    }
}
