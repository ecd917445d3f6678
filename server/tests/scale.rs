//! Several instances on one database (issue 16) and rate limits behind a proxy (issue 12.5):
//! login limits per client address and per account, believed forwarded addresses only from
//! trusted proxies, counters shared by instances, the card challenge limit, the per-company
//! daily application limit, one mail sent once by two instances, the periodic jobs' lease,
//! `/readyz`, `/metrics`, JSON logs with the request id, and start-up against an
//! unreachable database (`portal serve`, `portal check-config`).

// Test helpers outside #[test] fns unwrap too: a failure there is a test failure.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::HashSet;
use std::time::{Duration as StdDuration, Instant};

use common::maildir::read_maildir;
use common::smtp::{SmtpServer, free_port};
use common::{Backend, TestServer, code, good_form};
use proto::{ErrorCode, Status};

const PASSWORD: &str = "correct horse battery";

async fn add_operator(srv: &TestServer, name: &str) {
    server::auth::operators::add(
        &srv.state.svc.db,
        name,
        PASSWORD,
        proto::OperatorRole::Admin,
        srv.now(),
    )
    .await
    .unwrap();
}

/// An operator login as a client at `client_ip` (sent as X-Forwarded-For; believed only
/// when the server trusts its peer, 127.0.0.1). Returns the status.
async fn login_from(base: &str, client_ip: &str, user: &str, pw: &str) -> u16 {
    reqwest::Client::new()
        .post(format!("{base}/api/auth/operator-login"))
        .header("X-Requested-With", "portal")
        .header("X-Forwarded-For", client_ip)
        .json(&serde_json::json!({"username": user, "password": pw}))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

fn behind_proxy(c: &mut server::config::Config) {
    c.server.trusted_proxies = vec!["127.0.0.1/32".into()];
}

/// Behind the recommended reverse proxy every request comes from its address. Old main
/// counted that address: 20 junk logins locked every operator out for 15 minutes.
async fn junk_from_one_client_does_not_lock_out_others_behind_a_proxy(b: Backend) {
    let srv = TestServer::start_with(b, behind_proxy).await;
    add_operator(&srv, "alice.ops").await;
    for i in 0..25 {
        let s = login_from(&srv.base, "198.51.100.66", &format!("junk{i}"), "x").await;
        assert!(s == 401 || s == 429, "junk attempt {i}: {s}");
    }
    assert_eq!(
        login_from(&srv.base, "198.51.100.66", "alice.ops", PASSWORD).await,
        429,
        "the sprayer itself is limited"
    );
    assert_eq!(
        login_from(&srv.base, "203.0.113.10", "alice.ops", PASSWORD).await,
        200,
        "another client behind the same proxy still logs in"
    );
    srv.stop().await;
}
both!(junk_from_one_client_does_not_lock_out_others_behind_a_proxy);

/// Wrong passwords for one account from one client lock that account for that client only.
/// Old main counted the account from everywhere: anyone could lock an operator out.
async fn one_client_cannot_lock_an_account_for_everyone(b: Backend) {
    let srv = TestServer::start_with(b, behind_proxy).await;
    add_operator(&srv, "alice.ops").await;
    for _ in 0..5 {
        assert_eq!(
            login_from(&srv.base, "198.51.100.66", "alice.ops", "wrong").await,
            401
        );
    }
    assert_eq!(
        login_from(&srv.base, "198.51.100.66", "alice.ops", PASSWORD).await,
        429
    );
    assert_eq!(
        login_from(&srv.base, "203.0.113.10", "alice.ops", PASSWORD).await,
        200
    );
    srv.stop().await;
}
both!(one_client_cannot_lock_an_account_for_everyone);

/// Many addresses together still cannot guess one password without limit.
async fn an_account_has_a_limit_across_addresses(b: Backend) {
    let srv = TestServer::start_with(b, |c| {
        behind_proxy(c);
        c.auth.max_failures_per_account_total = 8;
    })
    .await;
    add_operator(&srv, "alice.ops").await;
    for i in 0..8 {
        let s = login_from(&srv.base, &format!("198.51.100.{i}"), "alice.ops", "wrong").await;
        assert_eq!(s, 401, "attempt {i}");
    }
    assert_eq!(
        login_from(&srv.base, "198.51.100.200", "alice.ops", PASSWORD).await,
        429
    );
    srv.stop().await;
}
both!(an_account_has_a_limit_across_addresses);

/// Without trusted proxies a client cannot escape its limit by writing X-Forwarded-For.
async fn forwarded_headers_from_untrusted_peers_are_ignored(b: Backend) {
    let srv = TestServer::start(b).await;
    add_operator(&srv, "alice.ops").await;
    for i in 0..20 {
        let s = login_from(&srv.base, &format!("192.0.2.{i}"), &format!("x{i}"), "x").await;
        assert_eq!(s, 401, "attempt {i}");
    }
    assert_eq!(
        login_from(&srv.base, "192.0.2.99", "alice.ops", PASSWORD).await,
        429,
        "every attempt counted against the real peer"
    );
    srv.stop().await;
}
both!(forwarded_headers_from_untrusted_peers_are_ignored);

/// Counters live in the database: failures at one instance count at the other. Old main
/// kept them per process, so N instances allowed N times the attempts.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn instances_share_login_limits() {
    let a = TestServer::start(Backend::Postgres).await;
    let b = a.sibling(|_| {}).await;
    add_operator(&a, "alice.ops").await;
    for i in 0..5 {
        let base = if i % 2 == 0 { &a.base } else { &b.base };
        assert_eq!(login_from(base, "-", "alice.ops", "wrong").await, 401);
    }
    assert_eq!(login_from(&b.base, "-", "alice.ops", PASSWORD).await, 429);
    assert_eq!(login_from(&a.base, "-", "alice.ops", PASSWORD).await, 429);
    b.stop().await;
    a.stop().await;
}

