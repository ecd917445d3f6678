//! SMTP AUTH against an aiosmtpd that requires STARTTLS and then AUTH: the right credentials
//! deliver; wrong ones are a permanent failure recorded once in the outbox (no retry loop);
//! the password shows up in no error, no outbox row and no Debug output.

// Test helpers in tests/common are not #[test] fns, so the workspace test allowance misses them.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::Path;

use common::pki::make_pki;
use common::*;
use mailer::{MailKind, OutboxState, SmtpSecurity, Worker, get_mail, list_mail};
use proto::api::MailState;

const USER: &str = "portal-mailer";
const PASSWORD: &str = "Pw-4f9c1e-never-logged";

fn auth_transport(port: u16, ca: &Path, user: &str, password: &str) -> mailer::MailTransport {
    let mut c = mailer::SmtpConfig::new(
        "127.0.0.1",
        SmtpSecurity::StartTls,
        "關港貿單一窗口 <noreply@portal.example.gov.tw>",
    );
    c.port = Some(port);
    c.timeout_secs = 5;
    c.tls_ca_file = Some(ca.to_path_buf());
    c.username = Some(user.into());
    c.password = Some(password.into());
    mailer::MailTransport::Smtp(c)
}

/// The password in every form it could leak in: plain, and base64 as AUTH LOGIN / PLAIN send it.
fn secret_forms(user: &str, password: &str) -> Vec<String> {
    vec![
        password.to_owned(),
        base64(password.as_bytes()),
        base64(format!("\0{user}\0{password}").as_bytes()),
    ]
}

fn base64(data: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(A[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// AUTH attempts the server logged with this outcome (`ok` or `refused`).
fn auth_lines(log: &str, outcome: &str) -> usize {
    log.lines()
        .filter(|l| l.starts_with("AUTH ") && l.ends_with(&format!(" {outcome}")))
        .count()
}

fn assert_no_secret(what: &str, text: &str, user: &str, password: &str) {
    for s in secret_forms(user, password) {
        assert!(
            !text.contains(&s),
            "{what} contains the password ({s}): {text}"
        );
    }
}

#[tokio::test]
async fn right_credentials_deliver_over_starttls() {
    let db = TestDb::sqlite().await;
    let tmp = tempfile::tempdir().unwrap();
    let pki = make_pki(tmp.path());
    let maildir = tmp.path().join("mail");
    let smtp = SmtpServer::start_auth(
        free_port(),
        &maildir,
        AuthSetup {
            cert: &pki.cert,
            key: &pki.key,
            username: USER,
            password: PASSWORD,
        },
    )
    .await;

    let transport = auth_transport(smtp.port, &pki.ca, USER, PASSWORD);
    assert_no_secret(
        "Debug of the transport",
        &format!("{transport:?}"),
        USER,
        PASSWORD,
    );
    let worker = Worker::new(db.pool.clone(), transport, options()).unwrap();
    let mail = new_mail(
        MailKind::Issued,
        "SW20261124000001",
        "contact@example.com.tw",
    );
    let id = enqueue_committed(&db.pool, &mail, NOW).await;
    let stats = worker.run_once(NOW).await.unwrap();
    assert_eq!(
        (stats.sent, stats.failed, stats.retried),
        (1, 0, 0),
        "{stats:?}"
    );

    let got = read_maildir(&maildir);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].subject, mail.rendered.subject);
    assert_eq!(got[0].to, "contact@example.com.tw");
    let row = get_mail(&db.pool, id).await.unwrap().unwrap();
    assert_eq!(row.state, OutboxState::Sent);
    // The server saw one successful AUTH (and the test's credentials were really checked).
    let log = smtp.log();
    assert_eq!(auth_lines(&log, "ok"), 1, "{log}");
    assert_eq!(auth_lines(&log, "refused"), 0, "{log}");
}

#[tokio::test]
async fn wrong_credentials_fail_permanently_without_retrying() {
    let db = TestDb::sqlite().await;
    let tmp = tempfile::tempdir().unwrap();
    let pki = make_pki(tmp.path());
    let maildir = tmp.path().join("mail");
    let smtp = SmtpServer::start_auth(
        free_port(),
        &maildir,
        AuthSetup {
            cert: &pki.cert,
            key: &pki.key,
            username: USER,
            password: PASSWORD,
        },
    )
    .await;

    let wrong = "Wrong-pw-77b2e0-never-logged";
    let worker = Worker::new(
        db.pool.clone(),
        auth_transport(smtp.port, &pki.ca, USER, wrong),
        options(),
    )
    .unwrap();
    let mail = new_mail(MailKind::Paid, "SW20261124000002", "contact@example.com.tw");
    let id = enqueue_committed(&db.pool, &mail, NOW).await;
    let stats = worker.run_once(NOW).await.unwrap();
    let row = get_mail(&db.pool, id).await.unwrap().unwrap();
    assert_eq!(
        (stats.claimed, stats.sent, stats.failed, stats.retried),
        (1, 0, 1, 0),
        "{stats:?} {:?}\n{}",
        row.last_error,
        smtp.log()
    );

    assert_eq!(row.state, OutboxState::Failed);
    assert_eq!(row.attempts, 1);
    let err = row.last_error.clone().unwrap_or_default();
    assert!(
        err.contains("535"),
        "the SMTP reply should be recorded: {err}"
    );
    assert_no_secret("last_error", &err, USER, wrong);
    // The operator's view shows it as failed, without the secret either.
    let failed = list_mail(&db.pool, Some(MailState::Failed)).await.unwrap();
    assert_eq!(failed.len(), 1);
    assert_no_secret("operator view", &format!("{failed:?}"), USER, wrong);

    // Later rounds leave it alone: no retry loop hammering the server with bad credentials.
    for later in [60, 3600, 86_400] {
        let s = worker.run_once(at(later)).await.unwrap();
        assert_eq!(s.claimed, 0, "retried at +{later} s: {s:?}");
    }
    let log = smtp.log();
    assert_eq!(auth_lines(&log, "refused"), 1, "{log}");
    assert_eq!(auth_lines(&log, "ok"), 0, "{log}");
    assert_eq!(maildir_count(&maildir), 0);
}
