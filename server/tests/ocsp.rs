//! OCSP (RFC 6960, RFC 5019): `openssl ocsp` against the portal's responder for good, held,
//! released, revoked and unknown certificates, over POST and GET, on both databases; the
//! answers are pre-produced (the same bytes until the status changes) and lint clean with
//! pkilint; the delegated responder certificate is renewed before it expires.

// Test helpers outside #[test] fns unwrap too: a failure there is a test failure.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::Path;
use std::process::Command;

use base64::Engine as _;
use common::{Backend, TestServer, count, openssl_bin, output_text};
use proto::ApplicationType;

/// A directory with the CA certificate (`ca.pem`) and the leaf (`leaf.pem`).
fn files(srv: &TestServer, leaf_pem: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("ca.pem"),
        srv.state.svc.ca.certificate_pem(),
    )
    .unwrap();
    std::fs::write(dir.path().join("leaf.pem"), leaf_pem).unwrap();
    dir
}

/// `openssl ocsp` asking the portal; returns stdout and stderr together and the DER answer.
/// `target` is `-cert leaf.pem` or `-serial 0x…`.
fn ask(srv: &TestServer, dir: &Path, target: &[&str], extra: &[&str]) -> (String, Vec<u8>) {
    let url = srv.url("/ocsp");
    let out = Command::new(openssl_bin())
        .args([
            "ocsp", "-issuer", "ca.pem", "-CAfile", "ca.pem", "-url", &url,
        ])
        .args(target)
        .args(["-respout", "resp.der", "-resp_text"])
        .args(extra)
        .current_dir(dir)
        .output()
        .unwrap();
    let text = output_text(&out);
    assert!(out.status.success(), "openssl ocsp failed:\n{text}");
    assert!(text.contains("Response verify OK"), "{text}");
    (text, std::fs::read(dir.join("resp.der")).unwrap())
}

/// [`ask`] once the test clock runs ahead of the real one, which openssl checks thisUpdate
/// and the responder certificate against: verify at the test clock's time, allow the gap.
fn ask_ahead(srv: &TestServer, dir: &Path) -> (String, Vec<u8>) {
    let at = srv.now().unix_timestamp().to_string();
    let extra = ["-no_nonce", "-validity_period", "864000", "-attime", &at];
    ask(srv, dir, &["-cert", "leaf.pem"], &extra)
}

fn assert_lints_clean(der: &[u8]) {
    let f = common::lint("lint_ocsp_response", &[], der);
    assert!(f.is_empty(), "pkilint lint_ocsp_response findings:\n{f}");
}

/// The DER request `openssl ocsp` would send for `leaf.pem`.
fn request_der(dir: &Path) -> Vec<u8> {
    common::openssl(
        dir,
        &[
            "ocsp",
            "-issuer",
            "ca.pem",
            "-cert",
            "leaf.pem",
            "-no_nonce",
            "-reqout",
            "req.der",
        ],
    );
    std::fs::read(dir.join("req.der")).unwrap()
}

async fn post(srv: &TestServer, body: Vec<u8>) -> Vec<u8> {
    let r = reqwest::Client::new()
        .post(srv.url("/ocsp"))
        .header("content-type", "application/ocsp-request")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(r.headers()["content-type"], "application/ocsp-response");
    r.bytes().await.unwrap().to_vec()
}

/// The `Revocation Date` of the CRL entry, as openssl prints it.
async fn crl_revocation_date(srv: &TestServer, dir: &Path) -> String {
    let crl = reqwest::get(srv.url("/crl/ca.crl"))
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    std::fs::write(dir.join("crl.der"), &crl).unwrap();
    let text = String::from_utf8(common::openssl(
        dir,
        &["crl", "-inform", "DER", "-in", "crl.der", "-noout", "-text"],
    ))
    .unwrap();
    let line = text
        .lines()
        .find(|l| l.contains("Revocation Date:"))
        .unwrap_or_else(|| panic!("no entry on the CRL:\n{text}"));
    line.split_once("Revocation Date:")
        .unwrap()
        .1
        .trim()
        .to_owned()
}

