//! A read-only summary of a certificate, for listings (card-bridge's `/pkcs11info`, the
//! CLI). It judges nothing: use [`crate::verify_login`] to decide anything.

use time::OffsetDateTime;

use crate::cert;
use crate::error::CardAuthError;
use crate::taxid;

fn public_key_info(cert: &x509_parser::certificate::X509Certificate<'_>) -> PublicKeyInfo {
    use x509_parser::public_key::PublicKey;
    match cert.public_key().parsed() {
        Ok(PublicKey::RSA(rsa)) => PublicKeyInfo::Rsa {
            modulus_bits: rsa.key_size(),
        },
        Ok(PublicKey::EC(_))
            if cert
                .public_key()
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.as_oid().ok())
                .is_some_and(|o| o.to_id_string() == "1.2.840.10045.3.1.7") =>
        {
            PublicKeyInfo::EcP256
        }
        _ => PublicKeyInfo::Other(cert.public_key().algorithm.algorithm.to_id_string()),
    }
}

/// What a listing shows about one certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateInfo {
    /// `C=TW,O=…,CN=…` in certificate order (HiPKI's `subjectDN` style).
    pub subject_dn: String,
    pub issuer_dn: String,
    pub subject_cn: Option<String>,
    pub organization: Option<String>,
    /// Lower-case hex, no separators.
    pub serial_hex: String,
    pub not_before: OffsetDateTime,
    pub not_after: OffsetDateTime,
    /// keyUsage bits set, e.g. `["digitalSignature"]`; empty when the extension is absent.
    pub key_usage: Vec<&'static str>,
    /// The 統一編號 as found (from subjectDirectoryAttributes or subject serialNumber),
    /// not checksum-validated.
    pub tax_id: Option<String>,
    /// SHA-1 of the DER, upper-case hex (HiPKI's `thumbprint`).
    pub sha1_thumbprint: String,
    pub public_key: PublicKeyInfo,
    /// The issuer Name, DER (for CMS IssuerAndSerialNumber).
    pub issuer_name_der: Vec<u8>,
    /// The serial INTEGER's content octets as encoded (for CMS IssuerAndSerialNumber).
    pub serial_der_content: Vec<u8>,
}

/// The certificate's key type, as far as a card reader needs to know it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PublicKeyInfo {
    Rsa { modulus_bits: usize },
    EcP256,
    Other(String),
}

impl CertificateInfo {
    pub fn from_der(der: &[u8]) -> Result<Self, CardAuthError> {
        use sha1::{Digest, Sha1};
        let cert = cert::parse(der)?;
        Ok(Self {
            subject_dn: cert::name_to_string(cert.subject()),
            issuer_dn: cert::name_to_string(cert.issuer()),
            subject_cn: cert::first_attribute(cert.subject(), cert::OID_COMMON_NAME),
            organization: cert::first_attribute(cert.subject(), cert::OID_ORGANIZATION),
            serial_hex: cert::serial_hex(&cert),
            not_before: cert::not_before(&cert)?,
            not_after: cert::not_after(&cert)?,
            key_usage: cert::key_usage_names(&cert),
            tax_id: taxid::tax_id_unchecked(&cert),
            sha1_thumbprint: Sha1::digest(der)
                .iter()
                .map(|b| format!("{b:02X}"))
                .collect(),
            public_key: public_key_info(&cert),
            issuer_name_der: cert.issuer().as_raw().to_vec(),
            serial_der_content: cert.raw_serial().to_vec(),
        })
    }
}
