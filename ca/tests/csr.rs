//! `check_csr`: what is accepted, and every way a CSR is refused.

// Test helpers outside #[test] fns unwrap too: a failure there is a test failure.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use ca::{CsrError, KeyInfo};
use common::find;
use common::rsa_raw::{self, RawKey};
use common::*;
use num_bigint::BigUint;
use sha2::{Digest, Sha256};
use testkit::tools::openssl;
use wasm_keygen::KeyAlgorithm;

fn check(csr: &[u8]) -> Result<ca::CheckedCsr, CsrError> {
    test_ca().check_csr(&profile(), csr)
}

/// A CSR made by `openssl req` with extra arguments (key and digest choice).
fn openssl_csr(args: &[&str]) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let mut all = vec![
        "req",
        "-new",
        "-nodes",
        "-subj",
        "/C=TW/CN=test",
        "-outform",
        "DER",
        "-out",
        "req.der",
    ];
    all.extend_from_slice(args);
    openssl(dir.path(), &all);
    std::fs::read(dir.path().join("req.der")).unwrap()
}

fn subject_name() -> Vec<u8> {
    wasm_keygen::csr::encode_name(&csr_subject())
        .unwrap()
        .to_der()
        .unwrap()
}

/// A valid RSA key with exactly 2048 bits from primes chosen by `make`.
fn raw_key(make: impl Fn() -> Vec<BigUint>) -> RawKey {
    loop {
        if let Some(key) = RawKey::from_primes(&make())
            && key.bits() == 2048
        {
            return key;
        }
    }
}

#[test]
fn keygen_rsa_csr_is_accepted_with_its_key() {
    for bits in [2048u32, 3072, 4096] {
        let key = wasm_keygen::generate(KeyAlgorithm::Rsa { bits }).unwrap();
        let csr = wasm_keygen::build_csr(&key.pkcs8, &csr_subject())
            .unwrap()
            .der;
        let checked = check(&csr).unwrap();
        assert_eq!(checked.key, KeyInfo::Rsa { bits });
        assert_eq!(checked.spki_der, key.spki);
        assert_eq!(checked.csr_sha256, <[u8; 32]>::from(Sha256::digest(&csr)));
    }
}

#[test]
fn p256_is_accepted_only_when_the_profile_allows_it() {
    let key = wasm_keygen::generate(KeyAlgorithm::EcP256).unwrap();
    let csr = wasm_keygen::build_csr(&key.pkcs8, &csr_subject())
        .unwrap()
        .der;
    let checked = check(&csr).unwrap();
    assert_eq!(checked.key, KeyInfo::EcP256);
    assert_eq!(checked.spki_der, key.spki);
    let mut strict = profile();
    strict.allow_ec_p256 = false;
    assert_eq!(
        test_ca().check_csr(&strict, &csr),
        Err(CsrError::KeyType("ECDSA P-256".into()))
    );
}

#[test]
fn openssl_sha384_and_sha512_csrs_are_accepted() {
    for digest in ["-sha384", "-sha512"] {
        let csr = openssl_csr(&["-newkey", "rsa:2048", "-keyout", "k.pem", digest]);
        assert_eq!(check(&csr).unwrap().key, KeyInfo::Rsa { bits: 2048 });
    }
    let ec = openssl_csr(&[
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-keyout",
        "k.pem",
        "-sha384",
    ]);
    assert_eq!(check(&ec).unwrap().key, KeyInfo::EcP256);
}

#[test]
fn tampered_signature_is_refused() {
    let mut csr = rsa2048_csr().to_vec();
    let last = csr.len() - 1;
    csr[last] ^= 0x01;
    assert_eq!(check(&csr), Err(CsrError::BadSignature));
}

#[test]
fn tampered_subject_is_refused() {
    let mut csr = rsa2048_csr().to_vec();
    let at = find(&csr, b"SingleWindow-01-B00051").unwrap();
    csr[at + 21] = b'2';
    assert_eq!(check(&csr), Err(CsrError::BadSignature));
    // Untouched, the same CSR passes: the refusal is about the change.
    assert!(check(rsa2048_csr()).is_ok());
}

