//! `portal ca …`: the two-tier setup. An offline root (`init-root`, `sign-issuing`, run on
//! a machine the operator keeps apart) signs the portal's online issuing CA, whose key is
//! made where `ca.key` says (an encrypted file or a PKCS#11 token, `issuing-csr`) and whose
//! certificate and root are installed into the portal's configuration (`install-issuing`).

use std::io::BufRead as _;
use std::path::{Path, PathBuf};

use time::OffsetDateTime;
use zeroize::Zeroizing;

use crate::ca_setup::{
    self, CaSetupError, KeySource, io, key_file_text, key_source, open_key, read, write_private,
};
use crate::config::Config;

/// File names inside the offline root's directory.
pub const ROOT_KEY: &str = "root.key";
pub const ROOT_CERT: &str = "root.pem";
/// One line per certificate the root signed: serial, notAfter, subject.
pub const ROOT_LOG: &str = "issued.log";

/// Shortest passphrase accepted for the offline root's key.
const MIN_PASSPHRASE: usize = 12;

/// The passphrase from `file` (first line; the file must be private) or from the first
/// line of standard input.
pub fn passphrase_from(file: Option<&Path>) -> Result<Zeroizing<String>, CaSetupError> {
    let pass = match file {
        Some(path) => ca_setup::read_secret(path, "passphrase file")?,
        None => {
            let mut line = Zeroizing::new(String::new());
            std::io::stdin()
                .lock()
                .read_line(&mut line)
                .map_err(io(Path::new("<stdin>")))?;
            Zeroizing::new(line.trim_end_matches(['\r', '\n']).to_owned())
        }
    };
    if pass.chars().count() < MIN_PASSPHRASE {
        return Err(CaSetupError::Refused(format!(
            "the root key passphrase must have at least {MIN_PASSPHRASE} characters"
        )));
    }
    Ok(pass)
}

fn fingerprint_of(der: &[u8]) -> String {
    use sha2::Digest as _;
    crate::domain::hex(&sha2::Sha256::digest(der))
}

pub struct RootOptions {
    pub out: PathBuf,
    pub subject: ca::CaSubject,
    pub years: u32,
    pub algorithm: ca::KeyAlgorithm,
}

/// `portal ca init-root`: a new root key (encrypted with `passphrase`) and self-signed
/// certificate in a new directory. Returns the certificate's SHA-256 fingerprint.
pub fn init_root(
    opts: &RootOptions,
    passphrase: &str,
    now: OffsetDateTime,
) -> Result<String, CaSetupError> {
    if opts.out.exists()
        && std::fs::read_dir(&opts.out)
            .map_err(io(&opts.out))?
            .next()
            .is_some()
    {
        return Err(CaSetupError::Refused(format!(
            "{} is not empty; init-root writes a new root into an empty directory",
            opts.out.display()
        )));
    }
    create_private_dir(&opts.out)?;
    let not_before = now.replace_nanosecond(0).unwrap_or(now);
    let not_after = ca::Ca::years_after(not_before, opts.years)?;
    let key = ca::CaKey::generate(opts.algorithm)?;
    let key_text = key.encrypted_pkcs8_pem(passphrase.as_bytes())?;
    let root = ca::Ca::self_signed(
        key,
        &opts.subject,
        ca::Serial::try_random()?,
        not_before,
        not_after,
    )?;
    write_private(&opts.out.join(ROOT_KEY), key_text.as_bytes())?;
    write_public(&opts.out.join(ROOT_CERT), root.certificate_pem().as_bytes())?;
    Ok(fingerprint_of(root.certificate_der()))
}

fn create_private_dir(dir: &Path) -> Result<(), CaSetupError> {
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt as _;
        b.mode(0o700);
    }
    b.create(dir).map_err(io(dir))
}

/// A new file anyone may read (certificates, CSRs); never replaces one.
fn write_public(path: &Path, contents: &[u8]) -> Result<(), CaSetupError> {
    use std::io::Write as _;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(io(path))?;
    f.write_all(contents).map_err(io(path))?;
    f.sync_all().map_err(io(path))
}

