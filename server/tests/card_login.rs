//! IC-card login and revocation (issue 12 point 4): the card's CRL is fetched from its
//! distribution point (a test HTTP server on 127.0.0.1), verified and cached until its
//! nextUpdate; `auth.card_revocation` require (the default) / prefer / off; CA and
//! keyUsage rules for the card certificate.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use card_auth::testing::{
    CardSpec, CrlRoute, CrlServer, RevocationReason, TestCard, TestHash, TestPki, unreachable_url,
};
use common::{Backend, TestServer, code};
use proto::ErrorCode;
use server::config::{CardRevocation, Config};
use time::Duration;

const TAX_ID: &str = "04595257";
const CRL: &str = "moeaca/issuing.crl";

struct Portal {
    crls: CrlServer,
    pki: TestPki,
    srv: TestServer,
    http: reqwest::Client,
    _files: tempfile::TempDir,
}

impl Portal {
    /// A portal trusting a fresh test PKI whose cards point at `crls`' `CRL` path;
    /// `tweak` may set the revocation mode (the default is left alone otherwise).
    async fn start(b: Backend, tweak: impl FnOnce(&mut Config) + Send + 'static) -> Portal {
        let crls = CrlServer::start().unwrap();
        let now = time::OffsetDateTime::now_utc();
        let pki = TestPki::new_with_crl("Revocation GRCA", now, &crls.url(CRL)).unwrap();
        let files = tempfile::tempdir().unwrap();
        let root = files.path().join("root.pem");
        let int = files.path().join("int.pem");
        std::fs::write(&root, pki.root.pem()).unwrap();
        std::fs::write(&int, pki.intermediate.pem()).unwrap();
        let srv = TestServer::start_with(b, move |c| {
            c.auth.dev_login = false;
            c.auth.card_roots = vec![root];
            c.auth.card_intermediates = vec![int];
            tweak(c);
        })
        .await;
        let http = reqwest::Client::builder()
            .cookie_store(true)
            .build()
            .unwrap();
        Portal {
            crls,
            pki,
            srv,
            http,
            _files: files,
        }
    }

    fn card(&self, f: impl FnOnce(&mut CardSpec)) -> TestCard {
        let mut spec = CardSpec::new(TAX_ID, time::OffsetDateTime::now_utc());
        f(&mut spec);
        self.pki.issue_card(&spec).unwrap()
    }

    /// Publishes a CRL current at the server's (possibly shifted) clock.
    fn publish(&self, revoked: &[(&TestCard, RevocationReason)]) {
        let crl = self.pki.current_crl(revoked, self.srv.now()).unwrap();
        self.crls.publish(CRL, crl);
    }

    /// A full login: challenge, the card's signature, the login call. Status and body.
    async fn login(&self, card: &TestCard) -> (u16, serde_json::Value) {
        let r = self
            .http
            .post(self.srv.url("/api/auth/card/challenge"))
            .header("X-Requested-With", "portal")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200);
        let c: proto::api::CardChallenge = r.json().await.unwrap();
        let sig = card.sign_b64(c.tbs.as_bytes(), TestHash::Sha256).unwrap();
        let r = self
            .http
            .post(self.srv.url("/api/auth/card/login"))
            .header("X-Requested-With", "portal")
            .json(&serde_json::json!({
                "challenge_id": c.challenge_id, "signature_b64": sig, "certificate_b64": card.cert_b64()
            }))
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or_default())
    }

    async fn assert_logs_in(&self, card: &TestCard) {
        let (status, body) = self.login(card).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["tax_id"], TAX_ID);
    }

    async fn assert_refused(&self, card: &TestCard, status: u16, want_code: ErrorCode, says: &str) {
        let (got, body) = self.login(card).await;
        assert_eq!(got, status, "{body}");
        assert_eq!(code(&body), want_code, "{body}");
        let message = body["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains(says), "{message:?} should say {says:?}");
    }
}

