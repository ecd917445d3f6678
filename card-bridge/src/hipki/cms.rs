//! `signatureType: "PKCS7"`: a CMS SignedData (RFC 5652) with the content attached, one
//! signer, the signer's certificate, and signed attributes contentType, signingTime,
//! messageDigest, plus HiPKI's randomNonce (1.2.840.113549.1.9.25.3) when a nonce is given
//! and the card serial (2.16.886.1.100.2.204) when `withCardSN` is set.
//!
//! Built in two steps because the card signs in between: [`signed_attributes`] gives the
//! DER whose hash the card signs, [`signed_data`] assembles the result.

use card_auth::CertificateInfo;

use super::der;
use crate::pkcs1::HashAlg;

const OID_DATA: [u8; 9] = [0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x07, 0x01];
const OID_SIGNED_DATA: [u8; 9] = [0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x07, 0x02];
const OID_CONTENT_TYPE: [u8; 9] = [0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x09, 0x03];
const OID_MESSAGE_DIGEST: [u8; 9] = [0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x09, 0x04];
const OID_SIGNING_TIME: [u8; 9] = [0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x09, 0x05];
const OID_RANDOM_NONCE: [u8; 10] = [0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x09, 0x19, 0x03];
/// 2.16.886.1.100.2.204, the card-serial attribute Taiwanese verifiers read.
const OID_CARD_SERIAL: [u8; 8] = [0x60, 0x86, 0x76, 0x01, 0x64, 0x02, 0x81, 0x4C];
const OID_RSA_ENCRYPTION: [u8; 9] = [0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x01];

/// The signed attributes, DER-encoded as the `SET OF Attribute` that gets hashed and
/// signed (RFC 5652 §5.4: the `[0] IMPLICIT` tag is replaced by SET for the signature).
pub fn signed_attributes(
    hash: HashAlg,
    content: &[u8],
    signing_time: time::OffsetDateTime,
    nonce: Option<&str>,
    card_serial: Option<&str>,
) -> Vec<u8> {
    let attribute =
        |oid: &[u8], value: Vec<u8>| der::sequence(&[der::oid(oid), der::set_of(&[value])]);
    let mut attrs = vec![
        attribute(&OID_CONTENT_TYPE, der::oid(&OID_DATA)),
        attribute(&OID_SIGNING_TIME, der::utc_time(signing_time)),
        attribute(
            &OID_MESSAGE_DIGEST,
            der::octet_string(&hash.digest(content)),
        ),
    ];
    if let Some(nonce) = nonce {
        attrs.push(attribute(
            &OID_RANDOM_NONCE,
            der::octet_string(nonce.as_bytes()),
        ));
    }
    if let Some(serial) = card_serial {
        attrs.push(attribute(&OID_CARD_SERIAL, der::printable_string(serial)));
    }
    der::set_of(&attrs)
}

/// `ContentInfo { signedData }` around the card's signature over `signed_attrs`.
pub fn signed_data(
    hash: HashAlg,
    content: &[u8],
    signed_attrs: &[u8],
    signature: &[u8],
    certificate: &[u8],
    cert_info: &CertificateInfo,
) -> Vec<u8> {
    let digest_algorithm = der::sequence(&[der::oid(hash.oid())]);
    let encap = der::sequence(&[
        der::oid(&OID_DATA),
        der::explicit(0, &der::octet_string(content)),
    ]);
    let issuer_and_serial = der::sequence(&[
        cert_info.issuer_name_der.clone(),
        der::tlv(0x02, &cert_info.serial_der_content),
    ]);
    // signedAttrs goes in as [0] IMPLICIT: same content, context tag instead of SET.
    let mut implicit_attrs = signed_attrs.to_vec();
    if let Some(tag) = implicit_attrs.first_mut() {
        *tag = 0xA0;
    }
    let signer_info = der::sequence(&[
        der::integer_u8(1),
        issuer_and_serial,
        digest_algorithm.clone(),
        implicit_attrs,
        der::sequence(&[der::oid(&OID_RSA_ENCRYPTION), der::null()]),
        der::octet_string(signature),
    ]);
    let signed = der::sequence(&[
        der::integer_u8(1),
        der::set_of(&[digest_algorithm]),
        encap,
        der::tlv(0xA0, certificate),
        der::set_of(&[signer_info]),
    ]);
    der::sequence(&[der::oid(&OID_SIGNED_DATA), der::explicit(0, &signed)])
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
        let attrs = signed_attributes(case.hash, CONTENT, time, case.nonce, case.card_serial);
        let digest_info =
            crate::pkcs1::digest_info(case.hash, &case.hash.digest(&attrs)).unwrap();
        let signature = key
            .sign(rsa::Pkcs1v15Sign::new_unprefixed(), &digest_info)
            .unwrap();
        let info = CertificateInfo::from_der(CERT).unwrap();
        signed_data(case.hash, CONTENT, &attrs, &signature, CERT, &info)
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
    fn openssl_verifies_the_fixture_signatures() {
        let ca = testdata("cms-ca.pem");
        for case in &CASES {
            let content = crate::test_support::openssl_cms_verify_with(&build(case), &ca);
            assert_eq!(content, CONTENT, "{}", case.golden);
        }
    }
}
