//! Distinguished names. RDNs are written most significant first (C, O, OU, serialNumber,
//! CN), one attribute each; C and serialNumber are PrintableString as X.520 requires, the
//! rest UTF8String so Chinese company names survive. rcgen encodes them.

use rcgen::string::PrintableString;
use rcgen::{DistinguishedName, DnType, DnValue};
use x509_parser::der_parser::asn1_rs::Tag;
use x509_parser::x509::X509Name;

use crate::oid::{self, Oid};
use crate::{CaError, CaSubject, LeafSubject};

/// RFC 5280 appendix A upper bounds (ub-common-name, ub-organization-name, ...), in characters.
const MAX_CHARS: usize = 64;

/// The leaf's country: the portal serves Taiwan's customs only.
const LEAF_COUNTRY: &str = "TW";

pub(crate) fn ca_name(s: &CaSubject) -> Result<DistinguishedName, CaError> {
    let mut dn = DistinguishedName::new();
    country(&mut dn, &s.country)?;
    if !s.organization.is_empty() {
        utf8(
            &mut dn,
            oid::ORGANIZATION,
            "CA organization",
            &s.organization,
        )?;
    }
    utf8(&mut dn, oid::COMMON_NAME, "CA common name", &s.common_name)?;
    Ok(dn)
}

pub(crate) fn leaf_name(s: &LeafSubject) -> Result<DistinguishedName, CaError> {
    let mut dn = DistinguishedName::new();
    country(&mut dn, LEAF_COUNTRY)?;
    utf8(&mut dn, oid::ORGANIZATION, "organization", &s.organization)?;
    if let Some(ou) = s.organizational_unit.as_deref().filter(|v| !v.is_empty()) {
        utf8(&mut dn, oid::ORGANIZATIONAL_UNIT, "organizational unit", ou)?;
    }
    printable(&mut dn, oid::SERIAL_NUMBER, "tax ID", &s.tax_id)?;
    utf8(&mut dn, oid::COMMON_NAME, "certificate name", &s.cert_name)?;
    Ok(dn)
}

/// The subject of a CA's certificate or CSR as a [`CaSubject`]: C, O (optional) and CN,
/// one each, nothing else (an issuing CA's request names only these).
pub(crate) fn ca_subject_of(name: &X509Name<'_>) -> Result<CaSubject, CaError> {
    let mut subject = CaSubject {
        common_name: String::new(),
        organization: String::new(),
        country: String::new(),
    };
    for rdn in name.iter() {
        let mut attrs = rdn.iter();
        let (Some(attr), None) = (attrs.next(), attrs.next()) else {
            return Err(CaError::Build("multi-valued RDNs are not supported".into()));
        };
        let value = attr
            .as_str()
            .map_err(|_| CaError::Build("a subject attribute is not a string".into()))?;
        let slot = if oid::is(attr.attr_type(), &oid::COUNTRY) {
            &mut subject.country
        } else if oid::is(attr.attr_type(), &oid::ORGANIZATION) {
            &mut subject.organization
        } else if oid::is(attr.attr_type(), &oid::COMMON_NAME) {
            &mut subject.common_name
        } else {
            return Err(CaError::Build(format!(
                "subject attribute {} is not taken (C, O and CN only)",
                attr.attr_type().to_id_string()
            )));
        };
        if !slot.is_empty() {
            return Err(CaError::Build("a subject attribute is repeated".into()));
        }
        value.clone_into(slot);
    }
    ca_name(&subject)?;
    Ok(subject)
}

/// An operator CA's subject as rcgen will write it as the issuer of what it signs, with the
/// string types it has. `Ca::load` checks the result encodes to the same bytes.
pub(crate) fn issuer_name(name: &X509Name<'_>) -> Result<DistinguishedName, CaError> {
    let unsupported = |why: &str| {
        CaError::Load(format!(
            "the CA certificate's subject cannot be reproduced ({why}); use a CA whose \
             subject has one attribute per RDN in PrintableString, UTF8String or IA5String"
        ))
    };
    let mut dn = DistinguishedName::new();
    for rdn in name.iter() {
        let mut attrs = rdn.iter();
        let (Some(attr), None) = (attrs.next(), attrs.next()) else {
            return Err(unsupported("a multi-valued RDN"));
        };
        let value = attr
            .as_str()
            .map_err(|_| unsupported("a non-string value"))?;
        let ty = DnType::from_oid(
            &attr
                .attr_type()
                .iter()
                .ok_or_else(|| unsupported("OID"))?
                .collect::<Vec<u64>>(),
        );
        if dn.get(&ty).is_some() {
            return Err(unsupported("a repeated attribute"));
        }
        let value = match attr.attr_value().tag() {
            Tag::PrintableString => DnValue::PrintableString(
                PrintableString::try_from(value).map_err(|_| unsupported("PrintableString"))?,
            ),
            Tag::Utf8String => DnValue::Utf8String(value.to_owned()),
            Tag::Ia5String => {
                DnValue::Ia5String(value.try_into().map_err(|_| unsupported("IA5String"))?)
            }
            _ => {
                return Err(unsupported(
                    "a string type other than Printable, UTF8 or IA5",
                ));
            }
        };
        dn.push(ty, value);
    }
    Ok(dn)
}

fn country(dn: &mut DistinguishedName, c: &str) -> Result<(), CaError> {
    if c.len() != 2 || !c.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(CaError::Build(format!(
            "country must be two upper-case letters, got {c:?}"
        )));
    }
    push_printable(dn, oid::COUNTRY, c)
}

