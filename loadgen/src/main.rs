//! `loadgen`: concurrent simulated applicants against the portal, per backend and level,
//! then a database check and `openssl x509 -req` on the same CSRs with the same CA key.
//!
//! ```text
//! cargo build --release -p server -p loadgen
//! target/release/loadgen --backend both --levels 10,50,200 --markdown out.md
//! target/release/loadgen --url http://127.0.0.1:8080 [--database-url …] [--ca-dir data]
//! ```
//! See scripts/bench-load.sh.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use clap::Parser;
use loadgen::{DbCheck, Error, LevelConfig, LevelResult, MailCheck};
use testkit::pg::PgDb;

#[derive(Parser, Debug)]
#[command(name = "loadgen", about = "Load generator for the portal's JSON API")]
struct Args {
    /// Backends to start the server on: sqlite, postgres or both (ignored with --url).
    #[arg(long, default_value = "both")]
    backend: String,
    /// Use this running server (dev login must be on) instead of starting one.
    #[arg(long)]
    url: Option<String>,
    /// With --url: the server's database, for the lost/duplicate check (fresh database only).
    #[arg(long)]
    database_url: Option<String>,
    /// With --url: directory holding the server's ca.pem and ca.key (openssl comparison).
    #[arg(long)]
    ca_dir: Option<PathBuf>,
    /// The `portal` binary (default: next to this one).
    #[arg(long)]
    portal: Option<PathBuf>,
    /// Numbers of `portal serve` processes to run on one PostgreSQL database, one run each
    /// (e.g. `1,3`); clients send their requests to them round robin. SQLite runs one.
    #[arg(long, value_delimiter = ',', default_value = "1")]
    instances: Vec<usize>,
    /// Concurrent clients per level.
    #[arg(long, value_delimiter = ',', default_value = "10,50,200")]
    levels: Vec<usize>,
    /// Applications prepared and issued (CSR request only) per level.
    #[arg(long, default_value_t = 1000)]
    issue_count: usize,
    /// Whole flows per level.
    #[arg(long, default_value_t = 400)]
    flow_count: usize,
    /// Time bound of the prepare and flow phases, seconds.
    #[arg(long, default_value_t = 60)]
    max_secs: u64,
    /// Distinct RSA-2048 applicant keys behind the CSRs.
    #[arg(long, default_value_t = 16)]
    keys: usize,
    /// CSRs signed by `openssl x509 -req` for the comparison (0 = skip).
    #[arg(long, default_value_t = 300)]
    openssl_count: usize,
    /// PostgreSQL maintenance database for creating the benchmark database.
    #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432/postgres")]
    pg_admin_url: String,
    /// Write the results as Markdown here.
    #[arg(long)]
    markdown: Option<PathBuf>,
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args = Args::parse();
    match run(args).await {
        Ok(true) => std::process::ExitCode::SUCCESS,
        Ok(false) => {
            eprintln!("loadgen: errors or database inconsistencies (see above)");
            std::process::ExitCode::from(1)
        }
        Err(e) => {
            eprintln!("loadgen: {e}");
            std::process::ExitCode::from(2)
        }
    }
}

struct BackendRun {
    name: String,
    levels: Vec<LevelResult>,
    check: Option<DbCheck>,
    mail: Option<MailCheck>,
    openssl: Option<OpensslResult>,
}

