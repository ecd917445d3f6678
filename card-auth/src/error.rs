use time::OffsetDateTime;

use crate::revocation::RevocationReason;

/// Why a card login (or a trust-store configuration) was refused.
///
/// Every variant is a refusal the server turns into "login failed" (HTTP 401), except
/// [`CardAuthError::BadTrustAnchor`], which is a configuration error found at start-up.
/// [`CardAuthError::code`] gives a stable identifier for logs and metrics.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CardAuthError {
    /// The signature is not valid base64, or has the wrong length for the key.
    #[error("the signature is not valid base64 or has the wrong length")]
    BadSignatureEncoding,
    /// The signature does not verify with the certificate's key over the challenge.
    #[error("the signature does not match the challenge and the certificate's key")]
    BadSignature,
    /// The signature verifies, but with a hash we refuse (SHA-1).
    #[error("the signature uses {0}, only SHA-256, SHA-384 and SHA-512 are accepted")]
    UnsupportedHash(&'static str),
    /// The key or signature algorithm is not one we verify (RSA ≥ 2048 with
    /// PKCS#1 v1.5 and SHA-2, ECDSA P-256 with SHA-256).
    #[error("unsupported key or signature algorithm: {0}")]
    UnsupportedAlgorithm(String),
    /// The certificate does not parse, or carries something we cannot honour (an unknown
    /// critical extension, trailing data).
    #[error("bad certificate: {0}")]
    BadCertificate(String),
    /// No path from the certificate to a configured root: unknown issuer, a signature in
    /// the chain that does not verify, an issuer that is not a CA, or a path too long.
    #[error("certificate chain is not trusted: {0}")]
    UntrustedChain(String),
    /// A certificate in the chain has expired at `now`.
    #[error("certificate \"{subject}\" expired at {not_after}")]
    Expired {
        subject: String,
        not_after: OffsetDateTime,
    },
    /// A certificate in the chain is not valid yet at `now`.
    #[error("certificate \"{subject}\" is not valid before {not_before}")]
    NotYetValid {
        subject: String,
        not_before: OffsetDateTime,
    },
    /// The card certificate has no keyUsage, or one without digitalSignature.
    #[error("the certificate's key usage does not include digitalSignature")]
    NotForSigning,
    /// The card certificate is a CA certificate (basicConstraints cA=TRUE): a CA key may
    /// sign certificates, it does not identify a company.
    #[error("the card certificate is a CA certificate (basicConstraints cA=TRUE)")]
    LeafIsCa,
    /// The card certificate is listed on its CA's current CRL (revoked, or suspended with
    /// certificateHold).
    #[error("the card certificate (serial {serial_hex}) was revoked at {revoked_at}{}", reason.map(|r| format!(" ({})", r.name())).unwrap_or_default())]
    Revoked {
        serial_hex: String,
        revoked_at: OffsetDateTime,
        reason: Option<RevocationReason>,
    },
    /// [`crate::RevocationMode::Require`] and no current CRL could be had or believed.
    #[error("the revocation status of the card certificate could not be determined: {0}")]
    RevocationUnknown(String),
    /// Neither the subjectDirectoryAttributes nor the subject serialNumber carries a tax ID.
    #[error("the certificate carries no company tax ID (統一編號)")]
    NoTaxId,
    /// A tax ID is present but fails the format or checksum rule.
    #[error("the certificate's tax ID {0:?} is not a valid 統一編號")]
    BadTaxId(String),
    /// The two places that carry the tax ID disagree.
    #[error("the certificate carries two different tax IDs ({directory} and {subject})")]
    TaxIdMismatch { directory: String, subject: String },
    /// A configured root or intermediate certificate could not be loaded.
    #[error("bad trust anchor: {0}")]
    BadTrustAnchor(String),
}

impl CardAuthError {
    /// Stable snake_case identifier, for logs and metrics (never shown as the only
    /// explanation: the `Display` text says why).
    pub fn code(&self) -> &'static str {
        match self {
            Self::BadSignatureEncoding => "bad_signature_encoding",
            Self::BadSignature => "bad_signature",
            Self::UnsupportedHash(_) => "unsupported_hash",
            Self::UnsupportedAlgorithm(_) => "unsupported_algorithm",
            Self::BadCertificate(_) => "bad_certificate",
            Self::UntrustedChain(_) => "untrusted_chain",
            Self::Expired { .. } => "expired",
            Self::NotYetValid { .. } => "not_yet_valid",
            Self::NotForSigning => "not_for_signing",
            Self::LeafIsCa => "leaf_is_ca",
            Self::Revoked { .. } => "revoked",
            Self::RevocationUnknown(_) => "revocation_unknown",
            Self::NoTaxId => "no_tax_id",
            Self::BadTaxId(_) => "bad_tax_id",
            Self::TaxIdMismatch { .. } => "tax_id_mismatch",
            Self::BadTrustAnchor(_) => "bad_trust_anchor",
        }
    }
}
