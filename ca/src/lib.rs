//! CA core of the portal. Decides the certificate: only the public key comes from the CSR;
//! subject, extensions and validity come from the application and the [`Profile`].
//!
//! Certificates, CRLs and the issuing CA's CSR are built with rcgen and signed through one
//! adapter over the CA's key ([`CaKey`]): a file key (PKCS#1 v1.5 through ring, RFC 6979
//! ECDSA; the same request always gives the same bytes) or a key inside a PKCS#11 token
//! (module `token`, `cryptoki`). The one extension rcgen has no field for (AIA) is encoded
//! with `der`, OIDs come from `const-oid`, PEM is written with `pem-rfc7468`. Parsing (CSRs,
//! certificates) uses x509-parser. No web or database code lives here.
//!
//! `tests/golden.rs` holds the proof that the move from the hand-written DER encoder to
//! rcgen changed nothing but the order of the extensions inside certificates (rcgen writes
//! authorityKeyIdentifier first and basicConstraints after the CRL distribution points;
//! X.509 gives the order no meaning): same bytes for every extension, name, key, validity
//! and serial, and byte-identical CRLs.

mod authority;
mod cert;
mod crl;
mod csr_check;
mod ext;
mod inspect;
mod key;
mod name;
mod ocsp;
mod oid;
mod pem;
mod serial;
mod spki;
mod token;
mod weak_keys;

use std::fmt;

use time::OffsetDateTime;
use zeroize::Zeroizing;

pub use key::{CaKey, KeyAlgorithm, SignatureAlgorithm};
pub use ocsp::{OcspQuery, OcspQuestion, OcspRefusal, OcspResponder, OcspStatus};
pub use pem::{cert_der_to_pem, cert_pem_to_der, csr_pem_to_der, encode as pem_encode};
pub use token::{DEFAULT_MODULE as PKCS11_DEFAULT_MODULE, Pkcs11Uri, TokenSpec};
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

/// Why a certificate is on the CRL (RFC 5280 5.3.1 CRLReason), written as the entry's
/// reasonCode. All but `CertificateHold` are final (註銷).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RevocationReason {
    /// No reason given: written without a reasonCode, as RFC 5280 prefers.
    Unspecified,
    KeyCompromise,
    AffiliationChanged,
    Superseded,
    CessationOfOperation,
    /// Suspended (暫禁); the entry leaves the CRL when the certificate is unsuspended.
    CertificateHold,
    PrivilegeWithdrawn,
}

