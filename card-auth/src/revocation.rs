//! Revocation of the card certificate: the CRL at its CRL distribution point (RFC 5280
//! §5 and §6.3), verified here, fetched and cached by the caller.
//!
//! No I/O in this crate: the server implements [`RevocationSource`] with an HTTP client and
//! a cache; this module decides what to ask for ([`RevocationQuery`], from a verified
//! login), whether a CRL may be believed ([`Crl::verify`]: signed by the card's issuing CA,
//! current, covering the card) and what the answer means under the configured
//! [`RevocationMode`]. OCSP is not used: MOEACA publishes CRLs at the distribution point
//! every card carries, and one CRL answers for every login until its nextUpdate.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;

use sha2::{Digest, Sha256};
use time::{Duration, OffsetDateTime};
use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::{DistributionPointName, GeneralName, ParsedExtension};
use x509_parser::revocation_list::CertificateRevocationList;

use crate::cert;
use crate::error::CardAuthError;
use crate::signature;

/// A CRL whose thisUpdate is up to this far in the future is still believed (clocks differ).
const CLOCK_SKEW: Duration = Duration::minutes(5);

const OID_CRL_DISTRIBUTION_POINTS: &str = "2.5.29.31";
const OID_ISSUING_DISTRIBUTION_POINT: &str = "2.5.29.28";
const OID_DELTA_CRL_INDICATOR: &str = "2.5.29.27";
const OID_CRL_NUMBER: &str = "2.5.29.20";
const OID_AUTHORITY_KEY_IDENTIFIER: &str = "2.5.29.35";
const OID_REASON_CODE: &str = "2.5.29.21";
const OID_INVALIDITY_DATE: &str = "2.5.29.24";

/// What a login does when the card's revocation status cannot be determined (CRL server
/// down, CRL stale or not verifiable, no distribution point). A revoked card is refused in
/// every mode but `Off`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RevocationMode {
    /// Refuse the login ([`CardAuthError::RevocationUnknown`]).
    #[default]
    Require,
    /// Let the login through; the result says why the status is unknown, for a warning.
    Prefer,
    /// Do not check (development with test cards that carry no distribution point).
    Off,
}

/// Why a card certificate was revoked (RFC 5280 §5.3.1 CRLReason).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RevocationReason {
    Unspecified,
    KeyCompromise,
    CaCompromise,
    AffiliationChanged,
    Superseded,
    CessationOfOperation,
    /// Suspended (暫禁): the CA may lift it later; until then the card is refused.
    CertificateHold,
    PrivilegeWithdrawn,
    AaCompromise,
}

impl RevocationReason {
    fn from_code(code: u8) -> Option<Self> {
        Some(match code {
            0 => Self::Unspecified,
            1 => Self::KeyCompromise,
            2 => Self::CaCompromise,
            3 => Self::AffiliationChanged,
            4 => Self::Superseded,
            5 => Self::CessationOfOperation,
            6 => Self::CertificateHold,
            9 => Self::PrivilegeWithdrawn,
            10 => Self::AaCompromise,
            _ => return None,
        })
    }

    /// RFC 5280's name, e.g. `keyCompromise`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Unspecified => "unspecified",
            Self::KeyCompromise => "keyCompromise",
            Self::CaCompromise => "cACompromise",
            Self::AffiliationChanged => "affiliationChanged",
            Self::Superseded => "superseded",
            Self::CessationOfOperation => "cessationOfOperation",
            Self::CertificateHold => "certificateHold",
            Self::PrivilegeWithdrawn => "privilegeWithdrawn",
            Self::AaCompromise => "aACompromise",
        }
    }
}

/// The CA that issued the card certificate, as found on the verified chain: the only key
/// a CRL for the card may be signed with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrlIssuer {
    der: Vec<u8>,
    key_id: [u8; 32],
    subject: String,
}

