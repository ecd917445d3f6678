//! Where mail goes: an SMTP server (lettre over rustls, no OpenSSL) or a local maildir for
//! setups without a mail server. Also the error classification the worker's retry policy
//! relies on.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use lettre::message::header::ContentType;
use lettre::message::{Mailbox, Message};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use serde::Deserialize;
use time::OffsetDateTime;

use crate::MailError;
use crate::outbox::Claimed;

/// Where the worker delivers. Deserializable so the server's config file can hold it, e.g.
/// `{ kind = "smtp", host = "smtp.example.gov.tw", security = "starttls", from = "..." }`
/// or `{ kind = "maildir", dir = "var/mail" }`.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum MailTransport {
    Smtp(SmtpConfig),
    /// Each mail becomes `dir/new/<message-id>.eml` (written to `dir/tmp` first, then
    /// renamed), readable by any maildir client or text editor.
    Maildir {
        dir: PathBuf,
        #[serde(default = "default_from")]
        from: String,
    },
}

impl MailTransport {
    /// The no-mail-server setup: files under `dir`, default sender.
    pub fn maildir(dir: impl Into<PathBuf>) -> MailTransport {
        MailTransport::Maildir {
            dir: dir.into(),
            from: default_from(),
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SmtpSecurity {
    /// Plain text; only for a relay on the same host or a trusted network.
    None,
    /// Port 587 style: plain connection upgraded with STARTTLS, which must succeed.
    #[default]
    #[serde(alias = "starttls")]
    StartTls,
    /// Port 465 style: TLS from the first byte.
    Tls,
}

#[derive(Clone, Deserialize)]
pub struct SmtpConfig {
    pub host: String,
    /// Defaults by `security`: 25, 587, 465.
    #[serde(default)]
    pub port: Option<u16>,
    #[serde(default)]
    pub security: SmtpSecurity,
    /// Authentication is used when both are set.
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub password: Option<String>,
    /// RFC 5322 mailbox, e.g. `關港貿單一窗口 <noreply@portal.example.gov.tw>`.
    #[serde(default = "default_from")]
    pub from: String,
    /// Seconds allowed for the TCP connect; the whole exchange with the server (TLS, AUTH,
    /// the message, QUIT) is cut off at twice this.
    #[serde(default = "default_timeout_secs")]
    pub timeout_secs: u64,
    /// PEM file with extra trusted roots (an internal CA); the public web roots stay trusted.
    #[serde(default)]
    pub tls_ca_file: Option<PathBuf>,
    /// EHLO name; defaults to this machine's host name.
    #[serde(default)]
    pub helo_name: Option<String>,
}

impl SmtpConfig {
    pub fn new(host: impl Into<String>, security: SmtpSecurity, from: impl Into<String>) -> Self {
        SmtpConfig {
            host: host.into(),
            port: None,
            security,
            username: None,
            password: None,
            from: from.into(),
            timeout_secs: default_timeout_secs(),
            tls_ca_file: None,
            helo_name: None,
        }
    }

    fn port_or_default(&self) -> u16 {
        self.port.unwrap_or(match self.security {
            SmtpSecurity::None => 25,
            SmtpSecurity::StartTls => 587,
            SmtpSecurity::Tls => 465,
        })
    }
}

// The password must never reach a log line, and configs get logged.
impl std::fmt::Debug for SmtpConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpConfig")
            .field("host", &self.host)
            .field("port", &self.port_or_default())
            .field("security", &self.security)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("from", &self.from)
            .field("timeout_secs", &self.timeout_secs)
            .field("tls_ca_file", &self.tls_ca_file)
            .field("helo_name", &self.helo_name)
            .finish()
    }
}

pub fn default_from() -> String {
    "關港貿單一窗口 <noreply@localhost>".to_owned()
}

fn default_timeout_secs() -> u64 {
    30
}

/// A transport ready to send, built once from the config.
pub(crate) enum Sender {
    Smtp {
        transport: AsyncSmtpTransport<Tokio1Executor>,
        from: Mailbox,
        /// Upper bound of one send, for the worker's lease check.
        timeout: Duration,
    },
    Maildir {
        dir: PathBuf,
        from: Mailbox,
    },
}

/// Why a send did not go through, and what the worker should do about it.
#[derive(Debug, Clone)]
pub(crate) struct SendError {
    pub message: String,
    /// 5xx or a mail that can never be built (bad address): retrying cannot help.
    pub permanent: bool,
    /// The server could not be reached or talked to at all; the other queued mails would
    /// meet the same fate, so the batch stops here.
    pub unreachable: bool,
}

impl Sender {
    pub(crate) fn from_config(config: MailTransport) -> Result<Sender, MailError> {
        match config {
            MailTransport::Maildir { dir, from } => Ok(Sender::Maildir {
                dir,
                from: parse_from(&from)?,
            }),
            MailTransport::Smtp(c) => {
                let from = parse_from(&c.from)?;
                let timeout = Duration::from_secs(c.timeout_secs.max(1));
                let mut b = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(c.host.clone())
                    .port(c.port_or_default())
                    .timeout(Some(timeout));
                if c.security != SmtpSecurity::None {
                    let params = tls_parameters(&c)?;
                    b = b.tls(match c.security {
                        SmtpSecurity::Tls => Tls::Wrapper(params),
                        _ => Tls::Required(params),
                    });
                }
                if let (Some(user), Some(pass)) = (&c.username, &c.password) {
                    b = b.credentials(Credentials::new(user.clone(), pass.clone()));
                }
                if let Some(name) = &c.helo_name {
                    b = b.hello_name(ClientId::Domain(name.clone()));
                }
                Ok(Sender::Smtp {
                    transport: b.build(),
                    from,
                    timeout,
                })
            }
        }
    }

