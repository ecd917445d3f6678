#![allow(dead_code, unused_imports)]

pub mod db;
pub mod smtp;

use std::path::{Path, PathBuf};

use mail_parser::{MessageParser, MimeHeaders};
use mailer::{MailKind, MailParams, NewMail};
use time::OffsetDateTime;
use time::macros::{date, datetime};

pub use db::TestDb;
pub use smtp::{ScriptedSmtp, SmtpServer, TlsMode, free_port};

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

/// Options for tests: short timeouts so a dead server does not stall the test.
pub fn options() -> mailer::WorkerOptions {
    mailer::WorkerOptions {
        lease: std::time::Duration::from_secs(60),
        ..Default::default()
    }
}

/// A received mail, decoded.
#[derive(Debug)]
pub struct Received {
    pub file: PathBuf,
    pub subject: String,
    pub to: String,
    pub from: String,
    pub from_name: Option<String>,
    /// Envelope recipient as the SMTP server saw it (aiosmtpd adds `X-RcptTo`).
    pub rcpt_to: Option<String>,
    pub message_id: String,
    pub content_type: String,
    pub body: String,
    pub raw_is_ascii: bool,
}

/// Every message delivered into the maildir (new/ and cur/), parsed.
pub fn read_maildir(dir: &Path) -> Vec<Received> {
    let mut out = Vec::new();
    for sub in ["new", "cur"] {
        let Ok(entries) = std::fs::read_dir(dir.join(sub)) else {
            continue;
        };
        for e in entries {
            let path = e.unwrap().path();
            let raw = std::fs::read(&path).unwrap();
            let msg = MessageParser::default()
                .parse(&raw)
                .unwrap_or_else(|| panic!("unparseable mail {}", path.display()));
            let ct = msg.content_type().expect("Content-Type");
            out.push(Received {
                subject: msg.subject().expect("Subject").to_owned(),
                to: msg
                    .to()
                    .and_then(|a| a.first())
                    .and_then(|a| a.address())
                    .expect("To")
                    .to_owned(),
                from: msg
                    .from()
                    .and_then(|a| a.first())
                    .and_then(|a| a.address())
                    .expect("From")
                    .to_owned(),
                from_name: msg
                    .from()
                    .and_then(|a| a.first())
                    .and_then(|a| a.name())
                    .map(str::to_owned),
                rcpt_to: msg.header_raw("X-RcptTo").map(|s| s.trim().to_owned()),
                message_id: msg.message_id().expect("Message-ID").to_owned(),
                content_type: format!(
                    "{}/{}; charset={}",
                    ct.ctype(),
                    ct.subtype().unwrap_or(""),
                    ct.attribute("charset").unwrap_or("")
                )
                .to_ascii_lowercase(),
                body: msg.body_text(0).expect("text body").replace("\r\n", "\n"),
                raw_is_ascii: raw.is_ascii(),
                file: path,
            });
        }
    }
    out
}

pub fn maildir_count(dir: &Path) -> usize {
    read_maildir(dir).len()
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
