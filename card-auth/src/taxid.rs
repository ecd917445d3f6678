//! Where a MOEACA business certificate carries the company's 統一編號.
//!
//! * `subjectDirectoryAttributes` (2.5.29.9), attribute 2.16.886.1.100.2.101
//!   (uniformOrganizationID): the GPKI certificate profile puts it there, and every public
//!   MOEACA-reading code we found reads it from there.
//! * The subject `serialNumber` (2.5.4.5): one public verifier reports it there on a real
//!   MOEACA card certificate, another says it is not; we accept it as a second source, but
//!   only when it looks like one (8 digits): other CAs use serialNumber for other numbers.
//!
//! When both are present they must agree. Whatever we find must pass the checksum.

use der::Decode;
use x509_cert::ext::pkix::SubjectDirectoryAttributes;
use x509_parser::certificate::X509Certificate;

use crate::cert;
use crate::error::CardAuthError;

pub const OID_SUBJECT_DIRECTORY_ATTRIBUTES: &str = "2.5.29.9";
/// uniformOrganizationID, the 統一編號 attribute of the Taiwan GPKI profile.
pub const OID_UNIFORM_ORGANIZATION_ID: &str = "2.16.886.1.100.2.101";
pub const OID_SERIAL_NUMBER: &str = "2.5.4.5";

/// The tax ID from the certificate, validated with `proto::ids::check_tax_id`.
pub(crate) fn tax_id(cert: &X509Certificate<'_>) -> Result<String, CardAuthError> {
    let directory = from_directory_attributes(cert)?;
    let subject = from_subject_serial_number(cert);
    let found = match (directory, subject) {
        (Some(d), Some(s)) if d != s => {
            return Err(CardAuthError::TaxIdMismatch {
                directory: d,
                subject: s,
            });
        }
        (Some(d), _) => d,
        (None, Some(s)) => s,
        (None, None) => return Err(CardAuthError::NoTaxId),
    };
    proto::ids::check_tax_id(&found).map_err(|_| CardAuthError::BadTaxId(found.clone()))?;
    Ok(found)
}

/// The tax ID if the certificate carries one, without judging it (for display).
pub(crate) fn tax_id_unchecked(cert: &X509Certificate<'_>) -> Option<String> {
    from_directory_attributes(cert)
        .ok()
        .flatten()
        .or_else(|| from_subject_serial_number(cert))
}

/// `SubjectDirectoryAttributes ::= SEQUENCE SIZE (1..MAX) OF Attribute`,
/// `Attribute ::= SEQUENCE { type OBJECT IDENTIFIER, values SET OF AttributeValue }`.
fn from_directory_attributes(cert: &X509Certificate<'_>) -> Result<Option<String>, CardAuthError> {
    let Some(ext) = cert
        .extensions()
        .iter()
        .find(|e| e.oid.to_id_string() == OID_SUBJECT_DIRECTORY_ATTRIBUTES)
    else {
        return Ok(None);
    };
    let malformed = || CardAuthError::BadCertificate("malformed subjectDirectoryAttributes".into());
    let attributes = SubjectDirectoryAttributes::from_der(ext.value).map_err(|_| malformed())?;
    for attribute in attributes.0 {
        if attribute.oid.to_string() != OID_UNIFORM_ORGANIZATION_ID {
            continue;
        }
        let value = attribute.values.iter().next().ok_or_else(malformed)?;
        let text = cert::directory_string(value.into()).ok_or_else(malformed)?;
        return Ok(Some(text.trim().to_owned()));
    }
    Ok(None)
}

fn from_subject_serial_number(cert: &X509Certificate<'_>) -> Option<String> {
    cert.subject()
        .iter_attributes()
        .find(|a| a.attr_type().to_id_string() == OID_SERIAL_NUMBER)
        .and_then(|a| a.as_str().ok())
        .map(str::trim)
        .filter(|s| s.len() == 8 && s.bytes().all(|b| b.is_ascii_digit()))
        .map(str::to_owned)
}
