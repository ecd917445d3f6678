//! Reading back a certificate this CA issued (the `.cer` an applicant registers).

use x509_parser::prelude::{FromDer, X509Certificate};
use x509_parser::x509::X509Name;

use der::asn1::AnyRef;
use der::{Decode as _, Reader as _, SliceReader, Tag, Tagged as _};

use crate::{Ca, CaError, IssuedInfo, Serial, oid, spki};

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

/// The next element of `reader`, whole (tag, length and value) and as a value.
fn element<'a>(reader: &mut SliceReader<'a>) -> der::Result<(&'a [u8], AnyRef<'a>)> {
    let all = reader.tlv_bytes()?;
    Ok((all, AnyRef::from_der(all)?))
}

/// The unsigned wrapper of the certificate in DER, exactly: `SEQUENCE { tbsCertificate
/// SEQUENCE, signatureAlgorithm SEQUENCE (byte for byte the one inside tbsCertificate),
/// signatureValue BIT STRING }` and nothing after it. The signature covers only the TBS, and
/// x509-parser accepts these SEQUENCEs under other tag classes (fuzzing found `[16]` and
/// `[APPLICATION 16]` wrappers accepted), so without this a re-wrapped certificate of ours
/// that no strict DER reader opens would pass as ours. Read with the `der` crate, which
/// takes definite minimal lengths only.
fn check_outer_der(cert_der: &[u8]) -> Result<(), CaError> {
    let bad = |_: der::Error| CaError::Parse("not a DER-encoded X.509 certificate".into());
    let refused = || bad(der::Error::from(der::ErrorKind::Failed));
    let outer = AnyRef::from_der(cert_der).map_err(bad)?;
    if outer.tag() != Tag::Sequence {
        return Err(refused());
    }
    let mut body = SliceReader::new(outer.value()).map_err(bad)?;
    let (_, tbs) = element(&mut body).map_err(bad)?;
    let (alg, alg_any) = element(&mut body).map_err(bad)?;
    let (_, sig) = element(&mut body).map_err(bad)?;
    body.finish().map_err(bad)?;
    if tbs.tag() != Tag::Sequence || alg_any.tag() != Tag::Sequence || sig.tag() != Tag::BitString {
        return Err(refused());
    }
    // Inside the TBS: [0] version (optional), serialNumber, then the signature algorithm.
    let mut fields = SliceReader::new(tbs.value()).map_err(bad)?;
    let (version, mut first) = element(&mut fields).map_err(bad)?;
    // `[0] EXPLICIT Version`: constructed, context-specific, number 0.
    if version.first() == Some(&0xa0) {
        first = element(&mut fields).map_err(bad)?.1;
    }
    if first.tag() != Tag::Integer {
        return Err(refused());
    }
    let (inner_alg, _) = element(&mut fields).map_err(bad)?;
    if inner_alg != alg {
        return Err(refused());
    }
    Ok(())
}

fn attribute(name: &X509Name<'_>, attr: oid::Oid) -> Option<String> {
    name.iter_attributes()
        .find(|a| oid::is(a.attr_type(), &attr))
        .and_then(|a| a.as_str().ok())
        .map(str::to_owned)
}
