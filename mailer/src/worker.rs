//! The background sender: claims due outbox rows, sends them, records the outcome, and
//! schedules retries with exponential backoff. `run_once(now)` holds all the policy; `run`
//! only adds the clock, the poll interval and the wake-up handle.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use time::OffsetDateTime;
use tokio::sync::{Notify, OnceCell};

use crate::outbox::{self, Claimed};
use crate::transport::{Accepted, SendError, Sender};
use crate::{MailError, MailTransport};

#[derive(Debug, Clone)]
pub struct WorkerOptions {
    /// How often `run` looks for due mail when nobody wakes it.
    pub poll_interval: Duration,
    /// How long a claim keeps other workers away. A worker that dies mid-send leaves the
    /// row to be retried after this. Each send is cut off well before the lease ends.
    pub lease: Duration,
    /// Delay after the first failed attempt; doubles with each further failure.
    pub backoff_base: Duration,
    pub backoff_max: Duration,
    /// Attempts before a transiently failing mail is given up as failed.
    pub max_attempts: u32,
    /// Rows claimed per `run_once`.
    pub batch_size: u32,
}

impl Default for WorkerOptions {
    fn default() -> Self {
        WorkerOptions {
            poll_interval: Duration::from_secs(5),
            lease: Duration::from_secs(300),
            backoff_base: Duration::from_secs(30),
            backoff_max: Duration::from_secs(3600),
            max_attempts: 10,
            batch_size: 50,
        }
    }
}

/// What one `run_once` did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunStats {
    /// Rows this worker took; a full batch means more may be due, so `run` goes straight on.
    pub claimed: u32,
    pub sent: u32,
    /// Transient failures rescheduled with backoff.
    pub retried: u32,
    /// Permanent failures and rows out of attempts.
    pub failed: u32,
}

pub struct Worker {
    pool: sqlx::AnyPool,
    sender: Sender,
    options: WorkerOptions,
    notify: Arc<Notify>,
    /// Learnt from the database on the first round.
    skip_locked: OnceCell<bool>,
}

enum Outcome {
    Sent,
    Retry,
    Failed,
}

impl Worker {
    pub fn new(
        pool: sqlx::AnyPool,
        transport: MailTransport,
        options: WorkerOptions,
    ) -> Result<Worker, MailError> {
        let sender = Sender::from_config(transport)?;
        if options.lease < Duration::from_secs(2) {
            return Err(MailError::Config("mail lease must be at least 2 s".into()));
        }
        if let Some(t) = sender.send_timeout() {
            // The whole send is cut off at half the lease; a single network step must fit.
            if options.lease < t * 4 {
                return Err(MailError::Config(format!(
                    "mail lease ({} s) must be at least 4 × the SMTP timeout ({} s)",
                    options.lease.as_secs(),
                    t.as_secs()
                )));
            }
        }
        Ok(Worker {
            pool,
            sender,
            options,
            notify: Arc::new(Notify::new()),
            skip_locked: OnceCell::new(),
        })
    }

    /// Call `notify_one()` on this after committing a transaction that enqueued mail, so it
    /// goes out now instead of at the next poll.
    pub fn notifier(&self) -> Arc<Notify> {
        Arc::clone(&self.notify)
    }

    /// Send every due mail (up to `batch_size`) as of `now`.
    pub async fn run_once(&self, now: OffsetDateTime) -> Result<RunStats, MailError> {
        let t = now.unix_timestamp();
        let lease_secs = i64::try_from(self.options.lease.as_secs()).unwrap_or(i64::MAX / 2);
        let lease_until = t.saturating_add(lease_secs);
        let mut stats = RunStats::default();
        let skip_locked = *self
            .skip_locked
            .get_or_try_init(|| outbox::supports_skip_locked(&self.pool))
            .await?;
        for _ in 0..self.options.batch_size.max(1) {
            let Some(mail) = outbox::claim_next(&self.pool, skip_locked, t, lease_until).await?
            else {
                break;
            };
            stats.claimed += 1;
            let (result, accepted) = match self.send_within_lease(&mail, now).await {
                Ok(accepted) => (Ok(()), Some(accepted)),
                Err(e) => (Err(e), None),
            };
            let stop = matches!(&result, Err(e) if e.unreachable && !e.permanent);
            let recorded = self.record(&mail, t, result).await;
            if let Some(accepted) = accepted {
                accepted.close().await;
            }
            match recorded? {
                Outcome::Sent => stats.sent += 1,
                Outcome::Retry => stats.retried += 1,
                Outcome::Failed => stats.failed += 1,
            }
            if stop {
                // The rest stay pending and due; the next round tries again.
                break;
            }
        }
        Ok(stats)
    }

