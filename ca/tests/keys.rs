//! CA keys at rest: PKCS#8 EncryptedPrivateKeyInfo (PBES2) written by us and read by
//! OpenSSL, written by OpenSSL and read by us; wrong or missing passphrases refused.

// Test helpers outside #[test] fns unwrap too: a failure there is a test failure.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use ca::{Ca, CaError, CaKey, KeyAlgorithm};
use common::*;
use testkit::tools::{openssl, openssl_any};

const PASS: &[u8] = b"correct horse battery staple";

#[test]
fn encrypted_key_round_trips_and_openssl_reads_it() {
    let ca = test_ca();
    let encrypted = ca.key().encrypted_pkcs8_pem(PASS).unwrap();
    assert!(encrypted.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----\n"));
    // Nothing of the plain key is in the encrypted file.
    let plain = ca.key_pem();
    let body: String = plain.lines().nth(1).unwrap().chars().take(24).collect();
    assert!(!encrypted.contains(&body));
    // Fresh salt and IV each time.
    assert_ne!(encrypted, ca.key().encrypted_pkcs8_pem(PASS).unwrap());

    let key = CaKey::from_pem(&encrypted, Some(PASS)).unwrap();
    let loaded = Ca::load(&ca.certificate_pem(), key, None).unwrap();
    assert_eq!(*loaded.key_pem(), *plain);

    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("enc.pem"), &encrypted).unwrap();
    std::fs::write(dir.path().join("pass"), PASS).unwrap();
    std::fs::write(dir.path().join("ca.pem"), ca.certificate_pem()).unwrap();
    let info = openssl(dir.path(), &["asn1parse", "-in", "enc.pem"]);
    let info = String::from_utf8_lossy(&info.stdout);
    assert!(
        info.contains(":PBES2") && info.contains(":scrypt") && info.contains(":aes-256-cbc"),
        "{info}"
    );
    let from_key = openssl(
        dir.path(),
        &["pkey", "-in", "enc.pem", "-passin", "file:pass", "-pubout"],
    );
    let from_cert = openssl(dir.path(), &["x509", "-in", "ca.pem", "-noout", "-pubkey"]);
    assert_eq!(from_key.stdout, from_cert.stdout);
    // And a wrong passphrase fails in OpenSSL too: the file really is encrypted.
    std::fs::write(dir.path().join("wrong"), b"wrong passphrase").unwrap();
    let out = openssl_any(
        dir.path(),
        &["pkey", "-in", "enc.pem", "-passin", "file:wrong", "-noout"],
    );
    assert!(!out.status.success());
}

#[test]
fn openssl_encrypted_keys_load() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("pass"), PASS).unwrap();
    // OpenSSL 3's default for -aes256: PBES2 with PBKDF2-HMAC-SHA256 and AES-256-CBC.
    openssl(
        dir.path(),
        &[
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-aes256",
            "-pass",
            "file:pass",
            "-out",
            "k.pem",
        ],
    );
    let text = std::fs::read_to_string(dir.path().join("k.pem")).unwrap();
    assert!(text.contains("ENCRYPTED PRIVATE KEY"));
    let key = CaKey::from_pem(&text, Some(PASS)).unwrap();
    assert_eq!(
        key.signature_algorithm(),
        ca::SignatureAlgorithm::EcdsaP256Sha256
    );
    let pubkey = openssl(
        dir.path(),
        &[
            "pkey",
            "-in",
            "k.pem",
            "-passin",
            "file:pass",
            "-pubout",
            "-outform",
            "DER",
        ],
    );
    assert_eq!(key.public_key_spki_der(), pubkey.stdout);
}

#[test]
fn wrong_or_missing_passphrases_are_refused() {
    let key = CaKey::generate(KeyAlgorithm::EcP256).unwrap();
    let encrypted = key.encrypted_pkcs8_pem(PASS).unwrap();
    let err = CaKey::from_pem(&encrypted, Some(b"not the passphrase")).unwrap_err();
    assert!(
        matches!(err, CaError::Load(ref m) if m.contains("decrypted")),
        "{err}"
    );
    let err = CaKey::from_pem(&encrypted, None).unwrap_err();
    assert!(err.to_string().contains("key_passphrase_file"), "{err}");
    assert!(key.encrypted_pkcs8_pem(b"").is_err());
    // A decrypted key signs like the original.
    let again = CaKey::from_pem(&encrypted, Some(PASS)).unwrap();
    assert_eq!(again.public_key_spki_der(), key.public_key_spki_der());
    assert_eq!(again.sign(b"x").unwrap(), key.sign(b"x").unwrap());
}

#[test]
fn generated_keys_have_the_asked_algorithm() {
    for (alg, sig) in [
        (
            KeyAlgorithm::Rsa(2048),
            ca::SignatureAlgorithm::RsaPkcs1Sha256,
        ),
        (
            KeyAlgorithm::EcP256,
            ca::SignatureAlgorithm::EcdsaP256Sha256,
        ),
    ] {
        let key = CaKey::generate(alg).unwrap();
        assert_eq!(key.signature_algorithm(), sig);
        assert!(!key.is_token());
        assert!(!format!("{key:?}").contains("PRIVATE"));
    }
    assert!(CaKey::generate(KeyAlgorithm::Rsa(1024)).is_err());
}
