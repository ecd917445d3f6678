//! OCSP answers (RFC 6960) for the portal's own certificates, pre-produced (section 2.5):
//! each issued certificate's answer is signed ahead and stored, re-signed in the transaction
//! that changes the certificate's status (issue, hold, release, revoke: see
//! [`super::transitions::apply`] and [`super::issuance`]) and by [`refresh_due`] when less
//! than half its validity is left. Answering a request is a lookup: no signature.
//!
//! What has no stored answer (a serial we never issued, a SHA-256 CertID, several
//! certificates in one request, or a stored answer past its nextUpdate) is signed on demand,
//! at most `ca.ocsp_sign_per_second` per second per instance (beyond it, `tryLater`), so
//! nobody can make the responder sign without limit. Unknown serials answer `unknown`.
//!
//! Each instance keeps the answers it served a few seconds in memory
//! ([`CACHE_SECS`]); a status change made on this instance drops its entry at once, one made
//! on another instance shows here within those seconds (the answers themselves are good for
//! hours).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};

use sha2::{Digest as _, Sha256};
use sqlx::AnyConnection;
use time::{Duration, OffsetDateTime};

use super::{DomainError, DomainResult, Services, crl, hex};
use crate::db;
use crate::db::certificates::Listed;
use crate::db::ocsp::StoredOcsp;

/// How long an instance serves an answer from memory before reading the table again.
pub const CACHE_SECS: i64 = 5;
/// Memory bound of that cache; it is emptied when full.
const CACHE_MAX: usize = 100_000;
/// Questions in one request answered on demand; more is refused (`tryLater`).
const MAX_QUESTIONS: usize = 8;
/// Certificates re-signed per transaction by [`refresh_due`].
const REFRESH_BATCH: i64 = 200;

/// A signed answer and what the HTTP layer needs for its caching headers (RFC 5019 6.2).
#[derive(Debug)]
pub struct Answer {
    pub der: Vec<u8>,
    pub this_update: i64,
    pub next_update: i64,
    /// Quoted strong validator: part of the SHA-256 of the answer.
    pub etag: String,
    /// False when the answer echoes the client's nonce: it is for that client only.
    pub shareable: bool,
    /// When this instance read it from the table (cache age).
    loaded_at: i64,
}

impl Answer {
    fn new(der: Vec<u8>, this_update: i64, next_update: i64, shareable: bool, now: i64) -> Self {
        let digest = Sha256::digest(&der);
        Answer {
            etag: format!("\"{}\"", hex(&digest[..16])),
            der,
            this_update,
            next_update,
            shareable,
            loaded_at: now,
        }
    }
}

#[derive(Debug)]
pub enum Reply {
    Answer(Arc<Answer>),
    /// An unsigned error status (malformedRequest, tryLater, internalError).
    Refused(ca::OcspRefusal),
}

/// The responder in use and its certificate's SHA-256, swapped whole at rollover.
pub struct Current {
    pub responder: Arc<ca::OcspResponder>,
    pub fingerprint: String,
}

/// Token bucket for answers signed on demand.
struct Budget {
    tokens: f64,
    at: OffsetDateTime,
}

/// This instance's OCSP state: the responder, the answer cache, the signing budget.
pub struct Ocsp {
    current: RwLock<Arc<Current>>,
    cache: RwLock<HashMap<ca::Serial, Arc<Answer>>>,
    budget: Mutex<Budget>,
    validity: Duration,
    per_second: f64,
}

impl Ocsp {
    pub fn new(
        responder: ca::OcspResponder,
        validity_hours: u32,
        sign_per_second: u32,
        now: OffsetDateTime,
    ) -> Ocsp {
        let per_second = f64::from(sign_per_second.max(1));
        Ocsp {
            current: RwLock::new(Arc::new(current(responder))),
            cache: RwLock::new(HashMap::new()),
            budget: Mutex::new(Budget {
                tokens: per_second,
                at: now,
            }),
            validity: Duration::hours(i64::from(validity_hours)),
            per_second,
        }
    }