async fn good_held_released_revoked_and_unknown(b: Backend) {
    let srv = TestServer::start(b).await;
    let alice = srv.applicant(common::TAX_ID).await;
    let ops = srv.operator().await;
    let (app, cert) = common::issued_application(&alice, &ops).await;
    let dir = files(&srv, &cert.certificate_pem);
    let d = dir.path();

    // The certificate names the responder.
    let leaf = String::from_utf8(common::openssl(
        d,
        &["x509", "-in", "leaf.pem", "-noout", "-text"],
    ))
    .unwrap();
    assert!(
        leaf.contains(&format!("OCSP - URI:{}", srv.url("/ocsp"))),
        "{leaf}"
    );

    // Good, answered from the answer stored at issuance (no nonce: RFC 5019).
    let (text, good) = ask(&srv, d, &["-cert", "leaf.pem"], &["-no_nonce"]);
    assert!(text.contains("leaf.pem: good"), "{text}");
    assert!(
        text.contains("OCSP Response Status: successful (0x0)"),
        "{text}"
    );
    assert_lints_clean(&good);
    let stored = |srv: &TestServer| {
        let pool = srv.state.svc.db.pool.clone();
        let serial = cert.serial_hex.clone();
        async move {
            use sqlx::Row as _;
            sqlx::query("SELECT der FROM ocsp_responses WHERE serial_hex = $1")
                .bind(serial)
                .fetch_one(&pool)
                .await
                .unwrap()
                .try_get::<Vec<u8>, _>(0)
                .unwrap()
        }
    };
    assert_eq!(good, stored(&srv).await, "the stored answer is served");
    // Ten seconds later the same bytes again: nothing was signed for this request.
    srv.clock.advance(time::Duration::seconds(10));
    let (_, again) = ask(&srv, d, &["-cert", "leaf.pem"], &["-no_nonce"]);
    assert_eq!(again, good);
    // With a nonce, openssl still accepts the pre-produced answer (and says it has none).
    let (text, _) = ask(&srv, d, &["-cert", "leaf.pem"], &[]);
    assert!(text.contains("leaf.pem: good"), "{text}");

    // Held: revoked with reason certificateHold, at the CRL entry's time.
    alice
        .post_ok(
            "/api/applications",
            &common::targeted_form(ApplicationType::Suspend, &app.serial),
            201,
        )
        .await;
    let (text, held) = ask(&srv, d, &["-cert", "leaf.pem"], &["-no_nonce"]);
    assert!(text.contains("leaf.pem: revoked"), "{text}");
    assert!(text.contains("Reason: certificateHold"), "{text}");
    let since = crl_revocation_date(&srv, d).await;
    assert!(
        text.contains(&format!("Revocation Time: {since}")),
        "CRL says {since}:\n{text}"
    );
    assert_lints_clean(&held);

    // Released: good again.
    let reason = serde_json::json!({"reason": "found the card"});
    ops.post_ok(
        &format!("/api/admin/certificates/{}/unsuspend", cert.serial_hex),
        &reason,
        200,
    )
    .await;
    let (text, _) = ask(&srv, d, &["-cert", "leaf.pem"], &["-no_nonce"]);
    assert!(text.contains("leaf.pem: good"), "{text}");

    // Revoked: at the CRL entry's time, with the CRL entry's reason (none when unspecified).
    srv.clock.advance(time::Duration::seconds(5));
    ops.post_ok(
        &format!("/api/admin/certificates/{}/revoke", cert.serial_hex),
        &reason,
        200,
    )
    .await;
    let (text, revoked) = ask(&srv, d, &["-cert", "leaf.pem"], &["-no_nonce"]);
    assert!(text.contains("leaf.pem: revoked"), "{text}");
    assert!(!text.contains("certificateHold"), "{text}");
    let since = crl_revocation_date(&srv, d).await;
    assert!(
        text.contains(&format!("Revocation Time: {since}")),
        "CRL says {since}:\n{text}"
    );
    assert_lints_clean(&revoked);
    assert_eq!(revoked, stored(&srv).await);

    // A serial this CA never issued: unknown, signed on demand with the client's nonce.
    let (text, unknown) = ask(&srv, d, &["-serial", "0x0123456789abcdef"], &[]);
    assert!(text.contains("0x0123456789abcdef: unknown"), "{text}");
    assert!(!text.contains("WARNING: no nonce"), "{text}");
    assert_lints_clean(&unknown);
    // A SHA-256 CertID is answered too (on demand: the stored answers use SHA-1).
    let (text, _) = ask(&srv, d, &["-sha256", "-cert", "leaf.pem"], &[]);
    assert!(text.contains("leaf.pem: revoked"), "{text}");
    assert_eq!(
        count(&srv, "SELECT COUNT(*) FROM ocsp_responses").await,
        1,
        "answers on demand are not stored"
    );
    srv.stop().await;
}
both!(good_held_released_revoked_and_unknown);

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn get_follows_rfc_5019_with_caching_headers() {
    let srv = TestServer::start(Backend::Sqlite).await;
    let alice = srv.applicant(common::TAX_ID).await;
    let ops = srv.operator().await;
    let (_, cert) = common::issued_application(&alice, &ops).await;
    let dir = files(&srv, &cert.certificate_pem);
    let req = request_der(dir.path());
    let by_post = post(&srv, req.clone()).await;

    // Base64 of the DER request, URL-encoded ('+', '/' and '=' escaped), as RFC 5019 5 says.
    let b64 = base64::engine::general_purpose::STANDARD.encode(&req);
    let escaped = b64
        .replace('+', "%2B")
        .replace('/', "%2F")
        .replace('=', "%3D");
    let client = reqwest::Client::new();
    let r = client
        .get(srv.url(&format!("/ocsp/{escaped}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let h = r.headers().clone();
    assert_eq!(h["content-type"], "application/ocsp-response");
    let cc = h["cache-control"].to_str().unwrap().to_owned();
    assert!(cc.contains("public") && cc.contains("no-transform"), "{cc}");
    let max_age: i64 = cc
        .split(',')
        .find_map(|p| p.trim().strip_prefix("max-age="))
        .unwrap()
        .parse()
        .unwrap();
    // Good until nextUpdate: 24 hours after it was signed.
    assert!((24 * 3600 - 60..=24 * 3600).contains(&max_age), "{cc}");
    let this_update = httpdate::parse_http_date(h["last-modified"].to_str().unwrap()).unwrap();
    let next_update = httpdate::parse_http_date(h["expires"].to_str().unwrap()).unwrap();
    assert_eq!(
        next_update.duration_since(this_update).unwrap().as_secs(),
        24 * 3600
    );
    let etag = h["etag"].to_str().unwrap().to_owned();
    assert_eq!(r.bytes().await.unwrap().to_vec(), by_post);

    // Raw slashes in the path work too, and a revalidation with the ETag gets 304.
    let r = client
        .get(srv.url(&format!("/ocsp/{b64}")))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 304);
    assert_eq!(r.headers()["etag"], etag.as_str());

    // Not an OCSP request: malformedRequest, never cached.
    for path in ["/ocsp/bm90IE9DU1A=", "/ocsp/%%%"] {
        let r = client.get(srv.url(path)).send().await.unwrap();
        assert_eq!(r.headers()["cache-control"], "no-store");
        assert_eq!(
            r.bytes().await.unwrap().as_ref(),
            &[0x30, 0x03, 0x0a, 0x01, 0x01]
        );
    }
    assert_eq!(
        post(&srv, b"junk".to_vec()).await,
        [0x30, 0x03, 0x0a, 0x01, 0x01]
    );
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn answers_signed_on_demand_are_rate_limited() {
    let srv = TestServer::start_with(Backend::Sqlite, |c| c.ca.ocsp_sign_per_second = 1).await;
    let alice = srv.applicant(common::TAX_ID).await;
    let ops = srv.operator().await;
    let (_, cert) = common::issued_application(&alice, &ops).await;
    let dir = files(&srv, &cert.certificate_pem);
    common::openssl(
        dir.path(),
        &[
            "ocsp",
            "-issuer",
            "ca.pem",
            "-serial",
            "12345",
            "-reqout",
            "unknown.der",
        ],
    );
    let unknown = std::fs::read(dir.path().join("unknown.der")).unwrap();
    let mut refused = 0;
    for _ in 0..6 {
        let body = post(&srv, unknown.clone()).await;
        if body == [0x30, 0x03, 0x0a, 0x01, 0x03] {
            refused += 1;
        }
    }
    assert!(refused >= 3, "only {refused} of 6 refused with tryLater");
    // Pre-produced answers are not limited.
    let req = request_der(dir.path());
    for _ in 0..20 {
        let body = post(&srv, req.clone()).await;
        assert!(body.len() > 100, "{body:?}");
    }
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn answers_are_refreshed_and_the_responder_renewed_before_they_expire() {
    let srv = TestServer::start_with(Backend::Sqlite, |c| {
        c.ca.ocsp_responder_days = 3;
        c.ca.ocsp_validity_hours = 24;
    })
    .await;
    let alice = srv.applicant(common::TAX_ID).await;
    let ops = srv.operator().await;
    let (_, cert) = common::issued_application(&alice, &ops).await;
    let dir = files(&srv, &cert.certificate_pem);
    let d = dir.path();

    // The responder certificate: delegated signer that clients need not check.
    let responder_pem = srv.config.data_dir.join("ocsp-responder.pem");
    std::fs::copy(&responder_pem, d.join("responder.pem")).unwrap();
    let text = String::from_utf8(common::openssl(
        d,
        &["x509", "-in", "responder.pem", "-noout", "-text"],
    ))
    .unwrap();
    assert!(text.contains("OCSP Signing"), "{text}");
    assert!(text.contains("OCSP No Check"), "{text}");
    assert!(text.contains("Digital Signature"), "{text}");
    assert!(text.contains("OCSP Responder"), "{text}");
    let first_responder = std::fs::read(&responder_pem).unwrap();
    common::assert_cert_lints_clean(
        &ca::cert_pem_to_der(&String::from_utf8_lossy(&first_responder)).unwrap(),
    );
    let (_, first) = ask(&srv, d, &["-cert", "leaf.pem"], &["-no_nonce"]);

    // 13 hours on: less than half of the 24 hours left, the job re-signs.
    srv.clock.advance(time::Duration::hours(13));
    server::run_jobs_once(&srv.state).await;
    let (text, second) = ask_ahead(&srv, d);
    assert!(text.contains("leaf.pem: good"), "{text}");
    assert_ne!(second, first, "re-signed");
    assert_eq!(std::fs::read(&responder_pem).unwrap(), first_responder);

    // Two days on: a third of the responder's 3 days left, a new certificate, new answers
    // that OpenSSL verifies with it.
    srv.clock.advance(time::Duration::hours(36));
    server::run_jobs_once(&srv.state).await;
    let renewed = std::fs::read(&responder_pem).unwrap();
    assert_ne!(renewed, first_responder);
    let (text, third) = ask_ahead(&srv, d);
    assert!(text.contains("leaf.pem: good"), "{text}");
    let renewed_b64: String = String::from_utf8_lossy(&renewed)
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    let renewed_der = base64::engine::general_purpose::STANDARD
        .decode(renewed_b64)
        .unwrap();
    assert!(
        third.windows(renewed_der.len()).any(|w| w == renewed_der),
        "the answer carries the renewed responder certificate"
    );

    // A restart keeps the renewed responder (no new certificate at every start).
    let srv = srv.restart().await;
    assert_eq!(std::fs::read(&responder_pem).unwrap(), renewed);
    srv.stop().await;
}
