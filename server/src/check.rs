//! `portal check-config`: a configuration checked without serving, one line per check, so a
//! new operator learns what is wrong before the first start (issue 16.6). Nothing is
//! created or changed: no database migration, no CA generated, no mail sent.

use std::time::Duration;

use crate::config::Config;
use crate::db::{Db, redact_url};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    /// Works, but not as production should have it.
    Warn,
    Fail,
}

#[derive(Debug, Clone)]
pub struct Check {
    pub name: &'static str,
    pub outcome: Outcome,
    pub detail: String,
}

impl std::fmt::Display for Check {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let tag = match self.outcome {
            Outcome::Ok => "ok  ",
            Outcome::Warn => "warn",
            Outcome::Fail => "FAIL",
        };
        write!(f, "{tag} {:<10} {}", self.name, self.detail)
    }
}

fn line(name: &'static str, outcome: Outcome, detail: impl Into<String>) -> Check {
    Check {
        name,
        outcome,
        detail: detail.into(),
    }
}

/// Every check of `config`, in order: settings, database, CA, mail, public URL and TLS.
pub async fn run(config: &Config) -> Vec<Check> {
    let mut out = vec![match config.validate() {
        Ok(()) => line("settings", Outcome::Ok, "configuration is consistent"),
        Err(e) => line("settings", Outcome::Fail, e.to_string()),
    }];
    out.push(database(config).await);
    out.push(ca_key(config).await);
    out.push(mail(config).await);
    out.push(public_url(config));
    out
}

async fn database(config: &Config) -> Check {
    let url = config.database_url();
    let shown = redact_url(&url);
    let timeout = Duration::from_secs(config.server.database_connect_timeout_secs.max(1));
    let db = match Db::connect_with_retry(&url, timeout).await {
        Ok(db) => db,
        Err(e) => return line("database", Outcome::Fail, e.to_string()),
    };
    let pending = db.pending_migrations().await;
    db.pool.close().await;
    match pending {
        Ok(p) if p.is_empty() => line(
            "database",
            Outcome::Ok,
            format!("{shown} reachable, migrations applied"),
        ),
        Ok(p) => line(
            "database",
            Outcome::Fail,
            format!(
                "{shown} reachable, but migrations {p:?} are not applied: run `portal migrate`"
            ),
        ),
        Err(e) => line("database", Outcome::Fail, format!("{shown}: {e}")),
    }
}

async fn ca_key(config: &Config) -> Check {
    let cert = config.ca_cert_path();
    if config.ca_key().is_none() && !cert.exists() && !config.data_dir.join("ca.key").exists() {
        return line(
            "ca",
            Outcome::Warn,
            format!(
                "no CA yet: the first start creates a self-signed one in {} (docs/OPERATIONS.md \
                 describes an offline root instead)",
                config.data_dir.display()
            ),
        );
    }
    let config = config.clone();
    let now = time::OffsetDateTime::now_utc();
    let result = tokio::task::spawn_blocking(move || {
        // Loading checks that the key belongs to the certificate; a CRL proves it signs.
        let ca = crate::ca_setup::load_or_create(&config, now).map_err(|e| e.to_string())?;
        ca.crl(&crate::profile(&config), 0, now, &[])
            .map_err(|e| format!("the CA key does not sign: {e}"))?;
        Ok::<_, String>((ca.not_after(), ca.key().is_token()))
    })
    .await
    .map_err(|e| e.to_string())
    .and_then(|r| r);
    match result {
        Ok((not_after, _)) if not_after <= now => line(
            "ca",
            Outcome::Fail,
            format!(
                "{}: the CA certificate expired at {not_after}",
                cert.display()
            ),
        ),
        Ok((not_after, token)) => line(
            "ca",
            Outcome::Ok,
            format!(
                "{}: key {} matches the certificate and signs; valid until {not_after}",
                cert.display(),
                if token { "(PKCS#11 token)" } else { "(file)" }
            ),
        ),
        Err(e) => line("ca", Outcome::Fail, e),
    }
}

