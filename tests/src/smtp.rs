//! SMTP servers for tests: the real aiosmtpd writing a Maildir (read it with
//! [`crate::maildir`]), and a tiny scripted responder that answers RCPT TO with a chosen reply
//! (aiosmtpd's Mailbox handler accepts everything). The mailer's and the server's mail tests
//! and the `faults` harness (which kills and restarts it) all use the same sink.

use std::ffi::OsString;
use std::fs::OpenOptions;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

use crate::Error;

pub use crate::{free_port, try_free_port};

/// A python that can `import aiosmtpd`: `explicit` if given, else `PORTAL_TEST_PYTHON`, else
/// the venv of scripts/setup.sh (`$HOME/.cache/ccp/venv`), /usr/bin/python3, python3.
pub fn python(explicit: Option<PathBuf>) -> Result<PathBuf, Error> {
    let mut candidates: Vec<PathBuf> = Vec::new();
    if let Some(p) = explicit {
        candidates.push(p);
    } else if let Ok(p) = std::env::var("PORTAL_TEST_PYTHON") {
        candidates.push(p.into());
    } else {
        if let Ok(home) = std::env::var("HOME") {
            candidates.push(Path::new(&home).join(".cache/ccp/venv/bin/python"));
        }
        candidates.push("/usr/bin/python3".into());
        candidates.push("python3".into());
    }
    for c in &candidates {
        let ok = Command::new(c)
            .args(["-c", "import aiosmtpd"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        if ok {
            return Ok(c.clone());
        }
    }
    Err(Error(format!(
        "no python with aiosmtpd found (tried {candidates:?}); install it with \
         `$HOME/.cache/ccp/venv/bin/pip install aiosmtpd` (scripts/setup.sh test) or \
         `apt-get install python3-aiosmtpd`, or set PORTAL_TEST_PYTHON"
    )))
}

pub enum TlsMode<'a> {
    Plain,
    /// STARTTLS offered and required.
    StartTls {
        cert: &'a Path,
        key: &'a Path,
    },
    /// TLS from the first byte (SMTPS).
    Implicit {
        cert: &'a Path,
        key: &'a Path,
    },
}

/// aiosmtpd on 127.0.0.1:`port`, delivering into the Maildir `maildir`. Killed on drop; can
/// be killed and started again on the same port ([`SmtpServer::kill`], [`SmtpServer::restart`]).
pub struct SmtpServer {
    python: PathBuf,
    args: Vec<OsString>,
    env: Vec<(&'static str, String)>,
    child: Option<Child>,
    pub port: u16,
    pub maildir: PathBuf,
    /// aiosmtpd's stdout and stderr (the AUTH server also writes one line per AUTH attempt).
    pub log_path: PathBuf,
}

/// An aiosmtpd that offers STARTTLS and requires it, then requires AUTH (PLAIN or LOGIN)
/// with these credentials before it accepts mail.
pub struct AuthSetup<'a> {
    pub cert: &'a Path,
    pub key: &'a Path,
    pub username: &'a str,
    pub password: &'a str,
}
/// `python -m aiosmtpd` has no AUTH options; this is the same server with an authenticator.
/// Each attempt is logged as `AUTH <mechanism> ok|refused` (never the secret).
const AUTH_SERVER_PY: &str = r#"
import asyncio, os, ssl, sys
from aiosmtpd.handlers import Mailbox
from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

port, maildir, cert, key = sys.argv[1:5]
user = os.environ["SMTP_TEST_USER"].encode()
password = os.environ["SMTP_TEST_PASSWORD"].encode()
ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
ctx.load_cert_chain(cert, key)

def authenticator(server, session, envelope, mechanism, auth_data):
    ok = (isinstance(auth_data, LoginPassword)
          and auth_data.login == user and auth_data.password == password)
    print("AUTH %s %s" % (mechanism, "ok" if ok else "refused"), flush=True)
    # handled=False: aiosmtpd itself replies 535 on failure (handled=True would send nothing).
    return AuthResult(success=ok, handled=False)

loop = asyncio.new_event_loop()
asyncio.set_event_loop(loop)
handler = Mailbox(maildir)
factory = lambda: SMTP(handler, tls_context=ctx, require_starttls=True, auth_required=True,
                       auth_require_tls=True, authenticator=authenticator, loop=loop)
loop.run_until_complete(loop.create_server(factory, "127.0.0.1", int(port)))
print("listening", flush=True)
loop.run_forever()
"#;

impl SmtpServer {
    pub async fn start(port: u16, maildir: &Path) -> SmtpServer {
        SmtpServer::start_with(port, maildir, TlsMode::Plain).await
    }

    pub async fn start_with(port: u16, maildir: &Path, tls: TlsMode<'_>) -> SmtpServer {
        let mut args: Vec<OsString> = Vec::new();
        match tls {
            TlsMode::Plain => {}
            TlsMode::StartTls { cert, key } => {
                args.extend([
                    "--tlscert".into(),
                    cert.into(),
                    "--tlskey".into(),
                    key.into(),
                ]);
            }
            TlsMode::Implicit { cert, key } => {
                args.extend([
                    "--smtpscert".into(),
                    cert.into(),
                    "--smtpskey".into(),
                    key.into(),
                ]);
            }
        }
        let python = python(None).unwrap_or_else(|e| panic!("{e}"));
        let mut s = SmtpServer::mailbox(python, port, maildir, default_log(maildir, port), args);
        s.restart().await.unwrap_or_else(|e| panic!("{e}"));
        s
    }

    /// STARTTLS required, then AUTH required (see [`AuthSetup`]).
    pub async fn start_auth(port: u16, maildir: &Path, auth: AuthSetup<'_>) -> SmtpServer {
        // The Mailbox handler expects the maildir to exist when started this way.
        for sub in ["new", "cur", "tmp"] {
            std::fs::create_dir_all(maildir.join(sub)).unwrap();
        }
        let mut s = SmtpServer {
            python: python(None).unwrap_or_else(|e| panic!("{e}")),
            args: vec![
                "-c".into(),
                AUTH_SERVER_PY.into(),
                port.to_string().into(),
                maildir.into(),
                auth.cert.into(),
                auth.key.into(),
            ],
            env: vec![
                ("SMTP_TEST_USER", auth.username.to_owned()),
                ("SMTP_TEST_PASSWORD", auth.password.to_owned()),
            ],
            child: None,
            port,
            maildir: maildir.to_path_buf(),
            log_path: default_log(maildir, port),
        };
        s.restart().await.unwrap_or_else(|e| panic!("{e}"));
        s
    }

    /// A plain aiosmtpd on a free port for a harness that reports errors rather than
    /// panics; `python` as for [`python`], the log appended to `log_path`.
    pub async fn try_start(
        python_bin: Option<PathBuf>,
        maildir: &Path,
        log_path: PathBuf,
    ) -> Result<SmtpServer, Error> {
        let port = try_free_port().map_err(|e| Error(format!("no free port: {e}")))?;
        let mut s = SmtpServer::mailbox(python(python_bin)?, port, maildir, log_path, Vec::new());
        s.restart().await?;
        Ok(s)
    }

    /// `python -m aiosmtpd` with the Mailbox handler, `extra` before the handler options.
    fn mailbox(
        python: PathBuf,
        port: u16,
        maildir: &Path,
        log_path: PathBuf,
        extra: Vec<OsString>,
    ) -> SmtpServer {
        let mut args: Vec<OsString> = vec![
            "-m".into(),
            "aiosmtpd".into(),
            "-n".into(),
            "-l".into(),
            format!("127.0.0.1:{port}").into(),
        ];
        args.extend(extra);
        args.extend([
            "-c".into(),
            "aiosmtpd.handlers.Mailbox".into(),
            maildir.into(),
        ]);
        SmtpServer {
            python,
            args,
            env: Vec::new(),
            child: None,
            port,
            maildir: maildir.to_path_buf(),
            log_path,
        }
    }

    /// Starts the server (again, after [`SmtpServer::kill`]) and waits until it listens; does
    /// nothing while it runs. Its output is appended to the log.
    pub async fn restart(&mut self) -> Result<(), Error> {
        if self.child.is_some() {
            return Ok(());
        }
        let io = |what: &str, e: std::io::Error| Error(format!("aiosmtpd {what}: {e}"));
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log_path)
            .map_err(|e| io("log", e))?;
        let mut child = Command::new(&self.python)
            .args(&self.args)
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(log.try_clone().map_err(|e| io("log", e))?)
            .stderr(log)
            .spawn()
            .map_err(|e| io("start", e))?;
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = child.try_wait().map_err(|e| io("wait", e))? {
                return Err(Error(format!(
                    "aiosmtpd exited early ({status}):\n{}",
                    self.log()
                )));
            }
            if tokio::net::TcpStream::connect(("127.0.0.1", self.port))
                .await
                .is_ok()
            {
                self.child = Some(child);
                return Ok(());
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                return Err(Error(format!(
                    "aiosmtpd did not listen on {} within 20 s",
                    self.port
                )));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// What the server printed so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    pub fn stop(mut self) {
        self.kill();
    }

    /// Kills the server (SIGKILL) and waits for it; [`SmtpServer::restart`] starts it again.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// The log beside the maildir, one per port.
fn default_log(maildir: &Path, port: u16) -> PathBuf {
    let log = maildir.with_extension(format!("smtpd-{port}.log"));
    // A fresh log per start of a test server (restarts of the same value append).
    let _ = std::fs::remove_file(&log);
    log
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A scripted SMTP server: accepts everything except RCPT TO, which gets `rcpt_reply`.
pub struct ScriptedSmtp {
    pub port: u16,
    pub rcpt_seen: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl ScriptedSmtp {
    pub async fn start(rcpt_reply: &'static str) -> ScriptedSmtp {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let rcpt_seen = Arc::new(AtomicUsize::new(0));
        let seen = Arc::clone(&rcpt_seen);
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let seen = Arc::clone(&seen);
                tokio::spawn(async move {
                    let (r, mut w) = stream.into_split();
                    let mut lines = BufReader::new(r).lines();
                    if w.write_all(b"220 scripted ESMTP\r\n").await.is_err() {
                        return;
                    }
                    while let Ok(Some(line)) = lines.next_line().await {
                        let verb = line.get(..4).unwrap_or("").to_ascii_uppercase();
                        let reply = match verb.as_str() {
                            "EHLO" | "HELO" => "250 scripted".to_owned(),
                            "RCPT" => {
                                seen.fetch_add(1, Ordering::SeqCst);
                                rcpt_reply.to_owned()
                            }
                            "QUIT" => {
                                let _ = w.write_all(b"221 bye\r\n").await;
                                return;
                            }
                            "DATA" => "554 no valid recipients".to_owned(),
                            _ => "250 ok".to_owned(),
                        };
                        if w.write_all(format!("{reply}\r\n").as_bytes())
                            .await
                            .is_err()
                        {
                            return;
                        }
                    }
                });
            }
        });
        ScriptedSmtp {
            port,
            rcpt_seen,
            task,
        }
    }
}

impl Drop for ScriptedSmtp {
    fn drop(&mut self) {
        self.task.abort();
    }
}
