//! Configuration: defaults, then `portal.toml` (path from `--config` or `PORTAL_CONFIG`), then
//! `PORTAL_*` environment variables (`__` separates sections: `PORTAL_AUTH__DEV_LOGIN=true`).
//! The defaults run a single-machine portal with SQLite under `./data` and no mail server.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration: {0}")]
    Load(String),
    #[error("configuration: {0}")]
    Invalid(String),
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct Config {
    pub bind: SocketAddr,
    /// `sqlite://…` or `postgres://…`; default `sqlite://<data_dir>/portal.db`.
    pub database_url: Option<String>,
    pub data_dir: PathBuf,
    /// Base URL the browser and the certificates' CRL/AIA URLs use; default `http://<bind>`.
    pub public_url: Option<String>,
    /// The browser bundle (`cargo xtask web` output).
    pub web_dir: PathBuf,
    /// Older spelling of `ca.cert` and `ca.key` (a key file path), still read.
    pub ca_cert: Option<PathBuf>,
    pub ca_key: Option<PathBuf>,
    pub ca: CaSettings,
    pub auth: AuthSettings,
    /// Running as one of several instances: proxies, database start-up, metrics, limits.
    pub server: ServerSettings,
    /// Mail transport (`kind = "smtp"` or `"maildir"`); default a maildir in `data_dir/mail`.
    #[serde(skip_serializing)]
    pub mail: Option<mailer::MailTransport>,
    /// Run the mail sender in this process.
    pub mail_worker: bool,
    /// Seconds between runs of the unpaid-application expiry job; 0 turns the job off.
    pub expiry_interval_secs: u64,
    /// What happens to certificates and personal data after issuance (renewal, reminders,
    /// retention); the jobs run with the expiry job.
    pub lifecycle: LifecycleSettings,
}

/// `[lifecycle]`: the periods of the certificate lifecycle jobs (docs/OPERATIONS.md).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct LifecycleSettings {
    /// Days a renewed certificate stays valid after its renewal's certificate was issued,
    /// unless the new one is registered first (then it is revoked at once as superseded).
    pub renewal_grace_days: u32,
    /// Expiry reminder mails this many days before a certificate's notAfter.
    pub reminder_days: Vec<u32>,
    /// Days after an application was cancelled, or its certificate expired, before its
    /// contact and national ID are erased.
    pub personal_data_retention_days: u32,
}

impl Default for LifecycleSettings {
    fn default() -> Self {
        LifecycleSettings {
            renewal_grace_days: 30,
            reminder_days: vec![60, 30, 7],
            personal_data_retention_days: 365,
        }
    }
}

/// The CA: where its certificate, chain and key are, and the subject and lifetimes of what
/// it makes. With neither `cert` nor `key` set the CA lives in `data_dir` (`ca.pem`,
/// `ca.key`, `ca-chain.pem`), a self-signed one created on first start.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct CaSettings {
    /// The CA certificate (PEM); default `data_dir/ca.pem`.
    pub cert: Option<PathBuf>,
    /// The key: a PEM file path (PKCS#8, plain or encrypted) or a `pkcs11:` URI (RFC 7512,
    /// e.g. `pkcs11:token=portal;object=issuing-ca`); default `data_dir/ca.key`.
    pub key: Option<String>,
    /// The certificates above the CA (PEM, its issuer first, the root last); default
    /// `data_dir/ca-chain.pem` when that exists. Not needed for a self-signed CA.
    pub chain: Option<PathBuf>,
    /// File whose first line is the passphrase of an encrypted key file.
    pub key_passphrase_file: Option<PathBuf>,
    /// File whose first line is the token's user PIN (with a `pkcs11:` key).
    pub pin_file: Option<PathBuf>,
    /// The PKCS#11 module.
    pub pkcs11_module: PathBuf,
    /// Subject of a CA generated on first start.
    pub common_name: String,
    pub organization: String,
    pub country: String,
    pub ca_validity_years: u32,
    /// Leaf certificate validity.
    pub validity_days: u32,
    pub crl_validity_hours: u32,
    pub allow_ec_p256: bool,
    /// OCSP answers are good for this long (nextUpdate - thisUpdate); re-signed at half.
    pub ocsp_validity_hours: u32,
    /// Lifetime of the delegated OCSP responder certificate; a new one is issued when a
    /// third of it is left.
    pub ocsp_responder_days: u32,
    /// OCSP answers signed on request (unknown serials, SHA-256 CertIDs, several
    /// certificates in one request), per second at most; beyond it, `tryLater`.
    pub ocsp_sign_per_second: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct AuthSettings {
    /// The development login (`POST /api/auth/dev-login`); never on in production.
    pub dev_login: bool,
    pub idle_timeout_minutes: i64,
    pub absolute_timeout_hours: i64,
    /// Failed logins allowed within the window: per account from one client address, per
    /// account from all addresses together, and per client address.
    pub max_failures_per_account: usize,
    pub max_failures_per_account_total: usize,
    pub max_failures_per_ip: usize,
    /// Card login challenges one client address may ask for within the window.
    pub max_card_challenges_per_ip: usize,
    pub failure_window_minutes: i64,
    /// Trusted roots (PEM or DER files) for IC-card login; empty turns card login off.
    pub card_roots: Vec<PathBuf>,
    pub card_intermediates: Vec<PathBuf>,
    /// Revocation check of the card certificate at login (its CRL distribution point).
    pub card_revocation: CardRevocation,
    /// Time limit for fetching one CRL (connect and body).
    pub card_crl_timeout_secs: u64,
    /// Size limit of one CRL; a larger answer is not read.
    pub card_crl_max_bytes: u64,
    /// Where users download prebuilt card-bridge binaries (`https://…`), linked from
    /// `/downloads/card-bridge`; unset, that page gives the build-from-source steps only.
    pub card_bridge_download_url: Option<String>,
}

