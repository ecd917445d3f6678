//! Property tests of the PFX page's inputs (issue 7, bad input): the certificate file the
//! applicant picks (PEM or DER), the PKCS#8 key, the password and the friendly name.
//! Replays the seeds and regression inputs of the libFuzzer targets
//! `fuzz/fuzz_targets/{keygen_cert,keygen_key,pfx_build}.rs` and mutates them.

// A failed assertion is the finding; unwrapping in helpers is a test failure too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};

use proptest::prelude::*;
use wasm_keygen::{Certificate, PfxRequest, PrivateKey, Profile, build_pfx};

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz")
}

fn inputs(target: &str) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for dir in ["corpus", "regressions"] {
        let Ok(entries) = std::fs::read_dir(fuzz_dir().join(dir).join(target)) else {
            continue;
        };
        for e in entries.flatten() {
            out.push(std::fs::read(e.path()).unwrap());
        }
    }
    out
}

/// Every accepted certificate survives DER → PEM → DER.
fn check_cert(data: &[u8]) -> bool {
    let Ok(all) = Certificate::parse_all(data) else {
        return false;
    };
    assert!(!all.is_empty());
    for c in &all {
        let back = Certificate::parse(c.to_pem().as_bytes()).unwrap();
        assert_eq!(&back, c);
    }
    true
}

/// Every accepted key re-encodes to a key with the same public key.
fn check_key(data: &[u8]) -> bool {
    let _ = wasm_keygen::encoding::parse_spki(data);
    let Ok(key) = PrivateKey::from_pkcs8(data) else {
        return false;
    };
    let spki = key.spki().unwrap();
    assert!(key.matches_spki(&spki));
    let again = PrivateKey::from_pkcs8(&key.to_pkcs8().unwrap()).unwrap();
    assert_eq!(again.spki().unwrap(), spki);
    true
}

fn leaf() -> (Vec<u8>, Vec<u8>) {
    let dir = fuzz_dir().join("fixtures");
    (
        std::fs::read(dir.join("leaf-p256.pk8")).unwrap(),
        std::fs::read(dir.join("leaf-p256.crt.pem")).unwrap(),
    )
}

#[test]
fn seeds_and_regressions_replay() {
    let certs = inputs("keygen_cert");
    assert!(certs.len() >= 5, "fuzz/corpus/keygen_cert has the seeds");
    assert!(certs.iter().filter(|c| check_cert(c)).count() >= 5);
    let keys = inputs("keygen_key");
    assert!(keys.len() >= 10, "fuzz/corpus/keygen_key has the seeds");
    // keygen-*.pk8 and openssl-{rsa3072,p256,rsa2048}: accepted; 1024, P-384, Ed25519: not.
    let accepted = keys.iter().filter(|k| check_key(k)).count();
    assert!(accepted >= 5, "{accepted} keys accepted");
    assert!(accepted < keys.len());
}

fn edits() -> impl Strategy<Value = Vec<(prop::sample::Index, u8, u8)>> {
    prop::collection::vec(
        (any::<prop::sample::Index>(), any::<u8>(), any::<u8>()),
        1..6,
    )
}

fn mutate(mut data: Vec<u8>, edits: &[(prop::sample::Index, u8, u8)]) -> Vec<u8> {
    for (at, byte, op) in edits {
        if data.is_empty() {
            data.push(*byte);
            continue;
        }
        let i = at.index(data.len());
        match op % 4 {
            0 => data[i] ^= byte | 1,
            1 => data.insert(i, *byte),
            2 => {
                data.remove(i);
            }
            _ => data.truncate(i),
        }
    }
    data
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn mutated_certificates_never_panic(pick in any::<prop::sample::Index>(), edits in edits()) {
        let seeds = inputs("keygen_cert");
        check_cert(&mutate(seeds[pick.index(seeds.len())].clone(), &edits));
    }

    #[test]
    fn mutated_keys_never_panic(pick in any::<prop::sample::Index>(), edits in edits()) {
        let seeds = inputs("keygen_key");
        check_key(&mutate(seeds[pick.index(seeds.len())].clone(), &edits));
    }
}

proptest! {
    // Each accepted case derives keys and encrypts (PKCS#12 KDF, 2048 rounds): fewer cases.
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn pfx_is_built_exactly_when_password_and_name_pass_the_rules(
        password in prop_oneof!["[A-Za-z0-9]{4,20}", any::<String>(), "[ -~]{0,24}"],
        friendly in prop_oneof!["[A-Za-z0-9\\-]{1,64}", any::<String>(), "[\\u{0}-\\u{7f}台]{0,70}"],
        modern in any::<bool>(),
    ) {
        let (pkcs8, cert) = leaf();
        let result = build_pfx(&PfxRequest {
            pkcs8: &pkcs8,
            certificate: &cert,
            chain: &[],
            password: &password,
            friendly_name: &friendly,
            profile: if modern { Profile::Modern } else { Profile::Compatible },
        });
        let rules_ok = proto::validate::pfx_password(&password).is_ok()
            && wasm_keygen::pkcs12::check_friendly_name(&friendly).is_ok();
        prop_assert_eq!(result.is_ok(), rules_ok, "{:?}", result.err());
        if let Ok(pfx) = result {
            prop_assert_eq!(pfx.first(), Some(&0x30));
        }
    }

    #[test]
    fn pfx_refuses_a_mutated_certificate_or_wrong_key(edits in edits()) {
        let (pkcs8, cert) = leaf();
        let der = Certificate::parse(&cert).unwrap().der().to_vec();
        let mutated = mutate(der.clone(), &edits);
        let result = build_pfx(&PfxRequest {
            pkcs8: &pkcs8,
            certificate: &mutated,
            chain: &[],
            password: "abcd1234",
            friendly_name: "SingleWindow-01-B00051",
            profile: Profile::Compatible,
        });
        // Accepted only if the public key inside is still the key's own.
        if result.is_ok() {
            let c = Certificate::parse(&mutated).unwrap();
            prop_assert!(PrivateKey::from_pkcs8(&pkcs8).unwrap().matches_spki(c.spki()));
        }
    }
}
