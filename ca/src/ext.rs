//! The X.509 extensions this CA writes (RFC 5280 section 4.2 and 5.2).

use crate::CaError;
use crate::der;
use crate::oid::{self, Oid};

// KeyUsage bit numbers.
const DIGITAL_SIGNATURE: u8 = 0;
const NON_REPUDIATION: u8 = 1;
const KEY_CERT_SIGN: u8 = 5;
const CRL_SIGN: u8 = 6;

/// `GeneralName` `uniformResourceIdentifier [6] IA5String`.
const URI_TAG: u8 = der::context_primitive(6);

pub(crate) fn basic_constraints(ca: bool) -> Vec<u8> {
    // cA FALSE is the DEFAULT, so DER leaves an empty SEQUENCE for end entities.
    let value = if ca {
        der::sequence(&[&der::boolean(true)])
    } else {
        der::sequence(&[])
    };
    der::extension(oid::BASIC_CONSTRAINTS, true, &value)
}

pub(crate) fn key_usage_ca() -> Vec<u8> {
    der::extension(
        oid::KEY_USAGE,
        true,
        &der::named_bits(&[KEY_CERT_SIGN, CRL_SIGN]),
    )
}

pub(crate) fn key_usage_leaf() -> Vec<u8> {
    der::extension(
        oid::KEY_USAGE,
        true,
        &der::named_bits(&[DIGITAL_SIGNATURE, NON_REPUDIATION]),
    )
}

pub(crate) fn ext_key_usage(purposes: &[Oid]) -> Vec<u8> {
    let oids: Vec<Vec<u8>> = purposes.iter().map(|p| der::oid(p)).collect();
    der::extension(
        oid::EXT_KEY_USAGE,
        false,
        &der::tlv(der::SEQUENCE, &oids.concat()),
    )
}

pub(crate) fn subject_key_id(key_id: &[u8]) -> Vec<u8> {
    der::extension(oid::SUBJECT_KEY_ID, false, &der::octet_string(key_id))
}

pub(crate) fn authority_key_id(key_id: &[u8]) -> Vec<u8> {
    // AuthorityKeyIdentifier ::= SEQUENCE { keyIdentifier [0] IMPLICIT OCTET STRING, ... }
    let value = der::sequence(&[&der::tlv(der::context_primitive(0), key_id)]);
    der::extension(oid::AUTHORITY_KEY_ID, false, &value)
}

pub(crate) fn crl_distribution_point(url: &str) -> Result<Vec<u8>, CaError> {
    // DistributionPoint { distributionPoint [0] { fullName [0] GeneralNames } }: the outer
    // [0] is EXPLICIT (DistributionPointName is a CHOICE), fullName is IMPLICIT.
    let full_name = der::tlv(der::context(0), &uri(url)?);
    let dp_name = der::tlv(der::context(0), &full_name);
    let value = der::sequence(&[&der::sequence(&[&dp_name])]);
    Ok(der::extension(oid::CRL_DISTRIBUTION_POINTS, false, &value))
}

pub(crate) fn authority_info_access(
    ca_issuers: &str,
    ocsp: Option<&str>,
) -> Result<Vec<u8>, CaError> {
    let mut descriptions = Vec::new();
    if let Some(ocsp) = ocsp.filter(|u| !u.is_empty()) {
        descriptions.push(der::sequence(&[&der::oid(oid::AD_OCSP), &uri(ocsp)?]));
    }
    descriptions.push(der::sequence(&[
        &der::oid(oid::AD_CA_ISSUERS),
        &uri(ca_issuers)?,
    ]));
    Ok(der::extension(
        oid::AUTHORITY_INFO_ACCESS,
        false,
        &der::tlv(der::SEQUENCE, &descriptions.concat()),
    ))
}

pub(crate) fn crl_number(n: u64) -> Vec<u8> {
    der::extension(oid::CRL_NUMBER, false, &der::uint(n))
}

/// CRLReason `certificateHold`.
pub(crate) const REASON_CERTIFICATE_HOLD: u8 = 6;

pub(crate) fn reason_code(code: u8) -> Vec<u8> {
    der::extension(oid::REASON_CODE, false, &der::enumerated(code))
}

/// An absolute http(s) URI as an IA5String GeneralName.
fn uri(url: &str) -> Result<Vec<u8>, CaError> {
    let scheme_ok = url.starts_with("http://") || url.starts_with("https://");
    let host_present = url
        .split_once("://")
        .is_some_and(|(_, rest)| !rest.is_empty() && !rest.starts_with('/'));
    if !scheme_ok || !host_present || !url.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(CaError::Build(format!(
            "profile URL must be an absolute http(s) URL without spaces: {url:?}"
        )));
    }
    Ok(der::tlv(URI_TAG, url.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_constraints_encodings() {
        // 30 0c 06 03 55 1d 13 01 01 ff 04 02 30 00
        assert_eq!(
            basic_constraints(false),
            vec![
                0x30, 0x0c, 0x06, 0x03, 0x55, 0x1d, 0x13, 0x01, 0x01, 0xff, 0x04, 0x02, 0x30, 0x00
            ]
        );
        assert!(basic_constraints(true).ends_with(&[0x04, 0x05, 0x30, 0x03, 0x01, 0x01, 0xff]));
    }

    #[test]
    fn urls_must_be_absolute_http() {
        assert!(crl_distribution_point("http://127.0.0.1:8080/crl/ca.crl").is_ok());
        assert!(crl_distribution_point("https://ca.example/ca.crl").is_ok());
        for bad in [
            "",
            "ftp://x/y",
            "http://",
            "http:///x",
            "http://a b/",
            "http://é/",
        ] {
            assert!(
                matches!(crl_distribution_point(bad), Err(CaError::Build(_))),
                "{bad:?} accepted"
            );
        }
    }

    #[test]
    fn aia_lists_ocsp_before_ca_issuers_and_skips_an_empty_ocsp() {
        let both = authority_info_access("http://a/ca.cer", Some("http://a/ocsp")).unwrap();
        let pos_ocsp = both.windows(12).position(|w| w == b"http://a/ocs");
        let pos_cer = both.windows(12).position(|w| w == b"http://a/ca.");
        assert!(pos_ocsp.unwrap() < pos_cer.unwrap());
        assert_eq!(
            authority_info_access("http://a/ca.cer", Some("")).unwrap(),
            authority_info_access("http://a/ca.cer", None).unwrap()
        );
    }
}
