//! CA core of the portal. Decides the certificate: only the public key comes from the CSR;
//! subject, extensions and validity come from the application and the [`Profile`].
//!
//! Certificates and CRLs are written by a small DER writer (module `der`) and signed with
//! PKCS#1 v1.5 (ring) or RFC 6979 ECDSA, so the same request always gives the same bytes.
//! Parsing (CSRs, certificates) uses x509-parser. No web or database code lives here.

mod authority;
mod cert;
mod crl;
mod csr_check;
mod der;
mod ext;
mod inspect;
mod issue;
mod key;
mod name;
mod oid;
mod pem;
mod serial;
mod spki;
mod weak_keys;

use std::fmt;

use time::OffsetDateTime;
use zeroize::Zeroizing;

pub use pem::{cert_der_to_pem, csr_pem_to_der};
pub use weak_keys::FERMAT_ROUNDS;

/// Distinguished name of the CA itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaSubject {
    pub common_name: String,
    pub organization: String,
    /// ISO 3166 two-letter code, `TW`.
    pub country: String,
}

/// Issuance profile: what every certificate of this CA looks like.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    /// Leaf validity in days (730 by default).
    pub validity_days: u32,
    /// CRL distribution point, e.g. `http://127.0.0.1:8080/crl/ca.crl`.
    pub crl_url: String,
    /// AIA caIssuers, e.g. `http://127.0.0.1:8080/ca.cer`.
    pub ca_issuers_url: String,
    /// AIA OCSP, when an OCSP responder runs.
    pub ocsp_url: Option<String>,
    /// CRL nextUpdate = thisUpdate + this many hours.
    pub crl_validity_hours: u32,
    /// Accept ECDSA P-256 keys besides RSA 2048/3072/4096.
    pub allow_ec_p256: bool,
}

/// Subject of a leaf certificate, from the application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeafSubject {
    /// CN: the certificate name, `SingleWindow-01-B00051`.
    pub cert_name: String,
    /// O: company name (UTF8String).
    pub organization: String,
    /// serialNumber: the company's 統一編號 (PrintableString).
    pub tax_id: String,
    /// OU: broker staff code for the individual kind.
    pub organizational_unit: Option<String>,
}

/// 128-bit certificate serial from a CSPRNG, positive (top bit clear), never zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Serial(pub [u8; 16]);

/// The subject key a CSR carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyInfo {
    Rsa { bits: u32 },
    EcP256,
}

/// A CSR that passed every check; only its public key is used afterwards.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedCsr {
    /// SubjectPublicKeyInfo, DER.
    pub spki_der: Vec<u8>,
    /// SHA-256 of the CSR DER, for the audit log and idempotency.
    pub csr_sha256: [u8; 32],
    pub key: KeyInfo,
}

/// Everything that goes into a leaf certificate. Stored before signing; signing the same
/// request again gives byte-identical DER.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssueRequest {
    pub spki_der: Vec<u8>,
    pub serial: Serial,
    pub not_before: OffsetDateTime,
    pub not_after: OffsetDateTime,
    pub subject: LeafSubject,
}

/// Why a certificate is on the CRL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RevocationKind {
    /// Final (註銷).
    Revoked,
    /// certificateHold (暫禁); leaves the CRL when unsuspended.
    Hold,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevokedEntry {
    pub serial: Serial,
    pub revoked_at: OffsetDateTime,
    pub kind: RevocationKind,
}

/// What the CA reads back from a certificate it issued (for registration uploads).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedInfo {
    pub serial: Serial,
    pub tax_id: Option<String>,
    pub cert_name: Option<String>,
    pub spki_der: Vec<u8>,
    pub not_before: OffsetDateTime,
    pub not_after: OffsetDateTime,
}

