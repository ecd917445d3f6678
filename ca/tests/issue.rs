//! Issued certificates: accepted by OpenSSL, clean under pkilint, deterministic, and built
//! from the CA's choices only.

// Test helpers outside #[test] fns unwrap too: a failure there is a test failure.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use ca::{LeafSubject, Serial};
use common::*;
use testkit::tools::{assert_cert_lints_clean, cert_findings, openssl};
use time::macros::datetime;
use wasm_keygen::KeyAlgorithm;
use x509_parser::extensions::{GeneralName, ParsedExtension};
use x509_parser::prelude::{FromDer, X509Certificate};

fn write(dir: &std::path::Path, name: &str, contents: &[u8]) {
    std::fs::write(dir.join(name), contents).unwrap();
}

/// `openssl verify` of `leaf` against the test CA, with the x509 strictness flag on.
fn openssl_verify(leaf: &[u8]) {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "ca.pem", test_ca().certificate_pem().as_bytes());
    write(dir.path(), "leaf.pem", ca::cert_der_to_pem(leaf).as_bytes());
    let out = openssl(
        dir.path(),
        &[
            "verify",
            "-x509_strict",
            "-attime",
            &(NOW.unix_timestamp() + 3600).to_string(),
            "-purpose",
            "sslclient",
            "-CAfile",
            "ca.pem",
            "leaf.pem",
        ],
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "leaf.pem: OK");
}

#[test]
fn generated_ca_is_a_valid_self_signed_root() {
    let ca = test_ca();
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "ca.pem", ca.certificate_pem().as_bytes());
    let text = openssl(dir.path(), &["x509", "-in", "ca.pem", "-noout", "-text"]);
    let text = String::from_utf8_lossy(&text.stdout).to_string();
    assert!(text.contains("Public-Key: (3072 bit)"), "{text}");
    assert!(text.contains("CA:TRUE"), "{text}");
    assert!(text.contains("Certificate Sign, CRL Sign"), "{text}");
    assert!(
        text.contains("Signature Algorithm: sha256WithRSAEncryption"),
        "{text}"
    );
    // Self-signature verifies: the root is its own trust anchor.
    let out = openssl(
        dir.path(),
        &[
            "verify",
            "-x509_strict",
            "-attime",
            &(NOW.unix_timestamp() + 60).to_string(),
            "-CAfile",
            "ca.pem",
            "ca.pem",
        ],
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "ca.pem: OK");

    let (_, cert) = X509Certificate::from_der(ca.certificate_der()).unwrap();
    assert_eq!(cert.validity().not_before.to_datetime(), NOW);
    assert_eq!(
        cert.validity().not_after.to_datetime(),
        datetime!(2036-03-02 08:00:00 UTC)
    );
    let bc = cert.basic_constraints().unwrap().unwrap();
    assert!(bc.critical && bc.value.ca);
    let ku = cert.key_usage().unwrap().unwrap();
    assert!(ku.critical && ku.value.key_cert_sign() && ku.value.crl_sign());
    assert!(!ku.value.digital_signature());
    assert_eq!(
        cert.subject().to_string(),
        "C=TW, O=關港貿單一窗口 Test, CN=Customs Portal Test CA"
    );
}

#[test]
fn generated_ca_lints_clean() {
    assert_cert_lints_clean(test_ca().certificate_der());
}

#[test]
fn linter_reports_a_known_bad_certificate() {
    // A leaf whose key usage is missing is flagged, so "no findings" below is meaningful.
    let dir = tempfile::tempdir().unwrap();
    openssl(
        dir.path(),
        &[
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "k.pem", "-subj",
            "/CN=bad", "-days", "2", "-outform", "DER", "-out", "c.der",
        ],
    );
    let der = std::fs::read(dir.path().join("c.der")).unwrap();
    assert!(!cert_findings(&der).is_empty());
}

#[test]
fn rsa_leaf_verifies_with_openssl_and_lints_clean() {
    let leaf = issue_for(rsa2048_csr(), leaf_subject());
    openssl_verify(&leaf);
    assert_cert_lints_clean(&leaf);
}

#[test]
fn rsa3072_and_p256_leaves_verify_and_lint_clean() {
    for alg in [KeyAlgorithm::Rsa { bits: 3072 }, KeyAlgorithm::EcP256] {
        let leaf = issue_for(&keygen_csr(alg), leaf_subject());
        openssl_verify(&leaf);
        assert_cert_lints_clean(&leaf);
    }
}