/// Each challenge is a database row: one address cannot ask for them without limit. Old
/// main had no limit on this endpoint.
async fn card_challenges_are_limited_per_address(b: Backend) {
    let now = time::OffsetDateTime::now_utc();
    let pki = card_auth::testing::TestPki::new("Limit GRCA", now).unwrap();
    let files = tempfile::tempdir().unwrap();
    let root = files.path().join("root.pem");
    std::fs::write(&root, pki.root.pem()).unwrap();
    let srv = TestServer::start_with(b, move |c| {
        behind_proxy(c);
        c.auth.card_roots = vec![root];
        c.auth.max_card_challenges_per_ip = 10;
    })
    .await;
    let http = reqwest::Client::new();
    let challenge = |ip: &'static str| {
        http.post(srv.url("/api/auth/card/challenge"))
            .header("X-Requested-With", "portal")
            .header("X-Forwarded-For", ip)
            .send()
    };
    for i in 0..10 {
        assert_eq!(
            challenge("198.51.100.7").await.unwrap().status(),
            200,
            "{i}"
        );
    }
    let r = challenge("198.51.100.7").await.unwrap();
    assert_eq!(r.status(), 429);
    assert_eq!(code(&r.json().await.unwrap()), ErrorCode::RateLimited);
    assert_eq!(challenge("203.0.113.8").await.unwrap().status(), 200);
    srv.stop().await;
}
both!(card_challenges_are_limited_per_address);

