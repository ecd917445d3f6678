//! The processes under test: `portal serve` here; aiosmtpd and the scratch PostgreSQL
//! database are the test kit's (`testkit::smtp`, `testkit::pg`), with the harness's own
//! PostgreSQL connection killer.

use std::fs::OpenOptions;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use sqlx::Connection as _;
use testkit::pg::PgDb;
use testkit::smtp::try_free_port as free_port;

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

const HARNESS_APP_NAME: &str = "faults-harness";

/// A scratch database for one backend run (`portal_faults_…`), dropped at the end.
pub async fn create_database(admin: &str) -> Result<PgDb> {
    PgDb::try_create(admin, "portal_faults")
        .await
        .context("set PORTAL_TEST_PG_URL")
}

/// The harness's own URL for `pg`: tagged so the connection killer spares it.
pub fn harness_url(pg: &PgDb) -> String {
    let sep = if pg.url.contains('?') { '&' } else { '?' };
    format!("{}{sep}application_name={HARNESS_APP_NAME}", pg.url)
}

/// `pg_terminate_backend` for every connection of the server to `pg`.
pub async fn terminate_server_connections(pg: &PgDb) -> Result<u64> {
    let mut conn = sqlx::PgConnection::connect(pg.admin_url()).await?;
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM (SELECT pg_terminate_backend(pid) AS t FROM pg_stat_activity \
         WHERE datname = $1 AND pid <> pg_backend_pid() \
         AND application_name <> $2) x WHERE t",
    )
    .bind(&pg.name)
    .bind(HARNESS_APP_NAME)
    .fetch_one(&mut conn)
    .await?;
    let _ = conn.close().await;
    Ok(u64::try_from(n).unwrap_or(0))
}
