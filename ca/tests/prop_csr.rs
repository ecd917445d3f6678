//! Property tests of CSR checking and certificate upload parsing (issue 7, bad input).
//! Replays the cargo-fuzz seeds and regression inputs (`fuzz/corpus`, `fuzz/regressions`)
//! and mutates them at random: nothing may panic, a tampered signature is always refused,
//! and whatever is accepted is a key the CA can issue for and read back. The libFuzzer
//! targets are `fuzz/fuzz_targets/{csr_check,csr_pem,cert_inspect}.rs`.

// A failed assertion is the finding; unwrapping in helpers is a test failure too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use ca::{Ca, CsrError, KeyInfo, Profile, Serial};
use proptest::prelude::*;
use testkit::certs::{leaf_subject, profile, request};
use time::macros::datetime;

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz")
}

/// The fixed test CA the fuzz seeds were issued by (so `inspect_issued` goes all the way).
fn fuzz_ca() -> &'static Ca {
    static CA: OnceLock<Ca> = OnceLock::new();
    CA.get_or_init(|| {
        let read = |f: &str| std::fs::read_to_string(fuzz_dir().join("fixtures").join(f)).unwrap();
        Ca::from_pem(&read("ca.crt.pem"), &read("ca.key.pem")).unwrap()
    })
}

/// `(file name, bytes)` of the seeds and regression inputs of one fuzz target.
fn inputs(target: &str) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for dir in ["corpus", "regressions"] {
        let Ok(entries) = std::fs::read_dir(fuzz_dir().join(dir).join(target)) else {
            continue;
        };
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            out.push((name, std::fs::read(e.path()).unwrap()));
        }
    }
    out.sort();
    out
}

fn seeds(target: &str) -> &'static [(String, Vec<u8>)] {
    static CSR: OnceLock<Vec<(String, Vec<u8>)>> = OnceLock::new();
    static PEM: OnceLock<Vec<(String, Vec<u8>)>> = OnceLock::new();
    static CERT: OnceLock<Vec<(String, Vec<u8>)>> = OnceLock::new();
    match target {
        "csr_check" => CSR.get_or_init(|| inputs(target)),
        "csr_pem" => PEM.get_or_init(|| inputs(target)),
        _ => CERT.get_or_init(|| inputs("cert_inspect")),
    }
}

/// What must hold for any CSR DER: no panic; an accepted key is one of the allowed kinds,
/// the CA issues for it and reads the certificate back with the same key.
fn check_any_csr(der: &[u8]) -> Result<KeyInfo, CsrError> {
    let ca = fuzz_ca();
    let checked = ca.check_csr(&profile(), der)?;
    match checked.key {
        KeyInfo::Rsa { bits } => assert!(matches!(bits, 2048 | 3072 | 4096), "RSA-{bits}"),
        KeyInfo::EcP256 => {
            let no_ec = Profile {
                allow_ec_p256: false,
                ..profile()
            };
            assert!(
                ca.check_csr(&no_ec, der).is_err(),
                "P-256 with allow_ec_p256=false"
            );
        }
    }
    let now = datetime!(2026-01-01 00:00 UTC);
    let cert = ca
        .issue(
            &profile(),
            &request(
                checked.spki_der.clone(),
                Serial([0x22; 16]),
                now,
                leaf_subject("Fuzz"),
            ),
        )
        .unwrap();
    assert_eq!(ca.inspect_issued(&cert).unwrap().spki_der, checked.spki_der);
    Ok(checked.key)
}

#[test]
fn csr_seeds_get_the_expected_verdicts() {
    let seeds = seeds("csr_check");
    assert!(seeds.len() >= 8, "fuzz/corpus/csr_check has the seeds");
    for (name, der) in seeds {
        let verdict = check_any_csr(der);
        let expected_ok = name.starts_with("keygen-")
            || name.contains("rsa3072-sha384")
            || name.contains("p256-sha256");
        match name.as_str() {
            _ if expected_ok => assert!(verdict.is_ok(), "{name}: {verdict:?}"),
            n if n.contains("sha1") => {
                assert!(
                    matches!(verdict, Err(CsrError::Algorithm(_))),
                    "{name}: {verdict:?}"
                )
            }
            n if n.contains("rsa1024") => {
                assert_eq!(verdict, Err(CsrError::KeySize(1024)), "{name}")
            }
            n if n.contains("p384") || n.contains("ed25519") => assert!(
                matches!(verdict, Err(CsrError::KeyType(_) | CsrError::Algorithm(_))),
                "{name}: {verdict:?}"
            ),
            // Regression inputs: only "no panic" is asserted.
            _ => {}
        }
    }
}