/// Every application mails its contact: a company may file only so many a day (Taiwan
/// time), so the portal cannot be used to send spam. Old main had no limit.
async fn applications_per_company_per_day_are_limited(b: Backend) {
    let srv = TestServer::start_with(b, |c| c.server.applications_per_company_per_day = 3).await;
    let alice = srv.applicant(common::TAX_ID).await;
    let other = srv.applicant(common::OTHER_TAX_ID).await;
    for _ in 0..3 {
        alice.create(&good_form()).await;
    }
    let r = alice.post("/api/applications", &good_form()).await;
    assert_eq!(r.status(), 429);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(code(&body), ErrorCode::ApplicationLimit);
    assert_eq!(
        common::count(&srv, "SELECT COUNT(*) FROM applications").await,
        3,
        "the refused one left nothing behind"
    );
    // Another company is not affected; the next day the company may apply again.
    other.create(&good_form()).await;
    srv.clock.advance(time::Duration::days(1));
    alice.create(&good_form()).await;
    srv.stop().await;
}
both!(applications_per_company_per_day_are_limited);

#[test]
fn the_new_error_code_has_both_texts() {
    use proto::Lang;
    let c = ErrorCode::ApplicationLimit;
    assert_eq!(c.code(), "application_limit");
    assert!(c.label(Lang::ZhTw).contains("上限"));
    assert!(c.label(Lang::En).contains("limit"));
}

/// Two instances, each with its mail worker, on one PostgreSQL and one SMTP server: every
/// queued mail arrives exactly once (the outbox rows are claimed under a lease).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_send_each_mail_once() {
    let tmp = tempfile::tempdir().unwrap();
    let maildir = tmp.path().join("mail");
    let smtp = SmtpServer::start(free_port(), &maildir).await;
    let mut smtp_config = mailer::SmtpConfig::new(
        "127.0.0.1",
        mailer::SmtpSecurity::None,
        "關港貿單一窗口 <noreply@portal.example.gov.tw>",
    );
    smtp_config.port = Some(smtp.port);
    let with_mail = move |c: &mut server::config::Config| {
        c.mail = Some(mailer::MailTransport::Smtp(smtp_config));
        c.mail_worker = true;
    };
    let a = TestServer::start_with(Backend::Postgres, with_mail.clone()).await;
    let b = a.sibling(with_mail).await;
    let ids = loadgen_like_tax_ids(12);
    let mut tasks = Vec::new();
    for (i, tax_id) in ids.iter().enumerate() {
        let srv_base = if i % 2 == 0 { &a } else { &b };
        let c = srv_base.applicant(tax_id).await;
        tasks.push(tokio::spawn(async move { c.create(&good_form()).await }));
    }
    let mut serials = HashSet::new();
    for t in tasks {
        serials.insert(t.await.unwrap().serial);
    }
    assert_eq!(serials.len(), ids.len());
    let deadline = Instant::now() + StdDuration::from_secs(30);
    while read_maildir(&maildir).len() < ids.len() && Instant::now() < deadline {
        tokio::time::sleep(StdDuration::from_millis(100)).await;
    }
    // Time for a duplicate to show up, if one were coming.
    tokio::time::sleep(StdDuration::from_secs(2)).await;
    let got = read_maildir(&maildir);
    assert_eq!(got.len(), ids.len(), "one mail per application");
    let message_ids: HashSet<&str> = got.iter().map(|m| m.message_id.as_str()).collect();
    assert_eq!(message_ids.len(), ids.len(), "no Message-ID twice");
    for s in &serials {
        assert_eq!(
            got.iter()
                .filter(|m| m.subject.contains(s.as_str()))
                .count(),
            1,
            "{s}"
        );
    }
    assert_eq!(
        common::count(&a, "SELECT COUNT(*) FROM mail_outbox WHERE state = 'sent'").await,
        i64::try_from(ids.len()).unwrap()
    );
    b.stop().await;
    a.stop().await;
    smtp.stop();
}

fn loadgen_like_tax_ids(n: usize) -> Vec<String> {
    (10_000_000u32..)
        .map(|v| v.to_string())
        .filter(|s| proto::ids::check_tax_id(s).is_ok())
        .take(n)
        .collect()
}

