//! Status e-mails end to end: the real API on SQLite and PostgreSQL, the server's own mail
//! worker, and a real SMTP server (aiosmtpd writing a Maildir). Every status mail arrives
//! once at the application's contact address with the DC02 subject; an SMTP outage or a
//! server restart loses nothing and duplicates nothing; the SMTP password never reaches the
//! logs, the outbox or the operator's view.

// Test helpers outside #[test] fns unwrap too: a failure there is a test failure.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration as StdDuration, Instant};

use common::maildir::{Received, read_maildir};
use common::smtp::{AuthSetup, SmtpServer, free_port};
use common::{Backend, TestServer, count, good_form, targeted_form};
use proto::api::{ApplicationView, IssuedCertificate, MailView};
use proto::{ApplicationType, Status};
use time::Duration;
use time::format_description::well_known::Rfc3339;

const FROM: &str = "關港貿單一窗口 <noreply@portal.example.gov.tw>";

// ---- log capture ---------------------------------------------------------------------

/// Everything every test in this binary logged (all targets, TRACE and up), as the
/// portal's fmt subscriber would print it.
fn logs() -> &'static Arc<Mutex<Vec<u8>>> {
    static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOGS.get_or_init(|| {
        let buf = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&buf);
        let _ = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(move || LogSink(Arc::clone(&sink)))
            .try_init();
        buf
    })
}