/// `[server]`: what matters when several instances run behind a reverse proxy.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct ServerSettings {
    /// Proxies (CIDRs, e.g. `10.0.0.0/8`, `127.0.0.1/32`) whose `X-Forwarded-For` /
    /// `Forwarded` headers are believed; from any other peer they are ignored.
    pub trusted_proxies: Vec<String>,
    /// How long start-up keeps retrying an unreachable database before giving up.
    pub database_connect_timeout_secs: u64,
    /// Where `/metrics` is served (a separate, private address); unset: not served there.
    pub metrics_bind: Option<SocketAddr>,
    /// A bearer token that opens `/metrics` on the main address; unset: not served there.
    pub metrics_token: Option<String>,
    /// New applications one company may file per day (Taiwan time), so that the portal's
    /// mail cannot be turned into a spam cannon; 0 turns the limit off.
    pub applications_per_company_per_day: u32,
}

impl Default for ServerSettings {
    fn default() -> Self {
        ServerSettings {
            trusted_proxies: Vec::new(),
            database_connect_timeout_secs: 30,
            metrics_bind: None,
            metrics_token: None,
            applications_per_company_per_day: 20,
        }
    }
}

impl ServerSettings {
    /// The trusted proxies, parsed (a bare address is one host).
    pub fn proxies(&self) -> Result<Vec<ipnet::IpNet>, ConfigError> {
        self.trusted_proxies
            .iter()
            .map(|s| {
                let s = s.trim();
                s.parse::<ipnet::IpNet>()
                    .or_else(|_| s.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                    .map_err(|_| {
                        ConfigError::Invalid(format!(
                            "server.trusted_proxies: {s:?} is not an address or CIDR"
                        ))
                    })
            })
            .collect()
    }
}

/// `auth.card_revocation`: what a card login does about revocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CardRevocation {
    /// Refuse the login when no current CRL can be had (the production setting).
    #[default]
    Require,
    /// Let it through with a warning in the log when the status cannot be determined.
    Prefer,
    /// Never check (test cards without a CRL distribution point).
    Off,
}

impl From<CardRevocation> for card_auth::RevocationMode {
    fn from(c: CardRevocation) -> Self {
        match c {
            CardRevocation::Require => Self::Require,
            CardRevocation::Prefer => Self::Prefer,
            CardRevocation::Off => Self::Off,
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            bind: SocketAddr::from(([127, 0, 0, 1], 8080)),
            database_url: None,
            data_dir: PathBuf::from("data"),
            public_url: None,
            web_dir: PathBuf::from("dist"),
            ca_cert: None,
            ca_key: None,
            ca: CaSettings::default(),
            auth: AuthSettings::default(),
            server: ServerSettings::default(),
            mail: None,
            mail_worker: true,
            expiry_interval_secs: 60,
            lifecycle: LifecycleSettings::default(),
        }
    }
}

impl Default for CaSettings {
    fn default() -> Self {
        CaSettings {
            cert: None,
            key: None,
            chain: None,
            key_passphrase_file: None,
            pin_file: None,
            pkcs11_module: PathBuf::from(ca::PKCS11_DEFAULT_MODULE),
            common_name: "Customs Single Window Portal CA".into(),
            organization: "Customs Single Window".into(),
            country: "TW".into(),
            ca_validity_years: 20,
            validity_days: 730,
            crl_validity_hours: 168,
            allow_ec_p256: true,
            ocsp_validity_hours: 24,
            ocsp_responder_days: 30,
            ocsp_sign_per_second: 50,
        }
    }
}