/// The periodic jobs run on one instance at a time: of two instances racing, one takes
/// the lease; an unpaid application is cancelled once (one audit entry, one mail row).
/// When the holder stops, it hands the lease back and the other takes over.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn periodic_jobs_run_on_one_instance() {
    let a = TestServer::start(Backend::Postgres).await;
    let b = a.sibling(|_| {}).await;
    let alice = a.applicant(common::TAX_ID).await;
    let unpaid = alice.create(&good_form()).await;
    a.clock.advance(time::Duration::days(15));
    b.clock.advance(time::Duration::days(15));
    let (ran_a, ran_b) = tokio::join!(
        server::run_jobs_once(&a.state),
        server::run_jobs_once(&b.state)
    );
    assert!(
        ran_a ^ ran_b,
        "exactly one instance ran the jobs ({ran_a}, {ran_b})"
    );
    assert_eq!(
        alice.application(&unpaid.serial).await.status,
        Status::Cancelled
    );
    let cancellations = common::count(
        &a,
        "SELECT COUNT(*) FROM mail_outbox WHERE kind = 'cancelled'",
    )
    .await;
    assert_eq!(cancellations, 1);
    // The holder keeps its lease on the next round; the other still skips.
    let (holder, other) = if ran_a { (&a, &b) } else { (&b, &a) };
    assert!(server::run_jobs_once(&holder.state).await);
    assert!(!server::run_jobs_once(&other.state).await);
    // A holder that dies without handing back: its lease runs out, then the other runs.
    let other_clock_ahead = time::Duration::seconds(10);
    other.clock.advance(other_clock_ahead);
    assert!(server::run_jobs_once(&other.state).await);
    b.stop().await;
    a.stop().await;
}

/// `/readyz`: the database answers and the CA key signs; 503 when the database is gone.
async fn readiness(b: Backend) {
    let srv = TestServer::start(b).await;
    let r = reqwest::get(srv.url("/readyz")).await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().await.unwrap(), "ready\n");
    srv.state.svc.db.pool.close().await;
    let r = reqwest::get(srv.url("/readyz")).await.unwrap();
    assert_eq!(r.status(), 503);
    assert!(r.text().await.unwrap().contains("database"));
    srv.stop().await;
}
both!(readiness);