struct LogSink(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for LogSink {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(data);
        Ok(data.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn captured_logs() -> String {
    String::from_utf8_lossy(&logs().lock().unwrap()).into_owned()
}

// ---- helpers -------------------------------------------------------------------------

fn smtp_config(port: u16) -> mailer::SmtpConfig {
    let mut c = mailer::SmtpConfig::new("127.0.0.1", mailer::SmtpSecurity::None, FROM);
    c.port = Some(port);
    c.timeout_secs = 5;
    c
}

async fn start_with_smtp(b: Backend, smtp: mailer::SmtpConfig) -> TestServer {
    logs();
    TestServer::start_with(b, move |c| {
        c.mail = Some(mailer::MailTransport::Smtp(smtp));
        c.mail_worker = true;
    })
    .await
}

/// `[關港貿單一窗口]<text>，申請序號:<serial>`, the DC02 subject pattern.
fn subject(text: &str, serial: &str) -> String {
    format!("[關港貿單一窗口]{text}，申請序號:{serial}")
}

/// Wait (up to 15 s) until the Maildir holds `n` messages; fail on more.
async fn wait_for_mail(dir: &Path, n: usize) -> Vec<Received> {
    let deadline = Instant::now() + StdDuration::from_secs(15);
    loop {
        let got = read_maildir(dir);
        assert!(got.len() <= n, "more than {n} mails: {got:#?}");
        if got.len() == n {
            return got;
        }
        assert!(
            Instant::now() < deadline,
            "{} of {n} mails after 15 s: {got:#?}",
            got.len()
        );
        tokio::time::sleep(StdDuration::from_millis(50)).await;
    }
}

/// Wait for the `n`-th mail and return the one with this subject, checking it is the only
/// one, it went to `to` (header and envelope) and it came from the configured sender.
async fn expect_mail(dir: &Path, n: usize, subject: &str, to: &str) -> Received {
    let mut got = wait_for_mail(dir, n).await;
    let with_subject: Vec<usize> = (0..got.len())
        .filter(|&i| got[i].subject == subject)
        .collect();
    assert_eq!(
        with_subject.len(),
        1,
        "want exactly one mail {subject:?}, got: {:#?}",
        got.iter().map(|m| &m.subject).collect::<Vec<_>>()
    );
    let m = got.swap_remove(with_subject[0]);
    assert_eq!(m.to, to, "To of {subject}");
    assert_eq!(m.rcpt_to.as_deref(), Some(to), "envelope of {subject}");
    assert_eq!(m.from, "noreply@portal.example.gov.tw");
    assert_eq!(m.content_type, "text/plain; charset=utf-8");
    m
}

fn assert_body_has(m: &Received, parts: &[&str]) {
    for p in parts {
        assert!(
            m.body.contains(p),
            "body of {:?} lacks {p:?}:\n{}",
            m.subject,
            m.body
        );
    }
}

/// Poll `sql` (a COUNT) until it reaches `at_least` (up to 15 s).
async fn wait_for_count(srv: &TestServer, sql: &str, at_least: i64) {
    let deadline = Instant::now() + StdDuration::from_secs(15);
    while count(srv, sql).await < at_least {
        assert!(Instant::now() < deadline, "{sql} < {at_least} after 15 s");
        tokio::time::sleep(StdDuration::from_millis(50)).await;
    }
}

fn due_date(app: &ApplicationView) -> String {
    let due = time::OffsetDateTime::parse(&app.bill.as_ref().unwrap().due_at, &Rfc3339).unwrap();
    server::domain::format_date(server::domain::taipei_date(due))
}

fn form_with_email(email: &str) -> proto::api::ApplicationForm {
    let mut f = good_form();
    f.contact.email = email.into();
    f
}

fn targeted_with_email(
    t: ApplicationType,
    target: &str,
    email: &str,
    reason: &str,
) -> proto::api::ApplicationForm {
    let mut f = targeted_form(t, target);
    f.contact.email = email.into();
    f.reason = reason.into();
    f
}

// ---- tests ---------------------------------------------------------------------------

/// Apply (10), pay (20), certificate (A0), suspend, unsuspend, revoke, and an unpaid
/// application cancelled 14 days later (A9): one mail each, to that application's contact.
async fn every_status_mail_arrives_once(b: Backend) {
    let tmp = tempfile::tempdir().unwrap();
    let maildir = tmp.path().join("mail");
    let smtp = SmtpServer::start(free_port(), &maildir).await;
    let srv = start_with_smtp(b, smtp_config(smtp.port)).await;
    let alice = srv.applicant(common::TAX_ID).await;
    let ops = srv.operator().await;
    let base = srv.config.public_url();
    let link = |serial: &str, page: &str| format!("{base}/#/applications/{serial}/{page}");

    // 10: bill number, amount, due date, slip link.
    let app = alice.create(&form_with_email("apply@example.com.tw")).await;
    let bill = app.bill.clone().unwrap();
    assert_eq!(bill.amount, 2000);
    let m = expect_mail(
        &maildir,
        1,
        &subject("通關專屬憑證申請繳費通知", &app.serial),
        "apply@example.com.tw",
    )
    .await;
    assert_body_has(
        &m,
        &[
            &bill.bill_no,
            "NT$2,000",
            &due_date(&app),
            &link(&app.serial, "bill"),
        ],
    );

    // An application nobody pays, for the expiry at the end.
    let unpaid = alice
        .create(&form_with_email("unpaid@example.com.tw"))
        .await;
    let unpaid_bill = unpaid.bill.clone().unwrap().bill_no;
    expect_mail(
        &maildir,
        2,
        &subject("通關專屬憑證申請繳費通知", &unpaid.serial),
        "unpaid@example.com.tw",
    )
    .await;

    // 20: the operator records the payment; link to generate the key.
    let r = ops.pay(&bill.bill_no, bill.amount).await;
    assert_eq!(r.status().as_u16(), 200, "{}", r.text().await.unwrap());
    let m = expect_mail(
        &maildir,
        3,
        &subject("通關專屬憑證完成繳費，請產製金鑰", &app.serial),
        "apply@example.com.tw",
    )
    .await;
    assert_body_has(&m, &[&link(&app.serial, "generate")]);

    // A0: CSR → certificate; link to download and to register.
    let r = alice
        .submit_csr(&app.serial, &common::csr_pem(0, "ignored"))
        .await;
    assert_eq!(r.status().as_u16(), 200);
    let cert: IssuedCertificate = r.json().await.unwrap();
    let m = expect_mail(
        &maildir,
        4,
        &subject("通關專屬憑證申請完成,可至平台下載憑證", &app.serial),
        "apply@example.com.tw",
    )
    .await;
    assert_body_has(
        &m,
        &[
            &cert.cert_name,
            &cert.serial_hex,
            &link(&app.serial, "generate"),
            &link(&app.serial, "register"),
        ],
    );

    // Suspend by the applicant's request: the request's serial and contact.
    let s: ApplicationView = serde_json::from_value(
        alice
            .post_ok(
                "/api/applications",
                &targeted_with_email(
                    ApplicationType::Suspend,
                    &app.serial,
                    "suspend@example.com.tw",
                    "暫停使用測試",
                ),
                201,
            )
            .await,
    )
    .unwrap();
    assert_ne!(s.serial, app.serial);
    let m = expect_mail(
        &maildir,
        5,
        &subject("通關專屬憑證暫禁完成通知", &s.serial),
        "suspend@example.com.tw",
    )
    .await;
    assert_body_has(&m, &[&cert.serial_hex, "暫停使用測試"]);

    // Unsuspend by the operator: the issuing application's serial and contact.
    let v = ops
        .post_ok(
            &format!("/api/admin/certificates/{}/unsuspend", cert.serial_hex),
            &serde_json::json!({"reason": "業者來函申請解禁"}),
            200,
        )
        .await;
    assert_eq!(v["status"], "valid");
    let m = expect_mail(
        &maildir,
        6,
        &subject("通關專屬憑證解禁完成通知", &app.serial),
        "apply@example.com.tw",
    )
    .await;
    assert_body_has(&m, &[&cert.serial_hex, "業者來函申請解禁"]);

    // Revoke by the applicant's request.
    let rv: ApplicationView = serde_json::from_value(
        alice
            .post_ok(
                "/api/applications",
                &targeted_with_email(
                    ApplicationType::Revoke,
                    &app.serial,
                    "revoke@example.com.tw",
                    "金鑰遺失",
                ),
                201,
            )
            .await,
    )
    .unwrap();
    let m = expect_mail(
        &maildir,
        7,
        &subject("通關專屬憑證註銷完成通知", &rv.serial),
        "revoke@example.com.tw",
    )
    .await;
    assert_body_has(&m, &[&cert.serial_hex, "金鑰遺失"]);

    // A9: 14 days later the unpaid application is cancelled; the mail says why.
    srv.clock.advance(Duration::days(14));
    server::run_jobs_once(&srv.state).await;
    assert_eq!(
        alice.application(&unpaid.serial).await.status,
        Status::Cancelled
    );
    let m = expect_mail(
        &maildir,
        8,
        &subject("通關專屬憑證申請逾期未繳費取消申請通知", &unpaid.serial),
        "unpaid@example.com.tw",
    )
    .await;
    assert_body_has(
        &m,
        &["逾期未繳費", &unpaid_bill, &format!("{base}/#/apply")],
    );

    // Nothing else was queued or sent, every row is done, no Message-ID twice.
    tokio::time::sleep(StdDuration::from_millis(300)).await;
    let all = wait_for_mail(&maildir, 8).await;
    let mut ids: Vec<&str> = all.iter().map(|m| m.message_id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 8);
    assert_eq!(count(&srv, "SELECT COUNT(*) FROM mail_outbox").await, 8);
    assert_eq!(
        count(
            &srv,
            "SELECT COUNT(*) FROM mail_outbox WHERE state = 'sent' AND attempts = 1"
        )
        .await,
        8
    );
    srv.stop().await;
}
both!(every_status_mail_arrives_once);

/// The SMTP server is down when the status changes: the change succeeds, the mail waits,
/// and once the server is back it arrives, once.
async fn smtp_down_during_a_transition(b: Backend) {
    let tmp = tempfile::tempdir().unwrap();
    let maildir = tmp.path().join("mail");
    let port = free_port();
    let srv = start_with_smtp(b, smtp_config(port)).await;
    let alice = srv.applicant(common::TAX_ID).await;

    let app = alice.create(&form_with_email("down@example.com.tw")).await;
    assert_eq!(app.status, Status::Submitted);
    wait_for_count(
        &srv,
        "SELECT COUNT(*) FROM mail_outbox WHERE attempts = 1 AND last_error IS NOT NULL",
        1,
    )
    .await;
    assert_eq!(
        count(
            &srv,
            "SELECT COUNT(*) FROM mail_outbox WHERE state = 'pending'"
        )
        .await,
        1
    );

    let _smtp = SmtpServer::start(port, &maildir).await;
    // Past the retry delay; wake the worker instead of waiting for its next poll.
    srv.clock.advance(Duration::hours(1));
    srv.state.mail_queued();
    expect_mail(
        &maildir,
        1,
        &subject("通關專屬憑證申請繳費通知", &app.serial),
        "down@example.com.tw",
    )
    .await;
    wait_for_count(
        &srv,
        "SELECT COUNT(*) FROM mail_outbox WHERE state = 'sent' AND attempts = 2",
        1,
    )
    .await;
    // Later rounds do not send it again.
    srv.clock.advance(Duration::hours(1));
    srv.state.mail_queued();
    tokio::time::sleep(StdDuration::from_millis(500)).await;
    wait_for_mail(&maildir, 1).await;
    srv.stop().await;
}
both!(smtp_down_during_a_transition);

/// Mail still unsent when the server stops is sent by the next server on the same database,
/// once.
async fn restart_with_unsent_mail(b: Backend) {
    let tmp = tempfile::tempdir().unwrap();
    let maildir = tmp.path().join("mail");
    let port = free_port();
    let srv = start_with_smtp(b, smtp_config(port)).await;
    let alice = srv.applicant(common::TAX_ID).await;
    let app = alice
        .create(&form_with_email("restart@example.com.tw"))
        .await;
    wait_for_count(
        &srv,
        "SELECT COUNT(*) FROM mail_outbox WHERE attempts = 1 AND state = 'pending'",
        1,
    )
    .await;
    assert!(read_maildir(&maildir).is_empty());

    let srv = srv.restart().await;
    let _smtp = SmtpServer::start(port, &maildir).await;
    // The same application, through the new server, with the old session.
    assert_eq!(
        alice.application(&app.serial).await.status,
        Status::Submitted
    );
    srv.clock.advance(Duration::hours(1));
    srv.state.mail_queued();
    expect_mail(
        &maildir,
        1,
        &subject("通關專屬憑證申請繳費通知", &app.serial),
        "restart@example.com.tw",
    )
    .await;
    wait_for_count(
        &srv,
        "SELECT COUNT(*) FROM mail_outbox WHERE state = 'sent' AND attempts = 2",
        1,
    )
    .await;
    // A second restart finds nothing to send.
    let srv = srv.restart().await;
    srv.clock.advance(Duration::hours(1));
    srv.state.mail_queued();
    tokio::time::sleep(StdDuration::from_millis(500)).await;
    wait_for_mail(&maildir, 1).await;
    assert_eq!(count(&srv, "SELECT COUNT(*) FROM mail_outbox").await, 1);
    srv.stop().await;
}
both!(restart_with_unsent_mail);

/// SMTP AUTH over STARTTLS from the server's config: the right password delivers, a wrong
/// one is a permanent failure the operator sees; neither password appears in the captured
/// logs (TRACE, all targets), the outbox, the operator's mail view or the config's Debug.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
// figment::Jail's closure must return figment's (large) error type.
#[allow(clippy::result_large_err)]
async fn smtp_password_stays_out_of_logs() {
    logs();
    let tmp = tempfile::tempdir().unwrap();
    let pki = common::pki::make_pki(tmp.path());
    let maildir = tmp.path().join("mail");
    let user = "portal-mailer";
    let good = "Srv-pw-3c8d1a-secret";
    let bad = "Srv-bad-9e2f7b-secret";
    let smtp = SmtpServer::start_auth(
        free_port(),
        &maildir,
        AuthSetup {
            cert: &pki.cert,
            key: &pki.key,
            username: user,
            password: good,
        },
    )
    .await;
    let config = |password: &str| {
        let mut c = smtp_config(smtp.port);
        c.security = mailer::SmtpSecurity::StartTls;
        c.tls_ca_file = Some(pki.ca.clone());
        c.username = Some(user.into());
        c.password = Some(password.into());
        c
    };

    // Right password: delivered.
    let srv = start_with_smtp(Backend::Sqlite, config(good)).await;
    let alice = srv.applicant(common::TAX_ID).await;
    let app = alice.create(&form_with_email("auth@example.com.tw")).await;
    expect_mail(
        &maildir,
        1,
        &subject("通關專屬憑證申請繳費通知", &app.serial),
        "auth@example.com.tw",
    )
    .await;
    let config_debug = format!("{:?}", srv.config);
    srv.stop().await;

    // Wrong password: failed for good after one attempt, visible to the operator.
    let srv = start_with_smtp(Backend::Sqlite, config(bad)).await;
    let alice = srv.applicant(common::TAX_ID).await;
    let ops = srv.operator().await;
    alice.create(&form_with_email("auth@example.com.tw")).await;
    wait_for_count(
        &srv,
        "SELECT COUNT(*) FROM mail_outbox WHERE state = 'failed'",
        1,
    )
    .await;
    let failed: Vec<MailView> =
        serde_json::from_value(ops.get_json("/api/admin/mail?state=failed", 200).await).unwrap();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].attempts, 1);
    let err = failed[0].last_error.clone().unwrap_or_default();
    assert!(err.contains("535"), "{err}");
    let view = serde_json::to_string(&failed).unwrap();
    srv.stop().await;
    assert_eq!(
        smtp.log()
            .lines()
            .filter(|l| l.starts_with("AUTH ") && l.ends_with(" refused"))
            .count(),
        1,
        "{}",
        smtp.log()
    );

    // The config as the binary loads it from the environment.
    let mut env_debug = String::new();
    figment::Jail::expect_with(|jail| {
        jail.set_env("PORTAL_MAIL__KIND", "smtp");
        jail.set_env("PORTAL_MAIL__HOST", "smtp.example.gov.tw");
        jail.set_env("PORTAL_MAIL__USERNAME", user);
        jail.set_env("PORTAL_MAIL__PASSWORD", good);
        let c = server::config::Config::load(None).map_err(|e| e.to_string())?;
        let Some(mailer::MailTransport::Smtp(smtp)) = &c.mail else {
            return Err("PORTAL_MAIL__* did not make an SMTP transport"
                .to_string()
                .into());
        };
        assert_eq!(smtp.password.as_deref(), Some(good));
        env_debug = format!("{c:?}");
        Ok(())
    });

    let logs = captured_logs();
    // The capture works: the worker's own lines are there.
    assert!(logs.contains("mail sent"), "no worker lines captured");
    assert!(logs.contains("mail failed permanently"), "{logs}");
    for (what, text) in [
        ("logs", &logs),
        ("config Debug", &config_debug),
        ("env config Debug", &env_debug),
        ("operator mail view", &view),
    ] {
        for (pw, forms) in [
            (good, secret_forms(user, good)),
            (bad, secret_forms(user, bad)),
        ] {
            for f in forms {
                assert!(!text.contains(&f), "{what} contains password {pw} as {f:?}");
            }
        }
    }
}

/// A password as it could leak: plain, and base64 as AUTH LOGIN and AUTH PLAIN send it.
fn secret_forms(user: &str, password: &str) -> Vec<String> {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD;
    vec![
        password.to_owned(),
        b64.encode(password),
        b64.encode(format!("\0{user}\0{password}")),
    ]
}
