//! Shared fixtures for the CA integration tests: a test CA, profiles, CSR builders for
//! good and deliberately weak keys. The profile and subjects come from the shared test kit
//! (`testkit`), as do the external tools (`testkit::tools`) and SoftHSM2 (`testkit::softhsm`).

#![allow(dead_code)]

pub mod rsa_raw;

pub use testkit::certs::profile;

use std::sync::OnceLock;

use ca::{Ca, CaSubject, IssueRequest, LeafSubject, Serial};
use time::OffsetDateTime;
use time::macros::datetime;
use wasm_keygen::{KeyAlgorithm, Subject};

pub const NOW: OffsetDateTime = datetime!(2026-03-02 08:00:00 UTC);

pub fn ca_subject() -> CaSubject {
    CaSubject {
        common_name: "Customs Portal Test CA".into(),
        organization: "關港貿單一窗口 Test".into(),
        country: "TW".into(),
    }
}

/// One RSA-3072 CA per test binary: generating it is the slow part.
pub fn test_ca() -> &'static Ca {
    static CA: OnceLock<Ca> = OnceLock::new();
    CA.get_or_init(|| Ca::generate(&ca_subject(), NOW, 10).unwrap())
}

pub fn root_subject() -> CaSubject {
    CaSubject {
        common_name: "Customs Portal Test Root".into(),
        organization: "關港貿單一窗口 Test".into(),
        country: "TW".into(),
    }
}

/// An offline root (a new file key of `root_key`, 20 years) and the issuing CA certificate
/// it signs for `issuing_key`'s request (10 years from [`NOW`]).
pub fn root_signs(root_key: ca::KeyAlgorithm, issuing_key: &ca::CaKey) -> (Ca, Vec<u8>) {
    let root = Ca::self_signed(
        ca::CaKey::generate(root_key).unwrap(),
        &root_subject(),
        Serial::random(),
        NOW - time::Duration::days(1),
        Ca::years_after(NOW, 20).unwrap(),
    )
    .unwrap();
    let csr = Ca::issuing_csr(issuing_key, &ca_subject()).unwrap();
    let cert = root
        .sign_issuing(
            &csr,
            Serial::random(),
            NOW,
            Ca::years_after(NOW, 10).unwrap(),
        )
        .unwrap();
    (root, cert)
}

/// Position of `needle` in `haystack`.
pub fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

pub fn leaf_subject() -> LeafSubject {
    testkit::certs::leaf_subject(testkit::forms::COMPANY)
}

/// What the applicant's browser would put in the CSR; the CA must ignore it anyway.
pub fn csr_subject() -> Subject {
    testkit::keys::subject("SingleWindow-01-B00051", testkit::forms::TAX_ID)
}

/// A CSR made the way the portal's Wasm module makes it.
pub fn keygen_csr(algorithm: KeyAlgorithm) -> Vec<u8> {
    let key = wasm_keygen::generate(algorithm).unwrap();
    wasm_keygen::build_csr(&key.pkcs8, &csr_subject())
        .unwrap()
        .der
}

/// RSA-2048 CSRs are used a lot; make the key once per binary.
pub fn rsa2048_csr() -> &'static [u8] {
    static CSR: OnceLock<Vec<u8>> = OnceLock::new();
    CSR.get_or_init(|| keygen_csr(KeyAlgorithm::Rsa { bits: 2048 }))
}

pub fn request(spki_der: Vec<u8>, serial: Serial) -> IssueRequest {
    testkit::certs::request(spki_der, serial, NOW, leaf_subject())
}

/// Checks `csr` and issues a certificate for its key.
pub fn issue_for(csr: &[u8], subject: LeafSubject) -> Vec<u8> {
    let ca = test_ca();
    let checked = ca.check_csr(&profile(), csr).unwrap();
    let mut req = request(checked.spki_der, Serial::random());
    req.subject = subject;
    ca.issue(&profile(), &req).unwrap()
}
