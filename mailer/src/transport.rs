//! Where mail goes: an SMTP server (lettre over rustls, no OpenSSL) or a local maildir for
//! setups without a mail server. Also the error classification the worker's retry policy
//! relies on.

use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime};

use lettre::message::header::ContentType;
use lettre::message::{Mailbox, Message};
use lettre::transport::smtp::authentication::{Credentials, DEFAULT_MECHANISMS};
use lettre::transport::smtp::client::{
    AsyncSmtpConnection, AsyncTokioStream, Certificate, TlsParameters,
};
use lettre::transport::smtp::extension::ClientId;
use serde::Deserialize;
use time::OffsetDateTime;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName};

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

    /// The port in use: the configured one, else the usual one for `security`.
    pub fn port_or_default(&self) -> u16 {
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
    Smtp(Box<SmtpSender>),
    Maildir { dir: PathBuf, from: Mailbox },
}

/// One SMTP session per mail, on a socket opened here with TCP_NODELAY. lettre's own
/// connector leaves Nagle's algorithm on, and it writes the message and the final
/// `<CRLF>.<CRLF>` separately: the terminator then waits for the server's delayed ACK (40 ms
/// on Linux) before it leaves. A mail took ~48 ms instead of ~3 ms, and a crash during that
/// wait still delivered the mail (the kernel sends the queued bytes when the process dies)
/// without the worker having seen the reply, so the mail went out again after the restart.
pub(crate) struct SmtpSender {
    host: String,
    port: u16,
    security: Security,
    credentials: Option<Credentials>,
    hello: ClientId,
    from: Mailbox,
    /// Bound of the TCP connect (and TLS handshake); the whole exchange gets twice this.
    timeout: Duration,
}

enum Security {
    None,
    /// lettre upgrades the connection after STARTTLS, with these parameters.
    StartTls(TlsParameters),
    /// TLS from the first byte, set up here (lettre cannot wrap a socket it did not open).
    Implicit {
        connector: TlsConnector,
        name: ServerName<'static>,
    },
}

/// A mail the server has accepted, with the SMTP session still open. The worker records the
/// outcome first and then [`close`](Accepted::close)s: until the row says `sent`, a crash
/// sends the mail again, so nothing that can wait (such as QUIT's round trip) comes before.
pub(crate) struct Accepted(Option<AsyncSmtpConnection>);

/// How long QUIT may take. Its outcome changes nothing; the mail is accepted already.
const QUIT_WAIT: Duration = Duration::from_millis(500);

impl Accepted {
    pub(crate) async fn close(self) {
        if let Some(mut conn) = self.0 {
            let _ = tokio::time::timeout(QUIT_WAIT, conn.quit()).await;
        }
    }
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
                let extra_roots = match &c.tls_ca_file {
                    Some(path) => read_ca_file(path)?,
                    None => Vec::new(),
                };
                let security = match c.security {
                    SmtpSecurity::None => Security::None,
                    SmtpSecurity::StartTls => {
                        Security::StartTls(lettre_tls_parameters(&c.host, &extra_roots)?)
                    }
                    SmtpSecurity::Tls => Security::Implicit {
                        connector: rustls_connector(&extra_roots)?,
                        name: ServerName::try_from(c.host.clone()).map_err(|e| {
                            MailError::Config(format!("SMTP host {:?} for TLS: {e}", c.host))
                        })?,
                    },
                };
                let credentials = match (&c.username, &c.password) {
                    (Some(user), Some(pass)) => Some(Credentials::new(user.clone(), pass.clone())),
                    _ => None,
                };
                Ok(Sender::Smtp(Box::new(SmtpSender {
                    port: c.port_or_default(),
                    host: c.host,
                    security,
                    credentials,
                    hello: c.helo_name.map(ClientId::Domain).unwrap_or_default(),
                    from: parse_from(&c.from)?,
                    timeout: Duration::from_secs(c.timeout_secs.max(1)),
                })))
            }
        }
    }

    /// The longest one send can reasonably take; the lease must outlast it.
    pub(crate) fn send_timeout(&self) -> Option<Duration> {
        match self {
            Sender::Smtp(s) => Some(s.timeout),
            Sender::Maildir { .. } => None,
        }
    }

    pub(crate) async fn send(
        &self,
        mail: &Claimed,
        now: OffsetDateTime,
    ) -> Result<Accepted, SendError> {
        let from = match self {
            Sender::Smtp(s) => s.from.clone(),
            Sender::Maildir { from, .. } => from.clone(),
        };
        let message = build_message(mail, from, now)?;
        match self {
            Sender::Smtp(smtp) => {
                // A server that accepts and then stops answering must not hold the worker
                // until the lease cut-off (minutes). Bound the whole exchange; the lease is
                // ≥ 4 × this.
                let limit = smtp.timeout.saturating_mul(2);
                match tokio::time::timeout(limit, smtp.deliver(&message)).await {
                    Ok(r) => r,
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
                    .map(|()| Accepted(None))
                    .map_err(|e| SendError {
                        message: format!("maildir {}: {e}", dir.display()),
                        permanent: false,
                        unreachable: true,
                    })
            }
        }
    }
}