/// A CSR refused; the message is shown to the applicant.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CsrError {
    #[error("the CSR could not be parsed: {0}")]
    Parse(String),
    #[error("the CSR signature does not verify")]
    BadSignature,
    #[error("signature algorithm {0} is not accepted (use SHA-256 or stronger)")]
    Algorithm(String),
    #[error("key type {0} is not accepted (RSA 2048/3072/4096 or ECDSA P-256)")]
    KeyType(String),
    #[error("RSA key size {0} is not accepted (2048, 3072 or 4096)")]
    KeySize(u32),
    #[error("RSA public exponent must be 65537")]
    Exponent,
    #[error("weak RSA key: {0}")]
    WeakKey(&'static str),
}

#[derive(Debug, thiserror::Error)]
pub enum CaError {
    #[error("CA certificate or key could not be read: {0}")]
    Load(String),
    #[error("CA key does not match the CA certificate")]
    KeyMismatch,
    #[error("certificate could not be built: {0}")]
    Build(String),
    #[error("certificate was not issued by this CA")]
    NotOurs,
    #[error("certificate could not be parsed: {0}")]
    Parse(String),
}

/// A loaded CA: certificate and signing key.
pub struct Ca {
    cert_der: Vec<u8>,
    /// The CA's subject exactly as encoded in its certificate: the issuer of what it signs.
    subject_der: Vec<u8>,
    public_key: spki::PublicKey,
    /// Subject key identifier, copied into authorityKeyIdentifier of issued certificates.
    key_id: Vec<u8>,
    key: key::CaKey,
    /// End of the CA certificate's validity: no leaf is issued beyond it.
    not_after: OffsetDateTime,
}

impl fmt::Debug for Ca {
    /// Never shows key material.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ca")
            .field(
                "key_id",
                &self
                    .key_id
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect::<String>(),
            )
            .field("key", &"<redacted>")
            .finish_non_exhaustive()
    }
}

impl Ca {
    /// Self-signed root with a new RSA-3072 key (basicConstraints CA, keyCertSign, cRLSign).
    pub fn generate(
        subject: &CaSubject,
        now: OffsetDateTime,
        validity_years: u32,
    ) -> Result<Ca, CaError> {
        authority::generate(subject, now, validity_years)
    }

    /// From PEM files an operator configured; refuses a key that does not match.
    pub fn from_pem(cert_pem: &str, key_pem: &str) -> Result<Ca, CaError> {
        authority::from_pem(cert_pem, key_pem)
    }

    /// When the CA certificate expires. Leaves must end by then: [`Ca::issue`] refuses a
    /// request that would outlive the CA, so callers cap their validity with this.
    pub fn not_after(&self) -> OffsetDateTime {
        self.not_after
    }

    pub fn certificate_der(&self) -> &[u8] {
        &self.cert_der
    }

    pub fn certificate_pem(&self) -> String {
        cert_der_to_pem(&self.cert_der)
    }

    /// PKCS#8 PEM of the CA key, to write the key file on first start. Never log it.
    pub fn key_pem(&self) -> Zeroizing<String> {
        self.key.pkcs8_pem()
    }

    /// Verify the CSR signature, allow-list its algorithm, check the key.
    pub fn check_csr(&self, profile: &Profile, csr_der: &[u8]) -> Result<CheckedCsr, CsrError> {
        csr_check::check_csr(profile, csr_der)
    }

    /// Sign a leaf certificate. Deterministic: the same request gives the same DER.
    pub fn issue(&self, profile: &Profile, req: &IssueRequest) -> Result<Vec<u8>, CaError> {
        issue::issue(self, profile, req)
    }

    /// A signed CRL (DER) with the given number and entries.
    pub fn crl(
        &self,
        profile: &Profile,
        crl_number: u64,
        this_update: OffsetDateTime,
        entries: &[RevokedEntry],
    ) -> Result<Vec<u8>, CaError> {
        crl::crl(self, profile, crl_number, this_update, entries)
    }

    /// Parse a certificate and check this CA signed it.
    pub fn inspect_issued(&self, cert_der: &[u8]) -> Result<IssuedInfo, CaError> {
        inspect::inspect_issued(self, cert_der)
    }
}
