//! Mail delivery throughput (a benchmark, not a test): the outbox worker sending N queued
//! mails to a local aiosmtpd (a Maildir sink), in each security mode, beside lettre's stock
//! `AsyncSmtpTransport` sending the same messages one session each, which is how the worker
//! sent before it opened its own sockets with TCP_NODELAY (see mailer/src/transport.rs).
//!
//!     cargo run --release -p mailer --example mail_bench -- [mails per row, default 200]
//!
//! Needs a python with aiosmtpd (`$HOME/.cache/ccp/venv`, from `scripts/setup.sh test`).

// A benchmark tool: a failure is a panic with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../tests/common/mod.rs"]
mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::pki::make_pki;
use common::*;
use lettre::message::Message;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use mailer::{MailKind, SmtpSecurity, Worker};

struct Row {
    what: String,
    mails: usize,
    seconds: f64,
}

/// The worker drains `n` queued mails; returns the seconds it took.
async fn worker_row(n: usize, port: u16, security: SmtpSecurity, ca: &Path) -> f64 {
    let db = TestDb::sqlite().await;
    for i in 0..n {
        let mail = new_mail(
            MailKind::Issued,
            &format!("SW2026112400{i:04}"),
            "contact@example.com.tw",
        );
        enqueue_committed(&db.pool, &mail, NOW).await;
    }
    let options = mailer::WorkerOptions {
        batch_size: 1000,
        ..options()
    };
    let worker = Worker::new(
        db.pool.clone(),
        tls_transport(port, security, Some(ca)),
        options,
    )
    .unwrap();
    let started = Instant::now();
    let mut sent = 0;
    while sent < n {
        let s = worker.run_once(NOW).await.unwrap();
        assert_eq!(s.retried + s.failed, 0, "{s:?}");
        sent += s.sent as usize;
    }
    started.elapsed().as_secs_f64()
}

/// lettre's stock transport: `n` messages, one session each (as the worker used it).
async fn lettre_row(n: usize, port: u16, security: SmtpSecurity, ca: &Path) -> f64 {
    let mut b = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous("127.0.0.1")
        .port(port)
        .timeout(Some(Duration::from_secs(5)));
    if security != SmtpSecurity::None {
        let pem = std::fs::read(ca).unwrap();
        let params = TlsParameters::builder("127.0.0.1".into())
            .add_root_certificate(Certificate::from_pem(&pem).unwrap())
            .build()
            .unwrap();
        b = b.tls(match security {
            SmtpSecurity::Tls => Tls::Wrapper(params),
            _ => Tls::Required(params),
        });
    }
    let t = b.build();
    let body = mailer::render(MailKind::Issued, &params("SW20261124000001")).body_text;
    let started = Instant::now();
    for i in 0..n {
        let m = Message::builder()
            .from("noreply@portal.example.gov.tw".parse().unwrap())
            .to("contact@example.com.tw".parse().unwrap())
            .subject(format!("bench {i}"))
            .body(body.clone())
            .unwrap();
        t.send(m).await.unwrap();
    }
    started.elapsed().as_secs_f64()
}

#[tokio::main]
async fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .map(|a| a.parse().expect("mails per row: a number"))
        .unwrap_or(200);
    let tmp = tempfile::tempdir().unwrap();
    let pki = make_pki(tmp.path());
    let mut rows = Vec::new();
    for (name, security) in [
        ("plain", SmtpSecurity::None),
        ("STARTTLS", SmtpSecurity::StartTls),
        ("implicit TLS", SmtpSecurity::Tls),
    ] {
        let maildir = tmp.path().join(format!("mail-{name}"));
        let port = free_port();
        let mode = match security {
            SmtpSecurity::None => TlsMode::Plain,
            SmtpSecurity::StartTls => TlsMode::StartTls {
                cert: &pki.cert,
                key: &pki.key,
            },
            SmtpSecurity::Tls => TlsMode::Implicit {
                cert: &pki.cert,
                key: &pki.key,
            },
        };
        let _smtp = SmtpServer::start_with(port, &maildir, mode).await;
        // Warm up both (Python imports, TLS session setup) before timing.
        worker_row(3, port, security, &pki.ca).await;
        lettre_row(3, port, security, &pki.ca).await;
        let s = worker_row(n, port, security, &pki.ca).await;
        rows.push(Row {
            what: format!("outbox worker (own socket, TCP_NODELAY), {name}"),
            mails: n,
            seconds: s,
        });
        let s = lettre_row(n, port, security, &pki.ca).await;
        rows.push(Row {
            what: format!("lettre AsyncSmtpTransport (stock), {name}"),
            mails: n,
            seconds: s,
        });
        let arrived = std::fs::read_dir(maildir.join("new")).unwrap().count();
        assert_eq!(arrived, 2 * (n + 3), "every mail arrived once");
    }
    println!("mail_bench: aiosmtpd Maildir sink on 127.0.0.1, one SMTP session per mail");
    println!(
        "{:<58} {:>6} {:>9} {:>8} {:>10}",
        "sender", "mails", "seconds", "mails/s", "ms/mail"
    );
    for r in rows {
        println!(
            "{:<58} {:>6} {:>9.3} {:>8.1} {:>10.2}",
            r.what,
            r.mails,
            r.seconds,
            r.mails as f64 / r.seconds,
            r.seconds * 1000.0 / r.mails as f64
        );
    }
}
