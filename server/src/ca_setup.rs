//! Which CA signs, and the rules for its key files.
//!
//! The CA is `ca.cert` + `ca.key` (+ `ca.chain`) when configured, else `ca.pem` + `ca.key`
//! (+ `ca-chain.pem`) in the data directory, a self-signed CA created there on first start
//! when neither file exists. `ca.key` is a PEM file or a `pkcs11:` URI (the key stays in the
//! token, the PIN comes from `ca.pin_file`). A key file may be PKCS#8-encrypted with the
//! passphrase in `ca.key_passphrase_file`.
//!
//! Refused at start: a key, passphrase or PIN file that group or others may access, and a
//! plaintext key file when `public_url` is https (a production portal keeps its key
//! encrypted or in a token). Files are written with mode 0600; their contents never reach a
//! log line or a response.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use zeroize::Zeroizing;

use crate::config::Config;
use crate::domain::hex;

#[derive(Debug, thiserror::Error)]
pub enum CaSetupError {
    #[error("CA file {path}: {error}")]
    Io { path: String, error: std::io::Error },
    #[error("CA: {0}")]
    Ca(#[from] ca::CaError),
    #[error("CA: {0}")]
    Refused(String),
}

pub(crate) fn io(path: &Path) -> impl FnOnce(std::io::Error) -> CaSetupError + '_ {
    move |error| CaSetupError::Io {
        path: path.display().to_string(),
        error,
    }
}

pub fn read(path: &Path) -> Result<String, CaSetupError> {
    std::fs::read_to_string(path).map_err(io(path))
}

/// Write `contents` to a new file that only the owner can read.
pub(crate) fn write_private(path: &Path, contents: &[u8]) -> Result<(), CaSetupError> {
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

/// Refuses a secret file that group or others may read (or write, or run).
pub(crate) fn check_private(path: &Path, what: &str) -> Result<(), CaSetupError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(path)
            .map_err(io(path))?
            .permissions()
            .mode();
        if mode & 0o077 != 0 {
            return Err(CaSetupError::Refused(format!(
                "the {what} {} is accessible by group or others (mode {:o}); \
                 run `chmod 600 {}`",
                path.display(),
                mode & 0o777,
                path.display()
            )));
        }
    }
    Ok(())
}

/// The first line of a private file (a passphrase or PIN), without its line ending.
pub(crate) fn read_secret(path: &Path, what: &str) -> Result<Zeroizing<String>, CaSetupError> {
    check_private(path, what)?;
    let text = Zeroizing::new(read(path)?);
    let line = Zeroizing::new(
        text.lines()
            .next()
            .unwrap_or("")
            .trim_end_matches('\r')
            .to_owned(),
    );
    if line.is_empty() {
        return Err(CaSetupError::Refused(format!(
            "the {what} {} is empty",
            path.display()
        )));
    }
    Ok(line)
}

/// Where the CA key is.
pub enum KeySource {
    File(PathBuf),
    Token(ca::TokenSpec),
}

/// The configured key source, or `data_dir/ca.key`.
pub fn key_source(config: &Config) -> Result<KeySource, CaSetupError> {
    let key = config
        .ca_key()
        .unwrap_or_else(|| config.data_dir.join("ca.key").display().to_string());
    if !ca::Pkcs11Uri::is_pkcs11(&key) {
        return Ok(KeySource::File(PathBuf::from(key)));
    }
    let uri: ca::Pkcs11Uri = key.parse()?;
    let pin_file = config
        .ca
        .pin_file
        .as_deref()
        .ok_or_else(|| CaSetupError::Refused("a pkcs11: CA key needs ca.pin_file".into()))?;
    Ok(KeySource::Token(ca::TokenSpec {
        uri,
        module: config.ca.pkcs11_module.clone(),
        pin: read_secret(pin_file, "PIN file (ca.pin_file)")?,
    }))
}

