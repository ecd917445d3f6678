//! Issuing keys in a PKCS#11 token (SoftHSM2 in a temporary token directory): the key is
//! made in the token and never leaves it; certificates, CRLs and the issuing CA's request
//! are signed inside it, and OpenSSL accepts them.
//! Each test runs in a child process with a token of its own (`testkit::softhsm`).

// Test helpers outside #[test] fns unwrap too: a failure there is a test failure.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use ca::{Ca, CaKey, KeyAlgorithm, RevocationReason, RevokedEntry, Serial, TokenSpec};
use common::*;
use testkit::softhsm::{PIN, with_token};
use testkit::tools::{assert_cert_lints_clean, assert_crl_lints_clean, openssl};
use time::Duration;
use zeroize::Zeroizing;

fn spec(object: &str, pin: &str) -> TokenSpec {
    TokenSpec {
        uri: format!("pkcs11:token=portal;object={object}")
            .parse()
            .unwrap(),
        module: ca::PKCS11_DEFAULT_MODULE.into(),
        pin: Zeroizing::new(pin.into()),
    }
}

fn verify_with_crl(root: &Ca, issuing: &Ca, leaf: &[u8], crl: &[u8]) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("root.pem"), root.certificate_pem()).unwrap();
    std::fs::write(d.join("ica.pem"), issuing.certificate_pem()).unwrap();
    std::fs::write(d.join("leaf.pem"), ca::cert_der_to_pem(leaf)).unwrap();
    std::fs::write(d.join("crl.pem"), ca::pem_encode("X509 CRL", crl)).unwrap();
    let mut args = vec![
        "verify",
        "-x509_strict",
        "-crl_check",
        "-CRLfile",
        "crl.pem",
    ];
    args.extend(["-CAfile", "root.pem"]);
    if !issuing.chain_der().is_empty() {
        args.extend(["-untrusted", "ica.pem"]);
    }
    args.push("leaf.pem");
    let out = openssl(d, &args);
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "leaf.pem: OK");
}

fn leaf_and_crl(issuing: &Ca) -> (Vec<u8>, Vec<u8>) {
    let checked = issuing.check_csr(&profile(), rsa2048_csr()).unwrap();
    let mut req = request(checked.spki_der, Serial::random());
    req.not_before = time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .unwrap();
    req.not_after = req.not_before + Duration::days(30);
    let leaf = issuing.issue(&profile(), &req).unwrap();
    assert_eq!(issuing.inspect_issued(&leaf).unwrap().serial, req.serial);
    let revoked = RevokedEntry {
        serial: Serial::random(),
        revoked_at: req.not_before,
        reason: RevocationReason::Superseded,
    };
    let crl = issuing
        .crl(&profile(), 7, req.not_before, &[revoked])
        .unwrap();
    (leaf, crl)
}

#[test]
fn rsa_issuing_key_in_the_token_signs_certificates_and_crls() {
    with_token(
        "rsa_issuing_key_in_the_token_signs_certificates_and_crls",
        || {
            // A wrong PIN is refused (checked first: PKCS#11 logins are per process, so once a
            // session of ours is logged in, another login is not asked for the PIN again).
            let err = CaKey::from_token(&spec("issuing-ca", "000000")).unwrap_err();
            assert!(err.to_string().contains("PIN"), "{err}");
            let s = spec("issuing-ca", PIN);
            let key = CaKey::create_in_token(&s, KeyAlgorithm::Rsa(3072)).unwrap();
            assert!(key.is_token());
            assert!(key.pkcs8_pem().is_err(), "a token key cannot be exported");
            assert!(key.encrypted_pkcs8_pem(b"passphrase").is_err());
            // One key per label: the portal never overwrites a key.
            let again = CaKey::create_in_token(&s, KeyAlgorithm::Rsa(2048)).unwrap_err();
            assert!(again.to_string().contains("already has a key"), "{again}");

            // The offline root (a file key) signs the token key's request.
            let (root, cert) = root_signs(KeyAlgorithm::Rsa(3072), &key);
            drop(key);
            // Opened again by its URI, as the server does at start.
            let issuing = Ca::load(
                &ca::cert_der_to_pem(&cert),
                CaKey::from_token(&s).unwrap(),
                Some(&root.certificate_pem()),
            )
            .unwrap();
            let (leaf, crl) = leaf_and_crl(&issuing);
            verify_with_crl(&root, &issuing, &leaf, &crl);
            assert_cert_lints_clean(&leaf);
            assert_crl_lints_clean(&crl);
            // RSA PKCS#1 v1.5 in the token is deterministic too.
            let checked = issuing.check_csr(&profile(), rsa2048_csr()).unwrap();
            let req = request(checked.spki_der, Serial::random());
            assert_eq!(
                issuing.issue(&profile(), &req).unwrap(),
                issuing.issue(&profile(), &req).unwrap()
            );

            // An unknown label is refused with a reason.
            let err = CaKey::from_token(&spec("nothing-here", PIN)).unwrap_err();
            assert!(err.to_string().contains("no private key"), "{err}");
            // A token key that is not the certificate's key is refused.
            let other =
                CaKey::create_in_token(&spec("other", PIN), KeyAlgorithm::Rsa(2048)).unwrap();
            let err = Ca::load(
                &ca::cert_der_to_pem(&cert),
                other,
                Some(&root.certificate_pem()),
            )
            .unwrap_err();
            assert!(matches!(err, ca::CaError::KeyMismatch), "{err}");
        },
    );
}

#[test]
fn p256_key_in_the_token_signs_too() {
    with_token("p256_key_in_the_token_signs_too", || {
        let s = spec("ec-ca", PIN);
        let key = CaKey::create_in_token(&s, KeyAlgorithm::EcP256).unwrap();
        assert_eq!(
            key.signature_algorithm(),
            ca::SignatureAlgorithm::EcdsaP256Sha256
        );
        let root = Ca::self_signed(
            key,
            &ca_subject(),
            Serial::random(),
            NOW,
            Ca::years_after(NOW, 10).unwrap(),
        )
        .unwrap();
        assert_cert_lints_clean(root.certificate_der());
        let (leaf, crl) = leaf_and_crl(&root);
        verify_with_crl(&root, &root, &leaf, &crl);
        assert_cert_lints_clean(&leaf);
        assert_crl_lints_clean(&crl);
    });
}
