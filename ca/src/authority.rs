//! Creating a new root CA and loading an operator-supplied one.

use time::OffsetDateTime;
use x509_parser::prelude::{FromDer, X509Certificate};

use crate::cert::{self, Tbs};
use crate::key::CaKey;
use crate::spki::{self, SpkiError};
use crate::{Ca, CaError, CaSubject, Serial, ext, name, pem};

/// RSA modulus of a generated CA key (NIST SP 800-57: 128-bit security through 2030+).
const CA_RSA_BITS: usize = 3072;

pub(crate) fn generate(
    subject: &CaSubject,
    now: OffsetDateTime,
    validity_years: u32,
) -> Result<Ca, CaError> {
    if validity_years == 0 || validity_years > 100 {
        return Err(CaError::Build("CA validity must be 1 to 100 years".into()));
    }
    let not_before = now.replace_nanosecond(0).unwrap_or(now);
    let not_after = add_years(not_before, validity_years)?;
    let name = name::ca_name(subject)?;
    let key = CaKey::generate_rsa(CA_RSA_BITS)?;
    let public = key.public_key()?;
    let key_id = public.key_id();
    let spki = public.to_spki_der();
    let extensions = [
        ext::basic_constraints(true),
        ext::key_usage_ca(),
        ext::subject_key_id(&key_id),
        ext::authority_key_id(&key_id),
    ];
    let der = cert::build(
        &key,
        &Tbs {
            serial: Serial::try_random()?,
            issuer: &name,
            not_before,
            not_after,
            subject: &name,
            spki: &spki,
            extensions: &extensions,
        },
    )?;
    Ok(Ca {
        cert_der: der,
        subject_der: name,
        public_key: public,
        key_id,
        key,
        not_after,
    })
}

/// The same day and time `years` later; 29 February becomes 28 February.
fn add_years(t: OffsetDateTime, years: u32) -> Result<OffsetDateTime, CaError> {
    let year = i32::try_from(years)
        .ok()
        .and_then(|y| t.year().checked_add(y))
        .ok_or_else(|| CaError::Build("CA validity overflows".into()))?;
    t.replace_year(year)
        .or_else(|_| t.replace_day(28).and_then(|t| t.replace_year(year)))
        .map_err(|e| CaError::Build(format!("CA notAfter: {e}")))
}

pub(crate) fn from_pem(cert_pem: &str, key_pem: &str) -> Result<Ca, CaError> {
    let (_, cert_der) = pem::decode_first(cert_pem, &["CERTIFICATE"]).map_err(CaError::Load)?;
    let cert_der = cert_der.to_vec();
    let (rest, cert) = X509Certificate::from_der(&cert_der)
        .map_err(|e| CaError::Load(format!("CA certificate: {e}")))?;
    if !rest.is_empty() {
        return Err(CaError::Load("CA certificate: trailing data".into()));
    }
    let is_ca = cert
        .basic_constraints()
        .ok()
        .flatten()
        .is_some_and(|bc| bc.value.ca);
    if !is_ca {
        return Err(CaError::Load(
            "the certificate is not a CA certificate (basicConstraints cA is not TRUE)".into(),
        ));
    }
    if let Ok(Some(ku)) = cert.key_usage()
        && !(ku.value.key_cert_sign() && ku.value.crl_sign())
    {
        return Err(CaError::Load(
            "the CA certificate's keyUsage lacks keyCertSign or cRLSign".into(),
        ));
    }
    let public = spki::from_spki(cert.public_key()).map_err(|e| match e {
        SpkiError::Unsupported(name) => CaError::Load(format!("CA key type {name}")),
        SpkiError::Malformed(why) => CaError::Load(format!("CA public key: {why}")),
    })?;
    let key = CaKey::from_pem(key_pem)?;
    if key.public_key()? != public {
        return Err(CaError::KeyMismatch);
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
    let subject_der = cert.subject().as_raw().to_vec();
    let not_after = cert.validity().not_after.to_datetime();
    drop(cert);
    Ok(Ca {
        cert_der,
        subject_der,
        public_key: public,
        key_id,
        key,
        not_after,
    })
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
    }
}
