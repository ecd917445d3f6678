//! Applicant keys and CSRs made the way the portal's Wasm module makes them in the browser,
//! with the subject the tests' applicant puts in (the CA replaces it anyway). RSA key
//! generation is slow, so the keys are made once per test binary.

use std::sync::OnceLock;

use wasm_keygen::{GeneratedKey, KeyAlgorithm, Subject};

use crate::forms::{COMPANY, TAX_ID};

/// What the applicant's browser puts in a CSR: `cn`, the company, TW, the tax ID.
pub fn subject(cn: &str, tax_id: &str) -> Subject {
    Subject {
        cn: cn.into(),
        o: Some(COMPANY.into()),
        ou: None,
        c: Some("TW".into()),
        serial_number: Some(tax_id.into()),
    }
}

/// One of two applicant keys (RSA-2048), generated once per test binary.
pub fn test_key(which: usize) -> &'static GeneratedKey {
    static KEYS: OnceLock<Vec<GeneratedKey>> = OnceLock::new();
    &KEYS.get_or_init(|| {
        (0..2)
            .map(|_| wasm_keygen::generate(KeyAlgorithm::Rsa { bits: 2048 }).unwrap())
            .collect()
    })[which]
}

/// A CSR (PEM) for [`test_key`] `which`, subject `cn` of the [`TAX_ID`] company.
pub fn csr_pem(which: usize, cn: &str) -> String {
    wasm_keygen::build_csr(&test_key(which).pkcs8, &subject(cn, TAX_ID))
        .unwrap()
        .pem
}
