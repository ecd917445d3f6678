//! The delegated OCSP responder: its key and the certificate the CA issues for it.
//!
//! The key is a P-256 key (fast to sign with) kept like the CA key: with a `pkcs11:` CA key
//! it is made in the same token under the label `<CA object>-ocsp` and never leaves it;
//! otherwise it is `data_dir/ocsp-responder.key`, written with mode 0600 and encrypted with
//! the CA key's passphrase when one is configured (an https portal refuses a plaintext one,
//! as for the CA key). The certificate is `data_dir/ocsp-responder.pem`; a new one is issued
//! when it is missing, was issued by another CA or for another key, or has less than a third
//! of `ca.ocsp_responder_days` left (at start and by the periodic job), so it is never
//! revoked, it expires.

use std::path::{Path, PathBuf};

use time::{Duration, OffsetDateTime};

use crate::ca_setup::{self, CaSetupError, KeySource, io};
use crate::config::Config;

/// The token label of the responder key when the CA key's URI names no object.
const TOKEN_LABEL: &str = "portal-ocsp-responder";

fn key_path(config: &Config) -> PathBuf {
    config.data_dir.join("ocsp-responder.key")
}

fn cert_path(config: &Config) -> PathBuf {
    config.data_dir.join("ocsp-responder.pem")
}

/// The responder key, made on first use.
fn responder_key(config: &Config) -> Result<ca::CaKey, CaSetupError> {
    match ca_setup::key_source(config)? {
        KeySource::Token(mut spec) => {
            spec.uri.object = Some(match spec.uri.object.take() {
                Some(ca_label) => format!("{ca_label}-ocsp"),
                None => TOKEN_LABEL.to_owned(),
            });
            spec.uri.id = None;
            let (key, created) =
                ca::CaKey::open_or_create_in_token(&spec, ca::KeyAlgorithm::EcP256)?;
            if created {
                tracing::info!(key = %spec.uri, "made the OCSP responder key in the token");
            }
            Ok(key)
        }
        KeySource::File(_) => {
            let path = key_path(config);
            if path.exists() {
                return ca_setup::open_key(config, KeySource::File(path));
            }
            let key = ca::CaKey::generate(ca::KeyAlgorithm::EcP256)?;
            let text = ca_setup::key_file_text(config, &key)?;
            ca_setup::write_private(&path, text.as_bytes())?;
            tracing::info!(key = %path.display(), "made the OCSP responder key");
            Ok(key)
        }
    }
}

/// When the responder certificate is renewed: a third of its lifetime before it ends.
fn renew_margin(config: &Config) -> Duration {
    Duration::days(i64::from(config.ca.ocsp_responder_days)) / 3_i32
}

/// Whether the current responder should be replaced now.
pub fn due(config: &Config, responder: &ca::OcspResponder, now: OffsetDateTime) -> bool {
    responder.not_after() - now < renew_margin(config)
}

/// The responder for `ca`: the stored certificate when it still fits, a new one otherwise.
pub fn load_or_issue(
    config: &Config,
    ca: &ca::Ca,
    now: OffsetDateTime,
) -> Result<ca::OcspResponder, CaSetupError> {
    let key = responder_key(config)?;
    let path = cert_path(config);
    if let Some(der) = stored_cert(&path)? {
        let usable = ca.inspect_issued(&der).is_ok_and(|info| {
            info.spki_der == key.public_key_spki_der()
                && info.not_before <= now
                && info.not_after - now >= renew_margin(config)
        });
        if usable {
            return Ok(ca::OcspResponder::new(ca, key, der)?);
        }
    }
    let not_before = now.replace_nanosecond(0).unwrap_or(now);
    let not_after =
        (not_before + Duration::days(i64::from(config.ca.ocsp_responder_days))).min(ca.not_after());
    let der = ca.issue_ocsp_responder(&key, ca::Serial::try_random()?, not_before, not_after)?;
    replace_file(&path, ca::cert_der_to_pem(&der).as_bytes())?;
    tracing::info!(cert = %path.display(), not_after = %not_after, "issued the OCSP responder certificate");
    Ok(ca::OcspResponder::new(ca, key, der)?)
}

fn stored_cert(path: &Path) -> Result<Option<Vec<u8>>, CaSetupError> {
    if !path.exists() {
        return Ok(None);
    }
    let text = ca_setup::read(path)?;
    // An unreadable file is replaced by a new certificate, like an expired one.
    Ok(ca::cert_pem_to_der(&text).ok())
}

/// Writes `contents` beside `path` and renames it over `path`: readers see the old or the
/// new file, never half of one.
fn replace_file(path: &Path, contents: &[u8]) -> Result<(), CaSetupError> {
    let tmp = path.with_extension("pem.new");
    std::fs::write(&tmp, contents).map_err(io(&tmp))?;
    std::fs::rename(&tmp, path).map_err(io(path))
}
