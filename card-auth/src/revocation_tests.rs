//! Revocation at login: CRLs from a fake source (no network here), every mode, and the
//! CRL checks (issuer, signature, freshness, scope).

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock};

use time::{Duration, OffsetDateTime};

use crate::testing::{CardSpec, RevocationReason as Reason, TestCard, TestHash, TestPki};
use crate::{
    CardAuthError, Crl, CrlError, CrlIssuer, LoginAttempt, RevocationMode, RevocationReason,
    RevocationSource, RevocationStatus, VerifiedLogin, verify_login_with_revocation,
};

const TAX_ID: &str = "04595257";
const TBS: &[u8] = b"customs-single-window-login|2026-01-01T00:00:00Z|n";
const CRL_URL: &str = "http://crl.test.invalid/issuing.crl";
const BACKUP_URL: &str = "http://backup.test.invalid/issuing.crl";

static NOW: LazyLock<OffsetDateTime> =
    LazyLock::new(|| OffsetDateTime::from_unix_timestamp(1_767_225_600).unwrap());
static PKI: LazyLock<TestPki> =
    LazyLock::new(|| TestPki::new_with_crl("Revocation Test", *NOW, CRL_URL).unwrap());
static GOOD: LazyLock<TestCard> = LazyLock::new(|| card(CardSpec::new(TAX_ID, *NOW)));
static REVOKED: LazyLock<TestCard> = LazyLock::new(|| card(CardSpec::new(TAX_ID, *NOW)));

fn card(spec: CardSpec) -> TestCard {
    PKI.issue_card(&spec).unwrap()
}

/// Answers from a table (URL → CRL bytes or a fetch error), verifying like a real source.
#[derive(Default)]
struct FakeSource {
    answers: HashMap<String, Result<Vec<u8>, String>>,
    calls: AtomicUsize,
    /// Verify at this time instead of the asked one (a cache handing out an old CRL).
    verified_at: Option<OffsetDateTime>,
}

impl FakeSource {
    fn with(url: &str, answer: Result<Vec<u8>, String>) -> Self {
        let mut s = Self::default();
        s.answers.insert(url.to_owned(), answer);
        s
    }
}

impl RevocationSource for FakeSource {
    fn crl(
        &self,
        url: &str,
        issuer: &CrlIssuer,
        now: OffsetDateTime,
    ) -> impl Future<Output = Result<Arc<Crl>, CrlError>> + Send {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let result = match self.answers.get(url) {
            Some(Ok(bytes)) => {
                Crl::verify(bytes, issuer, self.verified_at.unwrap_or(now)).map(Arc::new)
            }
            Some(Err(e)) => Err(CrlError::Fetch(e.clone())),
            None => Err(CrlError::Fetch("connection refused".into())),
        };
        std::future::ready(result)
    }
}

/// The fake source never waits, so polling once with a no-op waker finishes the future.
fn block_on<F: Future>(f: F) -> F::Output {
    let mut f = std::pin::pin!(f);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    match f.as_mut().poll(&mut cx) {
        std::task::Poll::Ready(v) => v,
        std::task::Poll::Pending => panic!("the fake source never waits"),
    }
}

fn login(
    card: &TestCard,
    mode: RevocationMode,
    source: &FakeSource,
) -> Result<VerifiedLogin, CardAuthError> {
    let sig = card.sign_b64(TBS, TestHash::Sha256).unwrap();
    let intermediates = vec![PKI.intermediate.der.clone()];
    let attempt = LoginAttempt {
        tbs: TBS,
        signature_b64: &sig,
        certificate_der: &card.cert_der,
        intermediates_der: &intermediates,
    };
    block_on(verify_login_with_revocation(
        &attempt,
        &PKI.trust_store(),
        *NOW,
        mode,
        source,
    ))
}

fn current_crl(revoked: &[(&TestCard, Reason)]) -> Vec<u8> {
    PKI.current_crl(revoked, *NOW).unwrap()
}