/// The key passphrase, when `ca.key_passphrase_file` is set.
pub fn passphrase(config: &Config) -> Result<Option<Zeroizing<String>>, CaSetupError> {
    config
        .ca
        .key_passphrase_file
        .as_deref()
        .map(|p| read_secret(p, "key passphrase file (ca.key_passphrase_file)"))
        .transpose()
}

const ENCRYPTED_LABEL: &str = "-----BEGIN ENCRYPTED PRIVATE KEY-----";

/// Opens the key (file or token) under the rules above.
pub fn open_key(config: &Config, source: KeySource) -> Result<ca::CaKey, CaSetupError> {
    match source {
        KeySource::Token(spec) => Ok(ca::CaKey::from_token(&spec)?),
        KeySource::File(path) => {
            check_private(&path, "CA key file")?;
            let text = Zeroizing::new(read(&path)?);
            if !text.contains(ENCRYPTED_LABEL) && config.https() {
                return Err(CaSetupError::Refused(format!(
                    "the CA key {} is not encrypted and public_url is https: encrypt it \
                     (PKCS#8 with a passphrase in ca.key_passphrase_file) or keep it in a \
                     PKCS#11 token",
                    path.display()
                )));
            }
            let pass = passphrase(config)?;
            Ok(ca::CaKey::from_pem(
                &text,
                pass.as_ref().map(|p| p.as_bytes()),
            )?)
        }
    }
}

/// The key file text for a new file key: encrypted when a passphrase is configured; plain
/// (mode 0600) otherwise, which an https portal refuses.
pub fn key_file_text(config: &Config, key: &ca::CaKey) -> Result<Zeroizing<String>, CaSetupError> {
    match passphrase(config)? {
        Some(pass) => Ok(Zeroizing::new(key.encrypted_pkcs8_pem(pass.as_bytes())?)),
        None if config.https() => Err(CaSetupError::Refused(
            "public_url is https: set ca.key_passphrase_file so the CA key is written \
             encrypted (or use a pkcs11: key)"
                .into(),
        )),
        None => Ok(key.pkcs8_pem()?),
    }
}

fn read_chain(config: &Config) -> Result<Option<String>, CaSetupError> {
    let path = config.ca_chain_path();
    if config.ca.chain.is_none() && !path.exists() {
        return Ok(None);
    }
    read(&path).map(Some)
}

pub fn load_or_create(config: &Config, now: OffsetDateTime) -> Result<ca::Ca, CaSetupError> {
    let cert_path = config.ca_cert_path();
    let configured = config.ca_key().is_some();
    let default_key = config.data_dir.join("ca.key");
    if configured || cert_path.exists() || default_key.exists() {
        let key = open_key(config, key_source(config)?)?;
        let ca = ca::Ca::load(&read(&cert_path)?, key, read_chain(config)?.as_deref())?;
        tracing::info!(
            cert = %cert_path.display(),
            token = ca.key().is_token(),
            chain = ca.chain_der().len(),
            "using the CA"
        );
        return Ok(ca);
    }
    std::fs::create_dir_all(&config.data_dir).map_err(io(&config.data_dir))?;
    let ca = ca::Ca::generate(&subject(config), now, config.ca.ca_validity_years)?;
    let key_text = key_file_text(config, ca.key())?;
    // Key first: a crash in between leaves a key without a certificate, which the next
    // start reports instead of silently making a second CA.
    write_private(&default_key, key_text.as_bytes())?;
    write_private(&cert_path, ca.certificate_pem().as_bytes())?;
    tracing::info!(cert = %cert_path.display(), "created a new local CA");
    Ok(ca)
}

/// The subject of a CA this portal makes (first start, the issuing CA's request).
pub fn subject(config: &Config) -> ca::CaSubject {
    ca::CaSubject {
        common_name: config.ca.common_name.clone(),
        organization: config.ca.organization.clone(),
        country: config.ca.country.clone(),
    }
}

pub fn fingerprint(ca: &ca::Ca) -> String {
    hex(&Sha256::digest(ca.certificate_der()))
}