async fn run(args: Args) -> Result<bool, Error> {
    if cfg!(debug_assertions) {
        eprintln!("warning: debug build of loadgen; use --release for numbers worth reporting");
    }
    let per_level = args.issue_count + args.flow_count;
    let total = per_level * args.levels.len();
    eprintln!(
        "generating {} RSA-2048 keys and {total} CSRs (not timed)...",
        args.keys
    );
    let t = Instant::now();
    let keys = args.keys;
    let csrs = tokio::task::spawn_blocking(move || -> Result<Vec<String>, Error> {
        let keys = loadgen::make_keys(keys)?;
        loadgen::make_csrs(&keys, total, "csr")
    })
    .await??;
    eprintln!("  done in {:.1} s", t.elapsed().as_secs_f64());

    let mut runs = Vec::new();
    if let Some(url) = &args.url {
        let url = url.trim_end_matches('/').to_owned();
        let ca = args.ca_dir.clone();
        runs.push(
            run_backend(
                &args,
                "external",
                &url,
                args.database_url.as_deref(),
                ca.as_deref(),
                &[],
                &csrs,
            )
            .await?,
        );
    } else {
        let portal = match &args.portal {
            Some(p) => p.clone(),
            None => std::env::current_exe()?
                .parent()
                .ok_or("no parent directory of loadgen")?
                .join("portal"),
        };
        if !portal.is_file() {
            return Err(format!(
                "portal binary not found at {} (cargo build --release -p server, or --portal)",
                portal.display()
            )
            .into());
        }
        let backends: Vec<&str> = match args.backend.as_str() {
            "both" => vec!["sqlite", "postgres"],
            "sqlite" => vec!["sqlite"],
            "postgres" => vec!["postgres"],
            other => return Err(format!("unknown backend {other}").into()),
        };
        let mut plan = Vec::new();
        for b in backends {
            if b == "postgres" {
                plan.extend(args.instances.iter().map(|&n| (b, n.max(1))));
            } else {
                plan.push((b, 1));
            }
        }
        for (b, n) in plan {
            let pg = if b == "postgres" {
                Some(PgDb::try_create(&args.pg_admin_url, "loadgen").await?)
            } else {
                None
            };
            let name = if n > 1 {
                format!("{b}, {n} instances")
            } else if args.instances.iter().any(|&i| i > 1) && b == "postgres" {
                format!("{b}, 1 instance")
            } else {
                b.to_owned()
            };
            let result = async {
                let pg_url = pg.as_ref().map(|p| p.url.as_str());
                let first = Spawned::start(&portal, pg_url, None).await?;
                let mut srvs = vec![first];
                for _ in 1..n {
                    let ca = srvs[0].data_dir.clone();
                    match Spawned::start(&portal, pg_url, Some(ca.as_path())).await {
                        Ok(s) => srvs.push(s),
                        Err(e) => {
                            for s in srvs {
                                s.stop().await;
                            }
                            return Err(e);
                        }
                    }
                }
                let bases: Vec<&str> = srvs.iter().map(|s| s.base.as_str()).collect();
                let maildirs: Vec<PathBuf> = srvs.iter().map(|s| s.data_dir.join("mail")).collect();
                let r = run_backend(
                    &args,
                    &name,
                    &bases.join(","),
                    Some(&srvs[0].database_url),
                    Some(&srvs[0].data_dir),
                    &maildirs,
                    &csrs,
                )
                .await;
                for s in srvs {
                    s.stop().await;
                }
                r
            }
            .await;
            if let Some(pg) = pg {
                pg.drop_database().await;
            }
            runs.push(result?);
        }
    }

    let report = markdown(&args, &runs).await;
    println!("{report}");
    if let Some(path) = &args.markdown {
        std::fs::write(path, &report)?;
    }
    let clean = runs.iter().all(|r| {
        r.levels
            .iter()
            .all(|l| l.prepare.errors + l.issue.errors + l.flow.errors == 0)
            && r.check.as_ref().is_none_or(DbCheck::ok)
            && r.mail.as_ref().is_none_or(MailCheck::ok)
    });
    Ok(clean)
}

async fn run_backend(
    args: &Args,
    name: &str,
    base: &str,
    database_url: Option<&str>,
    ca_dir: Option<&Path>,
    maildirs: &[PathBuf],
    csrs: &[String],
) -> Result<BackendRun, Error> {
    let per_level = args.issue_count + args.flow_count;
    // Distinct tax IDs across the whole run, so --url against a reused server still works.
    let seed = (time::OffsetDateTime::now_utc().unix_timestamp() % 50_000) as u32 * 1000;
    let ids = loadgen::tax_ids(10_000_000 + seed, per_level * args.levels.len());
    let mut levels = Vec::new();
    for (li, &clients) in args.levels.iter().enumerate() {
        let cfg = LevelConfig {
            clients,
            issue_count: args.issue_count,
            flow_count: args.flow_count,
            max_phase: Duration::from_secs(args.max_secs),
        };
        let range = li * per_level..(li + 1) * per_level;
        eprintln!("[{name}] {clients} clients...");
        let r = loadgen::run_level(base, &cfg, &ids[range.clone()], &csrs[range]).await?;
        eprintln!(
            "[{name}] {clients} clients: issue {:.1}/s (p50 {:.0} ms, p99 {:.0} ms), flow {:.1}/s, errors {}/{}/{}",
            r.issue.rate(),
            r.issue.percentile(50.0),
            r.issue.percentile(99.0),
            r.flow.rate(),
            r.prepare.errors,
            r.issue.errors,
            r.flow.errors
        );
        for e in r
            .prepare
            .sample_errors
            .iter()
            .chain(&r.issue.sample_errors)
            .chain(&r.flow.sample_errors)
        {
            eprintln!("  error: {e}");
        }
        levels.push(r);
    }
    let check = match database_url {
        Some(url) => {
            let issued: Vec<(String, String)> =
                levels.iter().flat_map(|l| l.issued.clone()).collect();
            let c = loadgen::verify_db(url, &issued).await?;
            eprintln!(
                "[{name}] database check: {c:?} → {}",
                if c.ok() { "ok" } else { "FAILED" }
            );
            Some(c)
        }
        None => None,
    };
    let mail = match database_url {
        Some(url) if !maildirs.is_empty() => {
            let m = loadgen::verify_mail(url, maildirs, Duration::from_secs(120)).await?;
            eprintln!(
                "[{name}] mail check: {m:?} → {}",
                if m.ok() { "ok" } else { "FAILED" }
            );
            Some(m)
        }
        _ => None,
    };
    let openssl = match ca_dir {
        Some(dir) if args.openssl_count > 0 => {
            let sample: Vec<String> = levels
                .iter()
                .flat_map(|l| l.issue_csrs.iter().cloned())
                .take(args.openssl_count)
                .collect();
            let dir = dir.to_path_buf();
            let base = base.split(',').next().unwrap_or(base).to_owned();
            Some(
                tokio::task::spawn_blocking(move || openssl_compare(&dir, &base, &sample))
                    .await??,
            )
        }
        _ => None,
    };
    Ok(BackendRun {
        name: name.to_owned(),
        levels,
        check,
        mail,
        openssl,
    })
}