impl Default for AuthSettings {
    fn default() -> Self {
        AuthSettings {
            dev_login: false,
            idle_timeout_minutes: 30,
            absolute_timeout_hours: 8,
            max_failures_per_account: 5,
            max_failures_per_account_total: 100,
            max_failures_per_ip: 20,
            max_card_challenges_per_ip: 60,
            failure_window_minutes: 15,
            card_roots: Vec::new(),
            card_intermediates: Vec::new(),
            card_revocation: CardRevocation::Require,
            card_crl_timeout_secs: 10,
            card_crl_max_bytes: 32 * 1024 * 1024,
            card_bridge_download_url: None,
        }
    }
}

impl Config {
    /// Defaults ← file (if given or named by `PORTAL_CONFIG`) ← `PORTAL_*` variables.
    pub fn load(file: Option<&Path>) -> Result<Config, ConfigError> {
        let env_file = std::env::var_os("PORTAL_CONFIG").map(PathBuf::from);
        let file = file.map(Path::to_path_buf).or(env_file);
        let mut fig = Figment::from(Serialized::defaults(Config::default()));
        if let Some(path) = &file {
            if !path.is_file() {
                return Err(ConfigError::Load(format!(
                    "config file {} not found",
                    path.display()
                )));
            }
            fig = fig.merge(Toml::file(path));
        }
        fig = fig.merge(
            Env::prefixed("PORTAL_")
                .ignore(&["config", "test_pg_url"])
                .split("__"),
        );
        let config: Config = fig
            .extract()
            .map_err(|e| ConfigError::Load(e.to_string()))?;
        config.validate()?;
        Ok(config)
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.ca_cert.is_some() != self.ca_key.is_some() {
            return Err(ConfigError::Invalid(
                "ca_cert and ca_key must be set together".into(),
            ));
        }
        if (self.ca_cert.is_some() && self.ca.cert.is_some())
            || (self.ca_key.is_some() && self.ca.key.is_some())
        {
            return Err(ConfigError::Invalid(
                "set the CA in the [ca] section (ca.cert, ca.key) or with the older ca_cert and \
                 ca_key, not both"
                    .into(),
            ));
        }
        if self.ca.cert.is_some() && self.ca_key().is_none() {
            return Err(ConfigError::Invalid(
                "ca.cert is set but ca.key is not: configure the key too".into(),
            ));
        }
        if self
            .ca_key()
            .is_some_and(|k| ca::Pkcs11Uri::is_pkcs11(&k) && self.ca.pin_file.is_none())
        {
            return Err(ConfigError::Invalid(
                "a pkcs11: CA key needs ca.pin_file (a file with the token's user PIN)".into(),
            ));
        }
        let url = self.public_url();
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(ConfigError::Invalid(format!(
                "public_url must start with http:// or https://, got {url}"
            )));
        }
        if self.ca.validity_days == 0 || self.ca.crl_validity_hours == 0 {
            return Err(ConfigError::Invalid(
                "ca.validity_days and ca.crl_validity_hours must be positive".into(),
            ));
        }
        let ca = &self.ca;
        if ca.ocsp_validity_hours == 0
            || ca.ocsp_responder_days == 0
            || ca.ocsp_sign_per_second == 0
        {
            return Err(ConfigError::Invalid(
                "ca.ocsp_validity_hours, ca.ocsp_responder_days and ca.ocsp_sign_per_second \
                 must be positive"
                    .into(),
            ));
        }
        // The responder certificate is renewed with a third of its life left; every answer
        // must end before the old one does.
        if u64::from(ca.ocsp_validity_hours) * 3 > u64::from(ca.ocsp_responder_days) * 24 {
            return Err(ConfigError::Invalid(
                "ca.ocsp_validity_hours must be at most a third of ca.ocsp_responder_days".into(),
            ));
        }
        // It becomes a link on a page of ours: no `javascript:` or other schemes.
        if let Some(u) = &self.auth.card_bridge_download_url
            && !(u.starts_with("https://") || u.starts_with("http://"))
        {
            return Err(ConfigError::Invalid(format!(
                "auth.card_bridge_download_url must start with https:// or http://, got {u}"
            )));
        }
        if self.auth.card_crl_timeout_secs == 0 || self.auth.card_crl_max_bytes == 0 {
            return Err(ConfigError::Invalid(
                "auth.card_crl_timeout_secs and auth.card_crl_max_bytes must be positive".into(),
            ));
        }
        self.server.proxies()?;
        if self.server.database_connect_timeout_secs == 0 {
            return Err(ConfigError::Invalid(
                "server.database_connect_timeout_secs must be positive".into(),
            ));
        }
        if self
            .server
            .metrics_token
            .as_ref()
            .is_some_and(|t| t.len() < 16)
        {
            return Err(ConfigError::Invalid(
                "server.metrics_token must be at least 16 characters".into(),
            ));
        }
        if self.auth.dev_login && !(self.bind.ip().is_loopback() && loopback_http(&url)) {
            return Err(ConfigError::Invalid(format!(
                "auth.dev_login is for development on this machine only: it needs bind on \
                 loopback and a loopback http:// public_url (bind {}, public_url {url})",
                self.bind
            )));
        }
        if self.auth.idle_timeout_minutes <= 0 || self.auth.absolute_timeout_hours <= 0 {
            return Err(ConfigError::Invalid(
                "auth timeouts must be positive".into(),
            ));
        }
        Ok(())
    }

    /// The configured CA key (`ca.key`, or the older `ca_key`), if any.
    pub fn ca_key(&self) -> Option<String> {
        self.ca.key.clone().or_else(|| {
            self.ca_key
                .as_ref()
                .map(|p| p.to_string_lossy().into_owned())
        })
    }

    /// The CA certificate file: `ca.cert`, the older `ca_cert`, else `data_dir/ca.pem`.
    pub fn ca_cert_path(&self) -> PathBuf {
        self.ca
            .cert
            .clone()
            .or_else(|| self.ca_cert.clone())
            .unwrap_or_else(|| self.data_dir.join("ca.pem"))
    }

    /// The chain file: `ca.chain`, else `data_dir/ca-chain.pem`.
    pub fn ca_chain_path(&self) -> PathBuf {
        self.ca
            .chain
            .clone()
            .unwrap_or_else(|| self.data_dir.join("ca-chain.pem"))
    }

    pub fn database_url(&self) -> String {
        match &self.database_url {
            Some(u) => u.clone(),
            None => format!(
                "sqlite://{}?mode=rwc",
                self.data_dir.join("portal.db").display()
            ),
        }
    }

    /// Without trailing slash.
    pub fn public_url(&self) -> String {
        match &self.public_url {
            Some(u) => u.trim_end_matches('/').to_owned(),
            None => format!("http://{}", self.bind),
        }
    }

    /// `scheme://host[:port]` of the public URL, what browsers send as `Origin`.
    pub fn public_origin(&self) -> String {
        let url = self.public_url();
        let after_scheme = url.find("://").map(|i| i + 3).unwrap_or(0);
        match url[after_scheme..].find('/') {
            Some(i) => url[..after_scheme + i].to_owned(),
            None => url,
        }
    }

    pub fn https(&self) -> bool {
        self.public_url().starts_with("https://")
    }

    pub fn mail_transport(&self) -> mailer::MailTransport {
        self.mail
            .clone()
            .unwrap_or_else(|| mailer::MailTransport::maildir(self.data_dir.join("mail")))
    }
}

