//! The mailer's test helpers: an outbox database per test, mails to queue, transports. The
//! SMTP sink, Maildir reader, TLS PKI and PostgreSQL databases come from the shared test kit
//! (`testkit`, tests/ at the repository root), re-exported here.
#![allow(dead_code, unused_imports)]

pub mod db;

use std::path::{Path, PathBuf};

use mailer::{MailKind, MailParams, NewMail};
use time::OffsetDateTime;
use time::macros::{date, datetime};

pub use db::TestDb;
pub use testkit::maildir::{Received, maildir_count, read_maildir};
pub use testkit::smtp::{AuthSetup, ScriptedSmtp, SmtpServer, TlsMode, free_port};
pub use testkit::{maildir, pki, smtp};

pub const NOW: OffsetDateTime = datetime!(2026-11-24 09:30:00 UTC);

pub fn at(secs_after_now: i64) -> OffsetDateTime {
    NOW + time::Duration::seconds(secs_after_now)
}

pub fn params(serial: &str) -> MailParams {
    MailParams {
        serial: serial.into(),
        company_name: "大同報關股份有限公司".into(),
        contact_name: "王小明".into(),
        bill_no: Some("AAF11511000151".into()),
        amount: Some(2000),
        due_on: Some(date!(2026 - 12 - 08)),
        certificate_name: Some("SingleWindow-01-B00051".into()),
        certificate_serial: Some("7d1f0a2b3c4d5e6f".into()),
        reason: Some("逾期未繳費".into()),
        portal_url: "https://portal.example.gov.tw".into(),
    }
}

pub fn new_mail(kind: MailKind, serial: &str, to: &str) -> NewMail {
    NewMail {
        kind,
        to: to.into(),
        application_serial: Some(serial.into()),
        rendered: mailer::render(kind, &params(serial)),
    }
}

/// Enqueue in a committed transaction, as the server does with a status change.
pub async fn enqueue_committed(pool: &sqlx::AnyPool, mail: &NewMail, now: OffsetDateTime) -> i64 {
    let mut tx = pool.begin().await.unwrap();
    let id = mailer::enqueue(&mut tx, mail, now).await.unwrap();
    tx.commit().await.unwrap();
    id
}

pub fn smtp_transport(port: u16) -> mailer::MailTransport {
    let mut c = mailer::SmtpConfig::new(
        "127.0.0.1",
        mailer::SmtpSecurity::None,
        "關港貿單一窗口 <noreply@portal.example.gov.tw>",
    );
    c.port = Some(port);
    c.timeout_secs = 5;
    mailer::MailTransport::Smtp(c)
}

/// SMTP on 127.0.0.1:`port` in `security` mode, trusting `ca` (`tls_ca_file`) if given.
pub fn tls_transport(
    port: u16,
    security: mailer::SmtpSecurity,
    ca: Option<&Path>,
) -> mailer::MailTransport {
    let mut c = mailer::SmtpConfig::new("127.0.0.1", security, "noreply@portal.example.gov.tw");
    c.port = Some(port);
    c.timeout_secs = 5;
    c.tls_ca_file = ca.map(Path::to_path_buf);
    mailer::MailTransport::Smtp(c)
}

/// Options for tests: short timeouts so a dead server does not stall the test.
pub fn options() -> mailer::WorkerOptions {
    mailer::WorkerOptions {
        lease: std::time::Duration::from_secs(60),
        ..Default::default()
    }
}

/// Runs a test body on SQLite and on PostgreSQL.
#[macro_export]
macro_rules! on_both_databases {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name(super::common::TestDb::sqlite().await).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$name(super::common::TestDb::postgres().await).await
            }
        }
    )*};
}