async fn mail(config: &Config) -> Check {
    if !config.mail_worker {
        return line("mail", Outcome::Ok, "no mail worker in this process");
    }
    match config.mail_transport() {
        mailer::MailTransport::Maildir { dir, .. } => line(
            "mail",
            Outcome::Warn,
            format!(
                "mail goes to the maildir {} (no SMTP server configured)",
                dir.display()
            ),
        ),
        mailer::MailTransport::Smtp(smtp) => {
            let port = smtp.port_or_default();
            let timeout = Duration::from_secs(smtp.timeout_secs.clamp(1, 30));
            match smtp_greeting(&smtp.host, port, timeout).await {
                Ok(greeting) => line(
                    "mail",
                    Outcome::Ok,
                    format!("SMTP {}:{port} answers: {greeting}", smtp.host),
                ),
                Err(e) => line(
                    "mail",
                    Outcome::Fail,
                    format!("SMTP {}:{port} unreachable: {e}", smtp.host),
                ),
            }
        }
    }
}

/// Connect and read the server's first line (`220 …`); nothing is sent.
async fn smtp_greeting(host: &str, port: u16, timeout: Duration) -> Result<String, String> {
    use tokio::io::AsyncReadExt as _;
    let exchange = async {
        let mut s = tokio::net::TcpStream::connect((host, port))
            .await
            .map_err(|e| e.to_string())?;
        let mut buf = [0u8; 512];
        let n = s.read(&mut buf).await.map_err(|e| e.to_string())?;
        let text = String::from_utf8_lossy(&buf[..n]);
        let first = text.lines().next().unwrap_or("").trim().to_owned();
        if first.starts_with("220") {
            Ok(first)
        } else {
            Err(format!("unexpected greeting {first:?}"))
        }
    };
    tokio::time::timeout(timeout, exchange)
        .await
        .unwrap_or_else(|_| Err(format!("no greeting within {} s", timeout.as_secs())))
}

fn public_url(config: &Config) -> Check {
    let url = config.public_url();
    let rest = url.split_once("://").map(|(_, r)| r).unwrap_or(&url);
    let authority = rest.split('/').next().unwrap_or("");
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => authority.split(':').next().unwrap_or(""),
    };
    let loopback = host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    if config.https() {
        let proxies = if config.server.trusted_proxies.is_empty() {
            "; server.trusted_proxies is empty, so rate limits count the proxy's address \
             unless clients connect directly"
        } else {
            ""
        };
        let outcome = if proxies.is_empty() {
            Outcome::Ok
        } else {
            Outcome::Warn
        };
        return line(
            "public_url",
            outcome,
            format!("{url}: HTTPS (TLS ends at the reverse proxy; cookies are Secure){proxies}"),
        );
    }
    if loopback {
        line(
            "public_url",
            Outcome::Ok,
            format!("{url}: plain HTTP on loopback (development only)"),
        )
    } else {
        line(
            "public_url",
            Outcome::Fail,
            format!(
                "{url}: plain HTTP on a non-loopback host; serve behind a TLS reverse proxy \
                 and set public_url to its https:// URL"
            ),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_url_rules() {
        let mut c = Config {
            public_url: Some("http://portal.example.gov.tw".into()),
            ..Config::default()
        };
        assert_eq!(public_url(&c).outcome, Outcome::Fail);
        c.public_url = Some("https://portal.example.gov.tw".into());
        assert_eq!(public_url(&c).outcome, Outcome::Warn);
        c.server.trusted_proxies = vec!["10.0.0.0/8".into()];
        assert_eq!(public_url(&c).outcome, Outcome::Ok);
        c.public_url = Some("http://127.0.0.1:8080".into());
        assert_eq!(public_url(&c).outcome, Outcome::Ok);
        c.public_url = Some("http://[::1]:8080/".into());
        assert_eq!(public_url(&c).outcome, Outcome::Ok);
        c.public_url = Some("http://localhost.example.com".into());
        assert_eq!(public_url(&c).outcome, Outcome::Fail);
    }
}
