//! The `mail_outbox` table: queueing, claiming with a lease, recording outcomes, and the
//! operator's view. Every state change is a conditional UPDATE, so concurrent workers on one
//! PostgreSQL database never act on the same row at the same time.

use std::sync::OnceLock;

use proto::api::{MailState, MailView};
use sqlx::Row as _;
use sqlx::any::AnyRow;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::{MailError, NewMail};

/// Operators read `last_error`; SMTP replies can be long, a few hundred characters suffice.
const MAX_ERROR_CHARS: usize = 500;
/// The operator list is for looking, not exporting.
const LIST_LIMIT: i64 = 1000;

/// Queue a mail inside the caller's transaction with `<random@domain>` as its Message-ID.
pub async fn enqueue_with_domain(
    conn: &mut sqlx::AnyConnection,
    mail: &NewMail,
    now: OffsetDateTime,
    domain: &str,
) -> Result<i64, MailError> {
    let message_id = new_message_id(domain)?;
    let t = now.unix_timestamp();
    let row = sqlx::query(
        "INSERT INTO mail_outbox (message_id, application_serial, kind, to_addr, subject, \
         body_text, state, attempts, next_attempt_at, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, 'pending', 0, $7, $8) RETURNING id",
    )
    .bind(message_id)
    .bind(mail.application_serial.clone())
    .bind(mail.kind.code())
    .bind(mail.to.trim().to_owned())
    .bind(mail.rendered.subject.clone())
    .bind(mail.rendered.body_text.clone())
    .bind(t)
    .bind(t)
    .fetch_one(&mut *conn)
    .await?;
    Ok(row.try_get::<i64, _>(0)?)
}

fn new_message_id(domain: &str) -> Result<String, MailError> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes)
        .map_err(|e| MailError::Config(format!("no system randomness for Message-ID: {e}")))?;
    let local: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    Ok(format!("<{local}@{}>", sanitize_domain(domain)))
}

fn sanitize_domain(domain: &str) -> String {
    let d: String = domain
        .trim()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '.' || *c == '-')
        .collect();
    let d = d.trim_matches('.').to_owned();
    if d.is_empty() {
        "localhost".to_owned()
    } else {
        d
    }
}

/// This machine's host name, for Message-IDs when the caller names no domain.
pub(crate) fn default_domain() -> &'static str {
    static DOMAIN: OnceLock<String> = OnceLock::new();
    DOMAIN.get_or_init(|| {
        let client = lettre::transport::smtp::extension::ClientId::default();
        sanitize_domain(&client.to_string())
    })
}

/// Where a row is in its life. `Sending` means claimed under a lease.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutboxState {
    Pending,
    Sending,
    Sent,
    Failed,
}

impl OutboxState {
    fn parse(s: &str) -> Result<OutboxState, MailError> {
        match s {
            "pending" => Ok(OutboxState::Pending),
            "sending" => Ok(OutboxState::Sending),
            "sent" => Ok(OutboxState::Sent),
            "failed" => Ok(OutboxState::Failed),
            other => Err(MailError::Config(format!(
                "unknown mail_outbox.state {other:?}"
            ))),
        }
    }

    /// The wire view has no `Sending`: to an operator a claimed row is still pending.
    pub fn view(self) -> MailState {
        match self {
            OutboxState::Pending | OutboxState::Sending => MailState::Pending,
            OutboxState::Sent => MailState::Sent,
            OutboxState::Failed => MailState::Failed,
        }
    }
}

/// One outbox row, all columns; times are Unix seconds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxRow {
    pub id: i64,
    pub message_id: String,
    pub application_serial: Option<String>,
    pub kind: String,
    pub to: String,
    pub subject: String,
    pub body_text: String,
    pub state: OutboxState,
    pub attempts: i64,
    pub next_attempt_at: i64,
    pub lease_until: Option<i64>,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub sent_at: Option<i64>,
}

const ROW_COLUMNS: &str = "id, message_id, application_serial, kind, to_addr, subject, body_text, \
     state, attempts, next_attempt_at, lease_until, last_error, created_at, sent_at";

impl OutboxRow {
    fn from_row(r: &AnyRow) -> Result<OutboxRow, MailError> {
        Ok(OutboxRow {
            id: r.try_get("id")?,
            message_id: r.try_get("message_id")?,
            application_serial: r.try_get("application_serial")?,
            kind: r.try_get("kind")?,
            to: r.try_get("to_addr")?,
            subject: r.try_get("subject")?,
            body_text: r.try_get("body_text")?,
            state: OutboxState::parse(&r.try_get::<String, _>("state")?)?,
            attempts: r.try_get("attempts")?,
            next_attempt_at: r.try_get("next_attempt_at")?,
            lease_until: r.try_get("lease_until")?,
            last_error: r.try_get("last_error")?,
            created_at: r.try_get("created_at")?,
            sent_at: r.try_get("sent_at")?,
        })
    }

