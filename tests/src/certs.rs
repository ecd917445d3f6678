//! The CA profile and leaf certificate requests the CA's tests and the fuzz targets issue
//! with, so a new profile field or subject rule is set in one place.

use ca::{IssueRequest, LeafSubject, Profile, Serial};
use time::OffsetDateTime;

use crate::forms::TAX_ID;

/// The test profile: two years, CRL and CA issuer URLs on 127.0.0.1:8080, no OCSP, P-256
/// allowed.
pub fn profile() -> Profile {
    Profile {
        validity_days: 730,
        crl_url: "http://127.0.0.1:8080/crl/ca.crl".into(),
        ca_issuers_url: "http://127.0.0.1:8080/ca.cer".into(),
        ocsp_url: None,
        crl_validity_hours: 24,
        allow_ec_p256: true,
    }
}

/// The portal's certificate subject for the [`TAX_ID`] company, as `organization`.
pub fn leaf_subject(organization: &str) -> LeafSubject {
    LeafSubject {
        cert_name: "SingleWindow-01-B00051".into(),
        organization: organization.into(),
        tax_id: TAX_ID.into(),
        organizational_unit: None,
    }
}

/// A request for a certificate on `spki_der`, valid for 730 days from `not_before`.
pub fn request(
    spki_der: Vec<u8>,
    serial: Serial,
    not_before: OffsetDateTime,
    subject: LeafSubject,
) -> IssueRequest {
    IssueRequest {
        spki_der,
        serial,
        not_before,
        not_after: not_before + time::Duration::days(730),
        subject,
    }
}