/// `/metrics` on the main address only with the token; the admin router without one. The
/// numbers follow what happened: a certificate issued, a CSR refused, a failed login, the
/// mail queue, the pool, and the latency histogram by route pattern (never the raw path).
async fn metrics(b: Backend) {
    const TOKEN: &str = "metrics-token-0123456789";
    let srv = TestServer::start_with(b, |c| {
        c.server.metrics_token = Some(TOKEN.into());
    })
    .await;
    let alice = srv.applicant(common::TAX_ID).await;
    let ops = srv.operator().await;
    common::issued_application(&alice, &ops).await;
    let app = common::paid_application(&alice, &ops).await;
    let weak = "-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n-----END CERTIFICATE REQUEST-----\n";
    assert_eq!(alice.submit_csr(&app.serial, weak).await.status(), 422);
    add_operator(&srv, "alice.ops").await;
    assert_eq!(login_from(&srv.base, "-", "alice.ops", "wrong").await, 401);

    let http = reqwest::Client::new();
    assert_eq!(
        http.get(srv.url("/metrics")).send().await.unwrap().status(),
        401
    );
    let r = http
        .get(srv.url("/metrics"))
        .bearer_auth("wrong-token-0123456789")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let text = http
        .get(srv.url("/metrics"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for want in [
        "portal_certificates_issued_total 1",
        "portal_csrs_refused_total{reason=\"parse\"} 1",
        "portal_logins_failed_total{kind=\"operator\"} 1",
        "portal_mail_queue_depth ",
        "portal_mail_oldest_pending_age_seconds ",
        "portal_mail_failed 0",
        "portal_db_pool_connections ",
        "portal_db_pool_max_connections ",
        "route=\"/api/applications/{serial}/csr\"",
        "portal_http_request_duration_seconds_bucket{",
    ] {
        assert!(text.contains(want), "metrics lack {want:?}:\n{text}");
    }
    assert!(
        !text.contains(&app.serial),
        "raw paths must not become labels"
    );
    // Mails were queued and no worker runs in this test: the queue shows them.
    let depth: i64 = text
        .lines()
        .find_map(|l| l.strip_prefix("portal_mail_queue_depth "))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(depth >= 4, "{depth}");

    // Without a token configured the main address has no /metrics at all.
    let plain = TestServer::start(b).await;
    assert_eq!(
        reqwest::get(plain.url("/metrics")).await.unwrap().status(),
        404
    );
    // The admin router (server.metrics_bind) serves it without a token.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let admin = server::http::ops::admin_router(plain.state.clone());
    let h = tokio::spawn(async move { axum::serve(listener, admin).await });
    let r = reqwest::get(format!("http://{addr}/metrics"))
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("portal_db_pool_max_connections")
    );
    let r = reqwest::get(format!("http://{addr}/readyz")).await.unwrap();
    assert_eq!(r.status(), 200);
    h.abort();
    plain.stop().await;
    srv.stop().await;
}
both!(metrics);

/// Every answer names its request id; a proxy's id is kept.
#[tokio::test]
async fn answers_carry_the_request_id() {
    let srv = TestServer::start(Backend::Sqlite).await;
    let r = reqwest::get(srv.url("/healthz")).await.unwrap();
    let id = r.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert_eq!(id.len(), 16);
    let r = reqwest::Client::new()
        .get(srv.url("/healthz"))
        .header("X-Request-Id", "from-proxy-42")
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["x-request-id"], "from-proxy-42");
    srv.stop().await;
}

// ---- the binary: logs and start-up ---------------------------------------------------

fn portal() -> std::process::Command {
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_portal"));
    // Nothing from the developer's environment or config file.
    for (k, _) in std::env::vars() {
        if k.starts_with("PORTAL_") {
            c.env_remove(k);
        }
    }
    c
}