    pub fn current(&self) -> Arc<Current> {
        match self.current.read() {
            Ok(c) => c.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Puts a renewed responder in place; answers signed by the previous one stay valid
    /// until their nextUpdate, which comes before the previous certificate expires.
    pub fn replace_responder(&self, responder: ca::OcspResponder) {
        let next = Arc::new(current(responder));
        match self.current.write() {
            Ok(mut c) => *c = next,
            Err(poisoned) => *poisoned.into_inner() = next,
        }
    }

    pub fn validity(&self) -> Duration {
        self.validity
    }

    fn cached(&self, serial: &ca::Serial, now: i64) -> Option<Arc<Answer>> {
        let cache = self.cache.read().ok()?;
        cache
            .get(serial)
            .filter(|a| now - a.loaded_at < CACHE_SECS && now < a.next_update)
            .cloned()
    }

    fn remember(&self, serial: ca::Serial, answer: Arc<Answer>) {
        if let Ok(mut cache) = self.cache.write() {
            if cache.len() >= CACHE_MAX {
                cache.clear();
            }
            cache.insert(serial, answer);
        }
    }

    fn forget(&self, serial: &ca::Serial) {
        if let Ok(mut cache) = self.cache.write() {
            cache.remove(serial);
        }
    }

    /// Takes one on-demand signature from the budget, if one is left.
    fn take_budget(&self, now: OffsetDateTime) -> bool {
        let Ok(mut b) = self.budget.lock() else {
            return false;
        };
        let elapsed = (now - b.at).as_seconds_f64().max(0.0);
        b.tokens = (b.tokens + elapsed * self.per_second).min(self.per_second);
        b.at = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

fn current(responder: ca::OcspResponder) -> Current {
    Current {
        fingerprint: hex(&Sha256::digest(responder.certificate_der())),
        responder: Arc::new(responder),
    }
}

/// What an answer says about a certificate: `revoked` with the time and reason of its CRL
/// entry when it is on the CRL, `good` otherwise.
fn status_of(c: &Listed) -> DomainResult<ca::OcspStatus> {
    Ok(match crl::revoked_entry(c)? {
        Some(e) => ca::OcspStatus::Revoked {
            at: e.revoked_at,
            reason: e.reason,
        },
        None => ca::OcspStatus::Good,
    })
}

/// nextUpdate of an answer signed at `this_update`: never after the responder certificate
/// expires.
fn next_update(svc: &Services, cur: &Current, this_update: OffsetDateTime) -> OffsetDateTime {
    (this_update + svc.ocsp.validity).min(cur.responder.not_after())
}

/// Signs and stores the answer for an issued certificate, inside the caller's transaction
/// (so it commits with the status change it reflects).
pub async fn produce(
    conn: &mut AnyConnection,
    svc: &Services,
    serial_hex: &str,
    now: OffsetDateTime,
) -> DomainResult<()> {
    let cert = db::certificates::issued_by_serial(conn, serial_hex)
        .await?
        .ok_or_else(|| DomainError::Internal(format!("no issued certificate {serial_hex}")))?;
    let serial = ca::Serial::from_hex(serial_hex)
        .ok_or_else(|| DomainError::Internal(format!("bad serial {serial_hex} in the database")))?;
    let status = status_of(&cert)?;
    let cur = svc.ocsp.current();
    let this_update = now.replace_nanosecond(0).unwrap_or(now);
    let next = next_update(svc, &cur, this_update);
    if next <= this_update {
        // The responder certificate has ended and the periodic job has not renewed it yet:
        // a status change must not fail for it, and the old answer must not outlive the
        // change. Requests are answered on demand once the job renews the responder, and the
        // job signs the missing answer.
        tracing::warn!(
            serial = serial_hex,
            "OCSP responder expired; stored answer dropped"
        );
        db::ocsp::remove(conn, serial_hex).await?;
        svc.ocsp.forget(&serial);
        return Ok(());
    }
    let der = cur
        .responder
        .sign_for_serial(serial, status, this_update, next)?;
    db::ocsp::put(
        conn,
        &StoredOcsp {
            serial_hex: serial_hex.to_owned(),
            this_update: this_update.unix_timestamp(),
            next_update: next.unix_timestamp(),
            responder: cur.fingerprint.clone(),
            der,
        },
    )
    .await?;
    svc.ocsp.forget(&serial);
    Ok(())
}

/// Re-signs every answer that is missing or has less than half its validity left (of
/// certificates not yet expired). Returns how many were signed.
pub async fn refresh_due(svc: &Services, now: OffsetDateTime) -> DomainResult<usize> {
    let half: Duration = svc.ocsp.validity / 2_i32;
    let mut signed = 0;
    let mut last_first: Option<String> = None;
    loop {
        let mut tx = svc.db.write().await?;
        let due = db::ocsp::due(
            &mut tx,
            now.unix_timestamp(),
            (now + half).unix_timestamp(),
            REFRESH_BATCH,
        )
        .await?;
        // The same first serial again means its new answer is still due (a responder
        // certificate ending within half a validity): stop rather than loop.
        if due.is_empty() || due.first() == last_first.as_ref() {
            tx.commit().await?;
            return Ok(signed);
        }
        for serial_hex in &due {
            produce(&mut tx, svc, serial_hex, now).await?;
        }
        tx.commit().await?;
        signed += due.len();
        last_first = due.first().cloned();
    }
}

/// The answer to an OCSP request (DER, from GET or POST).
pub async fn answer(svc: &Services, request: &[u8], now: OffsetDateTime) -> DomainResult<Reply> {
    let cur = svc.ocsp.current();
    let query = match cur.responder.read_request(request) {
        Ok(q) => q,
        Err(refusal) => return Ok(Reply::Refused(refusal)),
    };
    let t = now.unix_timestamp();
    if let [q] = query.questions.as_slice()
        && q.sha1
        && let Some(serial) = q.serial
        && let Some(a) = prepared(svc, serial, t).await?
    {
        return Ok(Reply::Answer(a));
    }
    if query.questions.len() > MAX_QUESTIONS || !svc.ocsp.take_budget(now) {
        return Ok(Reply::Refused(ca::OcspRefusal::TryLater));
    }
    let mut statuses = Vec::with_capacity(query.questions.len());
    {
        let mut conn = svc.db.conn().await?;
        for q in &query.questions {
            let listed = match q.serial {
                Some(s) => db::certificates::issued_by_serial(&mut conn, &s.to_hex()).await?,
                None => None,
            };
            statuses.push(match listed {
                Some(c) => status_of(&c)?,
                None => ca::OcspStatus::Unknown,
            });
        }
    }
    let this_update = now.replace_nanosecond(0).unwrap_or(now);
    let next = next_update(svc, &cur, this_update);
    let responder = cur.responder.clone();
    let shareable = !query.has_nonce();
    // A token signs slowly; keep the async workers free meanwhile.
    let der = tokio::task::spawn_blocking(move || {
        responder.sign_answers(&query, &statuses, this_update, next)
    })
    .await
    .map_err(|e| DomainError::Internal(format!("OCSP signing task: {e}")))??;
    Ok(Reply::Answer(Arc::new(Answer::new(
        der,
        this_update.unix_timestamp(),
        next.unix_timestamp(),
        shareable,
        t,
    ))))
}

/// The stored answer for `serial` if it is still current (from memory when it was read in
/// the last [`CACHE_SECS`]).
async fn prepared(
    svc: &Services,
    serial: ca::Serial,
    now: i64,
) -> DomainResult<Option<Arc<Answer>>> {
    if let Some(a) = svc.ocsp.cached(&serial, now) {
        return Ok(Some(a));
    }
    let stored = {
        let mut conn = svc.db.conn().await?;
        db::ocsp::get(&mut conn, &serial.to_hex()).await?
    };
    let Some(s) = stored.filter(|s| now < s.next_update) else {
        return Ok(None);
    };
    let a = Arc::new(Answer::new(s.der, s.this_update, s.next_update, true, now));
    svc.ocsp.remember(serial, a.clone());
    Ok(Some(a))
}
