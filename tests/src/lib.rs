//! The shared test kit: what the crates' tests, the fault-injection harness (`faults`), the
//! load generator (`loadgen`) and the fuzz replay need alike, kept in one place so a fixture
//! or a tool lookup is fixed once. One module per job:
//!
//! * [`pg`]: a throwaway PostgreSQL database, dropped when done;
//! * [`smtp`], [`maildir`], [`pki`]: the aiosmtpd SMTP sink, the mail it delivered, and a
//!   certificate for its TLS modes;
//! * [`forms`], [`keys`], [`certs`]: application forms, applicant keys and CSR subjects, the
//!   CA profile and leaf subjects the tests issue with;
//! * [`tools`], [`softhsm`]: openssl, pkilint, keytool, pk12util and a SoftHSM2 token.
//!
//! The heavy parts are features (`pg`, `mail`, `tools`, all on by default) so that `fuzz/`,
//! a workspace of its own, takes only the fixtures. The production crates (server, mailer,
//! ca) use this crate as a dev-dependency only.

// Test support: a fixture that cannot be made must stop the test with its reason, so the
// panicking helpers unwrap, expect and panic on purpose. The parts the `faults` and `loadgen`
// binaries call at run time return errors instead.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod certs;
pub mod forms;
pub mod keys;
#[cfg(feature = "mail")]
pub mod maildir;
#[cfg(feature = "pg")]
pub mod pg;
#[cfg(feature = "mail")]
pub mod pki;
#[cfg(feature = "mail")]
pub mod smtp;
#[cfg(feature = "tools")]
pub mod softhsm;
#[cfg(feature = "tools")]
pub mod tools;

/// A port on 127.0.0.1 that was free a moment ago (bind to 0, read it, release it; the
/// window for a clash is tiny).
pub fn free_port() -> u16 {
    try_free_port().unwrap()
}

/// [`free_port`], for callers that report errors rather than panic.
pub fn try_free_port() -> std::io::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// What the non-panicking helpers (for the `faults` and `loadgen` binaries) fail with: a
/// message naming what was tried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error(pub String);

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}
