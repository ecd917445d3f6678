//! Making CAs (a self-signed root, the issuing CA's CSR and certificate) and loading one
//! an operator installed, with the certificates above it.

use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyIdMethod, KeyUsagePurpose};
use time::OffsetDateTime;
use x509_parser::prelude::{FromDer, X509Certificate, X509CertificationRequest};

use crate::cert::{self, utc};
use crate::key::{CaKey, KeyAlgorithm, RcgenSigner};
use crate::spki::{self, PublicKey, SpkiError};
use crate::{Ca, CaError, CaSubject, Profile, Serial, csr_check, name, pem};

/// RSA modulus of a generated CA key (NIST SP 800-57: 128-bit security through 2030+).
const CA_RSA_BITS: u32 = 3072;

pub(crate) fn generate(
    subject: &CaSubject,
    now: OffsetDateTime,
    validity_years: u32,
) -> Result<Ca, CaError> {
    let not_before = now.replace_nanosecond(0).unwrap_or(now);
    let not_after = add_years(not_before, validity_years)?;
    let key = CaKey::generate(KeyAlgorithm::Rsa(CA_RSA_BITS))?;
    self_signed(key, subject, Serial::try_random()?, not_before, not_after)
}

/// The extensions of a CA certificate: basicConstraints cA (critical), keyUsage keyCertSign
/// and cRLSign (critical), subject and authority key identifiers.
fn ca_params(
    subject: &CaSubject,
    serial: Serial,
    not_before: OffsetDateTime,
    not_after: OffsetDateTime,
    key_id: Vec<u8>,
    path_len: Option<u8>,
) -> Result<CertificateParams, CaError> {
    if not_after <= not_before {
        return Err(CaError::Build(
            "notAfter must be later than notBefore".into(),
        ));
    }
    let mut params = CertificateParams::default();
    params.serial_number = Some(rcgen::SerialNumber::from_slice(&serial.0));
    params.not_before = utc(not_before);
    params.not_after = utc(not_after);
    params.distinguished_name = name::ca_name(subject)?;
    params.is_ca = IsCa::Ca(match path_len {
        Some(n) => BasicConstraints::Constrained(n),
        None => BasicConstraints::Unconstrained,
    });
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    params.key_identifier_method = KeyIdMethod::PreSpecified(key_id);
    params.use_authority_key_identifier_extension = true;
    Ok(params)
}

/// A self-signed root for `key`. The root's own serial and validity are the caller's.
pub(crate) fn self_signed(
    key: CaKey,
    subject: &CaSubject,
    serial: Serial,
    not_before: OffsetDateTime,
    not_after: OffsetDateTime,
) -> Result<Ca, CaError> {
    let params = ca_params(subject, serial, not_before, not_after, key.key_id(), None)?;
    let signer = RcgenSigner::new(&key);
    let der = params
        .self_signed(&signer)
        .map_err(|e| signer.error(e))?
        .der()
        .to_vec();
    drop(signer);
    load_der(der, key, Vec::new())
}

/// The issuing CA's PKCS#10 request, signed by `key` (in a token: inside it). It carries
/// the subject only; the root decides the extensions.
pub(crate) fn issuing_csr(key: &CaKey, subject: &CaSubject) -> Result<Vec<u8>, CaError> {
    let mut params = CertificateParams::default();
    params.distinguished_name = name::ca_name(subject)?;
    let signer = RcgenSigner::new(key);
    let csr = params
        .serialize_request(&signer)
        .map_err(|e| signer.error(e))?;
    Ok(csr.der().to_vec())
}

/// The root (`root`) signs an issuing CA's request: the key is the CSR's (checked like any
/// applicant's: signature, algorithm, weak keys), the subject the CSR's C, O and CN, the
/// extensions the root's choice (cA with pathLen 0, keyCertSign and cRLSign).
pub(crate) fn sign_issuing(
    root: &Ca,
    csr_der: &[u8],
    serial: Serial,
    not_before: OffsetDateTime,
    not_after: OffsetDateTime,
) -> Result<Vec<u8>, CaError> {
    let any_key = Profile {
        validity_days: 1,
        crl_url: String::new(),
        ca_issuers_url: String::new(),
        ocsp_url: None,
        crl_validity_hours: 1,
        allow_ec_p256: true,
    };
    let checked = csr_check::check_csr(&any_key, csr_der)
        .map_err(|e| CaError::Build(format!("issuing CA request: {e}")))?;
    let (_, csr) = X509CertificationRequest::from_der(csr_der)
        .map_err(|e| CaError::Build(format!("issuing CA request: {e}")))?;
    let subject = name::ca_subject_of(&csr.certification_request_info.subject)?;
    let public = cert::subject_key(true, &checked.spki_der)?;
    if not_after > root.not_after {
        return Err(CaError::Build(format!(
            "the issuing CA would be valid until {not_after}, after the root expires ({})",
            root.not_after
        )));
    }
    let params = ca_params(
        &subject,
        serial,
        not_before,
        not_after,
        public.key_id(),
        Some(0),
    )?;
    cert::sign(root, &params, &public)
}