    /// The longest one send can reasonably take; the lease must outlast it.
    pub(crate) fn send_timeout(&self) -> Option<Duration> {
        match self {
            Sender::Smtp { timeout, .. } => Some(*timeout),
            Sender::Maildir { .. } => None,
        }
    }

    pub(crate) async fn send(&self, mail: &Claimed, now: OffsetDateTime) -> Result<(), SendError> {
        let from = match self {
            Sender::Smtp { from, .. } | Sender::Maildir { from, .. } => from.clone(),
        };
        let message = build_message(mail, from, now)?;
        match self {
            Sender::Smtp {
                transport, timeout, ..
            } => {
                // lettre's async transport applies its timeout to the TCP connect only: a
                // server that accepts and then stops answering would hold the worker until the
                // lease cut-off (minutes). Bound the whole exchange; the lease is ≥ 4 × this.
                let limit = timeout.saturating_mul(2);
                match tokio::time::timeout(limit, transport.send(message)).await {
                    Ok(Ok(_)) => Ok(()),
                    Ok(Err(e)) => Err(classify_smtp(&e)),
                    Err(_) => Err(SendError {
                        message: format!(
                            "SMTP server did not finish within {} s; outcome unknown, will resend with the same Message-ID",
                            limit.as_secs()
                        ),
                        permanent: false,
                        unreachable: true,
                    }),
                }
            }
            Sender::Maildir { dir, .. } => {
                write_maildir(dir, &mail.message_id, &message.formatted())
                    .await
                    .map_err(|e| SendError {
                        message: format!("maildir {}: {e}", dir.display()),
                        permanent: false,
                        unreachable: true,
                    })
            }
        }
    }
}

fn parse_from(from: &str) -> Result<Mailbox, MailError> {
    from.parse::<Mailbox>()
        .map_err(|e| MailError::Config(format!("sender address {from:?}: {e}")))
}

fn tls_parameters(c: &SmtpConfig) -> Result<TlsParameters, MailError> {
    let mut b = TlsParameters::builder(c.host.clone());
    if let Some(path) = &c.tls_ca_file {
        let pem = std::fs::read(path)
            .map_err(|e| MailError::Config(format!("tls_ca_file {}: {e}", path.display())))?;
        let cert = Certificate::from_pem(&pem)
            .map_err(|e| MailError::Config(format!("tls_ca_file {}: {e}", path.display())))?;
        b = b.add_root_certificate(cert);
    }
    b.build()
        .map_err(|e| MailError::Config(format!("TLS setup for {}: {e}", c.host)))
}

fn build_message(mail: &Claimed, from: Mailbox, now: OffsetDateTime) -> Result<Message, SendError> {
    let permanent = |message: String| SendError {
        message,
        permanent: true,
        unreachable: false,
    };
    let to = mail
        .to
        .parse::<Mailbox>()
        .map_err(|e| permanent(format!("recipient address {:?}: {e}", mail.to)))?;
    Message::builder()
        .message_id(Some(mail.message_id.clone()))
        .from(from)
        .to(to)
        .subject(mail.subject.clone())
        .date(SystemTime::from(now))
        .header(ContentType::TEXT_PLAIN)
        .body(mail.body_text.clone())
        .map_err(|e| permanent(format!("cannot build message: {e}")))
}

fn classify_smtp(e: &lettre::transport::smtp::Error) -> SendError {
    let mut message = e.to_string();
    let mut source = std::error::Error::source(e);
    // lettre's Display already repeats some causes; add only what is new.
    while let Some(s) = source {
        let part = s.to_string();
        if !message.contains(&part) {
            message.push_str(": ");
            message.push_str(&part);
        }
        source = s.source();
    }
    SendError {
        message,
        permanent: e.is_permanent(),
        // No SMTP reply code: connect failure, timeout, TLS failure, broken connection.
        unreachable: e.status().is_none(),
    }
}

/// Maildir delivery named after the Message-ID: a retry of the same row replaces the file
/// instead of adding a second one.
async fn write_maildir(dir: &Path, message_id: &str, bytes: &[u8]) -> std::io::Result<()> {
    for sub in ["tmp", "new", "cur"] {
        tokio::fs::create_dir_all(dir.join(sub)).await?;
    }
    let name: String = message_id
        .trim_matches(|c| c == '<' || c == '>')
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let name = format!("{name}.eml");
    let tmp = dir.join("tmp").join(&name);
    tokio::fs::write(&tmp, bytes).await?;
    tokio::fs::rename(&tmp, dir.join("new").join(&name)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_password() {
        let mut c = SmtpConfig::new("smtp.example.com", SmtpSecurity::StartTls, default_from());
        c.username = Some("portal".into());
        c.password = Some("hunter2-secret".into());
        let shown = format!("{:?}", MailTransport::Smtp(c));
        assert!(!shown.contains("hunter2-secret"), "{shown}");
        assert!(shown.contains("<redacted>") && shown.contains("587"));
    }

    #[test]
    fn config_deserializes_with_defaults() {
        let t: MailTransport = serde_json::from_str(
            r#"{"kind":"smtp","host":"smtp.example.com","security":"starttls",
                "username":"u","password":"p","from":"Portal <noreply@example.com>"}"#,
        )
        .unwrap();
        let MailTransport::Smtp(c) = t else {
            panic!("not smtp")
        };
        assert_eq!(c.security, SmtpSecurity::StartTls);
        assert_eq!((c.port_or_default(), c.timeout_secs), (587, 30));
        assert!(Sender::from_config(MailTransport::Smtp(c)).is_ok());

        let t: MailTransport =
            serde_json::from_str(r#"{"kind":"smtp","host":"relay","security":"none","port":2525}"#)
                .unwrap();
        assert!(
            matches!(&t, MailTransport::Smtp(c) if c.security == SmtpSecurity::None && c.port_or_default() == 2525)
        );

        let m: MailTransport =
            serde_json::from_str(r#"{"kind":"maildir","dir":"var/mail"}"#).unwrap();
        assert!(matches!(m, MailTransport::Maildir { ref from, .. } if *from == default_from()));
    }

    #[test]
    fn default_ports_follow_security() {
        let mut c = SmtpConfig::new("h", SmtpSecurity::None, default_from());
        assert_eq!(c.port_or_default(), 25);
        c.security = SmtpSecurity::Tls;
        assert_eq!(c.port_or_default(), 465);
        c.port = Some(2525);
        assert_eq!(c.port_or_default(), 2525);
    }

    #[test]
    fn bad_sender_is_a_config_error() {
        let r = Sender::from_config(MailTransport::Maildir {
            dir: "x".into(),
            from: "not an address".into(),
        });
        assert!(matches!(r, Err(MailError::Config(_))));
    }

    #[test]
    fn missing_ca_file_is_a_config_error() {
        let mut c = SmtpConfig::new("smtp.example.com", SmtpSecurity::Tls, default_from());
        c.tls_ca_file = Some("/nonexistent/ca.pem".into());
        assert!(matches!(
            Sender::from_config(MailTransport::Smtp(c)),
            Err(MailError::Config(_))
        ));
    }
}
