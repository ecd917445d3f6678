//! Reading back a certificate this CA issued (the `.cer` an applicant registers).

use x509_parser::prelude::{FromDer, X509Certificate};
use x509_parser::x509::X509Name;

use crate::spki;
use crate::{Ca, CaError, IssuedInfo, Serial, oid};

pub(crate) fn inspect_issued(ca: &Ca, cert_der: &[u8]) -> Result<IssuedInfo, CaError> {
    let (rest, cert) =
        X509Certificate::from_der(cert_der).map_err(|e| CaError::Parse(e.to_string()))?;
    if !rest.is_empty() {
        return Err(CaError::Parse("trailing data after the certificate".into()));
    }
    let tbs = &cert.tbs_certificate;
    if tbs.issuer.as_raw() != ca.subject_der.as_slice() {
        return Err(CaError::NotOurs);
    }
    // Outer and inner algorithm must agree (RFC 5280 4.1.1.2), or a forged wrapper could
    // claim another algorithm than the one signed.
    if cert.signature_algorithm.algorithm != tbs.signature.algorithm {
        return Err(CaError::NotOurs);
    }
    let alg = spki::classify_signature(&cert.signature_algorithm).map_err(|_| CaError::NotOurs)?;
    if cert.signature_value.unused_bits != 0
        || !ca
            .public_key
            .verify(alg, tbs.as_ref(), &cert.signature_value.data)
    {
        return Err(CaError::NotOurs);
    }
    let serial = Serial::from_magnitude(tbs.raw_serial()).ok_or(CaError::NotOurs)?;
    Ok(IssuedInfo {
        serial,
        tax_id: attribute(&tbs.subject, oid::SERIAL_NUMBER),
        cert_name: attribute(&tbs.subject, oid::COMMON_NAME),
        spki_der: tbs.subject_pki.raw.to_vec(),
        not_before: tbs.validity.not_before.to_datetime(),
        not_after: tbs.validity.not_after.to_datetime(),
    })
}

fn attribute(name: &X509Name<'_>, attr: oid::Oid) -> Option<String> {
    name.iter_attributes()
        .find(|a| oid::is(a.attr_type(), attr))
        .and_then(|a| a.as_str().ok())
        .map(str::to_owned)
}