impl SmtpSender {
    /// Connect, say hello, secure, authenticate, send one message. The caller closes the
    /// session (QUIT) once it has recorded the outcome.
    async fn deliver(&self, message: &Message) -> Result<Accepted, SendError> {
        let tcp = connect_tcp(&self.host, self.port, self.timeout)
            .await
            .map_err(|e| unreachable(format!("connecting to {}:{}: {e}", self.host, self.port)))?;
        let stream: Box<dyn AsyncTokioStream> = match &self.security {
            Security::None | Security::StartTls(_) => Box::new(tcp),
            Security::Implicit { connector, name } => {
                let tls = tokio::time::timeout(self.timeout, connector.connect(name.clone(), tcp))
                    .await
                    .map_err(|_| {
                        unreachable(format!("TLS handshake with {} timed out", self.host))
                    })?
                    .map_err(|e| unreachable(format!("TLS handshake with {}: {e}", self.host)))?;
                Box::new(ImplicitTls(tls))
            }
        };
        let mut conn = AsyncSmtpConnection::connect_with_transport(stream, &self.hello)
            .await
            .map_err(|e| classify_smtp(&e))?;
        // After a failure the connection is only dropped: it may be unusable (a failed
        // STARTTLS leaves lettre without a stream).
        self.session(&mut conn, message).await?;
        Ok(Accepted(Some(conn)))
    }

    async fn session(
        &self,
        conn: &mut AsyncSmtpConnection,
        message: &Message,
    ) -> Result<(), SendError> {
        if let Security::StartTls(params) = &self.security {
            conn.starttls(params.clone(), &self.hello)
                .await
                .map_err(|e| classify_smtp(&e))?;
        }
        if let Some(credentials) = &self.credentials {
            conn.auth(DEFAULT_MECHANISMS, credentials)
                .await
                .map_err(|e| classify_smtp(&e))?;
        }
        conn.send(message.envelope(), &message.formatted())
            .await
            .map_err(|e| classify_smtp(&e))?;
        Ok(())
    }
}

/// TCP connection with Nagle's algorithm off (see [`SmtpSender`]); `timeout` bounds the
/// connect over every address the host resolves to.
async fn connect_tcp(host: &str, port: u16, timeout: Duration) -> io::Result<TcpStream> {
    let tcp = tokio::time::timeout(timeout, TcpStream::connect((host, port)))
        .await
        .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "connection timed out"))??;
    tcp.set_nodelay(true)?;
    Ok(tcp)
}

fn unreachable(message: String) -> SendError {
    SendError {
        message,
        permanent: false,
        unreachable: true,
    }
}

/// An implicit-TLS stream in the shape lettre takes for a connection it did not open.
#[derive(Debug)]
struct ImplicitTls(tokio_rustls::client::TlsStream<TcpStream>);

impl AsyncTokioStream for ImplicitTls {
    fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.0.get_ref().0.peer_addr()
    }
}

impl AsyncRead for ImplicitTls {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl AsyncWrite for ImplicitTls {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }
}

fn parse_from(from: &str) -> Result<Mailbox, MailError> {
    from.parse::<Mailbox>()
        .map_err(|e| MailError::Config(format!("sender address {from:?}: {e}")))
}

/// The certificates of `tls_ca_file` (PEM, one or more), trusted besides the public web roots.
fn read_ca_file(path: &Path) -> Result<Vec<CertificateDer<'static>>, MailError> {
    let bad = |e: String| MailError::Config(format!("tls_ca_file {}: {e}", path.display()));
    let pem = std::fs::read(path).map_err(|e| bad(e.to_string()))?;
    let certs = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| bad(e.to_string()))?;
    if certs.is_empty() {
        return Err(bad("no certificate in the file".into()));
    }
    Ok(certs)
}

fn lettre_tls_parameters(
    host: &str,
    extra_roots: &[CertificateDer<'static>],
) -> Result<TlsParameters, MailError> {
    let mut b = TlsParameters::builder(host.to_owned());
    for cert in extra_roots {
        b = b.add_root_certificate(
            Certificate::from_der(cert.to_vec())
                .map_err(|e| MailError::Config(format!("tls_ca_file: {e}")))?,
        );
    }
    b.build()
        .map_err(|e| MailError::Config(format!("TLS setup for {host}: {e}")))
}

/// The same trust as lettre's STARTTLS path: the public web roots plus `tls_ca_file`.
fn rustls_connector(extra_roots: &[CertificateDer<'static>]) -> Result<TlsConnector, MailError> {
    let mut roots =
        rustls::RootCertStore::from_iter(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    for cert in extra_roots {
        roots
            .add(cert.clone())
            .map_err(|e| MailError::Config(format!("tls_ca_file: {e}")))?;
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| MailError::Config(format!("TLS setup: {e}")))?
    .with_root_certificates(roots)
    .with_no_client_auth();
    Ok(TlsConnector::from(Arc::new(config)))
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

    #[tokio::test]
    async fn smtp_sockets_have_nagles_algorithm_off() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let tcp = connect_tcp("127.0.0.1", port, Duration::from_secs(5))
            .await
            .unwrap();
        assert!(tcp.nodelay().unwrap());
    }

    #[test]
    fn ca_file_without_a_certificate_is_a_config_error() {
        let dir = std::env::temp_dir().join(format!("mailer-ca-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("empty.pem");
        std::fs::write(&path, "not a certificate\n").unwrap();
        for security in [SmtpSecurity::StartTls, SmtpSecurity::Tls] {
            let mut c = SmtpConfig::new("smtp.example.com", security, default_from());
            c.tls_ca_file = Some(path.clone());
            assert!(matches!(
                Sender::from_config(MailTransport::Smtp(c)),
                Err(MailError::Config(m)) if m.contains("no certificate")
            ));
        }
        std::fs::remove_dir_all(&dir).unwrap();
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