impl RevocationReason {
    /// The CRLReason code (0 unspecified, 1 keyCompromise, 3 affiliationChanged, 4
    /// superseded, 5 cessationOfOperation, 6 certificateHold, 9 privilegeWithdrawn).
    pub fn code(self) -> u8 {
        match self {
            RevocationReason::Unspecified => 0,
            RevocationReason::KeyCompromise => 1,
            RevocationReason::AffiliationChanged => 3,
            RevocationReason::Superseded => 4,
            RevocationReason::CessationOfOperation => 5,
            RevocationReason::CertificateHold => 6,
            RevocationReason::PrivilegeWithdrawn => 9,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevokedEntry {
    pub serial: Serial,
    pub revoked_at: OffsetDateTime,
    pub reason: RevocationReason,
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
    #[error("PKCS#11 token: {0}")]
    Token(String),
}

/// A loaded CA: certificate, signing key and the certificates above it.
pub struct Ca {
    cert_der: Vec<u8>,
    /// The CA's subject exactly as encoded in its certificate: the issuer of what it signs.
    subject_der: Vec<u8>,
    public_key: spki::PublicKey,
    /// Subject key identifier, copied into authorityKeyIdentifier of issued certificates.
    key_id: Vec<u8>,
    key: CaKey,
    /// This CA as rcgen's issuer: its name, key identifier and key usages.
    issuer: rcgen::CertificateParams,
    /// End of the CA certificate's validity: no leaf is issued beyond it.
    not_after: OffsetDateTime,
    /// The certificates above this CA (DER), its issuer first, ending with the self-signed
    /// root; empty when this CA is the root.
    chain: Vec<Vec<u8>>,
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
    /// Self-signed root with a new RSA-3072 key in memory (basicConstraints CA, keyCertSign,
    /// cRLSign): the one-command local CA.
    pub fn generate(
        subject: &CaSubject,
        now: OffsetDateTime,
        validity_years: u32,
    ) -> Result<Ca, CaError> {
        authority::generate(subject, now, validity_years)
    }

    /// A self-signed root for `key` (an offline root, or a token key), with the given serial
    /// and validity.
    pub fn self_signed(
        key: CaKey,
        subject: &CaSubject,
        serial: Serial,
        not_before: OffsetDateTime,
        not_after: OffsetDateTime,
    ) -> Result<Ca, CaError> {
        authority::self_signed(key, subject, serial, not_before, not_after)
    }

    /// `now` plus `years` on the calendar (29 February becomes 28 February), for a CA's
    /// notAfter; 1 to 100 years.
    pub fn years_after(now: OffsetDateTime, years: u32) -> Result<OffsetDateTime, CaError> {
        authority::add_years(now, years)
    }

    /// From PEM files an operator configured (a plain key); refuses a key that does not match.
    pub fn from_pem(cert_pem: &str, key_pem: &str) -> Result<Ca, CaError> {
        Self::load(cert_pem, CaKey::from_pem(key_pem, None)?, None)
    }

    /// The CA certificate (PEM; more CERTIFICATE blocks after it are the chain above it),
    /// its key, and optionally the chain above it in another PEM text. The chain must lead to
    /// a self-signed root, and the key must sign for the certificate (checked by signing a
    /// throwaway certificate).
    pub fn load(cert_pem: &str, key: CaKey, chain_pem: Option<&str>) -> Result<Ca, CaError> {
        authority::load(cert_pem, key, chain_pem)
    }

    /// The issuing CA's certificate request (DER) for `key`, to be signed by the root with
    /// [`Ca::sign_issuing`].
    pub fn issuing_csr(key: &CaKey, subject: &CaSubject) -> Result<Vec<u8>, CaError> {
        authority::issuing_csr(key, subject)
    }

    /// As the root: the issuing CA's certificate for its request (pathLen 0, keyCertSign and
    /// cRLSign), within the root's own validity.
    pub fn sign_issuing(
        &self,
        csr_der: &[u8],
        serial: Serial,
        not_before: OffsetDateTime,
        not_after: OffsetDateTime,
    ) -> Result<Vec<u8>, CaError> {
        authority::sign_issuing(self, csr_der, serial, not_before, not_after)
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

    /// The certificates above this CA, its issuer first, the root last; empty for a root.
    pub fn chain_der(&self) -> &[Vec<u8>] {
        &self.chain
    }

    /// The self-signed root this CA chains to (itself when it is the root).
    pub fn root_der(&self) -> &[u8] {
        self.chain.last().map_or(&self.cert_der, Vec::as_slice)
    }

    /// This CA's certificate and every one above it, as PEM blocks in that order.
    pub fn chain_pem(&self) -> Vec<String> {
        std::iter::once(&self.cert_der)
            .chain(&self.chain)
            .map(|der| cert_der_to_pem(der))
            .collect()
    }

    /// The signing key (to sign other documents through the same key, e.g. OCSP).
    pub fn key(&self) -> &CaKey {
        &self.key
    }

    /// PKCS#8 PEM of a file CA key, to write the key file on first start. Never log it.
    /// Empty for a key held in a token (nothing leaves it; [`CaKey::pkcs8_pem`] says why).
    pub fn key_pem(&self) -> Zeroizing<String> {
        self.key.pkcs8_pem().unwrap_or_default()
    }

    /// Verify the CSR signature, allow-list its algorithm, check the key.
    pub fn check_csr(&self, profile: &Profile, csr_der: &[u8]) -> Result<CheckedCsr, CsrError> {
        csr_check::check_csr(profile, csr_der)
    }

    /// Sign a leaf certificate. With a file key the same request gives the same DER.
    pub fn issue(&self, profile: &Profile, req: &IssueRequest) -> Result<Vec<u8>, CaError> {
        cert::issue(self, profile, req)
    }

    /// A signed CRL (DER) with the given number and entries, each with its reason.
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