#[test]
fn individual_kind_with_ou_and_ocsp_lints_clean() {
    let ca = test_ca();
    let mut profile = profile();
    profile.ocsp_url = Some("http://127.0.0.1:8080/ocsp".into());
    let checked = ca.check_csr(&profile, rsa2048_csr()).unwrap();
    let mut req = request(checked.spki_der, Serial::random());
    req.subject.organizational_unit = Some("B12345".into());
    let leaf = ca.issue(&profile, &req).unwrap();
    openssl_verify(&leaf);
    assert_cert_lints_clean(&leaf);
    let (_, cert) = X509Certificate::from_der(&leaf).unwrap();
    assert_eq!(
        cert.subject().to_string(),
        "C=TW, O=台灣報關股份有限公司, OU=B12345, serialNumber=12345675, CN=SingleWindow-01-B00051"
    );
    let aia = cert
        .iter_extensions()
        .find_map(|e| match e.parsed_extension() {
            ParsedExtension::AuthorityInfoAccess(a) => Some(a.clone()),
            _ => None,
        })
        .unwrap();
    let locations: Vec<(String, String)> = aia
        .accessdescs
        .iter()
        .map(|d| {
            let GeneralName::URI(u) = &d.access_location else {
                panic!("not a URI")
            };
            (d.access_method.to_id_string(), (*u).to_owned())
        })
        .collect();
    assert_eq!(
        locations,
        vec![
            (
                "1.3.6.1.5.5.7.48.1".into(),
                "http://127.0.0.1:8080/ocsp".into()
            ),
            (
                "1.3.6.1.5.5.7.48.2".into(),
                "http://127.0.0.1:8080/ca.cer".into()
            ),
        ]
    );
}

#[test]
fn leaf_has_exactly_the_profile_fields() {
    let ca = test_ca();
    let checked = ca.check_csr(&profile(), rsa2048_csr()).unwrap();
    let serial = Serial::random();
    let req = request(checked.spki_der.clone(), serial);
    let leaf = ca.issue(&profile(), &req).unwrap();
    let (rest, cert) = X509Certificate::from_der(&leaf).unwrap();
    assert!(rest.is_empty());
    assert_eq!(cert.version().0, 2);
    assert_eq!(
        cert.raw_serial_as_string().replace(':', ""),
        serial.to_hex().trim_start_matches("00")
    );
    assert_eq!(cert.issuer().as_raw(), {
        let (_, ca_cert) = X509Certificate::from_der(ca.certificate_der()).unwrap();
        ca_cert.subject().as_raw().to_vec()
    });
    assert_eq!(cert.public_key().raw, checked.spki_der.as_slice());
    assert_eq!(cert.validity().not_before.to_datetime(), req.not_before);
    assert_eq!(cert.validity().not_after.to_datetime(), req.not_after);
    assert_eq!(
        cert.signature_algorithm.algorithm.to_id_string(),
        "1.2.840.113549.1.1.11"
    );

    let ids: Vec<(String, bool)> = cert
        .extensions()
        .iter()
        .map(|e| (e.oid.to_id_string(), e.critical))
        .collect();
    // Exactly these seven, with these criticalities, in rcgen's order (the hand-written
    // encoder put basicConstraints first; tests/golden.rs shows the order is the only change).
    assert_eq!(
        ids,
        vec![
            ("2.5.29.35".into(), false),
            ("2.5.29.15".into(), true),
            ("2.5.29.37".into(), false),
            ("2.5.29.31".into(), false),
            ("2.5.29.14".into(), false),
            ("2.5.29.19".into(), true),
            ("1.3.6.1.5.5.7.1.1".into(), false),
        ]
    );
    assert!(!cert.basic_constraints().unwrap().unwrap().value.ca);
    let ku = cert.key_usage().unwrap().unwrap().value;
    assert!(ku.digital_signature() && ku.non_repudiation());
    assert!(!ku.key_cert_sign() && !ku.crl_sign() && !ku.key_encipherment());
    let eku = cert.extended_key_usage().unwrap().unwrap().value;
    assert!(eku.client_auth && !eku.server_auth && !eku.any && eku.other.is_empty());

    // AKI of the leaf = SKI of the CA.
    let (_, ca_cert) = X509Certificate::from_der(ca.certificate_der()).unwrap();
    let ca_ski = ca_cert
        .iter_extensions()
        .find_map(|e| match e.parsed_extension() {
            ParsedExtension::SubjectKeyIdentifier(k) => Some(k.0.to_vec()),
            _ => None,
        })
        .unwrap();
    let aki = cert
        .iter_extensions()
        .find_map(|e| match e.parsed_extension() {
            ParsedExtension::AuthorityKeyIdentifier(a) => {
                a.key_identifier.as_ref().map(|k| k.0.to_vec())
            }
            _ => None,
        })
        .unwrap();
    assert_eq!(aki, ca_ski);
    let crl_dp = cert
        .iter_extensions()
        .find_map(|e| match e.parsed_extension() {
            ParsedExtension::CRLDistributionPoints(d) => Some(format!("{:?}", d.points)),
            _ => None,
        })
        .unwrap();
    assert!(
        crl_dp.contains("http://127.0.0.1:8080/crl/ca.crl"),
        "{crl_dp}"
    );
}