/// `portal ca issuing-csr`: the issuing CA's key where `ca.key` says (made there when it
/// does not exist yet: in the token, or as a new key file, encrypted when a passphrase is
/// configured) and its request, written to `out`. Returns whether the key was new.
pub fn issuing_csr(
    config: &Config,
    out: &Path,
    algorithm: ca::KeyAlgorithm,
) -> Result<bool, CaSetupError> {
    let (key, created) = match key_source(config)? {
        KeySource::Token(spec) => ca::CaKey::open_or_create_in_token(&spec, algorithm)?,
        KeySource::File(path) if path.exists() => (open_key(config, KeySource::File(path))?, false),
        KeySource::File(path) => {
            let key = ca::CaKey::generate(algorithm)?;
            let text = key_file_text(config, &key)?;
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).map_err(io(dir))?;
            }
            write_private(&path, text.as_bytes())?;
            (key, true)
        }
    };
    let csr = ca::Ca::issuing_csr(&key, &ca_setup::subject(config))?;
    write_public(out, ca::pem_encode("CERTIFICATE REQUEST", &csr).as_bytes())?;
    Ok(created)
}

/// `portal ca sign-issuing`, on the root's machine: the root in `root_dir` (its key
/// decrypted with `passphrase`) signs the request for `years` (cut short at the root's
/// end). Writes the certificate to `out` and a line to the root's log.
pub fn sign_issuing(
    root_dir: &Path,
    csr_pem: &str,
    out: &Path,
    years: u32,
    passphrase: &str,
    now: OffsetDateTime,
) -> Result<String, CaSetupError> {
    let key_path = root_dir.join(ROOT_KEY);
    ca_setup::check_private(&key_path, "root key file")?;
    let key = ca::CaKey::from_pem(&read(&key_path)?, Some(passphrase.as_bytes()))?;
    let root = ca::Ca::load(&read(&root_dir.join(ROOT_CERT))?, key, None)?;
    if !root.chain_der().is_empty() {
        return Err(CaSetupError::Refused(
            "root.pem is not a self-signed root".into(),
        ));
    }
    let csr = ca::csr_pem_to_der(csr_pem).map_err(|e| CaSetupError::Refused(e.to_string()))?;
    let not_before = now.replace_nanosecond(0).unwrap_or(now);
    let not_after = ca::Ca::years_after(not_before, years)?.min(root.not_after());
    let serial = ca::Serial::try_random()?;
    let der = root.sign_issuing(&csr, serial, not_before, not_after)?;
    write_public(out, ca::cert_der_to_pem(&der).as_bytes())?;
    let line = format!("{} {} {}\n", serial.to_hex(), not_after, out.display());
    append(&root_dir.join(ROOT_LOG), line.as_bytes())?;
    Ok(fingerprint_of(&der))
}

fn append(path: &Path, line: &[u8]) -> Result<(), CaSetupError> {
    use std::io::Write as _;
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(path)
        .map_err(io(path))?;
    f.write_all(line).map_err(io(path))
}

/// `portal ca install-issuing`: checks that the signed certificate is for the configured
/// key and chains to `root_pem` (the whole CA loads, and its key signs), then writes it and
/// the root to `ca.cert` / `ca.chain` (by default `ca.pem` / `ca-chain.pem` in the data
/// directory). An installed CA is replaced only with `replace`.
pub fn install_issuing(
    config: &Config,
    cert_pem: &str,
    root_pem: &str,
    replace: bool,
) -> Result<PathBuf, CaSetupError> {
    let key = open_key(config, key_source(config)?)?;
    let ca = ca::Ca::load(cert_pem, key, Some(root_pem))?;
    if ca.chain_der().is_empty() {
        return Err(CaSetupError::Refused(
            "the certificate is self-signed; install-issuing installs a certificate signed by \
             the offline root"
                .into(),
        ));
    }
    let cert_path = config.ca_cert_path();
    let chain_path = config.ca_chain_path();
    for path in [&cert_path, &chain_path] {
        if path.exists() {
            if !replace {
                return Err(CaSetupError::Refused(format!(
                    "{} exists; pass --replace to install the new CA over it",
                    path.display()
                )));
            }
            std::fs::remove_file(path).map_err(io(path))?;
        }
    }
    if let Some(dir) = cert_path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(io(dir))?;
    }
    let chain: String = ca.chain_pem().into_iter().skip(1).collect();
    write_public(&chain_path, chain.as_bytes())?;
    write_public(&cert_path, ca.certificate_pem().as_bytes())?;
    Ok(cert_path)
}
