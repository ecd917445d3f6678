//! Parsing and reading certificates: strict DER parse, names as text, validity, serials.

use der::asn1::{AnyRef, BmpString, Ia5StringRef, PrintableStringRef, Utf8StringRef};
use der::{Decode, Tag, Tagged};
use time::OffsetDateTime;
use x509_parser::certificate::X509Certificate;
use x509_parser::x509::{AttributeTypeAndValue, X509Name};

use crate::error::CardAuthError;

/// Parses one DER certificate; trailing bytes are refused (a DER blob is exactly one cert).
pub(crate) fn parse(der: &[u8]) -> Result<X509Certificate<'_>, CardAuthError> {
    let (rest, cert) = x509_parser::parse_x509_certificate(der)
        .map_err(|e| CardAuthError::BadCertificate(format!("not a DER X.509 certificate: {e}")))?;
    if !rest.is_empty() {
        return Err(CardAuthError::BadCertificate(
            "trailing data after the certificate".into(),
        ));
    }
    if cert.tbs_certificate.signature != cert.signature_algorithm {
        return Err(CardAuthError::BadCertificate(
            "inner and outer signature algorithms differ".into(),
        ));
    }
    Ok(cert)
}

/// Short names as in HiPKI's `subjectDN` (`C=TW,O=…,CN=…,serialNumber=…`).
fn short_name(oid: &str) -> Option<&'static str> {
    Some(match oid {
        "2.5.4.6" => "C",
        "2.5.4.8" => "ST",
        "2.5.4.7" => "L",
        "2.5.4.10" => "O",
        "2.5.4.11" => "OU",
        "2.5.4.3" => "CN",
        "2.5.4.5" => "serialNumber",
        "1.2.840.113549.1.9.1" => "E",
        _ => return None,
    })
}

/// The text of a name attribute, whatever string type it uses (BMPString is common in
/// Taiwanese certificates for Chinese names).
pub(crate) fn attribute_text(attr: &AttributeTypeAndValue<'_>) -> Option<String> {
    let value = attr.attr_value();
    let tag = Tag::from_der(&[u8::try_from(value.tag().0).ok()?]).ok()?;
    directory_string(AnyRef::new(tag, value.data).ok()?)
}

/// The text of a directory string, in any of the string types certificates use.
pub(crate) fn directory_string(value: AnyRef<'_>) -> Option<String> {
    match value.tag() {
        Tag::Utf8String => value
            .decode_as::<Utf8StringRef<'_>>()
            .ok()
            .map(|s| s.to_string()),
        Tag::PrintableString => value
            .decode_as::<PrintableStringRef<'_>>()
            .ok()
            .map(|s| s.to_string()),
        Tag::Ia5String => value
            .decode_as::<Ia5StringRef<'_>>()
            .ok()
            .map(|s| s.to_string()),
        Tag::BmpString => value.decode_as::<BmpString>().ok().map(|s| s.to_string()),
        // `der` has no NumericString type: digits and spaces, so ASCII.
        Tag::NumericString => value
            .value()
            .iter()
            .all(|b| b.is_ascii_digit() || *b == b' ')
            .then(|| value.value().iter().map(|&b| char::from(b)).collect()),
        // TeletexString: Latin-1 in practice (`der` would accept ASCII only).
        Tag::TeletexString => Some(value.value().iter().map(|&b| char::from(b)).collect()),
        _ => None,
    }
}