impl CrlIssuer {
    fn from_cert(issuer: &X509Certificate<'_>) -> Self {
        Self {
            der: issuer.as_raw().to_vec(),
            key_id: Sha256::digest(issuer.public_key().raw).into(),
            subject: cert::name_to_string(issuer.subject()),
        }
    }

    /// SHA-256 of the issuer's SubjectPublicKeyInfo: with the URL, a cache key for CRLs.
    pub fn key_id(&self) -> &[u8; 32] {
        &self.key_id
    }

    /// `C=TW,O=…,CN=…`, for logs.
    pub fn subject(&self) -> &str {
        &self.subject
    }
}

/// What to look up for one verified card certificate (see [`crate::VerifiedLogin`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevocationQuery {
    /// `http://` and `https://` URIs of the card's CRL distribution points, in order.
    pub crl_urls: Vec<String>,
    /// Every full name of those distribution points (to match a CRL's
    /// issuingDistributionPoint, RFC 5280 §6.3.3 b.2.i).
    distribution_point_names: Vec<String>,
    /// The card's serial as an unsigned big-endian number without leading zeros.
    serial: Vec<u8>,
    pub serial_hex: String,
    pub issuer: CrlIssuer,
}

impl RevocationQuery {
    pub(crate) fn new(
        leaf: &X509Certificate<'_>,
        issuer: &X509Certificate<'_>,
    ) -> Result<Self, CardAuthError> {
        let mut crl_urls = Vec::new();
        let mut names = Vec::new();
        for ext in leaf.extensions() {
            if ext.oid.to_id_string() != OID_CRL_DISTRIBUTION_POINTS {
                continue;
            }
            let ParsedExtension::CRLDistributionPoints(points) = ext.parsed_extension() else {
                return Err(CardAuthError::BadCertificate(
                    "malformed cRLDistributionPoints".into(),
                ));
            };
            for point in points.iter() {
                // A CRL issued by someone else (indirect) or covering only some reasons
                // cannot tell alone whether the card is revoked: such points are skipped.
                if point.crl_issuer.is_some() || point.reasons.is_some() {
                    continue;
                }
                let Some(DistributionPointName::FullName(full)) = &point.distribution_point else {
                    continue;
                };
                for name in full {
                    if let GeneralName::URI(uri) = name {
                        names.push((*uri).to_owned());
                        let lower = uri.to_ascii_lowercase();
                        if lower.starts_with("http://") || lower.starts_with("https://") {
                            crl_urls.push((*uri).to_owned());
                        }
                    }
                }
            }
        }
        Ok(Self {
            crl_urls,
            distribution_point_names: names,
            serial: unsigned(leaf.raw_serial()).to_vec(),
            serial_hex: cert::serial_hex(leaf),
            issuer: CrlIssuer::from_cert(issuer),
        })
    }
}

fn unsigned(raw: &[u8]) -> &[u8] {
    let start = raw.iter().position(|&b| b != 0).unwrap_or(raw.len());
    &raw[start..]
}

/// One revoked certificate of a [`Crl`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RevokedEntry {
    pub revoked_at: OffsetDateTime,
    /// Absent when the CRL entry gives no reason code.
    pub reason: Option<RevocationReason>,
}

/// A CRL that passed [`Crl::verify`]: what a cache keeps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Crl {
    issuer_key_id: [u8; 32],
    this_update: OffsetDateTime,
    next_update: OffsetDateTime,
    /// Full names of the issuingDistributionPoint, if the CRL has one with names.
    scope: Option<Vec<String>>,
    revoked: HashMap<Vec<u8>, RevokedEntry>,
}

