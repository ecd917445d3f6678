//! The one decision this crate makes: does this signed challenge log a company in?

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use time::OffsetDateTime;

use crate::cert;
use crate::chain::{self, Candidates};
use crate::error::CardAuthError;
use crate::revocation::{
    self, RevocationMode, RevocationQuery, RevocationSource, RevocationStatus,
};
use crate::signature::{self, PublicKey};
use crate::taxid;
use crate::trust::TrustStore;

/// What the browser sent back for one challenge.
#[derive(Debug, Clone, Copy)]
pub struct LoginAttempt<'a> {
    /// The exact bytes the card signed: the challenge text (`tbs`) the server issued,
    /// UTF-8 (HiPKI `tbsEncoding: "NONE"`).
    pub tbs: &'a [u8],
    /// PKCS#1 v1.5 signature (RSA; or ECDSA P-256, DER or raw r‖s), standard base64;
    /// whitespace is ignored.
    pub signature_b64: &'a str,
    /// The card's certificate, DER (see [`decode_base64_certificate`]).
    pub certificate_der: &'a [u8],
    /// Intermediates sent along with the login, DER, any order; may be empty.
    pub intermediates_der: &'a [Vec<u8>],
}

/// Who logged in, from a certificate that passed every check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardIdentity {
    /// 統一編號, 8 digits, checksum-valid.
    pub tax_id: String,
    /// Subject CN, if the certificate has one (MOEACA subjects may carry only O).
    pub subject_cn: Option<String>,
    /// Subject O: the company name.
    pub organization: Option<String>,
    /// Lower-case hex, no separators.
    pub cert_serial_hex: String,
    pub not_after: OffsetDateTime,
}

impl CardIdentity {
    /// Company name, else CN, else the tax ID: something to greet the user with.
    pub fn display_name(&self) -> &str {
        self.organization
            .as_deref()
            .or(self.subject_cn.as_deref())
            .unwrap_or(&self.tax_id)
    }
}

/// Decodes a base64 certificate from the wire (e.g. `CardLoginRequest::certificate_b64`).
pub fn decode_base64_certificate(b64: &str) -> Result<Vec<u8>, CardAuthError> {
    decode_base64(b64).map_err(|()| CardAuthError::BadCertificate("not valid base64".into()))
}

fn decode_base64(b64: &str) -> Result<Vec<u8>, ()> {
    let compact: String = b64.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    STANDARD.decode(compact).map_err(|_| ())
}

/// A login that passed every check, revocation included.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedLogin {
    pub identity: CardIdentity,
    /// `Unknown` (mode `Prefer`) is worth a warning in the log.
    pub revocation: RevocationStatus,
}

/// [`verify_login`], then the card's revocation status from `source` under `mode` (see
/// [`revocation::check_revocation`]): what the server's login calls.
pub async fn verify_login_with_revocation<S: RevocationSource>(
    attempt: &LoginAttempt<'_>,
    trust: &TrustStore,
    now: OffsetDateTime,
    mode: RevocationMode,
    source: &S,
) -> Result<VerifiedLogin, CardAuthError> {
    let (identity, query) = verify(attempt, trust, now)?;
    let revocation = revocation::check_revocation(&query, mode, source, now).await?;
    Ok(VerifiedLogin {
        identity,
        revocation,
    })
}

/// Verifies a card login at `now`:
///
/// 1. the certificate parses and has no unknown critical extension;
/// 2. the signature over `tbs` verifies with the certificate's key
///    (RSA PKCS#1 v1.5 with SHA-256/384/512, or ECDSA P-256/SHA-256; SHA-1 refused);
/// 3. the certificate is valid at `now`, is not a CA (basicConstraints cA=TRUE) and has
///    keyUsage with digitalSignature;
/// 4. it chains to a root of `trust` (via `attempt.intermediates_der` and the store's
///    intermediates), every certificate valid at `now`, every issuer a CA;
/// 5. it carries a checksum-valid 統一編號 (subjectDirectoryAttributes
///    2.16.886.1.100.2.101 and/or subject serialNumber; both must agree).
///
/// Revocation is not checked here: use [`verify_login_with_revocation`] (the server owns
/// network access and caching and passes a [`RevocationSource`]).
pub fn verify_login(
    attempt: &LoginAttempt<'_>,
    trust: &TrustStore,
    now: OffsetDateTime,
) -> Result<CardIdentity, CardAuthError> {
    verify(attempt, trust, now).map(|(identity, _)| identity)
}

/// The checks of [`verify_login`]; also what revocation must be asked about.
pub(crate) fn verify(
    attempt: &LoginAttempt<'_>,
    trust: &TrustStore,
    now: OffsetDateTime,
) -> Result<(CardIdentity, RevocationQuery), CardAuthError> {
    let leaf = cert::parse(attempt.certificate_der)?;
    cert::check_critical_extensions(&leaf)?;

    let signature =
        decode_base64(attempt.signature_b64).map_err(|()| CardAuthError::BadSignatureEncoding)?;
    let key = PublicKey::from_spki(leaf.public_key())?;
    signature::verify_login_signature(&key, attempt.tbs, &signature)?;

    cert::check_validity(&leaf, now)?;
    let bc = leaf
        .basic_constraints()
        .map_err(|e| CardAuthError::BadCertificate(format!("basicConstraints: {e}")))?;
    if bc.is_some_and(|bc| bc.value.ca) {
        return Err(CardAuthError::LeafIsCa);
    }
    let ku = leaf
        .key_usage()
        .map_err(|e| CardAuthError::BadCertificate(format!("keyUsage: {e}")))?;
    if !ku.is_some_and(|ku| ku.value.digital_signature()) {
        return Err(CardAuthError::NotForSigning);
    }

    let candidates = Candidates {
        roots: parse_all(trust.roots())?,
        intermediates: parse_all(
            attempt
                .intermediates_der
                .iter()
                .chain(trust.intermediates()),
        )?,
    };
    let issuer = chain::verify(&leaf, &candidates, now)?;
    let query = RevocationQuery::new(&leaf, issuer)?;

    let identity = CardIdentity {
        tax_id: taxid::tax_id(&leaf)?,
        subject_cn: cert::first_attribute(leaf.subject(), cert::OID_COMMON_NAME),
        organization: cert::first_attribute(leaf.subject(), cert::OID_ORGANIZATION),
        cert_serial_hex: cert::serial_hex(&leaf),
        not_after: cert::not_after(&leaf)?,
    };
    Ok((identity, query))
}

fn parse_all<'a>(
    ders: impl IntoIterator<Item = &'a Vec<u8>>,
) -> Result<Vec<x509_parser::certificate::X509Certificate<'a>>, CardAuthError> {
    ders.into_iter().map(|d| cert::parse(d)).collect()
}