/// The same day and time `years` later; 29 February becomes 28 February.
pub(crate) fn add_years(t: OffsetDateTime, years: u32) -> Result<OffsetDateTime, CaError> {
    if years == 0 || years > 100 {
        return Err(CaError::Build("CA validity must be 1 to 100 years".into()));
    }
    let year = i32::try_from(years)
        .ok()
        .and_then(|y| t.year().checked_add(y))
        .ok_or_else(|| CaError::Build("CA validity overflows".into()))?;
    t.replace_year(year)
        .or_else(|_| t.replace_day(28).and_then(|t| t.replace_year(year)))
        .map_err(|e| CaError::Build(format!("CA notAfter: {e}")))
}

/// All CERTIFICATE blocks of a PEM text, in order.
pub(crate) fn certificates(text: &str) -> Result<Vec<Vec<u8>>, CaError> {
    let all = pem::decode_all(text, "CERTIFICATE").map_err(CaError::Load)?;
    if all.is_empty() {
        return Err(CaError::Load("no CERTIFICATE block".into()));
    }
    Ok(all)
}

pub(crate) fn load(cert_pem: &str, key: CaKey, chain_pem: Option<&str>) -> Result<Ca, CaError> {
    let mut certs = certificates(cert_pem)?;
    let cert_der = certs.remove(0);
    // A chain may be given in the certificate file itself (issuing CA first) or separately.
    if let Some(chain) = chain_pem.filter(|c| !c.trim().is_empty()) {
        certs.extend(certificates(chain)?);
    }
    load_der(cert_der, key, certs)
}

fn parse<'a>(der: &'a [u8], what: &str) -> Result<X509Certificate<'a>, CaError> {
    let (rest, cert) =
        X509Certificate::from_der(der).map_err(|e| CaError::Load(format!("{what}: {e}")))?;
    if !rest.is_empty() {
        return Err(CaError::Load(format!("{what}: trailing data")));
    }
    Ok(cert)
}

fn public_key_of(cert: &X509Certificate<'_>) -> Result<PublicKey, CaError> {
    spki::from_spki(cert.public_key()).map_err(|e| match e {
        SpkiError::Unsupported(name) => CaError::Load(format!("CA key type {name}")),
        SpkiError::Malformed(why) => CaError::Load(format!("CA public key: {why}")),
    })
}

fn check_is_ca(cert: &X509Certificate<'_>, what: &str) -> Result<(), CaError> {
    let is_ca = cert
        .basic_constraints()
        .ok()
        .flatten()
        .is_some_and(|bc| bc.value.ca);
    if !is_ca {
        return Err(CaError::Load(format!(
            "the {what} is not a CA certificate (basicConstraints cA is not TRUE)"
        )));
    }
    if let Ok(Some(ku)) = cert.key_usage()
        && !(ku.value.key_cert_sign() && ku.value.crl_sign())
    {
        return Err(CaError::Load(format!(
            "the {what}'s keyUsage lacks keyCertSign or cRLSign"
        )));
    }
    Ok(())
}

/// Whether `issuer` signed `cert` (names chain and the signature verifies).
pub(crate) fn signed_by(cert: &X509Certificate<'_>, issuer: &X509Certificate<'_>) -> bool {
    if cert.issuer().as_raw() != issuer.subject().as_raw() {
        return false;
    }
    let Ok(key) = spki::from_spki(issuer.public_key()) else {
        return false;
    };
    let Ok(alg) = spki::classify_signature(&cert.signature_algorithm) else {
        return false;
    };
    cert.signature_value.unused_bits == 0
        && key.verify(
            alg,
            cert.tbs_certificate.as_ref(),
            &cert.signature_value.data,
        )
}