/// Why a CRL was not believed, or could not be had.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CrlError {
    /// The source could not get it (connection refused, timeout, HTTP error, too large).
    #[error("could not fetch the CRL: {0}")]
    Fetch(String),
    #[error("not a DER or PEM CRL: {0}")]
    Malformed(String),
    #[error("the CRL is issued by \"{crl}\", not by the card's CA \"{ca}\"")]
    WrongIssuer { crl: String, ca: String },
    #[error("the CRL's signature does not verify with the key of \"{0}\"")]
    BadSignature(String),
    #[error("the CRL's signature algorithm is not accepted: {0}")]
    Algorithm(String),
    /// nextUpdate has passed: a newer CRL should exist, this one may miss revocations.
    #[error("the CRL is stale: its nextUpdate {0} has passed")]
    Stale(OffsetDateTime),
    #[error("the CRL is not valid before {0}")]
    NotYetValid(OffsetDateTime),
    #[error("the CRL has no nextUpdate")]
    NoNextUpdate,
    /// A CRL we cannot interpret completely (delta CRL, indirect CRL, partitioned by reason,
    /// unknown critical extension, CA certificates only, another scope).
    #[error("the CRL is not usable for this card: {0}")]
    Unsupported(String),
}

impl Crl {
    /// Parses `bytes` (DER, or PEM `X509 CRL`) and checks it as a CRL for certificates of
    /// `issuer` at `now`: same issuer name, signature by the issuer's key (allow-listed
    /// algorithms), the issuer may sign CRLs, `thisUpdate` not in the future, `nextUpdate`
    /// present and not passed, no extension we cannot honour.
    pub fn verify(bytes: &[u8], issuer: &CrlIssuer, now: OffsetDateTime) -> Result<Self, CrlError> {
        let der = decode_pem_or_der(bytes)?;
        let (rest, crl) =
            x509_parser::parse_x509_crl(&der).map_err(|e| CrlError::Malformed(e.to_string()))?;
        if !rest.is_empty() {
            return Err(CrlError::Malformed("trailing data after the CRL".into()));
        }
        let (_, ca) = x509_parser::parse_x509_certificate(&issuer.der)
            .map_err(|e| CrlError::Malformed(format!("issuer certificate: {e}")))?;
        check_signature(&crl, &ca)?;
        let this_update = to_time(crl.last_update().timestamp())?;
        let next_update = crl
            .next_update()
            .map(|t| to_time(t.timestamp()))
            .transpose()?
            .ok_or(CrlError::NoNextUpdate)?;
        let scope = check_crl_extensions(&crl)?;
        let mut revoked = HashMap::new();
        for entry in crl.iter_revoked_certificates() {
            check_entry_extensions(entry)?;
            let reason = match entry.reason_code() {
                Some((_, code)) if code.0 == 8 => continue, // removeFromCRL: delta CRLs only
                Some((_, code)) => Some(RevocationReason::from_code(code.0).ok_or_else(|| {
                    CrlError::Malformed(format!("unknown reason code {}", code.0))
                })?),
                None => None,
            };
            revoked.insert(
                unsigned(entry.raw_serial()).to_vec(),
                RevokedEntry {
                    revoked_at: to_time(entry.revocation_date.timestamp())?,
                    reason,
                },
            );
        }
        let verified = Self {
            issuer_key_id: issuer.key_id,
            this_update,
            next_update,
            scope,
            revoked,
        };
        verified.check_current(now)?;
        Ok(verified)
    }

    pub fn this_update(&self) -> OffsetDateTime {
        self.this_update
    }

    /// Until when the CRL may be used (and cached).
    pub fn next_update(&self) -> OffsetDateTime {
        self.next_update
    }

    /// Number of revoked certificates listed.
    pub fn len(&self) -> usize {
        self.revoked.len()
    }

    pub fn is_empty(&self) -> bool {
        self.revoked.is_empty()
    }

    fn check_current(&self, now: OffsetDateTime) -> Result<(), CrlError> {
        if now >= self.next_update {
            return Err(CrlError::Stale(self.next_update));
        }
        if self.this_update > now + CLOCK_SKEW {
            return Err(CrlError::NotYetValid(self.this_update));
        }
        Ok(())
    }

