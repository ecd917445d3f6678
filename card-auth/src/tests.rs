//! Every refusal of `verify_login`, and the success paths, against a throwaway PKI.

use std::sync::LazyLock;

use time::{Duration, OffsetDateTime};

use crate::testing::{CardSpec, TestCard, TestHash, TestKeyKind, TestPki};
use crate::{CardAuthError, CertificateInfo, LoginAttempt, TrustStore, verify_login};

const TAX_ID: &str = "04595257";
const TBS: &[u8] = b"portal-login:SW:2f1c9a7e3b5d4c6f:1732500000";

/// Fixed "now" so every certificate's validity is relative to it.
static NOW: LazyLock<OffsetDateTime> =
    LazyLock::new(|| OffsetDateTime::from_unix_timestamp(1_767_225_600).unwrap());
static PKI: LazyLock<TestPki> = LazyLock::new(|| TestPki::new("Card Test", *NOW).unwrap());
static CARD: LazyLock<TestCard> =
    LazyLock::new(|| PKI.issue_card(&CardSpec::new(TAX_ID, *NOW)).unwrap());

fn spec() -> CardSpec {
    CardSpec::new(TAX_ID, *NOW)
}

fn attempt_with(card: &TestCard, signature_b64: &str, f: impl FnOnce(&LoginAttempt<'_>) -> R) -> R {
    let intermediates = vec![PKI.intermediate.der.clone()];
    f(&LoginAttempt {
        tbs: TBS,
        signature_b64,
        certificate_der: &card.cert_der,
        intermediates_der: &intermediates,
    })
}

type R = Result<crate::CardIdentity, CardAuthError>;

/// Signs TBS with `card` (SHA-256) and verifies against the test PKI's root at NOW.
fn login(card: &TestCard) -> R {
    let sig = card.sign_b64(TBS, TestHash::Sha256).unwrap();
    attempt_with(card, &sig, |a| verify_login(a, &PKI.trust_store(), *NOW))
}

#[test]
fn good_card_logs_in_with_identity() {
    let id = login(&CARD).unwrap();
    assert_eq!(id.tax_id, TAX_ID);
    assert_eq!(id.organization.as_deref(), Some("測試股份有限公司"));
    assert_eq!(id.subject_cn.as_deref(), Some("測試股份有限公司"));
    assert_eq!(id.display_name(), "測試股份有限公司");
    let info = CertificateInfo::from_der(&CARD.cert_der).unwrap();
    assert_eq!(id.cert_serial_hex, info.serial_hex);
    assert_eq!(id.cert_serial_hex.len(), 32);
    assert!(
        id.cert_serial_hex
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    );
    assert_eq!(id.not_after, info.not_after);
}

#[test]
fn sha384_and_sha512_signatures_are_accepted() {
    for hash in [TestHash::Sha384, TestHash::Sha512] {
        let sig = CARD.sign_b64(TBS, hash).unwrap();
        let id = attempt_with(&CARD, &sig, |a| verify_login(a, &PKI.trust_store(), *NOW)).unwrap();
        assert_eq!(id.tax_id, TAX_ID);
    }
}

#[test]
fn sha1_signature_is_refused_by_name() {
    let sig = CARD.sign_b64(TBS, TestHash::Sha1).unwrap();
    let err = attempt_with(&CARD, &sig, |a| verify_login(a, &PKI.trust_store(), *NOW)).unwrap_err();
    assert_eq!(err, CardAuthError::UnsupportedHash("SHA-1"));
}

#[test]
fn intermediate_from_the_trust_store_completes_the_chain() {
    let sig = CARD.sign_b64(TBS, TestHash::Sha256).unwrap();
    let attempt = LoginAttempt {
        tbs: TBS,
        signature_b64: &sig,
        certificate_der: &CARD.cert_der,
        intermediates_der: &[],
    };
    assert_eq!(
        verify_login(&attempt, &PKI.trust_store_with_intermediate(), *NOW)
            .unwrap()
            .tax_id,
        TAX_ID
    );
    // Without it anywhere, there is no path.
    let err = verify_login(&attempt, &PKI.trust_store(), *NOW).unwrap_err();
    assert!(matches!(err, CardAuthError::UntrustedChain(_)), "{err:?}");
}

#[test]
fn card_issued_by_the_root_directly_is_accepted() {
    let card = PKI.issue_card_from(&PKI.root, &spec()).unwrap();
    assert_eq!(login(&card).unwrap().tax_id, TAX_ID);
}

#[test]
fn p256_card_is_accepted() {
    let mut s = spec();
    s.key = TestKeyKind::P256;
    let card = PKI.issue_card(&s).unwrap();
    assert_eq!(login(&card).unwrap().tax_id, TAX_ID);
}

#[test]
fn tampered_signature_is_refused() {
    let sig = CARD.sign_b64(TBS, TestHash::Sha256).unwrap();
    let mut raw = base64_decode(&sig);
    raw[100] ^= 0x01;
    let err = attempt_with(&CARD, &base64_encode(&raw), |a| {
        verify_login(a, &PKI.trust_store(), *NOW)
    })
    .unwrap_err();
    assert_eq!(err, CardAuthError::BadSignature);
}

#[test]
fn signature_over_another_challenge_is_refused() {
    let sig = CARD
        .sign_b64(b"another challenge", TestHash::Sha256)
        .unwrap();
    let err = attempt_with(&CARD, &sig, |a| verify_login(a, &PKI.trust_store(), *NOW)).unwrap_err();
    assert_eq!(err, CardAuthError::BadSignature);
}

#[test]
fn signature_by_another_key_is_refused() {
    let other = PKI.issue_card(&spec()).unwrap();
    let sig = other.sign_b64(TBS, TestHash::Sha256).unwrap();
    let err = attempt_with(&CARD, &sig, |a| verify_login(a, &PKI.trust_store(), *NOW)).unwrap_err();
    assert_eq!(err, CardAuthError::BadSignature);
}

#[test]
fn malformed_signatures_are_refused() {
    for bad in ["not base64!", "AAAA", ""] {
        let err =
            attempt_with(&CARD, bad, |a| verify_login(a, &PKI.trust_store(), *NOW)).unwrap_err();
        assert_eq!(err, CardAuthError::BadSignatureEncoding, "{bad:?}");
    }
}

#[test]
fn whitespace_in_the_signature_is_ignored() {
    let sig = CARD.sign_b64(TBS, TestHash::Sha256).unwrap();
    let wrapped: String = sig
        .as_bytes()
        .chunks(64)
        .map(|c| format!("{}\r\n", std::str::from_utf8(c).unwrap()))
        .collect();
    assert!(
        attempt_with(&CARD, &wrapped, |a| verify_login(
            a,
            &PKI.trust_store(),
            *NOW
        ))
        .is_ok()
    );
}

#[test]
fn untrusted_root_is_refused() {
    // Same names, different keys: the name matches, the signature does not.
    let lookalike = TestPki::new("Card Test", *NOW).unwrap();
    let err = login_against(&lookalike.trust_store()).unwrap_err();
    assert!(matches!(err, CardAuthError::UntrustedChain(_)), "{err:?}");
    // Different names: no candidate issuer at all.
    let other = TestPki::new("Other", *NOW).unwrap();
    let err = login_against(&other.trust_store()).unwrap_err();
    assert!(matches!(err, CardAuthError::UntrustedChain(_)), "{err:?}");
    // Nothing trusted.
    let err = login_against(&TrustStore::new()).unwrap_err();
    assert!(matches!(err, CardAuthError::UntrustedChain(_)), "{err:?}");
}

fn login_against(trust: &TrustStore) -> R {
    let sig = CARD.sign_b64(TBS, TestHash::Sha256).unwrap();
    attempt_with(&CARD, &sig, |a| verify_login(a, trust, *NOW))
}

#[test]
fn expired_card_is_refused() {
    let mut s = spec();
    s.not_before = *NOW - Duration::days(400);
    s.not_after = *NOW - Duration::seconds(1);
    let card = PKI.issue_card(&s).unwrap();
    let err = login(&card).unwrap_err();
    assert!(matches!(err, CardAuthError::Expired { .. }), "{err:?}");
}

#[test]
fn not_yet_valid_card_is_refused() {
    let mut s = spec();
    s.not_before = *NOW + Duration::hours(1);
    s.not_after = *NOW + Duration::days(30);
    let card = PKI.issue_card(&s).unwrap();
    let err = login(&card).unwrap_err();
    assert!(matches!(err, CardAuthError::NotYetValid { .. }), "{err:?}");
}

#[test]
fn expired_intermediate_is_refused() {
    // The test CAs live 20 years; a card valid for 30 outlives them.
    let mut s = spec();
    s.not_after = *NOW + Duration::days(365 * 30);
    let card = PKI.issue_card(&s).unwrap();
    let later = *NOW + Duration::days(365 * 21);
    let sig = card.sign_b64(TBS, TestHash::Sha256).unwrap();
    let err =
        attempt_with(&card, &sig, |a| verify_login(a, &PKI.trust_store(), later)).unwrap_err();
    match err {
        CardAuthError::Expired { subject, .. } => {
            assert!(subject.contains("Issuing CA"), "{subject}")
        }
        other => panic!("expected the intermediate to be expired, got {other:?}"),
    }
}

#[test]
fn non_ca_intermediate_is_refused() {
    let broken = TestPki::new_with_non_ca_intermediate("Broken", *NOW).unwrap();
    let card = broken.issue_card(&spec()).unwrap();
    let sig = card.sign_b64(TBS, TestHash::Sha256).unwrap();
    let intermediates = vec![broken.intermediate.der.clone()];
    let err = verify_login(
        &LoginAttempt {
            tbs: TBS,
            signature_b64: &sig,
            certificate_der: &card.cert_der,
            intermediates_der: &intermediates,
        },
        &broken.trust_store(),
        *NOW,
    )
    .unwrap_err();
    match err {
        CardAuthError::UntrustedChain(why) => assert!(why.contains("not a CA"), "{why}"),
        other => panic!("expected UntrustedChain, got {other:?}"),
    }
}

#[test]
fn card_without_tax_id_is_refused() {
    let mut s = spec();
    s.tax_id_in_directory = false;
    s.tax_id_in_subject = false;
    assert_eq!(
        login(&PKI.issue_card(&s).unwrap()).unwrap_err(),
        CardAuthError::NoTaxId
    );
}

#[test]
fn tax_id_from_either_place_is_enough() {
    let mut only_directory = spec();
    only_directory.tax_id_in_subject = false;
    assert_eq!(
        login(&PKI.issue_card(&only_directory).unwrap())
            .unwrap()
            .tax_id,
        TAX_ID
    );
    let mut only_subject = spec();
    only_subject.tax_id_in_directory = false;
    assert_eq!(
        login(&PKI.issue_card(&only_subject).unwrap())
            .unwrap()
            .tax_id,
        TAX_ID
    );
}

#[test]
fn tax_id_with_bad_checksum_is_refused() {
    let card = PKI.issue_card(&CardSpec::new("12345678", *NOW)).unwrap();
    assert_eq!(
        login(&card).unwrap_err(),
        CardAuthError::BadTaxId("12345678".into())
    );
    // The 2023 rule (7th digit 7) is honoured: 12345675 and 10458575 style IDs pass.
    let card = PKI.issue_card(&CardSpec::new("12345675", *NOW)).unwrap();
    assert_eq!(login(&card).unwrap().tax_id, "12345675");
}

#[test]
fn disagreeing_tax_ids_are_refused() {
    let mut s = spec();
    s.subject_serial_number = Some("12345675".into());
    let err = login(&PKI.issue_card(&s).unwrap()).unwrap_err();
    assert_eq!(
        err,
        CardAuthError::TaxIdMismatch {
            directory: TAX_ID.into(),
            subject: "12345675".into()
        }
    );
}

#[test]
fn encryption_only_certificate_is_refused() {
    let mut s = spec();
    s.digital_signature = false;
    assert_eq!(
        login(&PKI.issue_card(&s).unwrap()).unwrap_err(),
        CardAuthError::NotForSigning
    );
}

#[test]
fn garbage_certificate_is_refused() {
    let sig = CARD.sign_b64(TBS, TestHash::Sha256).unwrap();
    let mut der = CARD.cert_der.clone();
    der.push(0);
    for bad in [vec![0x30, 0x03, 0x02, 0x01, 0x01], der, Vec::new()] {
        let err = verify_login(
            &LoginAttempt {
                tbs: TBS,
                signature_b64: &sig,
                certificate_der: &bad,
                intermediates_der: &[],
            },
            &PKI.trust_store(),
            *NOW,
        )
        .unwrap_err();
        assert!(matches!(err, CardAuthError::BadCertificate(_)), "{err:?}");
    }
    assert!(matches!(
        crate::decode_base64_certificate("@@@"),
        Err(CardAuthError::BadCertificate(_))
    ));
    assert_eq!(
        crate::decode_base64_certificate(&CARD.cert_b64()).unwrap(),
        CARD.cert_der
    );
}

#[test]
fn trust_store_loads_pem_bundles_and_der_and_refuses_junk() {
    let bundle = format!("{}{}", PKI.root.pem(), PKI.intermediate.pem());
    let mut store = TrustStore::new();
    assert_eq!(store.add_roots(bundle.as_bytes()).unwrap(), 2);
    assert_eq!(store.add_intermediates(&PKI.intermediate.der).unwrap(), 1);
    assert_eq!(store.roots().len(), 2);
    assert!(matches!(
        TrustStore::from_roots(b"hello"),
        Err(CardAuthError::BadTrustAnchor(_))
    ));
    assert!(matches!(
        TrustStore::from_roots(&[0x30, 0x00]),
        Err(CardAuthError::BadTrustAnchor(_))
    ));
}

#[test]
fn certificate_info_reads_like_hipki() {
    let info = CertificateInfo::from_der(&CARD.cert_der).unwrap();
    assert_eq!(
        info.subject_dn,
        "C=TW,O=測試股份有限公司,CN=測試股份有限公司,serialNumber=04595257"
    );
    assert_eq!(
        info.issuer_dn,
        "C=TW,O=Test Government,CN=Card Test Issuing CA"
    );
    assert_eq!(info.tax_id.as_deref(), Some(TAX_ID));
    assert_eq!(info.key_usage, vec!["digitalSignature"]);
    assert_eq!(info.sha1_thumbprint.len(), 40);
    assert!(info.not_before < *NOW && *NOW < info.not_after);
    let root = CertificateInfo::from_der(&PKI.root.der).unwrap();
    assert_eq!(root.key_usage, vec!["keyCertSign", "cRLSign"]);
    assert_eq!(root.tax_id, None);
    assert_eq!(
        info.public_key,
        crate::PublicKeyInfo::Rsa { modulus_bits: 2048 }
    );
    assert_eq!(info.issuer_name_der[0], 0x30);
    let serial: String = info
        .serial_der_content
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(serial.trim_start_matches("00"), info.serial_hex);
}

#[test]
fn error_codes_are_distinct() {
    let all = [
        CardAuthError::BadSignatureEncoding,
        CardAuthError::BadSignature,
        CardAuthError::UnsupportedHash("SHA-1"),
        CardAuthError::UnsupportedAlgorithm(String::new()),
        CardAuthError::BadCertificate(String::new()),
        CardAuthError::UntrustedChain(String::new()),
        CardAuthError::Expired {
            subject: String::new(),
            not_after: *NOW,
        },
        CardAuthError::NotYetValid {
            subject: String::new(),
            not_before: *NOW,
        },
        CardAuthError::NotForSigning,
        CardAuthError::NoTaxId,
        CardAuthError::BadTaxId(String::new()),
        CardAuthError::TaxIdMismatch {
            directory: String::new(),
            subject: String::new(),
        },
        CardAuthError::BadTrustAnchor(String::new()),
        CardAuthError::LeafIsCa,
        CardAuthError::Revoked {
            serial_hex: String::new(),
            revoked_at: *NOW,
            reason: None,
        },
        CardAuthError::RevocationUnknown(String::new()),
    ];
    let codes: std::collections::BTreeSet<_> = all.iter().map(CardAuthError::code).collect();
    assert_eq!(codes.len(), all.len());
}

fn base64_decode(s: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.decode(s).unwrap()
}

fn base64_encode(b: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(b)
}