fn published(revoked: &[(&TestCard, Reason)]) -> FakeSource {
    FakeSource::with(CRL_URL, Ok(current_crl(revoked)))
}

const CHECKING: [RevocationMode; 2] = [RevocationMode::Require, RevocationMode::Prefer];

#[test]
fn good_card_on_a_current_crl_logs_in() {
    let source = published(&[(&REVOKED, Reason::KeyCompromise)]);
    for mode in CHECKING {
        let v = login(&GOOD, mode, &source).unwrap();
        assert_eq!(v.identity.tax_id, TAX_ID);
        match v.revocation {
            RevocationStatus::Good {
                crl_url,
                next_update,
            } => {
                assert_eq!(crl_url, CRL_URL);
                assert_eq!(next_update, *NOW + Duration::days(1));
            }
            other => panic!("{mode:?}: {other:?}"),
        }
    }
}

#[test]
fn revoked_card_is_refused_in_every_checking_mode() {
    let source = published(&[
        (&GOOD, Reason::Superseded),
        (&REVOKED, Reason::KeyCompromise),
    ]);
    for mode in CHECKING {
        match login(&REVOKED, mode, &source).unwrap_err() {
            CardAuthError::Revoked {
                reason, revoked_at, ..
            } => {
                assert_eq!(reason, Some(RevocationReason::KeyCompromise));
                assert_eq!(revoked_at, *NOW - Duration::hours(1));
            }
            other => panic!("{mode:?}: {other:?}"),
        }
    }
    let err = login(&REVOKED, RevocationMode::Require, &source).unwrap_err();
    assert_eq!(err.code(), "revoked");
    assert!(err.to_string().contains("keyCompromise"), "{err}");
}