    /// The card's entry, if listed; refuses a CRL that is not for this card's issuer and
    /// scope, or no longer current at `now`.
    fn lookup(
        &self,
        query: &RevocationQuery,
        now: OffsetDateTime,
    ) -> Result<Option<RevokedEntry>, CrlError> {
        if self.issuer_key_id != query.issuer.key_id {
            return Err(CrlError::Unsupported(format!(
                "it was verified for another CA than \"{}\"",
                query.issuer.subject
            )));
        }
        self.check_current(now)?;
        if let Some(scope) = &self.scope
            && !scope
                .iter()
                .any(|s| query.distribution_point_names.contains(s))
        {
            return Err(CrlError::Unsupported(
                "its issuingDistributionPoint is not one of the card's distribution points".into(),
            ));
        }
        Ok(self.revoked.get(&query.serial).copied())
    }
}

fn decode_pem_or_der(bytes: &[u8]) -> Result<Vec<u8>, CrlError> {
    let trimmed = bytes.trim_ascii_start();
    if !trimmed.starts_with(b"-----BEGIN") {
        return Ok(bytes.to_vec());
    }
    let (label, der) =
        pem_rfc7468::decode_vec(trimmed).map_err(|e| CrlError::Malformed(format!("PEM: {e}")))?;
    if label != "X509 CRL" {
        return Err(CrlError::Malformed(format!("PEM label {label}")));
    }
    Ok(der)
}

fn to_time(unix: i64) -> Result<OffsetDateTime, CrlError> {
    OffsetDateTime::from_unix_timestamp(unix)
        .map_err(|_| CrlError::Malformed("date out of range".into()))
}

fn check_signature(
    crl: &CertificateRevocationList<'_>,
    ca: &X509Certificate<'_>,
) -> Result<(), CrlError> {
    let ca_name = || cert::name_to_string(ca.subject());
    if crl.issuer().as_raw() != ca.subject().as_raw() {
        return Err(CrlError::WrongIssuer {
            crl: cert::name_to_string(crl.issuer()),
            ca: ca_name(),
        });
    }
    if crl.signature_algorithm != crl.tbs_cert_list.signature {
        return Err(CrlError::Malformed(
            "inner and outer signature algorithms differ".into(),
        ));
    }
    if let Ok(Some(ku)) = ca.key_usage()
        && !ku.value.crl_sign()
    {
        return Err(CrlError::WrongIssuer {
            crl: cert::name_to_string(crl.issuer()),
            ca: format!("{} (keyUsage without cRLSign)", ca_name()),
        });
    }
    let verified = signature::signed_by(
        ca,
        &crl.signature_algorithm,
        crl.tbs_cert_list.as_ref(),
        &crl.signature_value.data,
    )
    .map_err(|e| CrlError::Algorithm(e.to_string()))?;
    if verified {
        Ok(())
    } else {
        Err(CrlError::BadSignature(ca_name()))
    }
}

/// Refuses what would change the CRL's meaning beyond what we read; returns the full
/// names of the issuingDistributionPoint, if any.
fn check_crl_extensions(
    crl: &CertificateRevocationList<'_>,
) -> Result<Option<Vec<String>>, CrlError> {
    let mut scope = None;
    for ext in crl.extensions() {
        let oid = ext.oid.to_id_string();
        match oid.as_str() {
            OID_DELTA_CRL_INDICATOR => {
                return Err(CrlError::Unsupported("a delta CRL, not a full one".into()));
            }
            OID_ISSUING_DISTRIBUTION_POINT => {
                let ParsedExtension::IssuingDistributionPoint(idp) = ext.parsed_extension() else {
                    return Err(CrlError::Malformed("issuingDistributionPoint".into()));
                };
                if idp.only_contains_ca_certs || idp.only_contains_attribute_certs {
                    return Err(CrlError::Unsupported(
                        "it lists CA or attribute certificates only".into(),
                    ));
                }
                if idp.indirect_crl {
                    return Err(CrlError::Unsupported("an indirect CRL".into()));
                }
                if idp.only_some_reasons.is_some() {
                    return Err(CrlError::Unsupported("it covers some reasons only".into()));
                }
                scope = match &idp.distribution_point {
                    Some(DistributionPointName::FullName(names)) => Some(
                        names
                            .iter()
                            .filter_map(|n| match n {
                                GeneralName::URI(u) => Some((*u).to_owned()),
                                _ => None,
                            })
                            .collect(),
                    ),
                    Some(DistributionPointName::NameRelativeToCRLIssuer(_)) => {
                        return Err(CrlError::Unsupported(
                            "issuingDistributionPoint relative to the CRL issuer".into(),
                        ));
                    }
                    None => None,
                };
            }
            OID_CRL_NUMBER | OID_AUTHORITY_KEY_IDENTIFIER => {}
            other if ext.critical => {
                return Err(CrlError::Unsupported(format!(
                    "unknown critical extension {other}"
                )));
            }
            _ => {}
        }
    }
    Ok(scope)
}

