//! Which CA signs: the operator's files when configured, else `ca.pem` + `ca.key` in the data
//! directory, created on first start. The key file is written with mode 0600 and its
//! contents never reach a log line or a response.

use std::io::Write as _;
use std::path::Path;

use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::config::Config;
use crate::domain::hex;

#[derive(Debug, thiserror::Error)]
pub enum CaSetupError {
    #[error("CA file {path}: {error}")]
    Io { path: String, error: std::io::Error },
    #[error("CA: {0}")]
    Ca(#[from] ca::CaError),
}

fn read(path: &Path) -> Result<String, CaSetupError> {
    std::fs::read_to_string(path).map_err(|error| CaSetupError::Io {
        path: path.display().to_string(),
        error,
    })
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> CaSetupError + '_ {
    move |error| CaSetupError::Io {
        path: path.display().to_string(),
        error,
    }
}

/// Write `contents` to a new file that only the owner can read.
fn write_private(path: &Path, contents: &[u8]) -> Result<(), CaSetupError> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        opts.mode(0o600);
    }
    let mut f = opts.open(path).map_err(io(path))?;
    f.write_all(contents).map_err(io(path))?;
    f.sync_all().map_err(io(path))
}

pub fn load_or_create(config: &Config, now: OffsetDateTime) -> Result<ca::Ca, CaSetupError> {
    if let (Some(cert), Some(key)) = (&config.ca_cert, &config.ca_key) {
        let ca = ca::Ca::from_pem(&read(cert)?, &read(key)?)?;
        tracing::info!(cert = %cert.display(), "using the configured CA");
        return Ok(ca);
    }
    let cert_path = config.data_dir.join("ca.pem");
    let key_path = config.data_dir.join("ca.key");
    if cert_path.exists() || key_path.exists() {
        let ca = ca::Ca::from_pem(&read(&cert_path)?, &read(&key_path)?)?;
        tracing::info!(cert = %cert_path.display(), "using the CA in the data directory");
        return Ok(ca);
    }
    std::fs::create_dir_all(&config.data_dir).map_err(io(&config.data_dir))?;
    let subject = ca::CaSubject {
        common_name: config.ca.common_name.clone(),
        organization: config.ca.organization.clone(),
        country: config.ca.country.clone(),
    };
    let ca = ca::Ca::generate(&subject, now, config.ca.ca_validity_years)?;
    // Key first: a crash in between leaves a key without a certificate, which the next
    // start reports instead of silently making a second CA.
    write_private(&key_path, ca.key_pem().as_bytes())?;
    write_private(&cert_path, ca.certificate_pem().as_bytes())?;
    tracing::info!(cert = %cert_path.display(), "created a new local CA");
    Ok(ca)
}

pub fn fingerprint(ca: &ca::Ca) -> String {
    hex(&Sha256::digest(ca.certificate_der()))
}