#[test]
fn suspended_card_is_refused() {
    let source = published(&[(&GOOD, Reason::CertificateHold)]);
    let err = login(&GOOD, RevocationMode::Require, &source).unwrap_err();
    assert!(
        matches!(
            err,
            CardAuthError::Revoked {
                reason: Some(RevocationReason::CertificateHold),
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn off_checks_nothing() {
    let source = published(&[(&REVOKED, Reason::KeyCompromise)]);
    let v = login(&REVOKED, RevocationMode::Off, &source).unwrap();
    assert_eq!(v.revocation, RevocationStatus::NotChecked);
    assert_eq!(source.calls.load(Ordering::SeqCst), 0);
}

#[test]
fn unreachable_crl_refuses_under_require_and_warns_under_prefer() {
    let source = FakeSource::with(CRL_URL, Err("connection refused".into()));
    let err = login(&GOOD, RevocationMode::Require, &source).unwrap_err();
    assert_eq!(err.code(), "revocation_unknown");
    assert!(err.to_string().contains("connection refused"), "{err}");
    assert!(err.to_string().contains(CRL_URL), "{err}");
    match login(&GOOD, RevocationMode::Prefer, &source)
        .unwrap()
        .revocation
    {
        RevocationStatus::Unknown { why } => assert!(why.contains("connection refused"), "{why}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn stale_crl_is_not_trusted() {
    // Lists nothing, but its nextUpdate has passed: it may miss a revocation.
    let stale = PKI
        .crl(&[], *NOW - Duration::days(10), *NOW - Duration::seconds(1))
        .unwrap();
    let source = FakeSource::with(CRL_URL, Ok(stale));
    let err = login(&GOOD, RevocationMode::Require, &source).unwrap_err();
    assert_eq!(err.code(), "revocation_unknown");
    assert!(err.to_string().contains("stale"), "{err}");
    assert!(matches!(
        login(&GOOD, RevocationMode::Prefer, &source)
            .unwrap()
            .revocation,
        RevocationStatus::Unknown { .. }
    ));
}

#[test]
fn a_crl_that_became_stale_in_a_cache_is_refused_at_use() {
    // Verified an hour before nextUpdate, handed out after it.
    let crl = PKI
        .crl(&[], *NOW - Duration::days(2), *NOW - Duration::hours(1))
        .unwrap();
    let mut source = FakeSource::with(CRL_URL, Ok(crl));
    source.verified_at = Some(*NOW - Duration::hours(2));
    let err = login(&GOOD, RevocationMode::Require, &source).unwrap_err();
    assert!(err.to_string().contains("stale"), "{err}");
}

#[test]
fn crl_from_the_future_is_not_trusted() {
    let crl = PKI
        .crl(&[], *NOW + Duration::hours(1), *NOW + Duration::days(2))
        .unwrap();
    let err = login(
        &GOOD,
        RevocationMode::Require,
        &FakeSource::with(CRL_URL, Ok(crl)),
    )
    .unwrap_err();
    assert!(err.to_string().contains("not valid before"), "{err}");
}

#[test]
fn crl_signed_by_another_ca_is_not_trusted() {
    // The root's CRL: valid, but not the card issuer's.
    let by_root = PKI
        .crl_from(
            &PKI.root,
            &[],
            *NOW - Duration::hours(1),
            *NOW + Duration::days(1),
            None,
        )
        .unwrap();
    let err = login(
        &GOOD,
        RevocationMode::Require,
        &FakeSource::with(CRL_URL, Ok(by_root)),
    )
    .unwrap_err();
    assert!(err.to_string().contains("not by the card's CA"), "{err}");
    // Same names, different keys: only the signature tells.
    let lookalike = TestPki::new_with_crl("Revocation Test", *NOW, CRL_URL).unwrap();
    let forged = lookalike.current_crl(&[], *NOW).unwrap();
    let err = login(
        &REVOKED,
        RevocationMode::Require,
        &FakeSource::with(CRL_URL, Ok(forged)),
    )
    .unwrap_err();
    assert_eq!(err.code(), "revocation_unknown");
    assert!(
        err.to_string().contains("signature does not verify"),
        "{err}"
    );
}

#[test]
fn tampered_crl_is_not_trusted() {
    let mut crl = current_crl(&[(&REVOKED, Reason::KeyCompromise)]);
    let last = crl.len() - 1;
    crl[last] ^= 0x01;
    let err = login(
        &GOOD,
        RevocationMode::Require,
        &FakeSource::with(CRL_URL, Ok(crl)),
    )
    .unwrap_err();
    assert!(
        err.to_string().contains("signature does not verify"),
        "{err}"
    );
    let err = login(
        &GOOD,
        RevocationMode::Require,
        &FakeSource::with(CRL_URL, Ok(b"<html>maintenance</html>".to_vec())),
    )
    .unwrap_err();
    assert_eq!(err.code(), "revocation_unknown");
}

#[test]
fn pem_crl_is_read() {
    let der = current_crl(&[(&REVOKED, Reason::KeyCompromise)]);
    let pem = pem_rfc7468::encode_string("X509 CRL", pem_rfc7468::LineEnding::LF, &der).unwrap();
    let source = FakeSource::with(CRL_URL, Ok(pem.into_bytes()));
    assert!(matches!(
        login(&REVOKED, RevocationMode::Require, &source).unwrap_err(),
        CardAuthError::Revoked { .. }
    ));
}

#[test]
fn card_without_a_distribution_point_has_unknown_status() {
    let mut spec = CardSpec::new(TAX_ID, *NOW);
    spec.crl_urls = Some(Vec::new());
    let card = card(spec);
    let source = published(&[]);
    let err = login(&card, RevocationMode::Require, &source).unwrap_err();
    assert!(
        err.to_string()
            .contains("no http(s) CRL distribution point"),
        "{err}"
    );
    assert_eq!(source.calls.load(Ordering::SeqCst), 0);
    assert!(login(&card, RevocationMode::Prefer, &source).is_ok());
}

#[test]
fn the_next_distribution_point_answers_when_the_first_fails() {
    let mut spec = CardSpec::new(TAX_ID, *NOW);
    spec.crl_urls = Some(vec![
        "ldap://ldap.test.invalid/cn=CRL".into(),
        CRL_URL.into(),
        BACKUP_URL.into(),
    ]);
    let card = card(spec);
    let mut source = FakeSource::with(CRL_URL, Err("HTTP 503".into()));
    source.answers.insert(
        BACKUP_URL.into(),
        Ok(current_crl(&[(&card, Reason::AffiliationChanged)])),
    );
    match login(&card, RevocationMode::Require, &source).unwrap_err() {
        CardAuthError::Revoked { reason, .. } => {
            assert_eq!(reason, Some(RevocationReason::AffiliationChanged))
        }
        other => panic!("{other:?}"),
    }
    // ldap is not fetched: two calls, for the two http URLs.
    assert_eq!(source.calls.load(Ordering::SeqCst), 2);
}

#[test]
fn crl_scoped_to_another_distribution_point_does_not_answer() {
    let other = vec!["http://crl.test.invalid/partition-7.crl".to_owned()];
    let scoped = |scope: &[String]| {
        PKI.crl_from(
            &PKI.intermediate,
            &[],
            *NOW - Duration::hours(1),
            *NOW + Duration::days(1),
            Some(scope),
        )
        .unwrap()
    };
    let err = login(
        &GOOD,
        RevocationMode::Require,
        &FakeSource::with(CRL_URL, Ok(scoped(&other))),
    )
    .unwrap_err();
    assert!(
        err.to_string().contains("issuingDistributionPoint"),
        "{err}"
    );
    // Its own partition answers.
    let own = vec![CRL_URL.to_owned()];
    assert!(
        login(
            &GOOD,
            RevocationMode::Require,
            &FakeSource::with(CRL_URL, Ok(scoped(&own)))
        )
        .is_ok()
    );
}

#[test]
fn verified_crl_reports_its_window() {
    let der = current_crl(&[
        (&REVOKED, Reason::KeyCompromise),
        (&GOOD, Reason::Superseded),
    ]);
    let issuer = crate::login::verify(
        &LoginAttempt {
            tbs: TBS,
            signature_b64: &GOOD.sign_b64(TBS, TestHash::Sha256).unwrap(),
            certificate_der: &GOOD.cert_der,
            intermediates_der: std::slice::from_ref(&PKI.intermediate.der),
        },
        &PKI.trust_store(),
        *NOW,
    )
    .unwrap()
    .1
    .issuer;
    let crl = Crl::verify(&der, &issuer, *NOW).unwrap();
    assert_eq!(crl.len(), 2);
    assert_eq!(crl.this_update(), *NOW - Duration::hours(1));
    assert_eq!(crl.next_update(), *NOW + Duration::days(1));
    assert!(issuer.subject().contains("Revocation Test Issuing CA"));
    // Past nextUpdate the same bytes are refused.
    assert!(matches!(
        Crl::verify(&der, &issuer, *NOW + Duration::days(2)),
        Err(CrlError::Stale(_))
    ));
}

#[test]
fn ca_certificate_as_a_card_is_refused() {
    let mut spec = CardSpec::new(TAX_ID, *NOW);
    spec.is_ca = true;
    let err = login(&card(spec), RevocationMode::Off, &FakeSource::default()).unwrap_err();
    assert_eq!(err, CardAuthError::LeafIsCa);
}

#[test]
fn card_without_key_usage_is_refused() {
    let mut spec = CardSpec::new(TAX_ID, *NOW);
    spec.key_usage_extension = false;
    let err = login(&card(spec), RevocationMode::Off, &FakeSource::default()).unwrap_err();
    assert_eq!(err, CardAuthError::NotForSigning);
}