/// `C=TW,O=…,CN=…` in the certificate's own RDN order (not RFC 4514's reversed order),
/// which is how HiPKI reports names and what pages that split on "," expect.
pub(crate) fn name_to_string(name: &X509Name<'_>) -> String {
    name.iter_rdn()
        .map(|rdn| {
            rdn.iter()
                .map(|attr| {
                    let oid = attr.attr_type().to_id_string();
                    let key = short_name(&oid).map_or(oid.clone(), str::to_owned);
                    let value = attribute_text(attr).unwrap_or_else(|| "#?".into());
                    format!("{key}={value}")
                })
                .collect::<Vec<_>>()
                .join("+")
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// First attribute of the given type, as text.
pub(crate) fn first_attribute(name: &X509Name<'_>, oid: &str) -> Option<String> {
    name.iter_attributes()
        .find(|a| a.attr_type().to_id_string() == oid)
        .and_then(attribute_text)
}

pub(crate) const OID_COMMON_NAME: &str = "2.5.4.3";
pub(crate) const OID_ORGANIZATION: &str = "2.5.4.10";

pub(crate) fn not_before(cert: &X509Certificate<'_>) -> Result<OffsetDateTime, CardAuthError> {
    to_datetime(cert.validity().not_before.timestamp())
}

pub(crate) fn not_after(cert: &X509Certificate<'_>) -> Result<OffsetDateTime, CardAuthError> {
    to_datetime(cert.validity().not_after.timestamp())
}

fn to_datetime(unix: i64) -> Result<OffsetDateTime, CardAuthError> {
    OffsetDateTime::from_unix_timestamp(unix)
        .map_err(|_| CardAuthError::BadCertificate("validity date out of range".into()))
}

/// Refuses a certificate that is not valid at `now`.
pub(crate) fn check_validity(
    cert: &X509Certificate<'_>,
    now: OffsetDateTime,
) -> Result<(), CardAuthError> {
    let not_before = not_before(cert)?;
    let not_after = not_after(cert)?;
    if now < not_before {
        return Err(CardAuthError::NotYetValid {
            subject: name_to_string(cert.subject()),
            not_before,
        });
    }
    if now > not_after {
        return Err(CardAuthError::Expired {
            subject: name_to_string(cert.subject()),
            not_after,
        });
    }
    Ok(())
}

/// Serial as lower-case hex of the positive integer (no sign byte, no separators), the
/// form `proto` uses for `serial_hex`.
pub(crate) fn serial_hex(cert: &X509Certificate<'_>) -> String {
    let raw = cert.raw_serial();
    let start = raw
        .iter()
        .position(|&b| b != 0)
        .unwrap_or(raw.len().saturating_sub(1));
    raw[start..].iter().map(|b| format!("{b:02x}")).collect()
}

/// keyUsage bit names in HiPKI's `usage` spelling, in bit order.
pub(crate) fn key_usage_names(cert: &X509Certificate<'_>) -> Vec<&'static str> {
    let Ok(Some(ku)) = cert.key_usage() else {
        return Vec::new();
    };
    let ku = ku.value;
    [
        (ku.digital_signature(), "digitalSignature"),
        (ku.non_repudiation(), "nonRepudiation"),
        (ku.key_encipherment(), "keyEncipherment"),
        (ku.data_encipherment(), "dataEncipherment"),
        (ku.key_agreement(), "keyAgreement"),
        (ku.key_cert_sign(), "keyCertSign"),
        (ku.crl_sign(), "cRLSign"),
        (ku.encipher_only(), "encipherOnly"),
        (ku.decipher_only(), "decipherOnly"),
    ]
    .into_iter()
    .filter_map(|(set, name)| set.then_some(name))
    .collect()
}

/// Extensions we understand well enough to accept when marked critical (RFC 5280 §4.2:
/// an unrecognised critical extension means the certificate must be refused).
const KNOWN_CRITICAL: [&str; 7] = [
    "2.5.29.15", // keyUsage
    "2.5.29.19", // basicConstraints
    "2.5.29.37", // extKeyUsage
    "2.5.29.32", // certificatePolicies
    "2.5.29.17", // subjectAltName
    "2.5.29.36", // policyConstraints
    "2.5.29.54", // inhibitAnyPolicy
];

pub(crate) fn check_critical_extensions(cert: &X509Certificate<'_>) -> Result<(), CardAuthError> {
    for ext in cert.extensions() {
        let oid = ext.oid.to_id_string();
        if ext.critical && !KNOWN_CRITICAL.contains(&oid.as_str()) {
            return Err(CardAuthError::BadCertificate(format!(
                "unsupported critical extension {oid} in \"{}\"",
                name_to_string(cert.subject())
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use der::Tag;
    use der::asn1::AnyRef;

    use super::directory_string;

    fn text(tag: Tag, value: &[u8]) -> Option<String> {
        directory_string(AnyRef::new(tag, value).unwrap())
    }

    #[test]
    fn directory_strings_of_every_kind() {
        assert_eq!(
            text(Tag::BmpString, &[0x5E, 0x73, 0x00, 0x41]).unwrap(),
            "平A"
        );
        assert_eq!(text(Tag::Utf8String, "測試".as_bytes()).unwrap(), "測試");
        assert_eq!(text(Tag::PrintableString, b"04595257").unwrap(), "04595257");
        assert_eq!(text(Tag::NumericString, b"0459 5257").unwrap(), "0459 5257");
        assert_eq!(text(Tag::Ia5String, b"a@b").unwrap(), "a@b");
        assert_eq!(text(Tag::TeletexString, &[0x41, 0xE9]).unwrap(), "Aé");
        assert!(text(Tag::Integer, &[1]).is_none());
        assert!(text(Tag::BmpString, &[0x5E]).is_none(), "odd length");
        assert!(text(Tag::NumericString, b"12a").is_none());
        assert!(
            text(Tag::PrintableString, b"a@b").is_none(),
            "@ is not printable"
        );
    }
}