#[test]
fn issuance_is_deterministic() {
    let ca = test_ca();
    let checked = ca.check_csr(&profile(), rsa2048_csr()).unwrap();
    let req = request(checked.spki_der, Serial::random());
    let first = ca.issue(&profile(), &req).unwrap();
    let second = ca.issue(&profile(), &req.clone()).unwrap();
    assert_eq!(first, second);
    // And it depends on the request: another serial gives another certificate.
    let mut other = req.clone();
    other.serial = Serial::random();
    assert_ne!(ca.issue(&profile(), &other).unwrap(), first);
}

#[test]
fn p256_issuance_by_a_p256_ca_is_deterministic_too() {
    let dir = tempfile::tempdir().unwrap();
    openssl(
        dir.path(),
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            "k.pem",
            "-subj",
            "/C=TW/O=EC Test/CN=EC CA",
            "-days",
            "3650",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
            "-out",
            "c.pem",
        ],
    );
    let read = |n: &str| std::fs::read_to_string(dir.path().join(n)).unwrap();
    let ec_ca = ca::Ca::from_pem(&read("c.pem"), &read("k.pem")).unwrap();
    let checked = ec_ca.check_csr(&profile(), rsa2048_csr()).unwrap();
    let mut req = request(checked.spki_der, Serial::random());
    req.not_before = time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .unwrap();
    req.not_after = req.not_before + time::Duration::days(30);
    let a = ec_ca.issue(&profile(), &req).unwrap();
    assert_eq!(a, ec_ca.issue(&profile(), &req).unwrap());
    write(dir.path(), "leaf.pem", ca::cert_der_to_pem(&a).as_bytes());
    let out = openssl(
        dir.path(),
        &["verify", "-x509_strict", "-CAfile", "c.pem", "leaf.pem"],
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "leaf.pem: OK");
    assert_cert_lints_clean(&a);
}

#[test]
fn requested_ca_true_key_usage_and_sans_are_ignored() {
    let dir = tempfile::tempdir().unwrap();
    openssl(
        dir.path(),
        &[
            "req",
            "-new",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "k.pem",
            "-sha256",
            "-subj",
            "/C=US/O=Evil/CN=evil.example",
            "-addext",
            "basicConstraints=critical,CA:TRUE,pathlen:5",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
            "-addext",
            "extendedKeyUsage=serverAuth,codeSigning",
            "-addext",
            "subjectAltName=DNS:evil.example,DNS:*.bank.example,email:a@b.example",
            "-outform",
            "DER",
            "-out",
            "req.der",
        ],
    );
    let csr = std::fs::read(dir.path().join("req.der")).unwrap();
    // The CSR really asks for them.
    let text = openssl(
        dir.path(),
        &["req", "-in", "req.der", "-inform", "DER", "-noout", "-text"],
    );
    let text = String::from_utf8_lossy(&text.stdout).to_string();
    assert!(
        text.contains("CA:TRUE") && text.contains("evil.example"),
        "{text}"
    );

    let leaf = issue_for(&csr, leaf_subject());
    let (_, cert) = X509Certificate::from_der(&leaf).unwrap();
    assert!(!cert.basic_constraints().unwrap().unwrap().value.ca);
    assert!(cert.subject_alternative_name().unwrap().is_none());
    let ku = cert.key_usage().unwrap().unwrap().value;
    assert!(!ku.key_cert_sign() && !ku.crl_sign());
    let eku = cert.extended_key_usage().unwrap().unwrap().value;
    assert!(!eku.server_auth && !eku.code_signing && eku.client_auth);
    assert!(!cert.subject().to_string().contains("evil"));
    assert_eq!(cert.extensions().len(), 7);
    write(dir.path(), "leaf.der", &leaf);
    let shown = openssl(
        dir.path(),
        &[
            "x509", "-in", "leaf.der", "-inform", "DER", "-noout", "-text",
        ],
    );
    let shown = String::from_utf8_lossy(&shown.stdout).to_string();
    assert!(
        shown.contains("CA:FALSE") && !shown.contains("evil"),
        "{shown}"
    );
    openssl_verify(&leaf);
}

