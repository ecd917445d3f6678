//! The processes and databases under test: `portal serve`, aiosmtpd, a scratch PostgreSQL
//! database.

use std::fs::OpenOptions;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, anyhow, bail};
use sqlx::Connection as _;

/// A port that was free a moment ago.
fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

fn tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}

/// `portal serve` as a child process on a fixed port, restartable after SIGKILL.
pub struct Portal {
    bin: PathBuf,
    env: Vec<(String, String)>,
    log: PathBuf,
    child: Option<Child>,
    pub base: String,
    pub starts: u32,
}

impl Portal {
    pub fn new(bin: &Path, dir: &Path, db_url: &str, smtp_port: u16) -> Result<Portal> {
        if !bin.is_file() {
            bail!(
                "portal binary {} not found (cargo build --release -p server)",
                bin.display()
            );
        }
        let port = free_port()?;
        let data = dir.join("data");
        let web = dir.join("web");
        std::fs::create_dir_all(&data)?;
        std::fs::create_dir_all(&web)?;
        let env = vec![
            ("PORTAL_BIND", format!("127.0.0.1:{port}")),
            ("PORTAL_DATA_DIR", data.display().to_string()),
            ("PORTAL_WEB_DIR", web.display().to_string()),
            ("PORTAL_DATABASE_URL", db_url.to_owned()),
            ("PORTAL_AUTH__DEV_LOGIN", "true".into()),
            ("PORTAL_EXPIRY_INTERVAL_SECS", "0".into()),
            ("PORTAL_MAIL__KIND", "smtp".into()),
            ("PORTAL_MAIL__HOST", "127.0.0.1".into()),
            ("PORTAL_MAIL__PORT", smtp_port.to_string()),
            ("PORTAL_MAIL__SECURITY", "none".into()),
            ("PORTAL_MAIL__TIMEOUT_SECS", "5".into()),
            // The harness's own PORTAL_LOG (e.g. `mailer=info,warn`) reaches the portal.
            (
                "PORTAL_LOG",
                std::env::var("PORTAL_LOG").unwrap_or_else(|_| "warn".into()),
            ),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        Ok(Portal {
            bin: bin.to_path_buf(),
            env,
            log: dir.join("portal.log"),
            child: None,
            base: format!("http://127.0.0.1:{port}"),
            starts: 0,
        })
    }

    /// Sign with the CA another instance created in `data_dir` (instances behind one load
    /// balancer share one CA).
    pub fn sharing_ca_of(mut self, data_dir: &Path) -> Portal {
        self.env.push((
            "PORTAL_CA__CERT".into(),
            data_dir.join("ca.pem").display().to_string(),
        ));
        self.env.push((
            "PORTAL_CA__KEY".into(),
            data_dir.join("ca.key").display().to_string(),
        ));
        self
    }

    /// `portal operator add` on the portal's database (an administrator).
    pub fn add_operator(&self, username: &str, password: &str) -> Result<()> {
        let mut child = Command::new(&self.bin)
            .args(["operator", "add", "--username", username])
            .env_remove("PORTAL_CONFIG")
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .with_context(|| format!("starting {} operator add", self.bin.display()))?;
        if let Some(mut stdin) = child.stdin.take() {
            use std::io::Write as _;
            writeln!(stdin, "{password}")?;
        }
        let out = child.wait_with_output()?;
        if !out.status.success() {
            bail!(
                "portal operator add failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(())
    }

    /// Start and wait for `/healthz`.
    pub async fn start(&mut self) -> Result<()> {
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)?;
        let mut cmd = Command::new(&self.bin);
        cmd.arg("serve")
            .env_remove("PORTAL_CONFIG")
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log);
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        let mut child = cmd
            .spawn()
            .with_context(|| format!("starting {}", self.bin.display()))?;
        self.starts += 1;
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(2))
            .build()?;
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = child.try_wait()? {
                bail!(
                    "portal exited during start ({status}); log:\n{}",
                    tail(&self.log)
                );
            }
            if let Ok(r) = http.get(format!("{}/healthz", self.base)).send().await
                && r.status().is_success()
            {
                self.child = Some(child);
                return Ok(());
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                bail!(
                    "portal did not answer /healthz within 60 s; log:\n{}",
                    tail(&self.log)
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// SIGKILL (std's `Child::kill` on Unix) and reap.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for Portal {
    fn drop(&mut self) {
        self.kill();
    }
}

fn python(explicit: Option<PathBuf>) -> Result<PathBuf> {
    let mut candidates: Vec<PathBuf> = Vec::new();
    if let Some(p) = explicit {
        candidates.push(p);
    } else if let Ok(p) = std::env::var("PORTAL_TEST_PYTHON") {
        candidates.push(p.into());
    } else {
        if let Ok(home) = std::env::var("HOME") {
            candidates.push(Path::new(&home).join(".cache/ccp/venv/bin/python"));
        }
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
    Err(anyhow!(
        "no python with aiosmtpd (tried {candidates:?}); scripts/setup.sh test installs it"
    ))
}

/// aiosmtpd delivering every message into a Maildir; can be killed and started again on the
/// same port.
pub struct Smtp {
    python: PathBuf,
    pub maildir: PathBuf,
    log: PathBuf,
    pub port: u16,
    child: Option<Child>,
}

impl Smtp {
    pub async fn start(python_bin: Option<PathBuf>, maildir: &Path, dir: &Path) -> Result<Smtp> {
        let mut s = Smtp {
            python: python(python_bin)?,
            maildir: maildir.to_path_buf(),
            log: dir.join("smtpd.log"),
            port: free_port()?,
            child: None,
        };
        s.restart().await?;
        Ok(s)
    }

    pub async fn restart(&mut self) -> Result<()> {
        if self.child.is_some() {
            return Ok(());
        }
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)?;
        let mut child = Command::new(&self.python)
            .args(["-m", "aiosmtpd", "-n", "-l"])
            .arg(format!("127.0.0.1:{}", self.port))
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(&self.maildir)
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .context("starting aiosmtpd")?;
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = child.try_wait()? {
                bail!("aiosmtpd exited early ({status}):\n{}", tail(&self.log));
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
                bail!("aiosmtpd did not listen within 20 s");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Message-ID (without angle brackets) of every message in the Maildir, one entry per
    /// delivered copy.
    pub fn delivered_message_ids(&self) -> Result<Vec<String>> {
        let mut out = Vec::new();
        for sub in ["new", "cur"] {
            let dir = self.maildir.join(sub);
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for e in entries {
                let path = e?.path();
                let text = std::fs::read_to_string(&path)
                    .with_context(|| format!("reading {}", path.display()))?;
                match message_id(&text) {
                    Some(id) => out.push(id),
                    None => bail!("message without Message-ID: {}", path.display()),
                }
            }
        }
        Ok(out)
    }
}

impl Drop for Smtp {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The Message-ID header of a message (unfolded, brackets and blanks removed).
fn message_id(text: &str) -> Option<String> {
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        if line.is_empty() {
            return None;
        }
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        if !name.trim().eq_ignore_ascii_case("message-id") {
            continue;
        }
        let mut v = value.trim().to_owned();
        while let Some(next) = lines.peek() {
            if next.starts_with([' ', '\t']) {
                v.push_str(next.trim());
                lines.next();
            } else {
                break;
            }
        }
        return Some(v.trim_matches(['<', '>', ' ']).to_owned());
    }
    None
}

/// A scratch PostgreSQL database, dropped at the end.
pub struct PgDb {
    admin: String,
    pub name: String,
    pub url: String,
    dropped: bool,
}

/// `url` with its database name replaced.
fn with_database(url: &str, db: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let host_end = base[scheme_end..]
        .find('/')
        .map(|i| scheme_end + i)
        .unwrap_or(base.len());
    let query = query.map(|q| format!("?{q}")).unwrap_or_default();
    format!("{}/{db}{query}", &base[..host_end])
}

const HARNESS_APP_NAME: &str = "faults-harness";

impl PgDb {
    pub async fn create(admin: &str) -> Result<PgDb> {
        let name = format!("portal_faults_{:016x}", crate::random_seed());
        let mut conn = sqlx::PgConnection::connect(admin)
            .await
            .with_context(|| format!("PostgreSQL at {admin} (set PORTAL_TEST_PG_URL)"))?;
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut conn)
            .await?;
        let _ = conn.close().await;
        Ok(PgDb {
            admin: admin.to_owned(),
            url: with_database(admin, &name),
            name,
            dropped: false,
        })
    }

    /// The harness's own URL: tagged so the connection killer spares it.
    pub fn harness_url(&self) -> String {
        let sep = if self.url.contains('?') { '&' } else { '?' };
        format!("{}{sep}application_name={HARNESS_APP_NAME}", self.url)
    }

    /// `pg_terminate_backend` for every connection of the server to this database.
    pub async fn terminate_server_connections(&self) -> Result<u64> {
        let mut conn = sqlx::PgConnection::connect(&self.admin).await?;
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM (SELECT pg_terminate_backend(pid) AS t FROM pg_stat_activity \
             WHERE datname = $1 AND pid <> pg_backend_pid() \
             AND application_name <> $2) x WHERE t",
        )
        .bind(&self.name)
        .bind(HARNESS_APP_NAME)
        .fetch_one(&mut conn)
        .await?;
        let _ = conn.close().await;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    pub async fn drop_database(mut self) {
        self.dropped = true;
        if let Ok(mut conn) = sqlx::PgConnection::connect(&self.admin).await {
            let _ = sqlx::query(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ))
            .execute(&mut conn)
            .await;
            let _ = conn.close().await;
        }
    }
}

impl Drop for PgDb {
    fn drop(&mut self) {
        if self.dropped {
            return;
        }
        // Error path: drop from a thread with its own runtime (we may be inside one).
        let admin = self.admin.clone();
        let name = self.name.clone();
        let _ = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(async move {
                if let Ok(mut conn) = sqlx::PgConnection::connect(&admin).await {
                    let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .execute(&mut conn)
                        .await;
                    let _ = conn.close().await;
                }
            });
        })
        .join();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_id_is_read_from_folded_headers() {
        let m = "X-Peer: x\r\nMessage-ID:\r\n <abc.1@portal.example>\r\nSubject: s\r\n\r\nbody";
        assert_eq!(message_id(m).as_deref(), Some("abc.1@portal.example"));
        assert_eq!(message_id("Subject: s\n\nMessage-ID: <x@y>"), None);
    }

    #[test]
    fn database_name_is_replaced() {
        assert_eq!(
            with_database("postgres://u@h:5432/postgres?sslmode=disable", "d"),
            "postgres://u@h:5432/d?sslmode=disable"
        );
    }
}
