//! Verifies an IC-card login made with a MOEACA business certificate (工商憑證).
//!
//! Pure: no I/O, no clock, no network. The server issues a challenge text (`tbs`), the card
//! (through card-bridge or the official HiPKI component) signs it, and the browser sends
//! back the signature and the card's certificate. This crate decides whether that proves
//! the company's identity.
//!
//! # Use
//!
//! ```no_run
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use card_auth::{LoginAttempt, TrustStore, decode_base64_certificate, verify_login};
//!
//! // At start-up: the roots (GRCA) and, optionally, MOEACA's issuing CAs, PEM or DER.
//! let mut trust = TrustStore::from_roots(&std::fs::read("grca.pem")?)?;
//! trust.add_intermediates(&std::fs::read("moeaca.pem")?)?;
//!
//! // Per login (`CardLoginRequest` from proto::api):
//! # let (challenge_tbs, signature_b64, certificate_b64) = ("", "", "");
//! let certificate_der = decode_base64_certificate(certificate_b64)?;
//! let identity = verify_login(
//!     &LoginAttempt {
//!         tbs: challenge_tbs.as_bytes(),
//!         signature_b64,
//!         certificate_der: &certificate_der,
//!         intermediates_der: &[],
//!     },
//!     &trust,
//!     time::OffsetDateTime::now_utc(),
//! )?;
//! println!("{} logged in as {}", identity.tax_id, identity.display_name());
//! # Ok(()) }
//! ```
//!
//! # What is checked
//!
//! See [`verify_login`]. Every refusal is a [`CardAuthError`] variant; the server maps
//! them to "login failed" (HTTP 401; a revoked card and an unknown revocation status get
//! their own codes) and logs [`CardAuthError::code`] and the message.
//!
//! # Revocation
//!
//! [`verify_login_with_revocation`] adds the CRL check: this crate reads the card's CRL
//! distribution points, verifies the CRL against the issuing CA found on the chain and
//! decides under a [`RevocationMode`]; fetching and caching are the caller's, through a
//! [`RevocationSource`] (no network in this crate).
//!
//! # Where the tax ID comes from
//!
//! `subjectDirectoryAttributes` attribute 2.16.886.1.100.2.101 (confirmed by the GPKI
//! certificate profile and several independent MOEACA readers), and/or the subject
//! `serialNumber` when it is 8 digits (reported by one source). Both, if present, must agree;
//! the value must pass `proto::ids::check_tax_id`.
//!
//! # Tests of other crates
//!
//! With feature `test-pki`, [`testing`] builds a throwaway root, intermediate and business
//! certificates, signs challenges like a card would, and writes PEM/PKCS#8 files.

mod cert;
mod chain;
mod error;
mod info;
mod login;
mod revocation;
mod signature;
mod taxid;
mod trust;

#[cfg(any(test, feature = "test-pki"))]
pub mod testing;

pub use error::CardAuthError;
pub use info::{CertificateInfo, PublicKeyInfo};
pub use login::{
    CardIdentity, LoginAttempt, VerifiedLogin, decode_base64_certificate, verify_login,
    verify_login_with_revocation,
};
pub use revocation::{
    Crl, CrlError, CrlIssuer, RevocationMode, RevocationQuery, RevocationReason, RevocationSource,
    RevocationStatus, RevokedEntry, check_revocation,
};
pub use signature::MIN_RSA_BITS;
pub use taxid::{OID_SUBJECT_DIRECTORY_ATTRIBUTES, OID_UNIFORM_ORGANIZATION_ID};
pub use trust::TrustStore;

#[cfg(test)]
mod revocation_tests;
#[cfg(test)]
mod tests;