#[test]
fn serials_are_unique_over_many_issuances() {
    let ca = test_ca();
    let checked = ca.check_csr(&profile(), rsa2048_csr()).unwrap();
    let mut seen = std::collections::HashSet::new();
    for _ in 0..200 {
        let serial = Serial::random();
        let leaf = ca
            .issue(&profile(), &request(checked.spki_der.clone(), serial))
            .unwrap();
        let info = ca.inspect_issued(&leaf).unwrap();
        assert_eq!(info.serial, serial);
        assert!(seen.insert(info.serial), "serial repeated");
    }
}

#[test]
fn bad_requests_are_refused() {
    let ca = test_ca();
    let checked = ca.check_csr(&profile(), rsa2048_csr()).unwrap();
    let good = request(checked.spki_der.clone(), Serial::random());

    let mut backwards = good.clone();
    backwards.not_after = backwards.not_before;
    assert!(matches!(
        ca.issue(&profile(), &backwards),
        Err(ca::CaError::Build(_))
    ));

    let mut garbage = good.clone();
    garbage.spki_der = vec![0x30, 0x03, 0x02, 0x01, 0x00];
    assert!(matches!(
        ca.issue(&profile(), &garbage),
        Err(ca::CaError::Build(_))
    ));

    let mut bad_tax = good.clone();
    bad_tax.subject = LeafSubject {
        tax_id: "1234567_".into(),
        ..leaf_subject()
    };
    assert!(matches!(
        ca.issue(&profile(), &bad_tax),
        Err(ca::CaError::Build(_))
    ));

    let mut no_ec = profile();
    no_ec.allow_ec_p256 = false;
    let ec = ca
        .check_csr(&profile(), &keygen_csr(KeyAlgorithm::EcP256))
        .unwrap();
    assert!(matches!(
        ca.issue(&no_ec, &request(ec.spki_der, Serial::random())),
        Err(ca::CaError::Build(_))
    ));

    let mut bad_url = profile();
    bad_url.crl_url = "crl.example/ca.crl".into();
    assert!(matches!(
        ca.issue(&bad_url, &good),
        Err(ca::CaError::Build(_))
    ));
    assert!(ca.issue(&profile(), &good).is_ok());
}

#[test]
fn leaves_may_not_outlive_the_ca_or_be_empty() {
    let ca = test_ca();
    assert_eq!(ca.not_after(), datetime!(2036-03-02 08:00:00 UTC));
    let checked = ca.check_csr(&profile(), rsa2048_csr()).unwrap();
    let mut req = request(checked.spki_der, Serial::random());
    // Ending exactly with the CA is fine.
    req.not_after = ca.not_after();
    let leaf = ca.issue(&profile(), &req).unwrap();
    let (_, parsed) = X509Certificate::from_der(&leaf).unwrap();
    assert_eq!(parsed.validity().not_after.to_datetime(), ca.not_after());
    // One second later is not.
    req.not_after = ca.not_after() + time::Duration::seconds(1);
    let err = ca.issue(&profile(), &req).unwrap_err();
    assert!(
        err.to_string().contains("after the CA certificate expires"),
        "{err}"
    );
    // Nor an empty validity.
    req.not_after = req.not_before;
    assert!(ca.issue(&profile(), &req).is_err());
    // A loaded CA knows its end too.
    let loaded = ca::Ca::from_pem(&ca.certificate_pem(), &ca.key_pem()).unwrap();
    assert_eq!(loaded.not_after(), ca.not_after());
}
