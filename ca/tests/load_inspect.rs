//! Loading an operator's CA from PEM, and reading back issued certificates.

// Test helpers outside #[test] fns unwrap too: a failure there is a test failure.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use ca::{Ca, CaError, Serial};
use common::*;
use testkit::tools::openssl;
use wasm_keygen::KeyAlgorithm;

fn read(dir: &std::path::Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(name)).unwrap()
}

/// Issues with `ca` and checks the result against `ca_pem` with OpenSSL.
fn issues_verifiable(ca: &Ca, ca_pem: &str) {
    let checked = ca.check_csr(&profile(), rsa2048_csr()).unwrap();
    let mut req = request(checked.spki_der, Serial::random());
    req.not_before = time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .unwrap();
    req.not_after = req.not_before + time::Duration::days(1);
    let leaf = ca.issue(&profile(), &req).unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("ca.pem"), ca_pem).unwrap();
    std::fs::write(dir.path().join("leaf.pem"), ca::cert_der_to_pem(&leaf)).unwrap();
    let out = openssl(
        dir.path(),
        &["verify", "-x509_strict", "-CAfile", "ca.pem", "leaf.pem"],
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "leaf.pem: OK");
    assert_eq!(ca.inspect_issued(&leaf).unwrap().serial, req.serial);
}

#[test]
fn generated_ca_round_trips_through_pem() {
    let original = test_ca();
    let key_pem = original.key_pem();
    assert!(key_pem.starts_with("-----BEGIN PRIVATE KEY-----\n"));
    let loaded = Ca::from_pem(&original.certificate_pem(), &key_pem).unwrap();
    assert_eq!(loaded.certificate_der(), original.certificate_der());
    assert_eq!(*loaded.key_pem(), *key_pem);
    // Same key, same deterministic signatures: both CAs sign a request identically.
    let checked = original.check_csr(&profile(), rsa2048_csr()).unwrap();
    let req = request(checked.spki_der, Serial::random());
    assert_eq!(
        loaded.issue(&profile(), &req).unwrap(),
        original.issue(&profile(), &req).unwrap()
    );
    // A certificate from the original is recognised by the loaded one.
    let leaf = original.issue(&profile(), &req).unwrap();
    assert_eq!(loaded.inspect_issued(&leaf).unwrap().serial, req.serial);
    // OpenSSL reads the key file and finds it matches the certificate.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("k.pem"), key_pem.as_bytes()).unwrap();
    std::fs::write(dir.path().join("c.pem"), original.certificate_pem()).unwrap();
    let k = openssl(dir.path(), &["pkey", "-in", "k.pem", "-pubout"]);
    let c = openssl(dir.path(), &["x509", "-in", "c.pem", "-noout", "-pubkey"]);
    assert_eq!(k.stdout, c.stdout);
}

#[test]
fn debug_output_hides_the_key() {
    let shown = format!("{:?}", test_ca());
    assert!(shown.contains("redacted"));
    let key_pem = test_ca().key_pem();
    let body: String = key_pem.lines().nth(1).unwrap().chars().take(20).collect();
    assert!(!shown.contains(&body));
}

#[test]
fn mismatched_key_is_refused() {
    let other = Ca::generate(&ca_subject(), NOW, 3).unwrap();
    let err = Ca::from_pem(&test_ca().certificate_pem(), &other.key_pem()).unwrap_err();
    assert!(matches!(err, CaError::KeyMismatch), "{err:?}");
}

