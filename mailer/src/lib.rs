//! Status e-mails: what they say (`render`), how they are queued in the same database
//! transaction as the status change (`enqueue`), and the worker that sends them over SMTP
//! or into a local maildir (`Worker`). No HTTP code here.
//!
//! # Delivery guarantees
//!
//! The outbox row is written by the caller's transaction, so a mail exists if and only if the
//! status change committed. The [`Worker`] claims a due row with a conditional UPDATE that
//! sets a lease (`state = 'sending'`, `lease_until`); only one worker, in any process
//! sharing the database, wins the claim. If the process dies after the claim, the lease
//! expires and another worker (or the restarted process) claims the row again.
//!
//! That makes delivery *at least once*: when a process dies after the SMTP server accepted
//! the message but before the row was marked `sent`, or when the server's final reply is lost,
//! the mail is sent again. Every row has a Message-ID fixed at enqueue time and every
//! attempt carries it, so receivers and operators can recognise the duplicate (and the
//! maildir transport overwrites the same file). In normal operation (no crash in that
//! window) each row is sent exactly once. Exactly-once is impossible over SMTP, which has
//! no idempotency key; we prefer a rare duplicate over a lost notice.
//!
//! The window is kept short: the worker's sockets have Nagle's algorithm off, so the end of
//! the message is not held back waiting for an ACK (a crash in that wait still delivers:
//! the kernel sends what was queued), and the row is marked `sent` straight after the
//! server's reply, before QUIT. What remains is the reply's way back plus the UPDATE, which
//! on SQLite may wait for the write lock behind a long transaction (RELIABILITY.md).
//!
//! # Wiring (server)
//!
//! ```no_run
//! # async fn wire(pool: sqlx::AnyPool) -> Result<(), mailer::MailError> {
//! // Or `MailTransport::Smtp(SmtpConfig { .. })`; both deserialize from the config file.
//! let transport = mailer::MailTransport::maildir("var/mail");
//! let worker = mailer::Worker::new(pool, transport, mailer::WorkerOptions::default())?;
//! let wake = worker.notifier();
//! let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
//! let handle = tokio::spawn(worker.run(async move {
//!     let _ = stop_rx.await;
//! }));
//! // ... after each commit that enqueued mail:
//! wake.notify_one();
//! // ... on shutdown:
//! let _ = stop_tx.send(());
//! let _ = handle.await;
//! # Ok(()) }
//! ```

mod outbox;
mod render;
mod transport;
mod worker;

use time::{Date, OffsetDateTime};

pub use outbox::{
    OutboxRow, OutboxState, QueueStats, enqueue_with_domain, erase_recipients, get_mail, list_mail,
    queue_stats, retry_failed,
};
pub use transport::{MailTransport, SmtpConfig, SmtpSecurity, default_from};
pub use worker::{RunStats, Worker, WorkerOptions};

/// Why a mail is sent. `code()` is what the `mail_outbox.kind` column stores.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailKind {
    /// Status 10: submitted, bill issued, waiting for payment.
    Submitted,
    /// Status 20: paid, generate the key.
    Paid,
    /// Status A0: certificate issued, download it.
    Issued,
    /// Status A9: cancelled (unpaid after 14 days).
    Cancelled,
    Revoked,
    Suspended,
    Unsuspended,
    /// A certificate's notAfter is near (60/30/7 days by default); renew it (展期).
    ExpiryReminder,
    /// Status A9 by the applicant's own withdrawal (the bill is void).
    Withdrawn,
}

impl MailKind {
    pub const ALL: [MailKind; 9] = [
        MailKind::Submitted,
        MailKind::Paid,
        MailKind::Issued,
        MailKind::Cancelled,
        MailKind::Revoked,
        MailKind::Suspended,
        MailKind::Unsuspended,
        MailKind::ExpiryReminder,
        MailKind::Withdrawn,
    ];

    pub fn code(self) -> &'static str {
        match self {
            MailKind::Submitted => "submitted",
            MailKind::Paid => "paid",
            MailKind::Issued => "issued",
            MailKind::Cancelled => "cancelled",
            MailKind::Revoked => "revoked",
            MailKind::Suspended => "suspended",
            MailKind::Unsuspended => "unsuspended",
            MailKind::ExpiryReminder => "expiry_reminder",
            MailKind::Withdrawn => "withdrawn",
        }
    }

    pub fn from_code(code: &str) -> Option<MailKind> {
        MailKind::ALL.into_iter().find(|k| k.code() == code)
    }
}

/// Everything a status mail may mention. Fields a kind does not use may be `None`.
#[derive(Debug, Clone, Default)]
pub struct MailParams {
    /// 申請序號, e.g. SW20261124000001.
    pub serial: String,
    pub company_name: String,
    pub contact_name: String,
    pub bill_no: Option<String>,
    /// NT$.
    pub amount: Option<i64>,
    /// The bill's due date, or a certificate's last day of validity (expiry reminder).
    pub due_on: Option<Date>,
    pub certificate_name: Option<String>,
    /// Certificate serial (hex) for revoke/suspend/unsuspend.
    pub certificate_serial: Option<String>,
    /// Human reason, e.g. for A9 or a revocation.
    pub reason: Option<String>,
    /// Public base URL of the portal, without trailing slash, for links.
    pub portal_url: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedMail {
    pub subject: String,
    pub body_text: String,
}

/// A mail to queue. `to` is the application's contact e-mail.
#[derive(Debug, Clone)]
pub struct NewMail {
    pub kind: MailKind,
    pub to: String,
    pub application_serial: Option<String>,
    pub rendered: RenderedMail,
}

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
    #[error("mail transport: {0}")]
    Transport(String),
    #[error("mail configuration: {0}")]
    Config(String),
}

/// The subject (verbatim from the DC02 manual for 10/20/A0/A9) and a plain-text body that
/// says what to do next.
pub fn render(kind: MailKind, params: &MailParams) -> RenderedMail {
    render::render(kind, params)
}

/// Queue a mail inside the caller's transaction (pass `&mut *tx`). Returns the outbox row id.
///
/// The Message-ID's domain is this machine's host name; use [`enqueue_with_domain`] to put
/// the portal's public host there instead.
pub async fn enqueue(
    conn: &mut sqlx::AnyConnection,
    mail: &NewMail,
    now: OffsetDateTime,
) -> Result<i64, MailError> {
    enqueue_with_domain(conn, mail, now, outbox::default_domain()).await
}
