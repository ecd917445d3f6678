//! SMTP over STARTTLS and implicit TLS against aiosmtpd, trusting a test CA through
//! `tls_ca_file`; and refusing a server whose certificate is not trusted.

// Test helpers in tests/common are not #[test] fns, so the workspace test allowance misses them.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::pki::make_pki;
use common::*;
use mailer::{MailKind, OutboxState, SmtpSecurity, Worker, get_mail};

async fn deliver_over(security: SmtpSecurity) {
    let db = TestDb::sqlite().await;
    let tmp = tempfile::tempdir().unwrap();
    let pki = make_pki(tmp.path());
    let maildir = tmp.path().join("mail");
    let port = free_port();
    let mode = match security {
        SmtpSecurity::StartTls => TlsMode::StartTls {
            cert: &pki.cert,
            key: &pki.key,
        },
        _ => TlsMode::Implicit {
            cert: &pki.cert,
            key: &pki.key,
        },
    };
    let _smtp = SmtpServer::start_with(port, &maildir, mode).await;

    // Without our CA the server is not trusted: nothing is sent, the row waits for a retry.
    let untrusting = Worker::new(
        db.pool.clone(),
        tls_transport(port, security, None),
        options(),
    )
    .unwrap();
    let mail = new_mail(MailKind::Paid, "SW20261124000001", "contact@example.com.tw");
    let id = enqueue_committed(&db.pool, &mail, NOW).await;
    assert_eq!(untrusting.run_once(NOW).await.unwrap().retried, 1);
    let row = get_mail(&db.pool, id).await.unwrap().unwrap();
    assert_eq!(row.state, OutboxState::Pending);
    let err = row.last_error.unwrap_or_default();
    assert!(err.contains("certificate"), "{err}");
    assert_eq!(maildir_count(&maildir), 0);

    let trusting = Worker::new(
        db.pool.clone(),
        tls_transport(port, security, Some(&pki.ca)),
        options(),
    )
    .unwrap();
    assert_eq!(trusting.run_once(at(30)).await.unwrap().sent, 1);
    let got = read_maildir(&maildir);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].subject, mail.rendered.subject);
    assert_eq!(got[0].to, "contact@example.com.tw");
}

#[tokio::test]
async fn starttls_with_private_ca() {
    deliver_over(SmtpSecurity::StartTls).await;
}

#[tokio::test]
async fn implicit_tls_with_private_ca() {
    deliver_over(SmtpSecurity::Tls).await;
}