fn check_entry_extensions(
    entry: &x509_parser::revocation_list::RevokedCertificate<'_>,
) -> Result<(), CrlError> {
    for ext in entry.extensions() {
        let oid = ext.oid.to_id_string();
        if ext.critical && oid != OID_REASON_CODE && oid != OID_INVALIDITY_DATE {
            // certificateIssuer (2.5.29.29) among them: entries of an indirect CRL.
            return Err(CrlError::Unsupported(format!(
                "unknown critical entry extension {oid}"
            )));
        }
    }
    Ok(())
}

/// Where CRLs come from. The server implements it with an HTTP client (size and time
/// limits) and a cache; implementations call [`Crl::verify`] on what they fetch and may
/// keep the result until its [`Crl::next_update`]. This crate re-checks every CRL it is
/// given, so a source cannot make a stale or foreign CRL count.
pub trait RevocationSource {
    /// The verified CRL published at `url` for certificates of `issuer`.
    fn crl(
        &self,
        url: &str,
        issuer: &CrlIssuer,
        now: OffsetDateTime,
    ) -> impl Future<Output = Result<Arc<Crl>, CrlError>> + Send;
}

/// The revocation part of a login that was let through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RevocationStatus {
    /// Not listed on a current CRL.
    Good {
        crl_url: String,
        next_update: OffsetDateTime,
    },
    /// [`RevocationMode::Prefer`] only: no current CRL could be had; log this as a warning.
    Unknown { why: String },
    /// [`RevocationMode::Off`].
    NotChecked,
}

/// Asks `source` for the CRLs of `query` (distribution points in order, the first usable
/// one answers) and applies `mode`. A revoked or suspended card is an error in every
/// checking mode; an unknown status is an error under [`RevocationMode::Require`].
pub async fn check_revocation<S: RevocationSource>(
    query: &RevocationQuery,
    mode: RevocationMode,
    source: &S,
    now: OffsetDateTime,
) -> Result<RevocationStatus, CardAuthError> {
    if mode == RevocationMode::Off {
        return Ok(RevocationStatus::NotChecked);
    }
    let mut problems = Vec::new();
    if query.crl_urls.is_empty() {
        problems.push("the certificate names no http(s) CRL distribution point".to_owned());
    }
    for url in &query.crl_urls {
        let found = match source.crl(url, &query.issuer, now).await {
            Ok(crl) => crl.lookup(query, now).map(|e| (e, crl.next_update)),
            Err(e) => Err(e),
        };
        match found {
            Ok((None, next_update)) => {
                return Ok(RevocationStatus::Good {
                    crl_url: url.clone(),
                    next_update,
                });
            }
            Ok((Some(entry), _)) => {
                return Err(CardAuthError::Revoked {
                    serial_hex: query.serial_hex.clone(),
                    revoked_at: entry.revoked_at,
                    reason: entry.reason,
                });
            }
            Err(e) => problems.push(format!("{url}: {e}")),
        }
    }
    let why = problems.join("; ");
    match mode {
        RevocationMode::Prefer => Ok(RevocationStatus::Unknown { why }),
        _ => Err(CardAuthError::RevocationUnknown(why)),
    }
}