    async fn send_within_lease(
        &self,
        mail: &Claimed,
        now: OffsetDateTime,
    ) -> Result<Accepted, SendError> {
        let deadline = self.options.lease / 2;
        match tokio::time::timeout(deadline, self.sender.send(mail, now)).await {
            Ok(r) => r,
            Err(_) => Err(SendError {
                message: format!(
                    "send did not finish within {} s; outcome unknown, will resend with the same Message-ID",
                    deadline.as_secs()
                ),
                permanent: false,
                unreachable: true,
            }),
        }
    }

    async fn record(
        &self,
        mail: &Claimed,
        now: i64,
        result: Result<(), SendError>,
    ) -> Result<Outcome, MailError> {
        let (outcome, applied) = match result {
            Ok(()) => {
                tracing::info!(id = mail.id, message_id = %mail.message_id, "mail sent");
                (
                    Outcome::Sent,
                    outbox::mark_sent(&self.pool, mail, now).await?,
                )
            }
            Err(e) if e.permanent => {
                tracing::warn!(id = mail.id, error = %e.message, "mail failed permanently");
                (
                    Outcome::Failed,
                    outbox::mark_failed(&self.pool, mail, &e.message).await?,
                )
            }
            Err(e) if mail.attempts >= i64::from(self.options.max_attempts) => {
                let msg = format!("gave up after {} attempts: {}", mail.attempts, e.message);
                tracing::warn!(id = mail.id, error = %msg, "mail failed");
                (
                    Outcome::Failed,
                    outbox::mark_failed(&self.pool, mail, &msg).await?,
                )
            }
            Err(e) => {
                let next = now.saturating_add(backoff_secs(&self.options, mail.attempts));
                tracing::info!(id = mail.id, attempts = mail.attempts, retry_at = next, error = %e.message, "mail deferred");
                (
                    Outcome::Retry,
                    outbox::mark_retry(&self.pool, mail, next, &e.message).await?,
                )
            }
        };
        if !applied {
            // Our lease ran out and another worker took the row; its outcome stands.
            tracing::warn!(id = mail.id, "mail row changed hands during send");
        }
        Ok(outcome)
    }

    /// Send until `shutdown` completes: every `poll_interval`, whenever the notifier fires,
    /// and straight again while batches come back full. Errors are logged, not fatal: the
    /// database may be back at the next round.
    pub async fn run(self, shutdown: impl Future<Output = ()>) {
        self.run_with_clock(OffsetDateTime::now_utc, shutdown).await;
    }

    /// [`run`](Self::run) with "now" taken from `now` instead of the system clock. Pass the
    /// same clock that stamped the rows at `enqueue`: `next_attempt_at` is compared with it,
    /// so a worker on another clock would hold back (or rush) mail queued by a moved clock.
    pub async fn run_with_clock(
        self,
        now: impl Fn() -> OffsetDateTime,
        shutdown: impl Future<Output = ()>,
    ) {
        let mut shutdown = std::pin::pin!(shutdown);
        loop {
            let full = match self.run_once(now()).await {
                Ok(s) => s.claimed >= self.options.batch_size.max(1),
                Err(e) => {
                    tracing::warn!(error = %e, "mail worker round failed");
                    false
                }
            };
            if full {
                tokio::select! {
                    biased;
                    () = &mut shutdown => break,
                    () = std::future::ready(()) => continue,
                }
            }
            tokio::select! {
                () = &mut shutdown => break,
                () = self.notify.notified() => {}
                () = tokio::time::sleep(self.options.poll_interval) => {}
            }
        }
    }
}

/// `attempts` counts the one that just failed (≥ 1).
fn backoff_secs(options: &WorkerOptions, attempts: i64) -> i64 {
    let base = options.backoff_base.as_secs().max(1);
    let max = options.backoff_max.as_secs().max(base);
    let doublings = u32::try_from(attempts.saturating_sub(1)).unwrap_or(u32::MAX);
    let factor = 1u64.checked_shl(doublings.min(63)).unwrap_or(u64::MAX);
    let secs = base.saturating_mul(factor).min(max);
    i64::try_from(secs).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_30_s_up_to_an_hour() {
        let o = WorkerOptions::default();
        let got: Vec<i64> = (1..=10).map(|a| backoff_secs(&o, a)).collect();
        assert_eq!(got, [30, 60, 120, 240, 480, 960, 1920, 3600, 3600, 3600]);
        assert_eq!(backoff_secs(&o, 1000), 3600);
        assert_eq!(backoff_secs(&o, i64::MAX), 3600);
    }

    #[tokio::test]
    async fn lease_must_outlast_smtp_timeout() {
        sqlx::any::install_default_drivers();
        let pool = sqlx::any::AnyPoolOptions::new()
            .connect_lazy("sqlite::memory:")
            .unwrap();
        let mut smtp = crate::SmtpConfig::new(
            "127.0.0.1",
            crate::SmtpSecurity::None,
            crate::default_from(),
        );
        smtp.timeout_secs = 100;
        let r = Worker::new(pool, MailTransport::Smtp(smtp), WorkerOptions::default());
        assert!(matches!(r, Err(MailError::Config(_))));
    }
}
