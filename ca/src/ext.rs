//! The profile's URLs and the one extension rcgen has no field for: Authority Information
//! Access (RFC 5280 4.2.2.1), whose value is encoded here with the `der` crate.

use der::Encode as _;
use der::asn1::Ia5StringRef;

use crate::CaError;
use crate::oid::{self, Oid};

/// `AccessDescription ::= SEQUENCE { accessMethod OBJECT IDENTIFIER, accessLocation
/// GeneralName }`, with the location always a `uniformResourceIdentifier [6] IA5String`.
#[derive(der::Sequence)]
struct AccessDescription<'a> {
    method: Oid,
    #[asn1(context_specific = "6", tag_mode = "IMPLICIT")]
    location: Ia5StringRef<'a>,
}

/// The AIA extension: OCSP first (when an OCSP URL is set), then caIssuers.
pub(crate) fn authority_info_access(
    ca_issuers: &str,
    ocsp: Option<&str>,
) -> Result<rcgen::CustomExtension, CaError> {
    let mut descriptions = Vec::new();
    if let Some(ocsp) = ocsp.filter(|u| !u.is_empty()) {
        descriptions.push(AccessDescription {
            method: oid::AD_OCSP,
            location: uri(ocsp)?,
        });
    }
    descriptions.push(AccessDescription {
        method: oid::AD_CA_ISSUERS,
        location: uri(ca_issuers)?,
    });
    let value = descriptions
        .to_der()
        .map_err(|e| CaError::Build(format!("authorityInfoAccess: {e}")))?;
    Ok(rcgen::CustomExtension::from_oid_content(
        &oid::arcs(&oid::AUTHORITY_INFO_ACCESS),
        value,
    ))
}

/// A CRL distribution point URL, checked like the AIA ones.
pub(crate) fn crl_distribution_point(url: &str) -> Result<rcgen::CrlDistributionPoint, CaError> {
    uri(url)?;
    Ok(rcgen::CrlDistributionPoint {
        uris: vec![url.to_owned()],
    })
}

/// An absolute http(s) URI without spaces, as an IA5String.
fn uri(url: &str) -> Result<Ia5StringRef<'_>, CaError> {
    let scheme_ok = url.starts_with("http://") || url.starts_with("https://");
    let host_present = url
        .split_once("://")
        .is_some_and(|(_, rest)| !rest.is_empty() && !rest.starts_with('/'));
    let refused = || {
        CaError::Build(format!(
            "profile URL must be an absolute http(s) URL without spaces: {url:?}"
        ))
    };
    if !scheme_ok || !host_present || !url.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(refused());
    }
    Ia5StringRef::new(url).map_err(|_| refused())
}

#[cfg(test)]
mod tests {
    use super::*;

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
            assert!(
                authority_info_access(bad, None).is_err(),
                "{bad:?} accepted"
            );
        }
    }

    #[test]
    fn aia_lists_ocsp_before_ca_issuers_and_skips_an_empty_ocsp() {
        let both = authority_info_access("http://a/ca.cer", Some("http://a/ocsp")).unwrap();
        let both = both.content();
        let pos_ocsp = both.windows(12).position(|w| w == b"http://a/ocs");
        let pos_cer = both.windows(12).position(|w| w == b"http://a/ca.");
        assert!(pos_ocsp.unwrap() < pos_cer.unwrap());
        assert_eq!(
            authority_info_access("http://a/ca.cer", Some("")).unwrap(),
            authority_info_access("http://a/ca.cer", None).unwrap()
        );
        // SEQUENCE { SEQUENCE { id-ad-caIssuers, [6] "http://a/ca.cer" } }
        let only = authority_info_access("http://a/ca.cer", None).unwrap();
        let mut want = vec![0x30, 0x1d, 0x30, 0x1b, 0x06, 0x08];
        want.extend_from_slice(&[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x02]);
        want.extend_from_slice(&[0x86, 0x0f]);
        want.extend_from_slice(b"http://a/ca.cer");
        assert_eq!(only.content(), want.as_slice());
        assert!(!only.criticality());
    }
}
