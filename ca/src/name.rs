//! Distinguished names. RDNs are written most significant first (C, O, OU, serialNumber,
//! CN), one attribute each; C and serialNumber are PrintableString as X.520 requires, the
//! rest UTF8String so Chinese company names survive.

use crate::der;
use crate::oid::{self, Oid};
use crate::{CaError, CaSubject, LeafSubject};

/// RFC 5280 appendix A upper bounds (ub-common-name, ub-organization-name, ...), in characters.
const MAX_CHARS: usize = 64;

/// The leaf's country: the portal serves Taiwan's customs only.
const LEAF_COUNTRY: &str = "TW";

pub(crate) fn ca_name(s: &CaSubject) -> Result<Vec<u8>, CaError> {
    let mut rdns = vec![country(&s.country)?];
    if !s.organization.is_empty() {
        rdns.push(utf8(oid::ORGANIZATION, "CA organization", &s.organization)?);
    }
    rdns.push(utf8(oid::COMMON_NAME, "CA common name", &s.common_name)?);
    Ok(der::tlv(der::SEQUENCE, &rdns.concat()))
}

pub(crate) fn leaf_name(s: &LeafSubject) -> Result<Vec<u8>, CaError> {
    let mut rdns = vec![
        country(LEAF_COUNTRY)?,
        utf8(oid::ORGANIZATION, "organization", &s.organization)?,
    ];
    if let Some(ou) = s.organizational_unit.as_deref().filter(|v| !v.is_empty()) {
        rdns.push(utf8(oid::ORGANIZATIONAL_UNIT, "organizational unit", ou)?);
    }
    rdns.push(printable(oid::SERIAL_NUMBER, "tax ID", &s.tax_id)?);
    rdns.push(utf8(oid::COMMON_NAME, "certificate name", &s.cert_name)?);
    Ok(der::tlv(der::SEQUENCE, &rdns.concat()))
}

fn country(c: &str) -> Result<Vec<u8>, CaError> {
    if c.len() != 2 || !c.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(CaError::Build(format!(
            "country must be two upper-case letters, got {c:?}"
        )));
    }
    Ok(rdn(oid::COUNTRY, der::PRINTABLE_STRING, c))
}

fn utf8(attr: Oid, field: &str, value: &str) -> Result<Vec<u8>, CaError> {
    check_text(field, value)?;
    Ok(rdn(attr, der::UTF8_STRING, value))
}

fn printable(attr: Oid, field: &str, value: &str) -> Result<Vec<u8>, CaError> {
    check_text(field, value)?;
    if !value.bytes().all(is_printable) {
        return Err(CaError::Build(format!(
            "{field} may only use PrintableString characters"
        )));
    }
    Ok(rdn(attr, der::PRINTABLE_STRING, value))
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

/// One single-valued RelativeDistinguishedName.
fn rdn(attr: Oid, string_tag: u8, value: &str) -> Vec<u8> {
    let atv = der::sequence(&[&der::oid(attr), &der::tlv(string_tag, value.as_bytes())]);
    der::set(&[&atv])
}

#[cfg(test)]
mod tests {
    use super::*;
    use x509_parser::prelude::FromDer;
    use x509_parser::x509::X509Name;

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
        let (rest, n) = X509Name::from_der(&name).unwrap();
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
