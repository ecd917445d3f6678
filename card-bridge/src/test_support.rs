//! Helpers shared by unit tests: external verification with the openssl CLI (required).

use std::process::Command;

use card_auth::testing::TestPki;

/// Verifies a DER CMS SignedData with `openssl cms -verify` against the test PKI and
/// returns the signed content. OpenSSL 3.0's `cms` has no `-untrusted`, so the CA file holds
/// root and intermediate (the chain is still built up to the self-signed root).
pub fn openssl_cms_verify(p7_der: &[u8], pki: &TestPki) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let cas = dir.path().join("cas.pem");
    std::fs::write(&cas, pki.root.pem() + &pki.intermediate.pem()).unwrap();
    openssl_cms_verify_with(p7_der, &cas)
}

/// [`openssl_cms_verify`] against the CA certificates (PEM) in `ca_file`.
pub fn openssl_cms_verify_with(p7_der: &[u8], ca_file: &std::path::Path) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let p = |name: &str| dir.path().join(name);
    std::fs::write(p("sig.p7"), p7_der).unwrap();
    std::fs::copy(ca_file, p("cas.pem")).unwrap();
    let out = Command::new("openssl")
        .args([
            "cms", "-verify", "-inform", "DER", "-purpose", "any", "-binary",
        ])
        .arg("-in")
        .arg(p("sig.p7"))
        .arg("-CAfile")
        .arg(p("cas.pem"))
        .arg("-out")
        .arg(p("content.bin"))
        .output()
        .expect("the openssl CLI is required for this test (apt-get install openssl)");
    assert!(
        out.status.success(),
        "openssl cms -verify failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::read(p("content.bin")).unwrap()
}

/// `openssl cms -cmsout -print` of a DER SignedData (to look at its attributes).
pub fn openssl_cms_print(p7_der: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("sig.p7");
    std::fs::write(&file, p7_der).unwrap();
    let out = Command::new("openssl")
        .args(["cms", "-cmsout", "-print", "-inform", "DER", "-in"])
        .arg(&file)
        .output()
        .expect("the openssl CLI is required for this test (apt-get install openssl)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}
