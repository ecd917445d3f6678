//! Reading back a certificate this CA issued (the `.cer` an applicant registers).

use x509_parser::prelude::{FromDer, X509Certificate};
use x509_parser::x509::X509Name;

use crate::{Ca, CaError, IssuedInfo, Serial, oid};
use crate::{der, spki};

const SEQUENCE: u8 = 0x30;
const BIT_STRING: u8 = 0x03;

pub(crate) fn inspect_issued(ca: &Ca, cert_der: &[u8]) -> Result<IssuedInfo, CaError> {
    check_outer_der(cert_der)?;
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

/// One element split off the front of `input`: (tag, the whole element, rest).
fn element(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (tag, _, rest) = der::read(input)?;
    Some((tag, &input[..input.len() - rest.len()], rest))
}

/// The unsigned wrapper of the certificate in DER, exactly: `SEQUENCE { tbsCertificate
/// SEQUENCE, signatureAlgorithm SEQUENCE (byte for byte the one inside tbsCertificate),
/// signatureValue BIT STRING }` and nothing after it. The signature covers only the TBS, and
/// x509-parser accepts these SEQUENCEs under other tag classes (fuzzing found `[16]` and
/// `[APPLICATION 16]` wrappers accepted), so without this a re-wrapped certificate of ours
/// that no strict DER reader opens would pass as ours.
fn check_outer_der(cert_der: &[u8]) -> Result<(), CaError> {
    let bad = || CaError::Parse("not a DER-encoded X.509 certificate".into());
    let (tag, body, rest) = der::read(cert_der).ok_or_else(bad)?;
    if tag != SEQUENCE || !rest.is_empty() {
        return Err(bad());
    }
    let (tbs_tag, tbs, rest) = element(body).ok_or_else(bad)?;
    let (alg_tag, alg, rest) = element(rest).ok_or_else(bad)?;
    let (sig_tag, _, rest) = element(rest).ok_or_else(bad)?;
    if tbs_tag != SEQUENCE || alg_tag != SEQUENCE || sig_tag != BIT_STRING || !rest.is_empty() {
        return Err(bad());
    }
    // Inside the TBS: [0] version (optional), serialNumber, then the signature algorithm.
    let (_, tbs_body, _) = der::read(tbs).ok_or_else(bad)?;
    let (mut tag, _, mut rest) = element(tbs_body).ok_or_else(bad)?;
    if tag == 0xa0 {
        (tag, _, rest) = element(rest).ok_or_else(bad)?;
    }
    if tag != 0x02 {
        return Err(bad());
    }
    let (_, inner_alg, _) = element(rest).ok_or_else(bad)?;
    if inner_alg != alg {
        return Err(bad());
    }
    Ok(())
}

fn attribute(name: &X509Name<'_>, attr: oid::Oid) -> Option<String> {
    name.iter_attributes()
        .find(|a| oid::is(a.attr_type(), attr))
        .and_then(|a| a.as_str().ok())
        .map(str::to_owned)
}