async fn require_is_the_default(b: Backend) {
    let p = Portal::start(b, |_| {}).await;
    assert_eq!(p.srv.config.auth.card_revocation, CardRevocation::Require);
    let good = p.card(|_| {});
    let revoked = p.card(|_| {});
    p.publish(&[(&revoked, RevocationReason::KeyCompromise)]);

    p.assert_logs_in(&good).await;
    p.assert_refused(&revoked, 401, ErrorCode::CardRevoked, "keyCompromise")
        .await;
    // One fetch served both logins: the CRL is kept until its nextUpdate.
    p.assert_logs_in(&good).await;
    assert_eq!(p.crls.hits(CRL), 1);

    // A card whose distribution point does not answer.
    let unreachable = p.card(|s| s.crl_urls = Some(vec![unreachable_url("x.crl").unwrap()]));
    p.assert_refused(
        &unreachable,
        503,
        ErrorCode::CardRevocationUnknown,
        "could not be determined",
    )
    .await;

    // Past nextUpdate the cached CRL is not used; the published one is now stale too.
    p.srv.clock.advance(Duration::days(2));
    p.assert_refused(&good, 503, ErrorCode::CardRevocationUnknown, "stale")
        .await;
    assert_eq!(p.crls.hits(CRL), 2);
    // The CA publishes a new CRL; after the failure backoff the next login fetches it.
    p.publish(&[(&revoked, RevocationReason::KeyCompromise)]);
    p.assert_refused(&good, 503, ErrorCode::CardRevocationUnknown, "stale")
        .await;
    assert_eq!(p.crls.hits(CRL), 2, "a failed fetch is not retried at once");
    p.srv.clock.advance(Duration::seconds(31));
    p.assert_logs_in(&good).await;
    assert_eq!(p.crls.hits(CRL), 3);
    p.assert_refused(&revoked, 401, ErrorCode::CardRevoked, "revoked")
        .await;
    p.srv.stop().await;
}
both!(require_is_the_default);

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn prefer_lets_an_unknown_status_through_but_not_a_revoked_card() {
    let p = Portal::start(Backend::Sqlite, |c| {
        c.auth.card_revocation = CardRevocation::Prefer;
    })
    .await;
    let good = p.card(|_| {});
    let revoked = p.card(|_| {});
    // Nothing published yet: 404 at the distribution point.
    p.assert_logs_in(&good).await;
    let unreachable = p.card(|s| s.crl_urls = Some(vec![unreachable_url("x.crl").unwrap()]));
    p.assert_logs_in(&unreachable).await;
    // A stale CRL.
    let now = p.srv.now();
    let stale = p
        .pki
        .crl(&[], now - Duration::days(10), now - Duration::days(1))
        .unwrap();
    let stale_card = p.card(|s| s.crl_urls = Some(vec![p.crls.url("stale.crl")]));
    p.crls.publish("stale.crl", stale);
    p.assert_logs_in(&stale_card).await;
    // Revoked is revoked in this mode too.
    let listed = p.card(|s| s.crl_urls = Some(vec![p.crls.url("current.crl")]));
    p.crls.publish(
        "current.crl",
        p.pki
            .current_crl(
                &[
                    (&listed, RevocationReason::CertificateHold),
                    (&revoked, RevocationReason::Superseded),
                ],
                now,
            )
            .unwrap(),
    );
    p.assert_refused(&listed, 401, ErrorCode::CardRevoked, "certificateHold")
        .await;
    p.srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn off_checks_nothing() {
    let p = Portal::start(Backend::Sqlite, |c| {
        c.auth.card_revocation = CardRevocation::Off;
    })
    .await;
    let revoked = p.card(|_| {});
    p.publish(&[(&revoked, RevocationReason::KeyCompromise)]);
    p.assert_logs_in(&revoked).await;
    assert_eq!(p.crls.hits(CRL), 0);
    p.srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn crl_fetch_has_a_time_and_a_size_limit() {
    let p = Portal::start(Backend::Sqlite, |c| {
        c.auth.card_crl_timeout_secs = 1;
        c.auth.card_crl_max_bytes = 4096;
    })
    .await;
    let slow = p.card(|s| s.crl_urls = Some(vec![p.crls.url("slow.crl")]));
    p.crls.set("slow.crl", CrlRoute::Hang);
    let started = std::time::Instant::now();
    p.assert_refused(&slow, 503, ErrorCode::CardRevocationUnknown, "time limit")
        .await;
    assert!(started.elapsed() < std::time::Duration::from_secs(10));

    let big = p.card(|s| s.crl_urls = Some(vec![p.crls.url("big.crl")]));
    p.crls.publish("big.crl", vec![0x30; 5000]);
    p.assert_refused(&big, 503, ErrorCode::CardRevocationUnknown, "larger than")
        .await;
    p.srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ca_certificates_and_cards_without_digital_signature_are_refused() {
    let p = Portal::start(Backend::Sqlite, |_| {}).await;
    p.publish(&[]);
    let ca = p.card(|s| s.is_ca = true);
    p.assert_refused(&ca, 401, ErrorCode::Unauthenticated, "CA certificate")
        .await;
    let no_key_usage = p.card(|s| s.key_usage_extension = false);
    p.assert_refused(
        &no_key_usage,
        401,
        ErrorCode::Unauthenticated,
        "digitalSignature",
    )
    .await;
    let encryption_only = p.card(|s| s.digital_signature = false);
    p.assert_refused(
        &encryption_only,
        401,
        ErrorCode::Unauthenticated,
        "digitalSignature",
    )
    .await;
    p.srv.stop().await;
}

/// Issue 12.3: the session carries the company name the card certificate proves, and an
/// application made in it takes that name whatever the form says.
async fn the_card_names_the_company(b: Backend) {
    let p = Portal::start(b, |c| c.auth.card_revocation = CardRevocation::Off).await;
    let card = p.card(|s| s.company = "卡片公司股份有限公司".into());
    let (status, session) = p.login(&card).await;
    assert_eq!(status, 200, "{session}");
    assert_eq!(session["company_name"], "卡片公司股份有限公司");
    let mut form = common::good_form();
    form.company.name = "別家公司股份有限公司".into();
    let r = p
        .http
        .post(p.srv.url("/api/applications"))
        .header("X-CSRF-Token", session["csrf_token"].as_str().unwrap())
        .json(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 201);
    let app: serde_json::Value = r.json().await.unwrap();
    assert_eq!(app["company"]["name"], "卡片公司股份有限公司");
    p.srv.stop().await;
}
both!(the_card_names_the_company);