#[test]
fn tampered_p256_signature_is_refused() {
    let key = wasm_keygen::generate(KeyAlgorithm::EcP256).unwrap();
    let mut csr = wasm_keygen::build_csr(&key.pkcs8, &csr_subject())
        .unwrap()
        .der;
    let at = find(&csr, b"SingleWindow").unwrap();
    csr[at] = b's';
    assert_eq!(check(&csr), Err(CsrError::BadSignature));
}

#[test]
fn sha1_and_md5_signatures_are_refused() {
    let sha1 = openssl_csr(&["-newkey", "rsa:2048", "-keyout", "k.pem", "-sha1"]);
    assert_eq!(
        check(&sha1),
        Err(CsrError::Algorithm("sha1WithRSAEncryption".into()))
    );
    let md5 = openssl_csr(&["-newkey", "rsa:2048", "-keyout", "k.pem", "-md5"]);
    assert_eq!(
        check(&md5),
        Err(CsrError::Algorithm("md5WithRSAEncryption".into()))
    );
}

#[test]
fn other_signature_schemes_are_refused() {
    let pss = openssl_csr(&[
        "-newkey",
        "rsa:2048",
        "-keyout",
        "k.pem",
        "-sha256",
        "-sigopt",
        "rsa_padding_mode:pss",
    ]);
    assert_eq!(check(&pss), Err(CsrError::Algorithm("RSASSA-PSS".into())));
    let ed = openssl_csr(&["-newkey", "ed25519", "-keyout", "k.pem"]);
    assert_eq!(check(&ed), Err(CsrError::Algorithm("Ed25519".into())));
}

#[test]
fn other_curves_are_refused() {
    let p384 = openssl_csr(&[
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-384",
        "-keyout",
        "k.pem",
        "-sha384",
    ]);
    assert!(matches!(check(&p384), Err(CsrError::KeyType(t)) if t.contains("1.3.132.0.34")));
}

#[test]
fn rsa_1024_is_refused() {
    let csr = openssl_csr(&["-newkey", "rsa:1024", "-keyout", "k.pem", "-sha256"]);
    assert_eq!(check(&csr), Err(CsrError::KeySize(1024)));
}

#[test]
fn odd_rsa_sizes_are_refused() {
    let csr = openssl_csr(&["-newkey", "rsa:2560", "-keyout", "k.pem", "-sha256"]);
    assert_eq!(check(&csr), Err(CsrError::KeySize(2560)));
}

#[test]
fn exponent_3_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    openssl(
        dir.path(),
        &[
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:2048",
            "-pkeyopt",
            "rsa_keygen_pubexp:3",
            "-out",
            "k.pem",
        ],
    );
    openssl(
        dir.path(),
        &[
            "req", "-new", "-key", "k.pem", "-subj", "/CN=e3", "-sha256", "-outform", "DER",
            "-out", "r.der",
        ],
    );
    let csr = std::fs::read(dir.path().join("r.der")).unwrap();
    assert_eq!(check(&csr), Err(CsrError::Exponent));
}

#[test]
fn hand_built_csr_with_a_sound_key_is_accepted() {
    // Positive control for the weak-key cases below: the same builder with ordinary primes
    // passes, so their refusals are about the keys.
    let key = raw_key(|| vec![rsa_raw::random_prime(1024), rsa_raw::random_prime(1024)]);
    let checked = check(&key.csr(&subject_name())).unwrap();
    assert_eq!(checked.key, KeyInfo::Rsa { bits: 2048 });
    assert_eq!(checked.spki_der, key.spki());
}