#[test]
fn openssl_made_ca_with_pkcs1_or_pkcs8_key_loads() {
    let dir = tempfile::tempdir().unwrap();
    openssl(
        dir.path(),
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:3072",
            "-nodes",
            "-keyout",
            "k8.pem",
            "-subj",
            "/C=TW/O=Operator/CN=Operator CA",
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
    openssl(
        dir.path(),
        &["rsa", "-in", "k8.pem", "-traditional", "-out", "k1.pem"],
    );
    let cert = read(dir.path(), "c.pem");
    for key_file in ["k8.pem", "k1.pem"] {
        let key = read(dir.path(), key_file);
        let ca = Ca::from_pem(&cert, &key).unwrap();
        issues_verifiable(&ca, &cert);
        // key_pem() is always PKCS#8.
        assert!(ca.key_pem().starts_with("-----BEGIN PRIVATE KEY-----"));
    }
    assert!(read(dir.path(), "k1.pem").starts_with("-----BEGIN RSA PRIVATE KEY-----"));
}

#[test]
fn openssl_made_p256_ca_loads_from_pkcs8_and_sec1() {
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
            "k8.pem",
            "-subj",
            "/C=TW/CN=EC CA",
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
    openssl(dir.path(), &["ec", "-in", "k8.pem", "-out", "sec1.pem"]);
    let cert = read(dir.path(), "c.pem");
    for key_file in ["k8.pem", "sec1.pem"] {
        let ca = Ca::from_pem(&cert, &read(dir.path(), key_file)).unwrap();
        issues_verifiable(&ca, &cert);
    }
}

#[test]
fn non_ca_certificates_and_bad_pem_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    openssl(
        dir.path(),
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "k.pem",
            "-subj",
            "/CN=leaf",
            "-days",
            "30",
            "-addext",
            "basicConstraints=critical,CA:FALSE",
            "-out",
            "c.pem",
        ],
    );
    let err = Ca::from_pem(&read(dir.path(), "c.pem"), &read(dir.path(), "k.pem")).unwrap_err();
    assert!(matches!(err, CaError::Load(_)), "{err:?}");
    let err = Ca::from_pem("garbage", &test_ca().key_pem()).unwrap_err();
    assert!(matches!(err, CaError::Load(_)), "{err:?}");
    let err = Ca::from_pem(&test_ca().certificate_pem(), "garbage").unwrap_err();
    assert!(matches!(err, CaError::Load(_)), "{err:?}");
    // An encrypted key is reported as such rather than as garbage.
    openssl(
        dir.path(),
        &[
            "pkcs8",
            "-topk8",
            "-in",
            "k.pem",
            "-passout",
            "pass:secret",
            "-out",
            "enc.pem",
        ],
    );
    let err = Ca::from_pem(&test_ca().certificate_pem(), &read(dir.path(), "enc.pem")).unwrap_err();
    assert!(
        matches!(&err, CaError::Load(m) if m.contains("encrypted")),
        "{err:?}"
    );
}

#[test]
fn inspect_reads_back_our_certificate() {
    let ca = test_ca();
    let checked = ca
        .check_csr(&profile(), &keygen_csr(KeyAlgorithm::EcP256))
        .unwrap();
    let serial = Serial::random();
    let req = request(checked.spki_der.clone(), serial);
    let leaf = ca.issue(&profile(), &req).unwrap();
    let info = ca.inspect_issued(&leaf).unwrap();
    assert_eq!(info.serial, serial);
    assert_eq!(info.tax_id.as_deref(), Some("12345675"));
    assert_eq!(info.cert_name.as_deref(), Some("SingleWindow-01-B00051"));
    assert_eq!(info.spki_der, checked.spki_der);
    assert_eq!(info.not_before, req.not_before);
    assert_eq!(info.not_after, req.not_after);
}

#[test]
fn inspect_refuses_foreign_tampered_and_garbage_certificates() {
    let ca = test_ca();
    // Foreign: an openssl CA and a leaf it signed, even with our exact issuer name.
    let dir = tempfile::tempdir().unwrap();
    openssl(
        dir.path(),
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "fk.pem",
            "-utf8",
            "-subj",
            "/C=TW/O=關港貿單一窗口 Test/CN=Customs Portal Test CA",
            "-days",
            "30",
            "-out",
            "fake_ca.pem",
        ],
    );
    openssl(
        dir.path(),
        &[
            "req",
            "-new",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "lk.pem",
            "-subj",
            "/CN=foreign",
            "-out",
            "leaf.csr",
        ],
    );
    openssl(
        dir.path(),
        &[
            "x509",
            "-req",
            "-in",
            "leaf.csr",
            "-CA",
            "fake_ca.pem",
            "-CAkey",
            "fk.pem",
            "-days",
            "3",
            "-outform",
            "DER",
            "-out",
            "foreign.der",
        ],
    );
    let foreign = std::fs::read(dir.path().join("foreign.der")).unwrap();
    // Byte-identical issuer name, so only the signature check can tell it apart.
    let (_, ours) = x509_parser::parse_x509_certificate(ca.certificate_der()).unwrap();
    let (_, parsed) = x509_parser::parse_x509_certificate(&foreign).unwrap();
    assert_eq!(parsed.issuer().as_raw(), ours.subject().as_raw());
    assert!(matches!(ca.inspect_issued(&foreign), Err(CaError::NotOurs)));
    let fake_ca = std::fs::read_to_string(dir.path().join("fake_ca.pem")).unwrap();
    let (_, fake_ca_der) = x509_parser::pem::parse_x509_pem(fake_ca.as_bytes()).unwrap();
    assert!(matches!(
        ca.inspect_issued(&fake_ca_der.contents),
        Err(CaError::NotOurs)
    ));

    // One of our leaves with a flipped signature bit is not ours any more.
    let checked = ca.check_csr(&profile(), rsa2048_csr()).unwrap();
    let mut leaf = ca
        .issue(&profile(), &request(checked.spki_der, Serial::random()))
        .unwrap();
    let last = leaf.len() - 1;
    leaf[last] ^= 0x80;
    assert!(matches!(ca.inspect_issued(&leaf), Err(CaError::NotOurs)));
    // Same with a changed subject byte.
    leaf[last] ^= 0x80;
    assert!(ca.inspect_issued(&leaf).is_ok());
    let at = common::find(&leaf, b"12345675").unwrap();
    leaf[at] = b'9';
    assert!(matches!(ca.inspect_issued(&leaf), Err(CaError::NotOurs)));

    // Another CA generated by this crate, same subject: not ours either.
    let other = Ca::generate(&ca_subject(), NOW, 3).unwrap();
    let checked = other.check_csr(&profile(), rsa2048_csr()).unwrap();
    let theirs = other
        .issue(&profile(), &request(checked.spki_der, Serial::random()))
        .unwrap();
    assert!(matches!(ca.inspect_issued(&theirs), Err(CaError::NotOurs)));

    assert!(matches!(
        ca.inspect_issued(b"garbage"),
        Err(CaError::Parse(_))
    ));
    assert!(matches!(ca.inspect_issued(&[]), Err(CaError::Parse(_))));
}

