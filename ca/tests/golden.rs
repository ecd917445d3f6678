//! Golden outputs: certificates and CRLs for fixed inputs (same CA key, serial, validity,
//! subject, profile), compared byte for byte with the files in `tests/data/golden`.
//!
//! The files were written by the hand-written DER encoder this crate had before it moved to
//! rcgen (`CA_GOLDEN_WRITE=1 cargo test -p ca --test golden` on that commit), so this test is
//! the proof that the move changed nothing a relying party could see.

// Test helpers outside #[test] fns unwrap too: a failure there is a test failure.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::PathBuf;

use ca::{Ca, IssueRequest, RevocationKind, RevokedEntry, Serial};
use common::*;
use time::Duration;

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/golden")
}

fn writing() -> bool {
    std::env::var_os("CA_GOLDEN_WRITE").is_some()
}

fn read(name: &str) -> Vec<u8> {
    std::fs::read(dir().join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// The golden CA: made once by the old code, then always loaded from its files.
fn golden_ca() -> Ca {
    if writing() && !dir().join("ca.pem").exists() {
        let ca = Ca::generate(&ca_subject(), NOW, 10).unwrap();
        std::fs::write(dir().join("ca.pem"), ca.certificate_pem()).unwrap();
        std::fs::write(dir().join("ca.key"), ca.key_pem().as_bytes()).unwrap();
    }
    let cert = String::from_utf8(read("ca.pem")).unwrap();
    let key = String::from_utf8(read("ca.key")).unwrap();
    Ca::from_pem(&cert, &key).unwrap()
}

fn serial(last: u8) -> Serial {
    let mut s = [0x5au8; 16];
    s[15] = last;
    Serial(s)
}

fn leaf_request(spki: &str, last: u8) -> IssueRequest {
    IssueRequest {
        spki_der: read(spki),
        serial: serial(last),
        not_before: NOW,
        not_after: NOW + Duration::days(730),
        subject: leaf_subject(),
    }
}

/// Every golden document: (file name, bytes made by the code under test).
fn documents(ca: &Ca) -> Vec<(&'static str, Vec<u8>)> {
    let mut out = Vec::new();
    out.push((
        "leaf-rsa.der",
        ca.issue(&profile(), &leaf_request("leaf-rsa2048.spki.der", 1))
            .unwrap(),
    ));
    out.push((
        "leaf-p256.der",
        ca.issue(&profile(), &leaf_request("leaf-p256.spki.der", 2))
            .unwrap(),
    ));
    let mut individual = leaf_request("leaf-rsa2048.spki.der", 3);
    individual.subject.organizational_unit = Some("B12345".into());
    let mut with_ocsp = profile();
    with_ocsp.ocsp_url = Some("http://127.0.0.1:8080/ocsp".into());
    out.push((
        "leaf-individual-ocsp.der",
        ca.issue(&with_ocsp, &individual).unwrap(),
    ));
    out.push(("crl-empty.der", ca.crl(&profile(), 1, NOW, &[]).unwrap()));
    let entries = [
        RevokedEntry {
            serial: serial(1),
            revoked_at: NOW - Duration::hours(5),
            kind: RevocationKind::Revoked,
        },
        RevokedEntry {
            serial: serial(3),
            revoked_at: NOW - Duration::hours(2),
            kind: RevocationKind::Hold,
        },
    ];
    out.push((
        "crl-entries.der",
        ca.crl(&profile(), 4_000_000_000, NOW, &entries).unwrap(),
    ));
    out
}

#[test]
fn same_inputs_give_the_golden_bytes() {
    let ca = golden_ca();
    for (name, der) in documents(&ca) {
        if writing() {
            std::fs::write(dir().join(name), &der).unwrap();
            continue;
        }
        assert_eq!(der, read(name), "{name} differs from the golden file");
    }
}