fn utf8(dn: &mut DistinguishedName, attr: Oid, field: &str, value: &str) -> Result<(), CaError> {
    check_text(field, value)?;
    dn.push(dn_type(attr), DnValue::Utf8String(value.to_owned()));
    Ok(())
}

fn printable(
    dn: &mut DistinguishedName,
    attr: Oid,
    field: &str,
    value: &str,
) -> Result<(), CaError> {
    check_text(field, value)?;
    if !value.bytes().all(is_printable) {
        return Err(CaError::Build(format!(
            "{field} may only use PrintableString characters"
        )));
    }
    push_printable(dn, attr, value)
}

fn push_printable(dn: &mut DistinguishedName, attr: Oid, value: &str) -> Result<(), CaError> {
    let value = PrintableString::try_from(value)
        .map_err(|e| CaError::Build(format!("PrintableString: {e}")))?;
    dn.push(dn_type(attr), DnValue::PrintableString(value));
    Ok(())
}

fn dn_type(attr: Oid) -> DnType {
    DnType::from_oid(&oid::arcs(&attr))
}

fn check_text(field: &str, value: &str) -> Result<(), CaError> {
    if value.trim().is_empty() {
        return Err(CaError::Build(format!("{field} is empty")));
    }
    if value.chars().any(char::is_control) {
        return Err(CaError::Build(format!(
            "{field} contains control characters"
        )));
    }
    if value.chars().count() > MAX_CHARS {
        return Err(CaError::Build(format!(
            "{field} is longer than {MAX_CHARS} characters"
        )));
    }
    Ok(())
}

/// The PrintableString alphabet (X.680 41.4).
fn is_printable(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b" '()+,-./:=?".contains(&b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::key::{CaKey, KeyAlgorithm, RcgenSigner};
    use x509_parser::prelude::{FromDer, X509Certificate};

    /// The DER of `dn` as rcgen writes it (the subject of a throwaway self-signed
    /// certificate).
    fn encoded(dn: Result<DistinguishedName, CaError>) -> Result<Vec<u8>, CaError> {
        let dn = dn?;
        let key = CaKey::generate(KeyAlgorithm::EcP256).unwrap();
        let mut params = rcgen::CertificateParams::default();
        params.serial_number = Some(rcgen::SerialNumber::from(1u64));
        params.distinguished_name = dn;
        let der = params.self_signed(&RcgenSigner::new(&key)).unwrap();
        let (_, cert) = X509Certificate::from_der(der.der()).unwrap();
        Ok(cert.subject().as_raw().to_vec())
    }

    fn leaf_name(s: &LeafSubject) -> Result<Vec<u8>, CaError> {
        encoded(super::leaf_name(s))
    }

    fn ca_name(s: &CaSubject) -> Result<Vec<u8>, CaError> {
        encoded(super::ca_name(s))
    }

    fn subject() -> LeafSubject {
        LeafSubject {
            cert_name: "SingleWindow-01-B00051".into(),
            organization: "台灣報關股份有限公司".into(),
            tax_id: "12345675".into(),
            organizational_unit: None,
        }
    }

    #[test]
    fn leaf_name_has_fixed_order_and_string_types() {
        let name = leaf_name(&subject()).unwrap();
        let (rest, n) = x509_parser::x509::X509Name::from_der(&name).unwrap();
        assert!(rest.is_empty());
        let attrs: Vec<(String, u32, String)> = n
            .iter_attributes()
            .map(|a| {
                (
                    a.attr_type().to_id_string(),
                    a.attr_value().tag().0,
                    a.as_str().unwrap().to_owned(),
                )
            })
            .collect();
        assert_eq!(
            attrs,
            vec![
                ("2.5.4.6".into(), 19, "TW".into()),
                ("2.5.4.10".into(), 12, "台灣報關股份有限公司".into()),
                ("2.5.4.5".into(), 19, "12345675".into()),
                ("2.5.4.3".into(), 12, "SingleWindow-01-B00051".into()),
            ]
        );
    }

    #[test]
    fn ou_is_included_when_present_and_empty_ou_is_left_out() {
        let mut s = subject();
        s.organizational_unit = Some("B12345".into());
        let with = leaf_name(&s).unwrap();
        s.organizational_unit = Some(String::new());
        let without = leaf_name(&s).unwrap();
        assert_eq!(without, leaf_name(&subject()).unwrap());
        assert!(with.windows(6).any(|w| w == b"B12345"));
        assert!(with.len() > without.len());
    }

    #[test]
    fn bad_values_are_refused() {
        let mut s = subject();
        s.tax_id = "1234_567".into();
        assert!(matches!(leaf_name(&s), Err(CaError::Build(_))));
        let mut s = subject();
        s.cert_name = " ".into();
        assert!(matches!(leaf_name(&s), Err(CaError::Build(_))));
        let mut s = subject();
        s.organization = "x".repeat(65);
        assert!(matches!(leaf_name(&s), Err(CaError::Build(_))));
        let mut s = subject();
        s.cert_name = "a\nb".into();
        assert!(matches!(leaf_name(&s), Err(CaError::Build(_))));
        let ca = CaSubject {
            common_name: "Test CA".into(),
            organization: "Org".into(),
            country: "tw".into(),
        };
        assert!(matches!(ca_name(&ca), Err(CaError::Build(_))));
    }
}