/// Found by the cert_inspect fuzzer: x509-parser took our certificate with its outer
/// SEQUENCE (or the outer signatureAlgorithm SEQUENCE) re-tagged as `[16]` or
/// `[APPLICATION 16]`. The signature covers only the TBS, so such a file verified; it is not
/// DER, no strict reader opens it, and it must not pass as ours.
#[test]
fn re_tagged_wrappers_of_our_certificates_are_refused() {
    let ca = Ca::generate(&ca_subject(), NOW, 3).unwrap();
    let checked = ca.check_csr(&profile(), rsa2048_csr()).unwrap();
    let leaf = ca
        .issue(&profile(), &request(checked.spki_der, Serial::random()))
        .unwrap();
    assert!(ca.inspect_issued(&leaf).is_ok());
    let (_, parsed) = x509_parser::parse_x509_certificate(&leaf).unwrap();
    let tbs_len = parsed.tbs_certificate.as_ref().len();
    // Outer header (0x30 0x82 len len), then the TBS, then the outer AlgorithmIdentifier.
    assert_eq!(&leaf[..2], &[0x30, 0x82]);
    let outer_alg = 4 + tbs_len;
    assert_eq!(leaf[outer_alg], 0x30);
    for (at, tag) in [
        (0, 0xb0),
        (0, 0x70),
        (0, 0x31),
        (outer_alg, 0xb0),
        (outer_alg, 0x70),
    ] {
        let mut bad = leaf.clone();
        bad[at] = tag;
        let lax = x509_parser::parse_x509_certificate(&bad).is_ok();
        assert!(
            matches!(ca.inspect_issued(&bad), Err(CaError::Parse(_))),
            "tag {tag:#04x} at {at} accepted (x509-parser alone accepts it: {lax})"
        );
    }
    // The outer algorithm must be the TBS one byte for byte: sha256WithRSAEncryption with
    // its NULL parameters dropped (same OID, different encoding) is refused too.
    let alg_len = usize::from(leaf[outer_alg + 1]);
    let alg = &leaf[outer_alg..outer_alg + 2 + alg_len];
    assert_eq!(
        &alg[alg.len() - 2..],
        &[0x05, 0x00],
        "RSA algorithm with NULL"
    );
    let mut no_null = leaf[4..outer_alg].to_vec();
    no_null.push(0x30);
    no_null.push((alg_len - 2) as u8);
    no_null.extend_from_slice(&alg[2..alg.len() - 2]);
    no_null.extend_from_slice(&leaf[outer_alg + 2 + alg_len..]);
    let len = no_null.len();
    let mut rewrapped = vec![0x30, 0x82, (len >> 8) as u8, len as u8];
    rewrapped.extend_from_slice(&no_null);
    assert!(matches!(
        ca.inspect_issued(&rewrapped),
        Err(CaError::Parse(_))
    ));
}