/// `PORTAL_LOG_FORMAT=json`: one JSON object per line, and a request's lines carry its id.
#[tokio::test]
async fn json_logs_carry_the_request_id() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut child = tokio::process::Command::from(portal())
        .args(["serve"])
        .env("PORTAL_LOG_FORMAT", "json")
        .env("PORTAL_LOG", "info")
        .env("PORTAL_BIND", format!("127.0.0.1:{port}"))
        .env("PORTAL_DATA_DIR", dir.path().join("data"))
        .env("PORTAL_EXPIRY_INTERVAL_SECS", "0")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + StdDuration::from_secs(60);
    while reqwest::get(format!("{base}/healthz")).await.is_err() {
        assert!(Instant::now() < deadline, "portal did not start");
        tokio::time::sleep(StdDuration::from_millis(100)).await;
    }
    let r = reqwest::Client::new()
        .post(format!("{base}/api/auth/operator-login"))
        .header("X-Requested-With", "portal")
        .header("X-Request-Id", "json-log-test-7")
        .json(&serde_json::json!({"username": "nobody", "password": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    tokio::time::sleep(StdDuration::from_millis(300)).await;
    child.start_kill().unwrap();
    let out = child.wait_with_output().await.unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {l}: {e}")))
        .collect();
    assert!(!lines.is_empty());
    let failed = lines
        .iter()
        .find(|l| l["fields"]["message"] == "operator login failed")
        .unwrap_or_else(|| panic!("no login failure line in {text}"));
    assert_eq!(failed["span"]["request_id"], "json-log-test-7");
    assert_eq!(failed["span"]["route"], "/api/auth/operator-login");
}

const UNREACHABLE: &str = "postgres://nouser@127.0.0.1:1/x";

/// Issue 16.6: with an unreachable database `portal serve` printed nothing for over a
/// minute. Now each attempt is logged with its reason and it gives up after the
/// configured time with a clear error.
#[test]
fn serve_with_an_unreachable_database_says_why_and_stops() {
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let out = portal()
        .arg("serve")
        .env("PORTAL_DATABASE_URL", UNREACHABLE)
        .env("PORTAL_SERVER__DATABASE_CONNECT_TIMEOUT_SECS", "3")
        .env("PORTAL_DATA_DIR", dir.path().join("data"))
        .env("PORTAL_BIND", "127.0.0.1:0")
        .output()
        .unwrap();
    let took = started.elapsed();
    assert!(!out.status.success());
    assert!(took < StdDuration::from_secs(20), "took {took:?}");
    let all = common::output_text(&out);
    assert!(
        all.contains("database connection failed; retrying"),
        "no attempt logged:\n{all}"
    );
    assert!(all.contains("Connection refused"), "no reason:\n{all}");
    assert!(
        all.contains("portal: database postgres://nouser@127.0.0.1:1/x unreachable: gave up after"),
        "no final error:\n{all}"
    );
}

/// `portal check-config` prints one line per check and fails on the unreachable database.
#[test]
fn check_config_prints_one_line_per_check() {
    let dir = tempfile::tempdir().unwrap();
    let out = portal()
        .arg("check-config")
        .env("PORTAL_DATABASE_URL", UNREACHABLE)
        .env("PORTAL_SERVER__DATABASE_CONNECT_TIMEOUT_SECS", "2")
        .env("PORTAL_DATA_DIR", dir.path().join("data"))
        .env("PORTAL_LOG", "error")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    // The check lines; main's closing error is a log line on the same stream.
    let lines: Vec<&str> = stdout
        .lines()
        .filter(|l| !l.contains("check(s) failed"))
        .collect();
    assert_eq!(lines.len(), 5, "{stdout}");
    assert!(lines[0].starts_with("ok   settings"), "{stdout}");
    assert!(lines[1].starts_with("FAIL database"), "{stdout}");
    assert!(lines[1].contains("unreachable"), "{stdout}");
    assert!(lines[2].starts_with("warn ca"), "{stdout}");
    assert!(lines[3].starts_with("warn mail"), "{stdout}");
    assert!(lines[4].starts_with("ok   public_url"), "{stdout}");
    assert!(
        !dir.path().join("data/ca.key").exists(),
        "checking creates nothing"
    );
}

/// Against a working setup every check passes: a migrated PostgreSQL database, the CA
/// files, an SMTP server that greets.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_config_passes_on_a_working_setup() {
    let srv = TestServer::start(Backend::Postgres).await;
    let tmp = tempfile::tempdir().unwrap();
    let smtp = SmtpServer::start(free_port(), &tmp.path().join("mail")).await;
    let cfg = &srv.config;
    let toml = format!(
        "database_url = {:?}\ndata_dir = {:?}\n[ca]\ncert = {:?}\nkey = {:?}\n\
         [mail]\nkind = \"smtp\"\nhost = \"127.0.0.1\"\nport = {}\nsecurity = \"none\"\n",
        cfg.database_url.clone().unwrap(),
        tmp.path().join("data").display().to_string(),
        cfg.ca_cert.clone().unwrap().display().to_string(),
        cfg.ca_key.clone().unwrap().display().to_string(),
        smtp.port,
    );
    let file = tmp.path().join("portal.toml");
    std::fs::write(&file, toml).unwrap();
    let out = tokio::task::spawn_blocking(move || {
        portal()
            .args(["check-config", "--config"])
            .arg(&file)
            .env("PORTAL_LOG", "error")
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 5, "{stdout}");
    for l in &lines {
        assert!(l.starts_with("ok  "), "{stdout}");
    }
    assert!(lines[1].contains("migrations applied"), "{stdout}");
    assert!(
        lines[2].contains("matches the certificate and signs"),
        "{stdout}"
    );
    assert!(lines[3].contains("220"), "{stdout}");
    smtp.stop();
    srv.stop().await;
}

/// Backups: a `pg_dump -Fc` of a working portal restored by scripts/restore.sh into a new
/// database, migrated, checked and served from (readiness and the CRL), with its data.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dump_restores_into_a_new_database_that_serves() {
    let srv = TestServer::start(Backend::Postgres).await;
    let alice = srv.applicant(common::TAX_ID).await;
    let ops = srv.operator().await;
    common::issued_application(&alice, &ops).await;
    alice.create(&good_form()).await;
    let tmp = tempfile::tempdir().unwrap();
    let dump = tmp.path().join("portal.dump");
    let source = srv.config.database_url.clone().unwrap();
    let st = std::process::Command::new("pg_dump")
        .args(["-Fc", "-f"])
        .arg(&dump)
        .arg(&source)
        .status()
        .unwrap();
    assert!(st.success());
    let target = common::PgDb::create().await;
    let config = tmp.path().join("portal.toml");
    std::fs::write(
        &config,
        format!(
            "data_dir = {:?}\n[ca]\ncert = {:?}\nkey = {:?}\n",
            tmp.path().join("data").display().to_string(),
            srv.config.ca_cert.clone().unwrap().display().to_string(),
            srv.config.ca_key.clone().unwrap().display().to_string(),
        ),
    )
    .unwrap();
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/restore.sh");
    let url = target.url.clone();
    let out = tokio::task::spawn_blocking(move || {
        let mut c = portal();
        c.env("PORTAL_BIN", env!("CARGO_BIN_EXE_portal"));
        let mut cmd = std::process::Command::new("bash");
        cmd.arg(script).arg(&dump).arg(&url).arg(&config);
        for (k, v) in c.get_envs() {
            match v {
                Some(v) => cmd.env(k, v),
                None => cmd.env_remove(k),
            };
        }
        cmd.output().unwrap()
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("restored: 2 applications, 1 certificates"),
        "{stdout}"
    );
    srv.stop().await;
    drop(target);
}

/// deploy/portal.service keeps the hardening the operations guide promises, and systemd
/// itself accepts it (where `systemd-analyze` exists).
#[test]
fn the_systemd_unit_is_hardened_and_valid() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let unit = std::fs::read_to_string(root.join("deploy/portal.service")).unwrap();
    for line in [
        "User=portal",
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
        "ReadWritePaths=/var/lib/portal",
        "LoadCredential=ca.key:",
        "CapabilityBoundingSet=\n",
        "PrivateTmp=yes",
        "check-config",
    ] {
        assert!(unit.contains(line), "portal.service lacks {line:?}");
    }
    let nginx = std::fs::read_to_string(root.join("deploy/nginx.conf")).unwrap();
    assert!(nginx.contains("proxy_set_header X-Forwarded-For $remote_addr;"));
    assert!(nginx.contains("ssl_certificate "));
    let Ok(which) = std::process::Command::new("systemd-analyze")
        .arg("--version")
        .output()
    else {
        eprintln!("systemd-analyze not installed: verify skipped");
        return;
    };
    assert!(which.status.success());
    let tmp = tempfile::tempdir().unwrap();
    let copy = tmp.path().join("portal.service");
    std::fs::write(
        &copy,
        unit.replace("/usr/local/bin/portal", env!("CARGO_BIN_EXE_portal")),
    )
    .unwrap();
    let out = std::process::Command::new("systemd-analyze")
        .args(["verify", "--man=no"])
        .arg(&copy)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    // Only complaints about this unit count (the host's other units are not ours).
    let ours: Vec<&str> = err
        .lines()
        .filter(|l| l.contains("portal.service"))
        .collect();
    assert!(out.status.success() && ours.is_empty(), "{err}");
}
