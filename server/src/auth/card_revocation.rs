//! Where card logins get CRLs: the card certificate's CRL distribution point, fetched over
//! HTTP(S) with a time and a size limit, verified by `card_auth::Crl::verify` (signature of
//! the card's issuing CA, current) and kept in memory until its nextUpdate.
//!
//! One fetch per distribution point at a time: logins that need the same CRL wait for the
//! fetch in progress instead of starting their own. A failed fetch is remembered for
//! [`FAILURE_BACKOFF`], so that a CRL server that is down costs one timeout per backoff,
//! not one per login. Every instance keeps its own cache (a CRL is public and signed;
//! nothing needs sharing).

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration as StdDuration;

use card_auth::{Crl, CrlError, CrlIssuer, RevocationSource};
use time::{Duration, OffsetDateTime};

/// How long a failed fetch answers for itself before the next try.
pub const FAILURE_BACKOFF: Duration = Duration::seconds(30);

type Key = (String, [u8; 32]);

#[derive(Default)]
enum Slot {
    #[default]
    Empty,
    Verified(Arc<Crl>),
    Failed {
        error: CrlError,
        retry_at: OffsetDateTime,
    },
}

/// The server's [`RevocationSource`].
pub struct HttpCrlSource {
    client: reqwest::Client,
    max_bytes: u64,
    slots: Mutex<HashMap<Key, Arc<tokio::sync::Mutex<Slot>>>>,
}

impl HttpCrlSource {
    pub fn new(timeout: StdDuration, max_bytes: u64) -> Result<Self, String> {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .redirect(reqwest::redirect::Policy::limited(3))
            .user_agent(concat!(
                "customs-portal/",
                env!("CARGO_PKG_VERSION"),
                " (CRL fetch)"
            ))
            .build()
            .map_err(|e| format!("CRL HTTP client: {e}"))?;
        Ok(Self {
            client,
            max_bytes,
            slots: Mutex::new(HashMap::new()),
        })
    }

    fn slot(&self, key: Key) -> Arc<tokio::sync::Mutex<Slot>> {
        let mut slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
        slots.entry(key).or_default().clone()
    }

    async fn get(
        &self,
        url: &str,
        issuer: &CrlIssuer,
        now: OffsetDateTime,
    ) -> Result<Arc<Crl>, CrlError> {
        let slot = self.slot((url.to_owned(), *issuer.key_id()));
        let mut slot = slot.lock().await;
        match &*slot {
            Slot::Verified(crl) if now < crl.next_update() => return Ok(crl.clone()),
            Slot::Failed { error, retry_at } if now < *retry_at => return Err(error.clone()),
            _ => {}
        }
        let result = match self.fetch(url).await {
            Ok(bytes) => Crl::verify(&bytes, issuer, now).map(Arc::new),
            Err(e) => Err(e),
        };
        *slot = match &result {
            Ok(crl) => {
                tracing::info!(
                    url,
                    issuer = issuer.subject(),
                    entries = crl.len(),
                    next_update = %crl.next_update(),
                    "card CRL fetched"
                );
                Slot::Verified(crl.clone())
            }
            Err(error) => {
                tracing::warn!(url, issuer = issuer.subject(), %error, "card CRL not usable");
                Slot::Failed {
                    error: error.clone(),
                    retry_at: now + FAILURE_BACKOFF,
                }
            }
        };
        result
    }

    /// The body at `url`, refused past `max_bytes` (announced or read) and after the
    /// client's time limit.
    async fn fetch(&self, url: &str) -> Result<Vec<u8>, CrlError> {
        let fail = |e: reqwest::Error| {
            CrlError::Fetch(if e.is_timeout() {
                "no answer within the time limit".to_owned()
            } else {
                e.to_string()
            })
        };
        let mut resp = self.client.get(url).send().await.map_err(fail)?;
        if !resp.status().is_success() {
            return Err(CrlError::Fetch(format!("HTTP {}", resp.status())));
        }
        let too_large = || {
            CrlError::Fetch(format!(
                "larger than auth.card_crl_max_bytes ({} bytes)",
                self.max_bytes
            ))
        };
        if resp.content_length().is_some_and(|n| n > self.max_bytes) {
            return Err(too_large());
        }
        let mut body = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(fail)? {
            if (body.len() + chunk.len()) as u64 > self.max_bytes {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }
}

impl RevocationSource for HttpCrlSource {
    fn crl(
        &self,
        url: &str,
        issuer: &CrlIssuer,
        now: OffsetDateTime,
    ) -> impl Future<Output = Result<Arc<Crl>, CrlError>> + Send {
        self.get(url, issuer, now)
    }
}
