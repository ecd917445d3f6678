//! IC-card login: a single-use challenge the card signs, verified by `card-auth` against the
//! configured roots and the card's CRL (`auth.card_revocation`); the company's tax ID comes
//! from the card certificate.

use proto::api::{CardChallenge, CardLoginRequest};
use time::{Duration, OffsetDateTime};

use super::card_revocation::HttpCrlSource;
use super::sessions::random_token;
use crate::config::{AuthSettings, CardRevocation};
use crate::db::{Db, card_challenges};
use crate::domain::rfc3339;

/// Everything a card login is checked against: roots, revocation mode, the CRL source.
pub struct CardTrust {
    pub trust: card_auth::TrustStore,
    pub revocation: CardRevocation,
    pub crls: HttpCrlSource,
}

/// How long the user has to insert the card and type the PIN.
const CHALLENGE_MINUTES: i64 = 5;

#[derive(Debug, thiserror::Error)]
pub enum CardLoginError {
    #[error("unknown, used or expired challenge")]
    Challenge,
    #[error("card login refused: {0}")]
    Refused(#[from] card_auth::CardAuthError),
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
    #[error("no system randomness: {0}")]
    Random(#[from] getrandom::Error),
}

pub async fn challenge(db: &Db, now: OffsetDateTime) -> Result<CardChallenge, CardLoginError> {
    let id = random_token()?;
    let nonce = random_token()?;
    let t = now.unix_timestamp();
    let expires = (now + Duration::minutes(CHALLENGE_MINUTES)).unix_timestamp();
    let tbs = format!("customs-single-window-login|{}|{nonce}", rfc3339(t));
    let mut conn = db.conn().await?;
    card_challenges::purge_expired(&mut conn, t).await?;
    card_challenges::insert(&mut conn, &id, &tbs, t, expires).await?;
    Ok(CardChallenge {
        challenge_id: id,
        tbs,
        hash_algorithm: "SHA256".into(),
        expires_at: rfc3339(expires),
    })
}

/// Consume the challenge (once, before it expires) and verify the card's answer, its
/// revocation included.
pub async fn verify(
    db: &Db,
    card: &CardTrust,
    req: &CardLoginRequest,
    now: OffsetDateTime,
) -> Result<card_auth::CardIdentity, CardLoginError> {
    let tbs = card_challenges::consume(
        &mut *db.conn().await?,
        &req.challenge_id,
        now.unix_timestamp(),
    )
    .await?
    .ok_or(CardLoginError::Challenge)?;
    let cert = card_auth::decode_base64_certificate(&req.certificate_b64)?;
    let verified = card_auth::verify_login_with_revocation(
        &card_auth::LoginAttempt {
            tbs: tbs.as_bytes(),
            signature_b64: &req.signature_b64,
            certificate_der: &cert,
            intermediates_der: &[],
        },
        &card.trust,
        now,
        card.revocation.into(),
        &card.crls,
    )
    .await?;
    if let card_auth::RevocationStatus::Unknown { why } = &verified.revocation {
        tracing::warn!(
            tax_id = %verified.identity.tax_id,
            serial = %verified.identity.cert_serial_hex,
            %why,
            "card revocation status unknown; login let through (auth.card_revocation = \"prefer\")"
        );
    }
    Ok(verified.identity)
}

/// Roots and intermediates from the configured files, and the CRL source; `None` when no
/// root is configured (card login off).
pub fn load_trust(auth: &AuthSettings) -> Result<Option<CardTrust>, String> {
    if auth.card_roots.is_empty() {
        return Ok(None);
    }
    let (roots, intermediates) = (&auth.card_roots, &auth.card_intermediates);
    let mut store = card_auth::TrustStore::new();
    for p in roots {
        let bytes = std::fs::read(p).map_err(|e| format!("{}: {e}", p.display()))?;
        store
            .add_roots(&bytes)
            .map_err(|e| format!("{}: {e}", p.display()))?;
    }
    for p in intermediates {
        let bytes = std::fs::read(p).map_err(|e| format!("{}: {e}", p.display()))?;
        store
            .add_intermediates(&bytes)
            .map_err(|e| format!("{}: {e}", p.display()))?;
    }
    if auth.card_revocation == CardRevocation::Off {
        tracing::warn!(
            "card certificates are not checked for revocation (auth.card_revocation = \"off\"); \
             never in production"
        );
    }
    Ok(Some(CardTrust {
        trust: store,
        revocation: auth.card_revocation,
        crls: HttpCrlSource::new(
            std::time::Duration::from_secs(auth.card_crl_timeout_secs),
            auth.card_crl_max_bytes,
        )?,
    }))
}