// ---- the server ----------------------------------------------------------------------

struct Spawned {
    child: tokio::process::Child,
    base: String,
    data_dir: PathBuf,
    database_url: String,
    _dir: tempfile::TempDir,
}

impl Spawned {
    /// `ca_from`: another instance's data directory whose CA this one shares (instances
    /// behind one load balancer sign with one CA).
    async fn start(
        portal: &Path,
        pg_url: Option<&str>,
        ca_from: Option<&Path>,
    ) -> Result<Spawned, Error> {
        let dir = tempfile::tempdir()?;
        let data_dir = dir.path().join("data");
        // A free port: bind :0, read it, release it (the server binds it right after).
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let base = format!("http://127.0.0.1:{port}");
        let database_url = match pg_url {
            Some(u) => u.to_owned(),
            None => format!("sqlite://{}?mode=rwc", data_dir.join("portal.db").display()),
        };
        let log = std::fs::File::create(dir.path().join("portal.log"))?;
        let env = [
            ("PORTAL_BIND", format!("127.0.0.1:{port}")),
            ("PORTAL_PUBLIC_URL", base.clone()),
            ("PORTAL_DATA_DIR", data_dir.display().to_string()),
            (
                "PORTAL_WEB_DIR",
                dir.path().join("web").display().to_string(),
            ),
            ("PORTAL_DATABASE_URL", database_url.clone()),
            ("PORTAL_AUTH__DEV_LOGIN", "true".into()),
            // Mail goes to the default maildir in the data directory.
            ("PORTAL_MAIL_WORKER", "true".into()),
        ];
        // The first instance makes the account; the others share its database.
        if ca_from.is_none() {
            loadgen::add_operator(portal, &env, &log)?;
        }
        let mut cmd = tokio::process::Command::new(portal);
        cmd.env_remove("PORTAL_CONFIG")
            .envs(env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::from(log.try_clone()?))
            .stderr(Stdio::from(log))
            .kill_on_drop(true);
        if let Some(ca) = ca_from {
            cmd.env("PORTAL_CA__CERT", ca.join("ca.pem"))
                .env("PORTAL_CA__KEY", ca.join("ca.key"));
        }
        let mut child = cmd.spawn()?;
        let http = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(180);
        loop {
            if let Some(status) = child.try_wait()? {
                let log =
                    std::fs::read_to_string(dir.path().join("portal.log")).unwrap_or_default();
                return Err(format!("portal exited with {status}:\n{log}").into());
            }
            if let Ok(r) = http.get(format!("{base}/healthz")).send().await
                && r.status().is_success()
            {
                break;
            }
            if Instant::now() > deadline {
                return Err("portal did not become healthy in 180 s".into());
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        Ok(Spawned {
            child,
            base,
            data_dir,
            database_url,
            _dir: dir,
        })
    }

    async fn stop(mut self) {
        // SIGTERM for a graceful stop; SIGKILL if it does not exit.
        if let Some(pid) = self.child.id() {
            let _ = std::process::Command::new("kill")
                .args(["-TERM", &pid.to_string()])
                .status();
        }
        if tokio::time::timeout(Duration::from_secs(10), self.child.wait())
            .await
            .is_err()
        {
            let _ = self.child.kill().await;
        }
    }
}

// ---- openssl on the same CSRs with the same CA key -----------------------------------

struct OpensslResult {
    version: String,
    ca_key: String,
    n: usize,
    serial_secs: f64,
    parallel_secs: f64,
    parallel: usize,
}

/// `openssl x509 -req`, one process per CSR (like `ca/examples/sign_bench.rs`), once in a
/// row and once with one process per core at a time, with the server's CA files and the
/// extensions the server writes.
fn openssl_compare(ca_dir: &Path, public: &str, csrs: &[String]) -> Result<OpensslResult, Error> {
    let openssl = testkit::tools::openssl_path();
    let version = std::process::Command::new(&openssl)
        .arg("version")
        .output()?;
    let version = String::from_utf8_lossy(&version.stdout).trim().to_owned();
    // The CA key's size, for the report ("Private-Key: (3072 bit, 2 primes)").
    let key = std::process::Command::new(&openssl)
        .args(["pkey", "-noout", "-text", "-in"])
        .arg(ca_dir.join("ca.key"))
        .output()?;
    let ca_key = String::from_utf8_lossy(&key.stdout)
        .lines()
        .next()
        .unwrap_or("")
        .trim()
        .to_owned();
    let work = tempfile::tempdir()?;
    let d = work.path();
    std::fs::copy(ca_dir.join("ca.pem"), d.join("ca.pem"))?;
    std::fs::copy(ca_dir.join("ca.key"), d.join("ca.key"))?;
    std::fs::write(
        d.join("ext.cnf"),
        format!(
            "basicConstraints = critical, CA:FALSE\n\
             keyUsage = critical, digitalSignature, nonRepudiation\n\
             extendedKeyUsage = clientAuth\n\
             subjectKeyIdentifier = hash\n\
             authorityKeyIdentifier = keyid\n\
             crlDistributionPoints = URI:{public}/crl/ca.crl\n\
             authorityInfoAccess = OCSP;URI:{public}/ocsp, caIssuers;URI:{public}/ca.cer\n"
        ),
    )?;
    for (i, c) in csrs.iter().enumerate() {
        std::fs::write(d.join(format!("{i}.csr")), c)?;
    }
    let sign = |i: usize| -> Result<(), String> {
        let out = std::process::Command::new(&openssl)
            .args(["x509", "-req", "-in", &format!("{i}.csr")])
            .args(["-CA", "ca.pem", "-CAkey", "ca.key"])
            .args([
                "-set_serial",
                &format!("{}", 1000 + i),
                "-days",
                "730",
                "-sha256",
            ])
            .args(["-extfile", "ext.cnf", "-out", &format!("{i}.pem")])
            .current_dir(d)
            .output()
            .map_err(|e| e.to_string())?;
        if out.status.success() {
            Ok(())
        } else {
            Err(String::from_utf8_lossy(&out.stderr).into_owned())
        }
    };
    let t = Instant::now();
    for i in 0..csrs.len() {
        sign(i).map_err(|e| format!("openssl x509 -req: {e}"))?;
    }
    let serial_secs = t.elapsed().as_secs_f64();
    let parallel = std::thread::available_parallelism().map_or(2, |n| n.get());
    let t = Instant::now();
    let next = std::sync::atomic::AtomicUsize::new(0);
    let failed = std::sync::Mutex::new(None);
    std::thread::scope(|s| {
        for _ in 0..parallel {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    if i >= csrs.len() {
                        break;
                    }
                    if let Err(e) = sign(i)
                        && let Ok(mut f) = failed.lock()
                    {
                        *f = Some(e);
                    }
                }
            });
        }
    });
    let parallel_secs = t.elapsed().as_secs_f64();
    if let Ok(Some(e)) = failed.into_inner() {
        return Err(format!("openssl x509 -req (parallel): {e}").into());
    }
    // Like for like: openssl's certificates verify against the same CA.
    let v = std::process::Command::new(&openssl)
        .args(["verify", "-CAfile", "ca.pem", "0.pem"])
        .current_dir(d)
        .output()?;
    if !v.status.success() {
        return Err(format!("openssl verify: {}", String::from_utf8_lossy(&v.stderr)).into());
    }
    Ok(OpensslResult {
        version,
        ca_key,
        n: csrs.len(),
        serial_secs,
        parallel_secs,
        parallel,
    })
}

