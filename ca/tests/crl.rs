//! CRLs: verified by OpenSSL, clean under pkilint, with the right entries and reasons.

// Test helpers outside #[test] fns unwrap too: a failure there is a test failure.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use ca::{CaError, RevocationReason, RevokedEntry, Serial};
use common::*;
use testkit::tools::{assert_crl_lints_clean, openssl};
use time::Duration;
use x509_parser::prelude::{FromDer, ParsedExtension};
use x509_parser::revocation_list::CertificateRevocationList;

/// `openssl crl -verify` against the test CA; returns the text dump.
fn openssl_check(crl: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("ca.pem"), test_ca().certificate_pem()).unwrap();
    std::fs::write(dir.path().join("crl.der"), crl).unwrap();
    let out = openssl(
        dir.path(),
        &[
            "crl", "-inform", "DER", "-in", "crl.der", "-CAfile", "ca.pem", "-verify", "-noout",
            "-text",
        ],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("verify OK"), "{stderr}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn entry(reason: RevocationReason, hours_ago: i64) -> RevokedEntry {
    RevokedEntry {
        serial: Serial::random(),
        revoked_at: NOW - Duration::hours(hours_ago),
        reason,
    }
}

#[test]
fn empty_crl_is_valid_and_lints_clean() {
    let crl = test_ca().crl(&profile(), 1, NOW, &[]).unwrap();
    let text = openssl_check(&crl);
    assert!(text.contains("No Revoked Certificates."), "{text}");
    assert_crl_lints_clean(&crl);
    let (rest, parsed) = CertificateRevocationList::from_der(&crl).unwrap();
    assert!(rest.is_empty());
    assert_eq!(parsed.iter_revoked_certificates().count(), 0);
    assert_eq!(parsed.last_update().to_datetime(), NOW);
    assert_eq!(
        parsed.next_update().unwrap().to_datetime(),
        NOW + Duration::hours(24)
    );
    assert_eq!(parsed.crl_number().map(|n| n.to_string()), Some("1".into()));
}

#[test]
fn revoked_and_held_entries_carry_their_reasons() {
    let revoked = entry(RevocationReason::Unspecified, 5);
    let held = entry(RevocationReason::CertificateHold, 2);
    let mut profile = profile();
    profile.crl_validity_hours = 168;
    let crl = test_ca()
        .crl(
            &profile,
            4_000_000_000,
            NOW,
            &[revoked.clone(), held.clone()],
        )
        .unwrap();
    openssl_check(&crl);
    assert_crl_lints_clean(&crl);

    let (_, parsed) = CertificateRevocationList::from_der(&crl).unwrap();
    assert_eq!(
        parsed.crl_number().map(|n| n.to_string()),
        Some("4000000000".into())
    );
    assert_eq!(
        parsed.next_update().unwrap().to_datetime(),
        NOW + Duration::hours(168)
    );
    let mut seen = 0;
    for r in parsed.iter_revoked_certificates() {
        let serial = Serial::from_magnitude(r.raw_serial()).unwrap();
        let reason = r.reason_code().map(|(_, code)| code.0);
        if serial == revoked.serial {
            assert_eq!(r.revocation_date.to_datetime(), revoked.revoked_at);
            assert_eq!(
                reason, None,
                "final revocation is written without a reason code"
            );
        } else if serial == held.serial {
            assert_eq!(r.revocation_date.to_datetime(), held.revoked_at);
            assert_eq!(reason, Some(6), "hold is certificateHold (6)");
        } else {
            panic!("unexpected entry {}", serial.to_hex());
        }
        seen += 1;
    }
    assert_eq!(seen, 2);
    // AKI matches the CA's SKI.
    let aki = parsed
        .extensions()
        .iter()
        .find_map(|e| match e.parsed_extension() {
            ParsedExtension::AuthorityKeyIdentifier(a) => {
                a.key_identifier.as_ref().map(|k| k.0.to_vec())
            }
            _ => None,
        })
        .unwrap();
    let (_, ca_cert) = x509_parser::parse_x509_certificate(test_ca().certificate_der()).unwrap();
    let ski = ca_cert
        .iter_extensions()
        .find_map(|e| match e.parsed_extension() {
            ParsedExtension::SubjectKeyIdentifier(k) => Some(k.0.to_vec()),
            _ => None,
        })
        .unwrap();
    assert_eq!(aki, ski);
}