    pub fn view(&self) -> MailView {
        MailView {
            id: self.id,
            to: self.to.clone(),
            subject: self.subject.clone(),
            state: self.state.view(),
            attempts: self.attempts,
            last_error: self.last_error.clone(),
            created_at: rfc3339(self.created_at),
            sent_at: self.sent_at.map(rfc3339),
        }
    }
}

fn rfc3339(unix: i64) -> String {
    OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_else(|| unix.to_string())
}

pub async fn get_mail(pool: &sqlx::AnyPool, id: i64) -> Result<Option<OutboxRow>, MailError> {
    let sql = format!("SELECT {ROW_COLUMNS} FROM mail_outbox WHERE id = $1");
    let row = sqlx::query(&sql).bind(id).fetch_optional(pool).await?;
    row.as_ref().map(OutboxRow::from_row).transpose()
}

/// The operator view, newest first. `Pending` includes rows being sent right now.
pub async fn list_mail(
    pool: &sqlx::AnyPool,
    state: Option<MailState>,
) -> Result<Vec<MailView>, MailError> {
    let filter = match state {
        None => "",
        Some(MailState::Pending) => "WHERE state IN ('pending', 'sending')",
        Some(MailState::Sent) => "WHERE state = 'sent'",
        Some(MailState::Failed) => "WHERE state = 'failed'",
    };
    let sql = format!("SELECT {ROW_COLUMNS} FROM mail_outbox {filter} ORDER BY id DESC LIMIT $1");
    let rows = sqlx::query(&sql).bind(LIST_LIMIT).fetch_all(pool).await?;
    rows.iter()
        .map(|r| OutboxRow::from_row(r).map(|row| row.view()))
        .collect()
}

/// The queue at a glance, for monitoring: rows waiting or being sent, the age of the oldest
/// of them, and rows given up as failed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QueueStats {
    pub pending: i64,
    pub oldest_pending_age_secs: i64,
    pub failed: i64,
}

pub async fn queue_stats(pool: &sqlx::AnyPool, now: i64) -> Result<QueueStats, MailError> {
    let row = sqlx::query(
        "SELECT \
         (SELECT COUNT(*) FROM mail_outbox WHERE state IN ('pending', 'sending')), \
         (SELECT MIN(created_at) FROM mail_outbox WHERE state IN ('pending', 'sending')), \
         (SELECT COUNT(*) FROM mail_outbox WHERE state = 'failed')",
    )
    .fetch_one(pool)
    .await?;
    let oldest: Option<i64> = row.try_get(1)?;
    Ok(QueueStats {
        pending: row.try_get(0)?,
        oldest_pending_age_secs: oldest.map(|t| (now - t).max(0)).unwrap_or(0),
        failed: row.try_get(2)?,
    })
}

