//! Same inputs, same bytes: the CSR, the key encodings and the PFX for fixed keys, a fixed
//! subject, fixed certificates, a fixed password and fixed salts and IVs, compared with the
//! files in `testdata/golden/`.
//!
//! Those files were written by the crate's former hand-written DER encoders (`src/der.rs`,
//! `src/encoding.rs`, `src/pkcs12/kdf.rs`, commit "golden files from the hand-written
//! encoders") before they were replaced by the `der`, `spki`, `pkcs8` and `pkcs12` crates
//! (with `cms` and `x509-cert` types under `pkcs12`), so this test is what shows that the
//! replacement writes identical bytes.
//! `UPDATE_GOLDEN=1 cargo test -p wasm-keygen --lib golden` rewrites them: only do that for
//! an intended change of the output, and say why in the commit.
//!
//! The keys and certificates in `testdata/` were made with the openssl CLI:
//! `openssl genpkey` (RSA-2048, P-256) converted with `openssl pkcs8 -topk8 -nocrypt`,
//! self-signed leaf certificates with `openssl req -x509` and an unrelated P-256 CA
//! certificate for the chain.

use std::path::PathBuf;

use crate::csr::{Subject, build_csr};
use crate::error::KeygenError;
use crate::keygen::PrivateKey;
use crate::pkcs12::{PfxRequest, Profile, build_pfx_with};

fn testdata(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("testdata")
        .join(name)
}

fn read(name: &str) -> Vec<u8> {
    std::fs::read(testdata(name)).unwrap_or_else(|e| panic!("testdata/{name}: {e}"))
}

/// Compares `got` with `testdata/golden/<name>` (or rewrites it with `UPDATE_GOLDEN=1`).
fn golden(name: &str, got: &[u8]) {
    let path = testdata(&format!("golden/{name}"));
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, got).unwrap();
        return;
    }
    let want = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert!(
        got == want.as_slice(),
        "{name}: {} bytes differ from the golden {} bytes (first difference at {:?})",
        got.len(),
        want.len(),
        got.iter().zip(&want).position(|(a, b)| a != b)
    );
}

/// 1, 2, 3, ... across calls: what the PFX writer gets instead of random salts and IVs.
fn counting_fill() -> impl FnMut(&mut [u8]) -> Result<(), KeygenError> {
    let mut next = 0u8;
    move |buf: &mut [u8]| {
        for b in buf.iter_mut() {
            next = next.wrapping_add(1);
            *b = next;
        }
        Ok(())
    }
}

fn subject() -> Subject {
    Subject {
        cn: "SingleWindow-01-B00051".into(),
        o: Some("台灣報關股份有限公司".into()),
        ou: Some("B00051".into()),
        c: Some("TW".into()),
        serial_number: Some("12345675".into()),
    }
}

const KEYS: [&str; 2] = ["rsa2048", "p256"];

#[test]
fn key_encodings_are_unchanged() {
    for k in KEYS {
        let key = PrivateKey::from_pkcs8(&read(&format!("{k}.pk8"))).unwrap();
        golden(&format!("{k}.pkcs8.der"), &key.to_pkcs8().unwrap());
        golden(&format!("{k}.spki.der"), &key.spki().unwrap());
    }
}

#[test]
fn csrs_are_unchanged() {
    for k in KEYS {
        let csr = build_csr(&read(&format!("{k}.pk8")), &subject()).unwrap();
        golden(&format!("{k}.csr.der"), &csr.der);
        golden(&format!("{k}.csr.pem"), csr.pem.as_bytes());
    }
    // Only the CN, as the smallest subject.
    let cn_only = Subject {
        cn: "x".into(),
        ..Subject::default()
    };
    let csr = build_csr(&read("p256.pk8"), &cn_only).unwrap();
    golden("p256.cn-only.csr.der", &csr.der);
}

#[test]
fn pfx_files_are_unchanged() {
    let ca = read("ca.cer");
    for k in KEYS {
        let pkcs8 = read(&format!("{k}.pk8"));
        let cert = read(&format!("{k}.cer"));
        let chain: [&[u8]; 1] = [&ca];
        for (profile, name) in [
            (Profile::Compatible, "compatible"),
            (Profile::Modern, "modern"),
        ] {
            let req = PfxRequest {
                pkcs8: &pkcs8,
                certificate: &cert,
                chain: &chain,
                password: "Pfx2026pass",
                friendly_name: "SingleWindow-01-B00051",
                profile,
            };
            let pfx = build_pfx_with(&req, &mut counting_fill()).unwrap();
            golden(&format!("{k}.{name}.p12"), &pfx);
        }
    }
}