/// `http://` with a loopback host (`localhost`, 127.0.0.0/8, `[::1]`).
fn loopback_http(url: &str) -> bool {
    let Some(rest) = url.strip_prefix("http://") else {
        return false;
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.contains('@') {
        return false;
    }
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => authority.split(':').next().unwrap_or_default(),
    };
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dev_login_only_on_loopback() {
        let mut c = Config::default();
        c.auth.dev_login = true;
        c.validate().unwrap();
        c.public_url = Some("http://localhost:8080/".into());
        c.validate().unwrap();
        c.public_url = Some("http://[::1]:8080".into());
        c.validate().unwrap();
        for bad in [
            "https://127.0.0.1:8080",
            "http://portal.example.gov.tw",
            "http://127.0.0.1.evil.example",
            "http://127.0.0.1@evil.example",
            "http://10.0.0.5:8080",
        ] {
            c.public_url = Some(bad.into());
            assert!(c.validate().is_err(), "{bad}");
        }
        c.public_url = None;
        c.bind = SocketAddr::from(([0, 0, 0, 0], 8080));
        c.public_url = Some("http://127.0.0.1:8080".into());
        assert!(c.validate().is_err(), "listening on every address");
        c.auth.dev_login = false;
        c.validate().unwrap();
    }

    #[test]
    fn defaults_run_without_config() {
        let c = Config::default();
        c.validate().unwrap();
        assert_eq!(c.bind.to_string(), "127.0.0.1:8080");
        assert_eq!(c.public_url(), "http://127.0.0.1:8080");
        assert_eq!(c.database_url(), "sqlite://data/portal.db?mode=rwc");
        assert!(!c.auth.dev_login);
        assert!(!c.https());
        assert_eq!(c.auth.card_revocation, CardRevocation::Require);
    }

    #[test]
    #[allow(clippy::result_large_err)]
    fn card_revocation_modes_parse_and_junk_is_refused() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("portal.toml", "[auth]\ncard_revocation = \"prefer\"\n")?;
            let c = Config::load(Some(Path::new("portal.toml"))).map_err(|e| e.to_string())?;
            assert_eq!(c.auth.card_revocation, CardRevocation::Prefer);
            jail.set_env("PORTAL_AUTH__CARD_REVOCATION", "off");
            let c = Config::load(Some(Path::new("portal.toml"))).map_err(|e| e.to_string())?;
            assert_eq!(c.auth.card_revocation, CardRevocation::Off);
            jail.set_env("PORTAL_AUTH__CARD_REVOCATION", "sometimes");
            assert!(Config::load(Some(Path::new("portal.toml"))).is_err());
            Ok(())
        });
        let mut c = Config::default();
        c.auth.card_crl_max_bytes = 0;
        assert!(c.validate().is_err());
    }

    #[test]
    #[allow(clippy::result_large_err)]
    fn file_and_environment_layer_over_defaults() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "portal.toml",
                r#"
                bind = "0.0.0.0:9000"
                public_url = "https://portal.example.gov.tw/"
                [auth]
                idle_timeout_minutes = 20
                [mail]
                kind = "maildir"
                dir = "/var/mail/portal"
                "#,
            )?;
            jail.set_env("PORTAL_AUTH__IDLE_TIMEOUT_MINUTES", "10");
            jail.set_env("PORTAL_DATA_DIR", "/srv/portal");
            let c = Config::load(Some(Path::new("portal.toml"))).map_err(|e| e.to_string())?;
            assert_eq!(c.bind.to_string(), "0.0.0.0:9000");
            assert_eq!(c.public_url(), "https://portal.example.gov.tw");
            assert_eq!(c.public_origin(), "https://portal.example.gov.tw");
            assert!(c.https());
            assert_eq!(c.auth.idle_timeout_minutes, 10);
            assert_eq!(c.data_dir, PathBuf::from("/srv/portal"));
            assert!(matches!(
                c.mail_transport(),
                mailer::MailTransport::Maildir { .. }
            ));
            Ok(())
        });
    }

    #[test]
    fn half_a_ca_is_refused() {
        let c = Config {
            ca_cert: Some("ca.pem".into()),
            ..Config::default()
        };
        assert!(c.validate().is_err());
    }

    #[test]
    fn ca_settings_are_checked() {
        let both = Config {
            ca_cert: Some("a.pem".into()),
            ca_key: Some("a.key".into()),
            ca: CaSettings {
                key: Some("b.key".into()),
                ..CaSettings::default()
            },
            ..Config::default()
        };
        assert!(both.validate().is_err());
        let mut c = Config::default();
        c.ca.cert = Some("ca.pem".into());
        assert!(c.validate().is_err(), "cert without key");
        c.ca.key = Some("pkcs11:token=t;object=o".into());
        assert!(c.validate().is_err(), "token key without PIN file");
        c.ca.pin_file = Some("pin".into());
        c.validate().unwrap();
        assert_eq!(c.ca_cert_path(), PathBuf::from("ca.pem"));
        assert_eq!(c.ca_chain_path(), PathBuf::from("data/ca-chain.pem"));
        assert_eq!(
            c.ca.pkcs11_module,
            PathBuf::from("/usr/lib/softhsm/libsofthsm2.so")
        );
        let legacy = Config {
            ca_cert: Some("x.pem".into()),
            ca_key: Some("x.key".into()),
            ..Config::default()
        };
        legacy.validate().unwrap();
        assert_eq!(legacy.ca_key().as_deref(), Some("x.key"));
        assert_eq!(legacy.ca_cert_path(), PathBuf::from("x.pem"));
    }

    #[test]
    fn bridge_download_url_must_be_http() {
        let mut c = Config::default();
        c.auth.card_bridge_download_url = Some("javascript:alert(1)".into());
        assert!(c.validate().is_err());
        c.auth.card_bridge_download_url = Some("https://downloads.example/card-bridge/".into());
        c.validate().unwrap();
    }

    #[test]
    fn origin_drops_the_path() {
        let c = Config {
            public_url: Some("https://x.example:8443/portal/".into()),
            ..Config::default()
        };
        assert_eq!(c.public_origin(), "https://x.example:8443");
    }
}