#[test]
fn hold_only_and_revoked_only_crls_lint_clean() {
    for kind in [
        RevocationReason::CertificateHold,
        RevocationReason::Unspecified,
    ] {
        let entries: Vec<RevokedEntry> = (0..5).map(|i| entry(kind, i)).collect();
        let crl = test_ca().crl(&profile(), 9, NOW, &entries).unwrap();
        let text = openssl_check(&crl);
        assert_eq!(text.matches("Serial Number:").count(), 5, "{text}");
        assert_eq!(
            text.matches("Certificate Hold").count(),
            if kind == RevocationReason::CertificateHold {
                5
            } else {
                0
            }
        );
        assert_crl_lints_clean(&crl);
    }
}

#[test]
fn crl_is_deterministic_and_independent_of_entry_order() {
    let a = entry(RevocationReason::Unspecified, 1);
    let b = entry(RevocationReason::CertificateHold, 3);
    let ca = test_ca();
    let one = ca.crl(&profile(), 3, NOW, &[a.clone(), b.clone()]).unwrap();
    let two = ca.crl(&profile(), 3, NOW, &[b.clone(), a.clone()]).unwrap();
    assert_eq!(one, two);
    assert_ne!(one, ca.crl(&profile(), 4, NOW, &[a, b]).unwrap());
}

#[test]
fn bad_crl_inputs_are_refused() {
    let ca = test_ca();
    let a = entry(RevocationReason::Unspecified, 1);
    assert!(matches!(
        ca.crl(&profile(), 1, NOW, &[a.clone(), a]),
        Err(CaError::Build(_))
    ));
    let mut p = profile();
    p.crl_validity_hours = 0;
    assert!(matches!(ca.crl(&p, 1, NOW, &[]), Err(CaError::Build(_))));
}

#[test]
fn every_reason_is_written_per_entry_and_lints_clean() {
    let reasons = [
        (RevocationReason::KeyCompromise, "Key Compromise"),
        (RevocationReason::AffiliationChanged, "Affiliation Changed"),
        (RevocationReason::Superseded, "Superseded"),
        (
            RevocationReason::CessationOfOperation,
            "Cessation Of Operation",
        ),
        (RevocationReason::CertificateHold, "Certificate Hold"),
        (RevocationReason::PrivilegeWithdrawn, "Privilege Withdrawn"),
        (RevocationReason::Unspecified, ""),
    ];
    let entries: Vec<RevokedEntry> = reasons
        .iter()
        .enumerate()
        .map(|(i, (r, _))| entry(*r, i as i64))
        .collect();
    let crl = test_ca().crl(&profile(), 12, NOW, &entries).unwrap();
    let text = openssl_check(&crl);
    for (_, name) in reasons.iter().filter(|(_, n)| !n.is_empty()) {
        assert_eq!(text.matches(name).count(), 1, "{name}:\n{text}");
    }
    assert_crl_lints_clean(&crl);
    let (_, parsed) = CertificateRevocationList::from_der(&crl).unwrap();
    for r in parsed.iter_revoked_certificates() {
        let serial = Serial::from_magnitude(r.raw_serial()).unwrap();
        let want = entries.iter().find(|e| e.serial == serial).unwrap().reason;
        let got = r.reason_code().map(|(_, code)| code.0);
        if want == RevocationReason::Unspecified {
            assert_eq!(got, None, "unspecified is written without a reason code");
        } else {
            assert_eq!(got, Some(want.code()), "{want:?}");
        }
    }
}