#[test]
fn modulus_with_a_small_factor_is_refused() {
    // n = 751 * p * q: 751 is the largest prime trial division must cover.
    let key = raw_key(|| {
        vec![
            BigUint::from(751u32),
            rsa_raw::random_prime(1019),
            rsa_raw::random_prime(1020),
        ]
    });
    let err = check(&key.csr(&subject_name())).unwrap_err();
    assert!(
        matches!(err, CsrError::WeakKey(m) if m.contains("small prime factor")),
        "{err:?}"
    );
}

#[test]
fn close_primes_are_refused_by_fermat() {
    let key = raw_key(|| {
        let p = rsa_raw::random_prime(1024);
        // |p - q| around 2^500 out of 2^1024: Fermat's method factors n in its first round.
        let q = rsa_raw::next_prime(
            &(&p + (BigUint::from(1u32) << 500) + rsa_raw::random_biguint(400)),
        );
        vec![p, q]
    });
    let err = check(&key.csr(&subject_name())).unwrap_err();
    assert!(
        matches!(err, CsrError::WeakKey(m) if m.contains("Fermat")),
        "{err:?}"
    );
}

/// 167#, the modulus of the ROCA prime structure (Nemec et al.).
fn primorial_167() -> BigUint {
    (2u32..=167)
        .filter(|n| (2..*n).all(|d| n % d != 0))
        .fold(BigUint::from(1u32), |m, p| m * p)
}

/// A prime of the RSALib form p = k*M + (65537^a mod M), `bits` long, top two bits set.
fn roca_prime(bits: u64) -> BigUint {
    let m = primorial_167();
    let r = BigUint::from(65537u32).modpow(&BigUint::from(rsa_raw::random_u64()), &m);
    let low = BigUint::from(3u32) << (bits - 2);
    let mut k = (&low + rsa_raw::random_biguint(bits - 3)) / &m;
    loop {
        let p = &k * &m + &r;
        if p.bits() == bits && rsa_raw::is_probable_prime(&p) {
            return p;
        }
        k += 1u32;
    }
}

#[test]
fn roca_structured_key_is_refused() {
    let key = raw_key(|| vec![roca_prime(1024), roca_prime(1024)]);
    let err = check(&key.csr(&subject_name())).unwrap_err();
    assert!(
        matches!(err, CsrError::WeakKey(m) if m.contains("ROCA")),
        "{err:?}"
    );
}

#[test]
fn garbage_and_trailing_data_are_parse_errors() {
    assert!(matches!(check(b"not a csr"), Err(CsrError::Parse(_))));
    assert!(matches!(check(&[]), Err(CsrError::Parse(_))));
    let mut trailing = rsa2048_csr().to_vec();
    trailing.push(0);
    assert!(matches!(check(&trailing), Err(CsrError::Parse(_))));
    // A certificate is not a CSR.
    assert!(matches!(
        check(test_ca().certificate_der()),
        Err(CsrError::Parse(_))
    ));
}

#[test]
fn pem_csrs_from_the_browser_and_openssl_convert() {
    let key = wasm_keygen::generate(KeyAlgorithm::Rsa { bits: 2048 }).unwrap();
    let csr = wasm_keygen::build_csr(&key.pkcs8, &csr_subject()).unwrap();
    assert_eq!(ca::csr_pem_to_der(&csr.pem).unwrap(), csr.der);
    let dir = tempfile::tempdir().unwrap();
    openssl(
        dir.path(),
        &[
            "req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", "k.pem", "-subj", "/CN=x",
            "-out", "r.pem",
        ],
    );
    openssl(
        dir.path(),
        &["req", "-in", "r.pem", "-outform", "DER", "-out", "r.der"],
    );
    let pem = std::fs::read_to_string(dir.path().join("r.pem")).unwrap();
    assert_eq!(
        ca::csr_pem_to_der(&pem).unwrap(),
        std::fs::read(dir.path().join("r.der")).unwrap()
    );
    assert!(matches!(
        ca::csr_pem_to_der(&test_ca().certificate_pem()),
        Err(CsrError::Parse(_))
    ));
}
