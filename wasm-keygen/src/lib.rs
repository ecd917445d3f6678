//! Applicant-side cryptography of the customs certificate portal, replacing the Windows
//! "RA component": key pair generation, the PKCS#10 CSR and the PKCS#12 `.pfx`, in plain
//! Rust usable natively and, through `js.rs` (wasm32 only), from JavaScript.
//!
//! Never reads the clock (`SystemTime::now()` panics on wasm32-unknown-unknown) and never
//! panics on bad input: every refusal is a [`KeygenError`] with a stable code.

pub mod cert;
pub mod csr;
pub mod encoding;
pub mod error;
pub mod keygen;
mod oid;
pub mod pem;
pub mod pkcs12;
mod reader;
pub mod validate;

#[cfg(target_arch = "wasm32")]
mod js;

#[cfg(test)]
mod golden_tests;
#[cfg(test)]
mod testder;

pub use cert::{Certificate, certificate_to_der, certificate_to_pem};
pub use csr::{Csr, Subject, build_csr};
pub use error::KeygenError;
pub use keygen::{
    GeneratedKey, KeyAlgorithm, PrivateKey, generate, generate_rsa_prime, rsa_key_from_primes,
    search_rsa_prime,
};
pub use pkcs12::{PfxRequest, Profile, build_pfx};
pub use validate::{validate_file_name, validate_password};