#[test]
fn pem_seeds_decode_to_the_der_seeds() {
    let pems = seeds("csr_pem");
    assert!(pems.len() >= 8, "fuzz/corpus/csr_pem has the seeds");
    let ders = seeds("csr_check");
    for (name, pem) in pems {
        let decoded = std::str::from_utf8(pem)
            .map_err(|e| CsrError::Parse(e.to_string()))
            .and_then(ca::csr_pem_to_der);
        let Some(stem) = name.strip_suffix(".pem") else {
            let _ = decoded.map(|d| check_any_csr(&d));
            continue;
        };
        let der = &ders
            .iter()
            .find(|(n, _)| *n == format!("{stem}.der"))
            .unwrap()
            .1;
        assert_eq!(decoded.as_ref(), Ok(der), "{name}");
    }
}

#[test]
fn cert_seeds_are_recognised_as_ours() {
    let certs = seeds("cert_inspect");
    assert!(certs.len() >= 3, "fuzz/corpus/cert_inspect has the seeds");
    for (name, der) in certs {
        let info = fuzz_ca().inspect_issued(der);
        if name.starts_with("leaf-") {
            let info = info.unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(info.tax_id.as_deref(), Some("12345675"));
            assert_eq!(info.cert_name.as_deref(), Some("SingleWindow-01-B00051"));
        }
    }
}

/// Random edits: overwrite, insert, delete bytes, truncate.
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

fn edits() -> impl Strategy<Value = Vec<(prop::sample::Index, u8, u8)>> {
    prop::collection::vec(
        (any::<prop::sample::Index>(), any::<u8>(), any::<u8>()),
        1..6,
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn mutated_csrs_never_panic(pick in any::<prop::sample::Index>(), edits in edits()) {
        let seeds = seeds("csr_check");
        let data = mutate(seeds[pick.index(seeds.len())].1.clone(), &edits);
        let _ = check_any_csr(&data);
    }

    #[test]
    fn tampered_signature_is_refused(pick in any::<prop::sample::Index>(), flip in 1u8..) {
        let accepted: Vec<_> = seeds("csr_check")
            .iter()
            .filter(|(_, d)| fuzz_ca().check_csr(&profile(), d).is_ok())
            .collect();
        let mut der = accepted[pick.index(accepted.len())].1.clone();
        // The last byte of a CSR is the last byte of its signature value.
        *der.last_mut().unwrap() ^= flip;
        prop_assert!(fuzz_ca().check_csr(&profile(), &der).is_err());
    }

    #[test]
    fn mutated_pem_never_panics(pick in any::<prop::sample::Index>(), edits in edits()) {
        let seeds = seeds("csr_pem");
        let data = mutate(seeds[pick.index(seeds.len())].1.clone(), &edits);
        if let Ok(der) = ca::csr_pem_to_der(&String::from_utf8_lossy(&data)) {
            let _ = check_any_csr(&der);
        }
    }

    #[test]
    fn random_pem_armour_never_panics(body in "[A-Za-z0-9+/=\\n -]{0,300}", label in "(NEW )?CERTIFICATE REQUEST|X") {
        let text = format!("junk\n-----BEGIN {label}-----\n{body}\n-----END {label}-----\n");
        if let Ok(der) = ca::csr_pem_to_der(&text) {
            let _ = check_any_csr(&der);
        }
    }

    #[test]
    fn mutated_certificates_never_panic(pick in any::<prop::sample::Index>(), edits in edits()) {
        let seeds = seeds("cert_inspect");
        let data = mutate(seeds[pick.index(seeds.len())].1.clone(), &edits);
        if let Ok(info) = fuzz_ca().inspect_issued(&data) {
            // Only the signed part may differ from a real certificate of ours: a changed
            // TBS would not verify, so an accepted mutant keeps a plausible validity.
            prop_assert!(info.not_before < info.not_after);
        }
    }
}