// ---- report --------------------------------------------------------------------------

async fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let pg = std::process::Command::new("psql")
        .args([
            "-h",
            "127.0.0.1",
            "-U",
            "postgres",
            "-tAc",
            "SHOW server_version",
        ])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_else(|| "?".into());
    format!(
        "{cpu}, {cores} cores (loadgen, server and database on the same machine); PostgreSQL {pg}"
    )
}

async fn markdown(args: &Args, runs: &[BackendRun]) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "Machine: {}.\n", machine().await);
    let _ = writeln!(
        s,
        "Per level: `prepare` = {} × (dev login → apply → operator payment); `issue` = the CSR → \
         certificate request alone for each of those paid applications; `flow` = {} × the whole \
         flow (login, apply, payment, CSR, GET certificate). Latencies are of the CSR request \
         (issue) and of the whole flow (flow). {} RSA-2048 applicant keys behind distinct CSRs \
         (the CA accepts a key it certified before; key generation is the browser's cost). \
         Phases start no new work after {} s.\n",
        args.issue_count, args.flow_count, args.keys, args.max_secs
    );
    for r in runs {
        let _ = writeln!(s, "**{}**\n", r.name);
        let _ = writeln!(
            s,
            "| clients | issuances/s (CSR step) | CSR p50 ms | CSR p99 ms | whole flows/s | flow p50 ms | flow p99 ms | CSR p50/p99 ms in flows | ok (issue + flow) | errors (prepare/issue/flow) |"
        );
        let _ = writeln!(s, "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        for l in &r.levels {
            let _ = writeln!(
                s,
                "| {} | {:.1} | {:.0} | {:.0} | {:.1} | {:.0} | {:.0} | {:.0} / {:.0} | {} + {} | {} / {} / {} |",
                l.clients,
                l.issue.rate(),
                l.issue.percentile(50.0),
                l.issue.percentile(99.0),
                l.flow.rate(),
                l.flow.percentile(50.0),
                l.flow.percentile(99.0),
                l.flow_csr.percentile(50.0),
                l.flow_csr.percentile(99.0),
                l.issue.ok,
                l.flow.ok,
                l.prepare.errors,
                l.issue.errors,
                l.flow.errors
            );
        }
        let _ = writeln!(s);
        if let Some(c) = &r.check {
            let _ = writeln!(
                s,
                "Database check: {} paid bills, {} certificates ({} distinct serials, {} distinct \
                 applications, {} unsigned), {} applications completed, {} paid but without \
                 certificate, {} still waiting for a CSR; client answers missing from the database: \
                 {}, certificates no client saw: {} → **{}**.\n",
                c.paid_bills,
                c.certificates,
                c.distinct_serials,
                c.distinct_applications,
                c.unsigned,
                c.completed,
                c.paid_without_certificate,
                c.waiting,
                c.client_missing,
                c.unreported,
                if c.ok() {
                    "zero lost or duplicated"
                } else {
                    "INCONSISTENT"
                }
            );
        }
        if let Some(m) = &r.mail {
            let _ = writeln!(
                s,
                "Mail check: {} outbox rows for {} status changes ({} sent, {} pending, {} failed, \
                 {} (application, kind) pairs twice); {} files delivered to the instances' \
                 maildirs, {} distinct → **{}**. Outbox after the last level: {} not yet sent, \
                 {}.\n",
                m.rows,
                m.expected,
                m.sent,
                m.pending,
                m.failed,
                m.duplicate_rows,
                m.delivered,
                m.distinct_delivered,
                if m.ok() {
                    "every mail once"
                } else {
                    "LOST OR DUPLICATED MAIL"
                },
                m.backlog_at_end,
                match m.drained_after {
                    Some(d) => format!("all sent {:.1} s later", d.as_secs_f64()),
                    None => "still not all sent when the wait ran out".to_owned(),
                }
            );
        }
        if let Some(o) = &r.openssl {
            let best = r
                .levels
                .iter()
                .map(|l| l.issue.rate())
                .fold(0.0_f64, f64::max);
            let _ = writeln!(
                s,
                "Signing, same CSRs and same CA key ({}; {}): server over HTTP, best level \
                 {best:.1} certs/s (CSR check + signing + database transaction + mail queued); \
                 `openssl x509 -req`, one process per CSR: {:.1} certs/s in a row, {:.1} certs/s \
                 with {} at a time ({} CSRs).\n",
                o.ca_key,
                o.version,
                o.n as f64 / o.serial_secs,
                o.n as f64 / o.parallel_secs,
                o.parallel,
                o.n
            );
        }
    }
    s
}
