//! Golden outputs: certificates and CRLs for fixed inputs (same CA key, serial, validity,
//! subject, profile), compared byte for byte with the files in `tests/data/golden`.
//!
//! The files were written by the hand-written DER encoder this crate had before it moved to
//! rcgen (`CA_GOLDEN_WRITE=1 cargo test -p ca --test golden` on that commit), so this test is
//! the proof that the move changed nothing a relying party could see:
//!
//! - CRLs are byte-identical (same key, so the same PKCS#1 v1.5 signature).
//! - Certificates differ in one thing only, the order of the extensions: the old encoder wrote
//!   basicConstraints, keyUsage, extKeyUsage, subjectKeyIdentifier, authorityKeyIdentifier,
//!   cRLDistributionPoints, authorityInfoAccess; rcgen writes authorityKeyIdentifier,
//!   keyUsage, extKeyUsage, cRLDistributionPoints, subjectKeyIdentifier, basicConstraints,
//!   then custom extensions (authorityInfoAccess). RFC 5280 gives the order no meaning.
//!   Every extension is byte-identical, and so are version, serial, signature algorithm,
//!   issuer, validity, subject and key; the signatures differ because the signed bytes do.
//!   pkilint stays clean on the new certificates (checked here too).

// Test helpers outside #[test] fns unwrap too: a failure there is a test failure.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::PathBuf;

use ca::{Ca, CaKey, IssueRequest, RevocationReason, RevokedEntry, Serial};
use common::*;
use testkit::tools::{assert_cert_lints_clean, assert_crl_lints_clean};
use time::Duration;
use x509_parser::prelude::{FromDer, X509Certificate};

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
            reason: RevocationReason::Unspecified,
        },
        RevokedEntry {
            serial: serial(3),
            revoked_at: NOW - Duration::hours(2),
            reason: RevocationReason::CertificateHold,
        },
    ];
    out.push((
        "crl-entries.der",
        ca.crl(&profile(), 4_000_000_000, NOW, &entries).unwrap(),
    ));
    out
}

/// A certificate's fields but its signature, each as bytes (or its parser's Debug text).
type Plain = Vec<Vec<u8>>;
/// Extensions as (OID, critical, value), sorted by OID.
type Extensions = Vec<(String, bool, Vec<u8>)>;

/// Everything of a certificate but its extensions' order and its signature, field by field;
/// the extensions sorted, and their order as written.
fn fields(der: &[u8]) -> (Plain, Extensions, Vec<String>) {
    let (rest, cert) = X509Certificate::from_der(der).unwrap();
    assert!(rest.is_empty());
    let tbs = &cert.tbs_certificate;
    let plain = vec![
        vec![u8::try_from(tbs.version.0).unwrap()],
        tbs.raw_serial().to_vec(),
        format!("{:?}", tbs.signature).into_bytes(),
        tbs.issuer.as_raw().to_vec(),
        format!("{:?}", tbs.validity).into_bytes(),
        tbs.subject.as_raw().to_vec(),
        tbs.subject_pki.raw.to_vec(),
    ];
    let order: Vec<String> = tbs
        .extensions()
        .iter()
        .map(|e| e.oid.to_id_string())
        .collect();
    let mut exts: Vec<(String, bool, Vec<u8>)> = tbs
        .extensions()
        .iter()
        .map(|e| (e.oid.to_id_string(), e.critical, e.value.to_vec()))
        .collect();
    exts.sort();
    (plain, exts, order)
}

const RCGEN_LEAF_ORDER: [&str; 7] = [
    "2.5.29.35",
    "2.5.29.15",
    "2.5.29.37",
    "2.5.29.31",
    "2.5.29.14",
    "2.5.29.19",
    "1.3.6.1.5.5.7.1.1",
];

fn same_but_extension_order(name: &str, new: &[u8], old: &[u8], order: &[&str]) {
    let (new_plain, new_exts, new_order) = fields(new);
    let (old_plain, old_exts, _) = fields(old);
    assert_eq!(
        new_plain, old_plain,
        "{name}: a field other than the extensions differs"
    );
    assert_eq!(new_exts, old_exts, "{name}: an extension differs");
    assert_eq!(new_order, order, "{name}: extension order");
    assert_eq!(new.len(), old.len(), "{name}: length");
}

#[test]
fn same_inputs_give_the_golden_bytes() {
    let ca = golden_ca();
    for (name, der) in documents(&ca) {
        if writing() {
            std::fs::write(dir().join(name), &der).unwrap();
            continue;
        }
        if name.starts_with("crl-") {
            assert_eq!(der, read(name), "{name} differs from the golden file");
            assert_crl_lints_clean(&der);
        } else {
            same_but_extension_order(name, &der, &read(name), &RCGEN_LEAF_ORDER);
            assert_cert_lints_clean(&der);
        }
    }
}

#[test]
fn the_root_made_again_with_the_same_inputs_matches() {
    // The golden CA loads from ca.pem: its DER is the file's.
    let golden = golden_ca().certificate_der().to_vec();
    let (_, old) = X509Certificate::from_der(&golden).unwrap();
    let key = CaKey::from_pem(&String::from_utf8(read("ca.key")).unwrap(), None).unwrap();
    let serial = Serial::from_magnitude(old.raw_serial()).unwrap();
    let again = Ca::self_signed(
        key,
        &ca_subject(),
        serial,
        old.validity().not_before.to_datetime(),
        old.validity().not_after.to_datetime(),
    )
    .unwrap();
    same_but_extension_order(
        "root",
        again.certificate_der(),
        &golden,
        &["2.5.29.35", "2.5.29.15", "2.5.29.14", "2.5.29.19"],
    );
    assert_cert_lints_clean(again.certificate_der());
}
