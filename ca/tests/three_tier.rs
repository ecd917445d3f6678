//! Two tiers: an offline root signs the issuing CA's request; the issuing CA signs leaves
//! and the CRL. OpenSSL verifies leaf → issuing CA → root with the CRL; the PFX built the
//! way the browser builds it (leaf, issuing CA, root) opens in OpenSSL, keytool and NSS.

// Test helpers outside #[test] fns unwrap too: a failure there is a test failure.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::Path;

use ca::{Ca, CaKey, KeyAlgorithm, RevocationReason, RevokedEntry, Serial};
use common::*;
use testkit::tools::{
    assert_cert_lints_clean, assert_crl_lints_clean, openssl, openssl_any, run_ok,
};
use time::Duration;
use wasm_keygen::{PfxRequest, Profile as PfxProfile};
use x509_parser::prelude::{FromDer, X509Certificate};

const PASSWORD: &str = "Abcd1234";
const CERT_NAME: &str = "SingleWindow-01-B00051";

/// Root (RSA-4096, 20 years) and issuing CA (RSA-3072 from a CSR, 10 years).
fn tiers() -> (Ca, Ca) {
    let key = CaKey::generate(KeyAlgorithm::Rsa(3072)).unwrap();
    let (root, cert) = root_signs(KeyAlgorithm::Rsa(4096), &key);
    let issuing = Ca::load(
        &ca::cert_der_to_pem(&cert),
        key,
        Some(&root.certificate_pem()),
    )
    .unwrap();
    (root, issuing)
}

fn write(dir: &Path, name: &str, data: impl AsRef<[u8]>) {
    std::fs::write(dir.join(name), data).unwrap();
}

#[test]
fn three_certificate_chain_verifies_with_crl_and_packs_into_a_pfx() {
    let (root, issuing) = tiers();
    assert_eq!(issuing.chain_der(), [root.certificate_der().to_vec()]);
    assert_eq!(issuing.root_der(), root.certificate_der());
    assert_eq!(issuing.chain_pem().len(), 2);

    // The issuing CA certificate: the root's choices, not the request's.
    let (_, ica) = X509Certificate::from_der(issuing.certificate_der()).unwrap();
    let bc = ica.basic_constraints().unwrap().unwrap();
    assert!(bc.critical && bc.value.ca);
    assert_eq!(bc.value.path_len_constraint, Some(0));
    let ku = ica.key_usage().unwrap().unwrap();
    assert!(ku.critical && ku.value.key_cert_sign() && ku.value.crl_sign());
    assert_eq!(
        ica.issuer().as_raw(),
        X509Certificate::from_der(root.certificate_der())
            .unwrap()
            .1
            .subject()
            .as_raw()
    );
    assert_cert_lints_clean(issuing.certificate_der());
    assert_cert_lints_clean(root.certificate_der());

    // A leaf and a CRL from the issuing CA.
    let wk = wasm_keygen::generate(wasm_keygen::KeyAlgorithm::Rsa { bits: 2048 }).unwrap();
    let csr = wasm_keygen::build_csr(&wk.pkcs8, &csr_subject()).unwrap();
    let checked = issuing.check_csr(&profile(), &csr.der).unwrap();
    let mut req = request(checked.spki_der, Serial::random());
    req.not_before = time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .unwrap();
    req.not_after = req.not_before + Duration::days(730);
    let leaf = issuing.issue(&profile(), &req).unwrap();
    assert_cert_lints_clean(&leaf);
    let revoked = RevokedEntry {
        serial: Serial::random(),
        revoked_at: req.not_before,
        reason: RevocationReason::KeyCompromise,
    };
    let crl = issuing
        .crl(&profile(), 2, req.not_before, &[revoked])
        .unwrap();
    assert_crl_lints_clean(&crl);

    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "root.pem", root.certificate_pem());
    write(d, "ica.pem", issuing.certificate_pem());
    write(d, "leaf.pem", ca::cert_der_to_pem(&leaf));
    write(d, "crl.pem", ca::pem_encode("X509 CRL", &crl));
    let out = openssl(
        d,
        &[
            "verify",
            "-x509_strict",
            "-purpose",
            "sslclient",
            "-crl_check",
            "-CRLfile",
            "crl.pem",
            "-CAfile",
            "root.pem",
            "-untrusted",
            "ica.pem",
            "-show_chain",
            "leaf.pem",
        ],
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("leaf.pem: OK"), "{text}");
    assert!(text.contains("depth=2"), "three certificates: {text}");
    // Without the issuing CA the leaf does not chain to the root.
    let out = openssl_any(d, &["verify", "-CAfile", "root.pem", "leaf.pem"]);
    assert!(!out.status.success());

    // The PFX as the browser builds it from the API's chain (issuing CA, root).
    let chain: Vec<Vec<u8>> = issuing
        .chain_pem()
        .into_iter()
        .map(String::into_bytes)
        .collect();
    let chain_refs: Vec<&[u8]> = chain.iter().map(Vec::as_slice).collect();
    let pfx = wasm_keygen::build_pfx(&PfxRequest {
        pkcs8: &wk.pkcs8,
        certificate: &leaf,
        chain: &chain_refs,
        password: PASSWORD,
        friendly_name: CERT_NAME,
        profile: PfxProfile::Compatible,
    })
    .unwrap();
    write(d, "leaf.pfx", &pfx);

    let certs = openssl(
        d,
        &[
            "pkcs12",
            "-in",
            "leaf.pfx",
            "-passin",
            &format!("pass:{PASSWORD}"),
            "-nokeys",
        ],
    );
    let certs = String::from_utf8_lossy(&certs.stdout);
    assert_eq!(
        certs.matches("-----BEGIN CERTIFICATE-----").count(),
        3,
        "{certs}"
    );
    assert!(certs.contains("Customs Portal Test Root"), "{certs}");

    let keytool = run_ok(
        "keytool",
        &[
            "-list",
            "-v",
            "-storetype",
            "PKCS12",
            "-keystore",
            "leaf.pfx",
            "-storepass",
            PASSWORD,
        ],
        d,
    );
    assert!(keytool.contains("Certificate chain length: 3"), "{keytool}");
    assert!(keytool.contains("Entry type: PrivateKeyEntry"), "{keytool}");

    std::fs::create_dir(d.join("nssdb")).unwrap();
    run_ok(
        "certutil",
        &["-N", "-d", "sql:nssdb", "--empty-password"],
        d,
    );
    let imported = run_ok(
        "pk12util",
        &["-i", "leaf.pfx", "-d", "sql:nssdb", "-W", PASSWORD],
        d,
    );
    assert!(imported.contains("PKCS12 IMPORT SUCCESSFUL"), "{imported}");
    let listed = run_ok("certutil", &["-L", "-d", "sql:nssdb"], d);
    assert!(listed.contains("Customs Portal Test Root"), "{listed}");
    assert!(listed.contains("Customs Portal Test CA"), "{listed}");
    assert!(listed.contains("u,u,u"), "the leaf has its key: {listed}");
    // NSS builds the path from the imported certificates once the root is trusted (T: to
    // issue client certificates).
    let root_nickname = listed
        .lines()
        .find(|l| l.contains("Customs Portal Test Root"))
        .and_then(|l| l.trim_end().rsplit_once(char::is_whitespace))
        .map(|(name, _trust)| name.trim_end().to_owned())
        .unwrap();
    run_ok(
        "certutil",
        &["-M", "-d", "sql:nssdb", "-n", &root_nickname, "-t", "CT,,"],
        d,
    );
    let listed = run_ok("certutil", &["-L", "-d", "sql:nssdb"], d);
    let verified = run_ok(
        "certutil",
        &["-V", "-d", "sql:nssdb", "-n", CERT_NAME, "-u", "C"],
        d,
    );
    assert!(
        verified.contains("certificate is valid"),
        "{verified}\n{listed}"
    );
}

