//! Certificates, built with rcgen and signed through [`RcgenSigner`]. Everything in a leaf
//! is the CA's choice: only the public key comes from the applicant, checked by `check_csr`
//! and parsed again here (it came back through the database), and no extension of the CSR
//! is ever copied.

use rcgen::{
    CertificateParams, ExtendedKeyUsagePurpose, IsCa, KeyIdMethod, KeyUsagePurpose, PublicKeyData,
};
use time::{OffsetDateTime, UtcOffset};
use x509_parser::prelude::FromDer;
use x509_parser::x509::SubjectPublicKeyInfo;

use crate::key::RcgenSigner;
use crate::spki::{self, PublicKey};
use crate::{Ca, CaError, IssueRequest, Profile, ext, name};

/// rcgen writes the time as given; certificates carry UTC.
pub(crate) fn utc(t: OffsetDateTime) -> OffsetDateTime {
    t.to_offset(UtcOffset::UTC)
}

impl PublicKeyData for PublicKey {
    fn der_bytes(&self) -> &[u8] {
        self.key_bits()
    }

    fn algorithm(&self) -> &'static rcgen::SignatureAlgorithm {
        // rcgen writes the key's AlgorithmIdentifier from this: rsaEncryption with NULL, or
        // id-ecPublicKey with prime256v1, the same as `to_spki_der`.
        if self.is_rsa() {
            &rcgen::PKCS_RSA_SHA256
        } else {
            &rcgen::PKCS_ECDSA_P256_SHA256
        }
    }
}

/// `params` for `subject_key`, issued and signed by `ca`.
pub(crate) fn sign(
    ca: &Ca,
    params: &CertificateParams,
    subject_key: &PublicKey,
) -> Result<Vec<u8>, CaError> {
    let signer = RcgenSigner::new(&ca.key);
    let issuer = rcgen::Issuer::from_params(&ca.issuer, &signer);
    let cert = params
        .signed_by(subject_key, &issuer)
        .map_err(|e| signer.error(e))?;
    Ok(cert.der().to_vec())
}

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
    let public = subject_key(profile.allow_ec_p256, &req.spki_der)?;
    let mut params = CertificateParams::default();
    params.serial_number = Some(rcgen::SerialNumber::from_slice(&req.serial.0));
    params.not_before = utc(req.not_before);
    params.not_after = utc(req.not_after);
    params.distinguished_name = name::leaf_name(&req.subject)?;
    // basicConstraints (critical, cA FALSE left out as the DEFAULT) and the subject key id.
    params.is_ca = IsCa::ExplicitNoCa;
    params.key_identifier_method = KeyIdMethod::PreSpecified(public.key_id());
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::ContentCommitment,
    ];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    params.use_authority_key_identifier_extension = true;
    params.crl_distribution_points = vec![ext::crl_distribution_point(&profile.crl_url)?];
    params.custom_extensions = vec![ext::authority_info_access(
        &profile.ca_issuers_url,
        profile.ocsp_url.as_deref(),
    )?];
    sign(ca, &params, &public)
}

/// The stored SPKI, parsed again and held to the profile's key types.
pub(crate) fn subject_key(allow_ec_p256: bool, spki_der: &[u8]) -> Result<PublicKey, CaError> {
    let (rest, parsed) = SubjectPublicKeyInfo::from_der(spki_der)
        .map_err(|e| CaError::Build(format!("subject public key: {e}")))?;
    if !rest.is_empty() {
        return Err(CaError::Build("subject public key: trailing data".into()));
    }
    let key = spki::from_spki(&parsed)
        .map_err(|e| CaError::Build(format!("subject public key: {e:?}")))?;
    match key.rsa_bits() {
        Some(bits) if ![2048, 3072, 4096].contains(&bits) => {
            return Err(CaError::Build(format!("RSA-{bits} subject key")));
        }
        Some(_) => {}
        None if !allow_ec_p256 => {
            return Err(CaError::Build(
                "P-256 keys are not allowed by the profile".into(),
            ));
        }
        None => {}
    }
    Ok(key)
}