/// Put a failed row back in the queue with a fresh attempt budget. Returns false when the
/// row does not exist or is not failed. The Message-ID stays, so it is the same mail.
pub async fn retry_failed(
    pool: &sqlx::AnyPool,
    id: i64,
    now: OffsetDateTime,
) -> Result<bool, MailError> {
    let done = sqlx::query(
        "UPDATE mail_outbox SET state = 'pending', attempts = 0, next_attempt_at = $1, \
         lease_until = NULL WHERE id = $2 AND state = 'failed'",
    )
    .bind(now.unix_timestamp())
    .bind(id)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// A row this worker holds the lease on.
#[derive(Debug, Clone)]
pub(crate) struct Claimed {
    pub id: i64,
    pub message_id: String,
    pub to: String,
    pub subject: String,
    pub body_text: String,
    /// Counting this attempt.
    pub attempts: i64,
    /// Our lease; outcome updates only apply while the row still carries it.
    pub lease_until: i64,
}

/// What makes a row due, in the order a worker takes them: a row whose sender's lease ran
/// out (its worker died mid-send) first, then pending rows by time. Two conditions rather
/// than one `OR`: each is a prefix of the index `(state, next_attempt_at)`, so the claim
/// reads one index entry instead of scanning and sorting every due row. Measured on
/// PostgreSQL with 7,600 pending rows: 8.5 ms per claim with the `OR` (sequential scan and
/// sort), 0.1 ms with `state = 'pending'` alone (index scan).
const DUE: [&str; 2] = [
    "state = 'sending' AND lease_until < $1",
    "state = 'pending' AND next_attempt_at <= $1",
];

/// Take the next due row nobody else holds, or `None` when none is left. On PostgreSQL the
/// row is picked `FOR UPDATE SKIP LOCKED`, so workers of several instances each take a
/// different row in one round trip instead of racing for the same one; SQLite has a single
/// writer, so the subquery and the update cannot interleave with another claim.
pub(crate) async fn claim_next(
    pool: &sqlx::AnyPool,
    skip_locked: bool,
    now: i64,
    lease_until: i64,
) -> Result<Option<Claimed>, MailError> {
    let lock = if skip_locked {
        " FOR UPDATE SKIP LOCKED"
    } else {
        ""
    };
    for due in DUE {
        let sql = format!(
            "UPDATE mail_outbox SET state = 'sending', lease_until = $2, attempts = attempts + 1 \
             WHERE id = (SELECT id FROM mail_outbox WHERE {due} \
             ORDER BY next_attempt_at, id LIMIT 1{lock}) \
             RETURNING id, message_id, to_addr, subject, body_text, attempts"
        );
        let row = sqlx::query(&sql)
            .bind(now)
            .bind(lease_until)
            .fetch_optional(pool)
            .await?;
        let Some(r) = row else { continue };
        return Ok(Some(Claimed {
            id: r.try_get("id")?,
            message_id: r.try_get("message_id")?,
            to: r.try_get("to_addr")?,
            subject: r.try_get("subject")?,
            body_text: r.try_get("body_text")?,
            attempts: r.try_get("attempts")?,
            lease_until,
        }));
    }
    Ok(None)
}

/// Whether the pool's database takes `FOR UPDATE SKIP LOCKED` (PostgreSQL does, SQLite not).
pub(crate) async fn supports_skip_locked(pool: &sqlx::AnyPool) -> Result<bool, MailError> {
    let conn = pool.acquire().await?;
    Ok(conn.backend_name() == "PostgreSQL")
}

pub(crate) async fn mark_sent(
    pool: &sqlx::AnyPool,
    c: &Claimed,
    now: i64,
) -> Result<bool, MailError> {
    let done = sqlx::query(
        "UPDATE mail_outbox SET state = 'sent', sent_at = $1, lease_until = NULL, \
         last_error = NULL WHERE id = $2 AND state = 'sending' AND lease_until = $3",
    )
    .bind(now)
    .bind(c.id)
    .bind(c.lease_until)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub(crate) async fn mark_retry(
    pool: &sqlx::AnyPool,
    c: &Claimed,
    next_attempt_at: i64,
    error: &str,
) -> Result<bool, MailError> {
    let done = sqlx::query(
        "UPDATE mail_outbox SET state = 'pending', next_attempt_at = $1, lease_until = NULL, \
         last_error = $2 WHERE id = $3 AND state = 'sending' AND lease_until = $4",
    )
    .bind(next_attempt_at)
    .bind(truncate(error))
    .bind(c.id)
    .bind(c.lease_until)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub(crate) async fn mark_failed(
    pool: &sqlx::AnyPool,
    c: &Claimed,
    error: &str,
) -> Result<bool, MailError> {
    let done = sqlx::query(
        "UPDATE mail_outbox SET state = 'failed', lease_until = NULL, last_error = $1 \
         WHERE id = $2 AND state = 'sending' AND lease_until = $3",
    )
    .bind(truncate(error))
    .bind(c.id)
    .bind(c.lease_until)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

fn truncate(s: &str) -> String {
    match s.char_indices().nth(MAX_ERROR_CHARS) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_owned(),
    }
}

/// Erases the recipient and body of an application's finished mails (sent or failed) for
/// personal-data retention, inside the caller's transaction. The subject (serial only), the
/// kind and the times stay as the record that a mail went out. Returns the rows erased.
pub async fn erase_recipients(
    conn: &mut sqlx::AnyConnection,
    application_serial: &str,
) -> Result<u64, MailError> {
    let done = sqlx::query(
        "UPDATE mail_outbox SET to_addr = '', body_text = '' \
         WHERE application_serial = $1 AND state IN ('sent', 'failed') \
         AND (to_addr <> '' OR body_text <> '')",
    )
    .bind(application_serial.to_owned())
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_ids_are_unique_and_well_formed() {
        let a = new_message_id("portal.example.gov.tw").unwrap();
        let b = new_message_id("portal.example.gov.tw").unwrap();
        assert_ne!(a, b);
        assert!(
            a.starts_with('<') && a.ends_with("@portal.example.gov.tw>"),
            "{a}"
        );
        assert_eq!(a.len(), "<@portal.example.gov.tw>".len() + 32);
    }

    #[test]
    fn domains_are_sanitized() {
        assert_eq!(sanitize_domain(" bad host>\r\n"), "badhost");
        assert_eq!(sanitize_domain("..."), "localhost");
        assert!(!default_domain().is_empty());
    }

    #[test]
    fn errors_are_truncated_on_char_boundaries() {
        let long = "錯".repeat(MAX_ERROR_CHARS + 10);
        let t = truncate(&long);
        assert_eq!(t.chars().count(), MAX_ERROR_CHARS + 1);
        assert_eq!(truncate("short"), "short");
    }

    #[test]
    fn views_use_rfc3339() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
    }
}