#[test]
fn the_root_decides_the_issuing_ca_and_refuses_bad_requests() {
    let root = Ca::self_signed(
        CaKey::generate(KeyAlgorithm::EcP256).unwrap(),
        &root_subject(),
        Serial::random(),
        NOW,
        Ca::years_after(NOW, 5).unwrap(),
    )
    .unwrap();
    let key = CaKey::generate(KeyAlgorithm::EcP256).unwrap();
    let csr = Ca::issuing_csr(&key, &ca_subject()).unwrap();
    // Not beyond the root.
    let too_long = root.sign_issuing(
        &csr,
        Serial::random(),
        NOW,
        Ca::years_after(NOW, 6).unwrap(),
    );
    assert!(too_long.is_err());
    let mut bad = csr.clone();
    let last = bad.len() - 1;
    bad[last] ^= 1;
    assert!(
        root.sign_issuing(
            &bad,
            Serial::random(),
            NOW,
            Ca::years_after(NOW, 1).unwrap()
        )
        .is_err(),
        "a broken signature must be refused"
    );
    // An applicant's request (serialNumber in the subject) is not an issuing CA's.
    let applicant = rsa2048_csr();
    let err = root
        .sign_issuing(
            applicant,
            Serial::random(),
            NOW,
            Ca::years_after(NOW, 1).unwrap(),
        )
        .unwrap_err();
    assert!(
        err.to_string().contains("serialNumber") || err.to_string().contains("2.5.4.5"),
        "{err}"
    );
    // The issuing certificate loads only with its own key and its root.
    let cert = root
        .sign_issuing(
            &csr,
            Serial::random(),
            NOW,
            Ca::years_after(NOW, 1).unwrap(),
        )
        .unwrap();
    let pem = ca::cert_der_to_pem(&cert);
    let other = CaKey::generate(KeyAlgorithm::EcP256).unwrap();
    assert!(matches!(
        Ca::load(&pem, other, Some(&root.certificate_pem())),
        Err(ca::CaError::KeyMismatch)
    ));
    let err = Ca::load(&pem, CaKey::generate(KeyAlgorithm::EcP256).unwrap(), None).unwrap_err();
    assert!(matches!(err, ca::CaError::KeyMismatch), "{err}");
    let err = Ca::load(&pem, key, None).unwrap_err();
    assert!(err.to_string().contains("not self-signed"), "{err}");
}