fn load_der(cert_der: Vec<u8>, key: CaKey, chain: Vec<Vec<u8>>) -> Result<Ca, CaError> {
    let cert = parse(&cert_der, "CA certificate")?;
    check_is_ca(&cert, "CA certificate")?;
    let public = public_key_of(&cert)?;
    if *key.public() != public {
        return Err(CaError::KeyMismatch);
    }
    // The certificates above: each signs the one before, and the last is a self-signed root.
    let mut below = &cert;
    let parsed: Vec<X509Certificate<'_>> = chain
        .iter()
        .map(|der| parse(der, "CA chain certificate"))
        .collect::<Result<_, _>>()?;
    for (i, above) in parsed.iter().enumerate() {
        check_is_ca(above, "CA chain certificate")?;
        if !signed_by(below, above) {
            return Err(CaError::Load(format!(
                "CA chain: certificate {} ({}) did not sign {}",
                i + 1,
                above.subject(),
                below.subject()
            )));
        }
        below = above;
    }
    if !signed_by(below, below) {
        return Err(CaError::Load(if parsed.is_empty() {
            format!(
                "the CA certificate ({}) is not self-signed: install the certificates above \
                 it (ca.chain)",
                cert.subject()
            )
        } else {
            format!(
                "CA chain: the last certificate ({}) is not a self-signed root",
                below.subject()
            )
        }));
    }
    // Keep the CA's own identifier (it may use another method than ours) so that AKI in
    // issued certificates matches its SKI.
    let key_id = cert
        .iter_extensions()
        .find_map(|e| match e.parsed_extension() {
            x509_parser::extensions::ParsedExtension::SubjectKeyIdentifier(id) => {
                Some(id.0.to_vec())
            }
            _ => None,
        })
        .unwrap_or_else(|| public.key_id());
    let mut issuer = CertificateParams::default();
    issuer.distinguished_name = name::issuer_name(cert.subject())?;
    issuer.key_identifier_method = KeyIdMethod::PreSpecified(key_id.clone());
    issuer.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let subject_der = cert.subject().as_raw().to_vec();
    let not_before = cert.validity().not_before.to_datetime();
    let not_after = cert.validity().not_after.to_datetime();
    drop(parsed);
    drop(cert);
    let ca = Ca {
        cert_der,
        subject_der,
        public_key: public,
        key_id,
        key,
        issuer,
        not_after,
        chain,
    };
    probe(&ca, not_before)?;
    Ok(ca)
}

/// Signs a throwaway certificate and reads it back: the key really signs for this
/// certificate (a token's key object may not match the public key it lists) and the issuer
/// name comes out byte for byte as the CA's subject.
fn probe(ca: &Ca, not_before: OffsetDateTime) -> Result<(), CaError> {
    let mut params = CertificateParams::default();
    params.serial_number = Some(rcgen::SerialNumber::from(1u64));
    params.not_before = utc(not_before);
    params.not_after = utc(ca.not_after);
    let der = cert::sign(ca, &params, &ca.public_key)?;
    let cert = parse(&der, "key check certificate")?;
    if cert.issuer().as_raw() != ca.subject_der.as_slice() {
        return Err(CaError::Load(
            "the CA certificate's subject is not reproduced byte for byte as the issuer name; \
             use a CA whose subject has one attribute per RDN in PrintableString, \
             UTF8String or IA5String"
                .into(),
        ));
    }
    let alg = spki::classify_signature(&cert.signature_algorithm)
        .map_err(|e| CaError::Load(format!("key check: {e}")))?;
    if !ca.public_key.verify(
        alg,
        cert.tbs_certificate.as_ref(),
        &cert.signature_value.data,
    ) {
        return Err(CaError::KeyMismatch);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn years_are_added_on_the_calendar() {
        assert_eq!(
            add_years(datetime!(2026-05-01 10:00 UTC), 10).unwrap(),
            datetime!(2036-05-01 10:00 UTC)
        );
        assert_eq!(
            add_years(datetime!(2028-02-29 10:00 UTC), 1).unwrap(),
            datetime!(2029-02-28 10:00 UTC)
        );
        assert!(add_years(datetime!(2026-05-01 10:00 UTC), 0).is_err());
    }
}
