//! Leaf certificates. Everything in them is the CA's choice: only the public key comes from
//! the applicant, and it was checked by `check_csr` and is re-encoded here.

use x509_parser::prelude::FromDer;
use x509_parser::x509::SubjectPublicKeyInfo;

use crate::cert::{self, Tbs};
use crate::spki::{self, PublicKey};
use crate::{Ca, CaError, IssueRequest, Profile, ext, name, oid};

pub(crate) fn issue(ca: &Ca, profile: &Profile, req: &IssueRequest) -> Result<Vec<u8>, CaError> {
    // A leaf valid after its issuer would fail path validation for the rest of its life
    // (RFC 5280 6.1.3: every certificate on the path must be valid at the time of use).
    if req.not_after > ca.not_after {
        return Err(CaError::Build(format!(
            "the certificate would be valid until {}, after the CA certificate expires ({})",
            req.not_after, ca.not_after
        )));
    }
    if req.not_before >= req.not_after {
        return Err(CaError::Build("the certificate validity is empty".into()));
    }
    let public = subject_key(profile, &req.spki_der)?;
    let subject = name::leaf_name(&req.subject)?;
    let spki = public.to_spki_der();
    let extensions = [
        ext::basic_constraints(false),
        ext::key_usage_leaf(),
        ext::ext_key_usage(&[oid::CLIENT_AUTH]),
        ext::subject_key_id(&public.key_id()),
        ext::authority_key_id(&ca.key_id),
        ext::crl_distribution_point(&profile.crl_url)?,
        ext::authority_info_access(&profile.ca_issuers_url, profile.ocsp_url.as_deref())?,
    ];
    cert::build(
        &ca.key,
        &Tbs {
            serial: req.serial,
            issuer: &ca.subject_der,
            not_before: req.not_before,
            not_after: req.not_after,
            subject: &subject,
            spki: &spki,
            extensions: &extensions,
        },
    )
}

/// The stored SPKI, parsed again: it came through the database, not straight from the CSR.
fn subject_key(profile: &Profile, spki_der: &[u8]) -> Result<PublicKey, CaError> {
    let (rest, parsed) = SubjectPublicKeyInfo::from_der(spki_der)
        .map_err(|e| CaError::Build(format!("subject public key: {e}")))?;
    if !rest.is_empty() {
        return Err(CaError::Build("subject public key: trailing data".into()));
    }
    let key = spki::from_spki(&parsed)
        .map_err(|e| CaError::Build(format!("subject public key: {e:?}")))?;
    match &key {
        PublicKey::Rsa { .. } => {
            let bits = key.rsa_bits().unwrap_or(0);
            if ![2048, 3072, 4096].contains(&bits) {
                return Err(CaError::Build(format!("RSA-{bits} subject key")));
            }
        }
        PublicKey::EcP256 { .. } if !profile.allow_ec_p256 => {
            return Err(CaError::Build(
                "P-256 keys are not allowed by the profile".into(),
            ));
        }
        PublicKey::EcP256 { .. } => {}
    }
    Ok(key)
}
