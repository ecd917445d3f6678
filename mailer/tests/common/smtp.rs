//! SMTP servers for tests: the real aiosmtpd writing a Maildir, and a tiny scripted responder
//! that answers RCPT TO with a chosen reply (aiosmtpd's Mailbox handler accepts everything).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// A port that was free a moment ago (bind to 0, read it, release it).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn python() -> PathBuf {
    let mut candidates: Vec<PathBuf> = Vec::new();
    if let Ok(p) = std::env::var("PORTAL_TEST_PYTHON") {
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
            return c.clone();
        }
    }
    panic!(
        "no python with aiosmtpd found (tried {candidates:?}); install it with \
         `$HOME/.cache/ccp/venv/bin/pip install aiosmtpd` or `apt-get install python3-aiosmtpd`, \
         or set PORTAL_TEST_PYTHON"
    );
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

/// aiosmtpd on 127.0.0.1:`port`, delivering into the Maildir `maildir`. Killed on drop.
pub struct SmtpServer {
    child: Child,
    pub port: u16,
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
        let mut cmd = Command::new(python());
        cmd.args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}")]);
        match tls {
            TlsMode::Plain => {}
            TlsMode::StartTls { cert, key } => {
                cmd.arg("--tlscert").arg(cert).arg("--tlskey").arg(key);
            }
            TlsMode::Implicit { cert, key } => {
                cmd.arg("--smtpscert").arg(cert).arg("--smtpskey").arg(key);
            }
        }
        cmd.args(["-c", "aiosmtpd.handlers.Mailbox"]).arg(maildir);
        SmtpServer::spawn(cmd, port, maildir).await
    }

    /// STARTTLS required, then AUTH required (see [`AuthSetup`]).
    pub async fn start_auth(port: u16, maildir: &Path, auth: AuthSetup<'_>) -> SmtpServer {
        // The Mailbox handler expects the maildir to exist when started this way.
        for sub in ["new", "cur", "tmp"] {
            std::fs::create_dir_all(maildir.join(sub)).unwrap();
        }
        let mut cmd = Command::new(python());
        cmd.args(["-c", AUTH_SERVER_PY, &port.to_string()])
            .arg(maildir)
            .arg(auth.cert)
            .arg(auth.key)
            .env("SMTP_TEST_USER", auth.username)
            .env("SMTP_TEST_PASSWORD", auth.password);
        SmtpServer::spawn(cmd, port, maildir).await
    }

    async fn spawn(mut cmd: Command, port: u16, maildir: &Path) -> SmtpServer {
        let log_path = maildir.with_extension(format!("smtpd-{port}.log"));
        let log = std::fs::File::create(&log_path).unwrap();
        cmd.stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log);
        let mut child = cmd.spawn().unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                let log = std::fs::read_to_string(&log_path).unwrap_or_default();
                panic!("aiosmtpd exited early ({status}):\n{log}");
            }
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                return SmtpServer {
                    child,
                    port,
                    log_path,
                };
            }
            assert!(
                Instant::now() < deadline,
                "aiosmtpd did not listen on {port} within 20 s"
            );
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

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
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
