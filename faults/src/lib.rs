//! Fault injection against the real `portal` binary.
//!
//! For each backend (SQLite, PostgreSQL) the harness starts `portal serve` as a child process
//! with an aiosmtpd SMTP sink, drives applicants through the JSON API (dev login, apply, bank
//! reconciliation CSV, CSR submit) and injects faults:
//!
//! * SIGKILL of the server at a random moment while applications are being created (each
//!   client retries with its own `Idempotency-Key`), while concurrent CSR submits are in
//!   flight, and while bank reconciliation CSV imports are in flight; the server is restarted
//!   and clients retry until they get an answer;
//! * the SMTP server killed while applications (and their mails) are created, then back;
//! * PostgreSQL: every server connection terminated (`pg_terminate_backend`) during imports
//!   and issuance. On SQLite the database lives in the server process, so the kills cover it.
//!
//! After each round the database and the SMTP sink are checked (see [`INVARIANTS`]).
//!
//! Two shortcuts, both documented in RELIABILITY.md: the mail worker's backoff (30 s, doubling)
//! and its 5-minute lease are not configurable, so the harness moves `next_attempt_at` of
//! waiting rows to the past once SMTP is back, and, while the server is down after a kill,
//! expires the lease of rows the killed process had claimed. Both only stand in for waiting.

mod checks;
mod procs;
mod report;

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, anyhow, bail};
use proto::api::{ApplicationForm, ApplicationView, IssuedCertificate};
use sqlx::AnyPool;
use tokio::sync::Mutex;

pub use report::{BackendReport, FaultCounts, Invariant, Report, Totals};

use procs::Portal;
use testkit::pg::PgDb;
use testkit::smtp::SmtpServer;

/// What is checked after every round, in report order.
pub const INVARIANTS: [&str; 7] = [
    "one application per idempotency key",
    "one certificate per application",
    "certificate serials unique",
    "audit log complete",
    "outbox mail: every event delivered, once per Message-ID",
    "payments all-or-nothing per CSV import",
    "every client got its certificate",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Options {
    /// The `portal` binary to run.
    pub portal: PathBuf,
    pub backends: Vec<Backend>,
    /// Rounds per backend; `None`: as many as fit in `seconds_per_backend`.
    pub rounds: Option<u32>,
    /// Upper bound per backend when `rounds` is `None` (at least one round runs).
    pub seconds_per_backend: u64,
    pub apps_per_round: usize,
    pub seed: u64,
    /// PostgreSQL server for a scratch database (created and dropped here).
    pub pg_admin_url: String,
    /// Python with aiosmtpd; default as `testkit::smtp::python` finds it (`PORTAL_TEST_PYTHON`,
    /// `$HOME/.cache/ccp/venv/bin/python`, python3).
    pub python: Option<PathBuf>,
    /// Keep the work directory (server logs, maildir) instead of deleting it.
    pub keep: bool,
    pub verbose: bool,
    /// Portals on one PostgreSQL database (SQLite runs one).
    pub instances: usize,
    /// Shell command restarting the PostgreSQL server, once per round mid-issuance.
    pub pg_restart: Option<String>,
}

impl Options {
    pub fn new(portal: PathBuf) -> Options {
        Options {
            portal,
            backends: vec![Backend::Sqlite, Backend::Postgres],
            rounds: None,
            seconds_per_backend: 140,
            apps_per_round: 16,
            seed: random_seed(),
            pg_admin_url: testkit::pg::admin_url(),
            python: None,
            keep: false,
            verbose: false,
            instances: 1,
            pg_restart: None,
        }
    }
}

pub fn random_seed() -> u64 {
    let mut b = [0u8; 8];
    if getrandom::fill(&mut b).is_err() {
        return std::process::id() as u64 ^ 0x9e37_79b9_7f4a_7c15;
    }
    u64::from_le_bytes(b)
}

/// xorshift64*: reproducible from `--seed`, no dependency.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed | 1)
    }
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

/// Run every backend; errors of the harness itself (not invariant violations) abort.
pub async fn run(opts: &Options) -> Result<Report> {
    let started = Instant::now();
    let mut backends = Vec::new();
    for (i, b) in opts.backends.iter().enumerate() {
        let seed = opts.seed.wrapping_add(i as u64);
        let r = run_backend(opts, *b, seed)
            .await
            .with_context(|| format!("backend {}", b.name()))?;
        backends.push(r);
    }
    Ok(Report {
        seed: opts.seed,
        backends,
        elapsed: started.elapsed(),
    })
}

// ---- HTTP client -----------------------------------------------------------------------

/// What a request came back with: an HTTP answer, or no answer (server killed, refused, reset).
#[derive(Debug)]
enum Answer {
    Http(u16, String),
    NoAnswer,
}

/// A client of the portal. With several instances (`base` = `http://a,http://b,…`) each
/// request goes to the next one round robin, and a request without answer is retried at the
/// next (a load balancer's failover); sessions live in the database, so any instance serves.
#[derive(Clone)]
struct Api {
    http: reqwest::Client,
    bases: Arc<Vec<String>>,
    next: Arc<AtomicUsize>,
    csrf: String,
}

const OPERATOR: &str = "faults-op";
const OPERATOR_PASSWORD: &str = "faults operator password";

impl Api {
    fn base(&self) -> &str {
        let i = self.next.fetch_add(1, Ordering::Relaxed);
        self.bases
            .get(i % self.bases.len().max(1))
            .map_or("", String::as_str)
    }

    async fn login(base: &str, role: &str, tax_id: &str, deadline: Instant) -> Result<Api> {
        let body = serde_json::json!({"role": role, "tax_id": tax_id, "display_name": ""});
        let what = format!("dev login as {role} {tax_id}");
        Self::login_at(base, "/api/auth/dev-login", &body, &what, deadline).await
    }

    /// The run's operator, with its password (the development login is for applicants).
    async fn operator(base: &str, deadline: Instant) -> Result<Api> {
        let body = serde_json::json!({"username": OPERATOR, "password": OPERATOR_PASSWORD});
        Self::login_at(
            base,
            "/api/auth/operator-login",
            &body,
            "operator login",
            deadline,
        )
        .await
    }

    async fn login_at(
        base: &str,
        path: &str,
        body: &serde_json::Value,
        what: &str,
        deadline: Instant,
    ) -> Result<Api> {
        let http = reqwest::Client::builder()
            .cookie_store(true)
            .timeout(Duration::from_secs(30))
            .build()?;
        let bases: Vec<String> = base.split(',').map(str::to_owned).collect();
        let mut attempt = 0usize;
        loop {
            let base = &bases[attempt % bases.len()];
            attempt += 1;
            let r = http
                .post(format!("{base}{path}"))
                .header("X-Requested-With", "portal")
                .json(body)
                .send()
                .await;
            if let Ok(r) = r {
                let status = r.status().as_u16();
                let text = r.text().await.unwrap_or_default();
                if status == 200 {
                    let v: serde_json::Value = serde_json::from_str(&text)?;
                    let csrf = v["csrf_token"]
                        .as_str()
                        .ok_or_else(|| anyhow!("login answer without csrf_token: {text}"))?
                        .to_owned();
                    return Ok(Api {
                        http,
                        bases: Arc::new(bases),
                        next: Arc::new(AtomicUsize::new(attempt)),
                        csrf,
                    });
                }
                if status < 500 {
                    bail!("{what}: {status} {text}");
                }
            }
            if Instant::now() > deadline {
                bail!("{what}: no success before the deadline");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn finish(r: Result<reqwest::Response, reqwest::Error>) -> Answer {
        match r {
            Ok(r) => {
                let status = r.status().as_u16();
                match r.text().await {
                    Ok(t) => Answer::Http(status, t),
                    Err(_) => Answer::NoAnswer,
                }
            }
            Err(_) => Answer::NoAnswer,
        }
    }

    async fn post_json(&self, path: &str, body: &serde_json::Value) -> Answer {
        let r = self
            .http
            .post(format!("{}{path}", self.base()))
            .header("X-CSRF-Token", &self.csrf)
            .json(body)
            .send()
            .await;
        Self::finish(r).await
    }

    async fn post_json_with_key(&self, path: &str, body: &serde_json::Value, key: &str) -> Answer {
        let r = self
            .http
            .post(format!("{}{path}", self.base()))
            .header("X-CSRF-Token", &self.csrf)
            .header("Idempotency-Key", key)
            .json(body)
            .send()
            .await;
        Self::finish(r).await
    }

    async fn post_csv(&self, path: &str, csv: &str) -> Answer {
        let r = self
            .http
            .post(format!("{}{path}", self.base()))
            .header("X-CSRF-Token", &self.csrf)
            .header("Content-Type", "text/csv")
            .body(csv.to_owned())
            .send()
            .await;
        Self::finish(r).await
    }
}

// ---- shared state of one backend run -------------------------------------------------------

/// One applicant company with one new-certificate application.
#[derive(Debug, Clone)]
struct Applicant {
    tax_id: String,
    api_slot: usize,
    app_serial: String,
    bill_no: String,
    amount: i64,
    csr_pem: String,
}

/// One bank file and what happened to it.
#[derive(Debug, Clone)]
pub(crate) struct CsvFile {
    pub bills: Vec<String>,
}

/// Outcome bookkeeping the clients share with the main task.
#[derive(Default)]
pub(crate) struct Observed {
    /// application serial → certificate serials returned in 200 answers.
    pub issued: HashMap<String, Vec<String>>,
    /// Problems seen by clients (unexpected answers).
    pub client_errors: Vec<String>,
    pub no_answer: u64,
    pub server_errors: u64,
    pub retries: u64,
    /// Creation retries answered 200 with the application an earlier, unanswered try made.
    pub creation_replays: u64,
}

pub(crate) struct Run {
    pub rng: Rng,
    /// The instance the SIGKILLs hit (the only one unless `--instances`).
    pub portal: Portal,
    /// The other instances on the same database; they keep serving through the kills.
    pub others: Vec<Portal>,
    pub pg_restart: Option<String>,
    pub smtp: SmtpServer,
    pub pg: Option<PgDb>,
    /// The harness's own connection, for the checks and the mail fast-forward.
    pub db: AnyPool,
    pub operator: Api,
    pub applicants: Vec<Api>,
    pub apps: Vec<Applicant>,
    pub files: Vec<CsvFile>,
    pub observed: Arc<Mutex<Observed>>,
    pub faults: FaultCounts,
    pub next_tax_seq: u64,
    pub verbose: bool,
}

async fn run_backend(opts: &Options, backend: Backend, seed: u64) -> Result<BackendReport> {
    let started = Instant::now();
    let work = tempfile::Builder::new().prefix("faults-").tempdir()?;
    let dir = work.path().to_path_buf();
    let maildir = dir.join("maildir");
    let smtp = SmtpServer::try_start(opts.python.clone(), &maildir, dir.join("smtpd.log")).await?;
    let pg = match backend {
        Backend::Sqlite => None,
        Backend::Postgres => Some(procs::create_database(&opts.pg_admin_url).await?),
    };
    let db_url = match &pg {
        Some(p) => p.url.clone(),
        None => format!("sqlite://{}?mode=rwc", dir.join("data/portal.db").display()),
    };
    let mut portal = Portal::new(&opts.portal, &dir, &db_url, smtp.port)?;
    portal.start().await?;
    let mut others = Vec::new();
    if backend == Backend::Postgres {
        for i in 1..opts.instances {
            let mut p = Portal::new(
                &opts.portal,
                &dir.join(format!("instance{i}")),
                &db_url,
                smtp.port,
            )?
            .sharing_ca_of(&dir.join("data"));
            p.start().await?;
            others.push(p);
        }
    }
    let bases: Vec<String> = std::iter::once(portal.base.clone())
        .chain(others.iter().map(|p| p.base.clone()))
        .collect();
    let bases = bases.join(",");
    sqlx::any::install_default_drivers();
    let harness_url = match &pg {
        Some(p) => procs::harness_url(p),
        None => db_url.clone(),
    };
    let db = sqlx::any::AnyPoolOptions::new()
        .max_connections(2)
        .connect(&harness_url)
        .await
        .context("harness database connection")?;
    let deadline = Instant::now() + Duration::from_secs(60);
    portal.add_operator(OPERATOR, OPERATOR_PASSWORD)?;
    let operator = Api::operator(&bases, deadline).await?;
    let mut run = Run {
        rng: Rng::new(seed),
        portal,
        others,
        pg_restart: if backend == Backend::Postgres {
            opts.pg_restart.clone()
        } else {
            None
        },
        smtp,
        pg,
        db,
        operator,
        applicants: Vec::new(),
        apps: Vec::new(),
        files: Vec::new(),
        observed: Arc::new(Mutex::new(Observed::default())),
        faults: FaultCounts::default(),
        next_tax_seq: (seed % 5_000_000) + 10_000_000,
        verbose: opts.verbose,
    };
    let mut invariants: BTreeMap<&'static str, Invariant> =
        INVARIANTS.iter().map(|n| (*n, Invariant::new(n))).collect();
    let budget = Duration::from_secs(opts.seconds_per_backend);
    let mut rounds = 0u32;
    let outcome: Result<()> = async {
        loop {
            let round_started = Instant::now();
            round(&mut run, opts.apps_per_round, &mut invariants).await?;
            rounds += 1;
            let per_round = round_started.elapsed();
            if run.verbose {
                eprintln!(
                    "[{}] round {rounds} done in {:.1} s",
                    backend.name(),
                    per_round.as_secs_f64()
                );
            }
            match opts.rounds {
                Some(n) if rounds >= n => break,
                Some(_) => {}
                None if started.elapsed() + per_round > budget => break,
                None => {}
            }
        }
        Ok(())
    }
    .await;
    let totals = checks::totals(&run).await;
    run.portal.kill();
    for p in &mut run.others {
        p.kill();
    }
    run.db.close().await;
    run.smtp.kill();
    if let Some(pg) = run.pg.take() {
        pg.drop_database().await;
    }
    if opts.keep {
        let kept = work.keep();
        eprintln!("work directory kept: {}", kept.display());
    }
    outcome?;
    let observed = run.observed.lock().await;
    let mut faults = run.faults.clone();
    faults.instances = 1 + run.others.len() as u64;
    faults.no_answer = observed.no_answer;
    faults.server_errors = observed.server_errors;
    faults.retries = observed.retries;
    faults.creation_replays = observed.creation_replays;
    Ok(BackendReport {
        backend: backend.name(),
        rounds,
        faults,
        totals: totals?,
        invariants: invariants.into_values().collect(),
        elapsed: started.elapsed(),
    })
}

// ---- one round -------------------------------------------------------------------------------

/// The test kit's good form, with applicant `n`'s own mailbox.
fn form(n: u64) -> ApplicationForm {
    testkit::forms::form_with_email(format!("applicant{n}@example.com.tw"))
}

/// The next 8-digit number that passes the tax ID checksum.
fn next_tax_id(seq: &mut u64) -> String {
    loop {
        *seq += 1;
        let s = format!("{:08}", *seq % 100_000_000);
        if proto::validate::tax_id(&s).is_ok() {
            return s;
        }
    }
}

fn csr_for(tax_id: &str) -> Result<String> {
    let key = wasm_keygen::generate(wasm_keygen::KeyAlgorithm::EcP256)
        .map_err(|e| anyhow!("key generation: {e:?}"))?;
    let csr = wasm_keygen::build_csr(&key.pkcs8, &testkit::keys::subject("ignored", tax_id))
        .map_err(|e| anyhow!("CSR: {e:?}"))?;
    Ok(csr.pem)
}

fn today() -> String {
    server::domain::format_date(server::domain::taipei_date(time::OffsetDateTime::now_utc()))
}

async fn round(
    run: &mut Run,
    n_apps: usize,
    invariants: &mut BTreeMap<&'static str, Invariant>,
) -> Result<()> {
    let first_new = run.apps.len();
    // A: applications, the first half while the SMTP server is down.
    let half = n_apps / 2;
    run.smtp.kill();
    run.faults.smtp_outages += 1;
    create_applications(run, half, false).await?;
    // Let the mail worker meet the dead SMTP server (it is woken after each commit).
    wait_for_failed_attempt(run, Duration::from_secs(8)).await;
    run.smtp.restart().await?;
    // The second half with a kill while the creations are in flight.
    create_applications(run, n_apps - half, true).await?;

    // B: bank reconciliation with a kill (and on PostgreSQL lost connections).
    reconcile_with_faults(run, first_new, invariants).await?;

    // C: concurrent CSR submits with a kill.
    issue_with_faults(run, first_new).await?;

    // Mail: once SMTP is up and the server alive, waiting rows may go now.
    drain_mail(run, Duration::from_secs(90)).await?;
    checks::check_all(run, invariants).await?;
    Ok(())
}

/// `n` new applicants log in and apply, each retrying with its own `Idempotency-Key` until it
/// gets an answer (201, or 200 when an earlier try it never heard back from had made the
/// application). With `kill`, the server is SIGKILLed after a random number of them were
/// answered and restarted.
async fn create_applications(run: &mut Run, n: usize, kill: bool) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(120);
    let answered = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..n {
        let tax_id = next_tax_id(&mut run.next_tax_seq);
        let seq = run.next_tax_seq;
        let base = run.bases();
        let observed = Arc::clone(&run.observed);
        let answered = Arc::clone(&answered);
        tasks.push(tokio::spawn(async move {
            let r = create_one(base, tax_id, seq, observed, deadline).await;
            answered.fetch_add(1, Ordering::SeqCst);
            r
        }));
    }
    if kill && n > 0 {
        let wait_for = run.rng.below(n as u64) as usize;
        let until = Instant::now() + Duration::from_secs(20);
        while answered.load(Ordering::SeqCst) < wait_for && Instant::now() < until {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        let in_flight = tasks.iter().any(|t| !t.is_finished());
        run.faults.kills_creation += 1;
        if in_flight {
            run.faults.kills_creation_in_flight += 1;
        }
        kill_and_restart(run).await?;
    }
    for t in tasks {
        let (api, mut app) = t.await??;
        app.api_slot = run.applicants.len();
        run.applicants.push(api);
        run.apps.push(app);
    }
    Ok(())
}

async fn create_one(
    base: String,
    tax_id: String,
    seq: u64,
    observed: Arc<Mutex<Observed>>,
    deadline: Instant,
) -> Result<(Api, Applicant)> {
    let api = Api::login(&base, "applicant", &tax_id, deadline).await?;
    let csr_pem = tokio::task::spawn_blocking({
        let t = tax_id.clone();
        move || csr_for(&t)
    })
    .await??;
    let body = serde_json::to_value(form(seq))?;
    // One key per filled-in form, as the portal's apply page does.
    let key = format!("faults-{tax_id}-{seq}");
    let mut tries = 0u32;
    loop {
        tries += 1;
        match api
            .post_json_with_key("/api/applications", &body, &key)
            .await
        {
            Answer::Http(status @ (200 | 201), text) => {
                if status == 200 {
                    let mut o = observed.lock().await;
                    o.creation_replays += 1;
                    if tries == 1 {
                        // A key this client never sent before cannot have made anything.
                        o.client_errors.push(format!(
                            "creation for {tax_id}: the first try was answered as a replay"
                        ));
                    }
                }
                let v: ApplicationView = serde_json::from_str(&text)?;
                let bill = v
                    .bill
                    .ok_or_else(|| anyhow!("new application without a bill"))?;
                let app = Applicant {
                    tax_id,
                    api_slot: 0,
                    app_serial: v.serial,
                    bill_no: bill.bill_no,
                    amount: bill.amount,
                    csr_pem,
                };
                return Ok((api, app));
            }
            other => {
                note_retry(&observed, &other).await;
                if let Answer::Http(s, t) = &other
                    && *s < 500
                {
                    bail!("create application: {s} {t}");
                }
            }
        }
        if Instant::now() > deadline {
            bail!("create application: no success before the deadline");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn note_retry(observed: &Mutex<Observed>, a: &Answer) {
    let mut o = observed.lock().await;
    o.retries += 1;
    match a {
        Answer::NoAnswer => o.no_answer += 1,
        Answer::Http(s, _) if *s >= 500 => o.server_errors += 1,
        Answer::Http(..) => {}
    }
}

async fn wait_for_failed_attempt(run: &Run, max: Duration) {
    let deadline = Instant::now() + max;
    while Instant::now() < deadline {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM mail_outbox WHERE state = 'pending' AND last_error IS NOT NULL",
        )
        .fetch_one(&run.db)
        .await
        .unwrap_or(0);
        if n > 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

impl Run {
    /// Every instance's base URL, comma separated (what `Api::login` takes).
    fn bases(&self) -> String {
        std::iter::once(self.portal.base.clone())
            .chain(self.others.iter().map(|p| p.base.clone()))
            .collect::<Vec<_>>()
            .join(",")
    }
}

/// Restart PostgreSQL itself (`--pg-restart`), off the async threads; the command returns
/// once the server is back.
async fn restart_postgres(run: &mut Run) -> Result<()> {
    let Some(cmd) = run.pg_restart.clone() else {
        return Ok(());
    };
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new("sh")
            .arg("-c")
            .arg(&cmd)
            .output()
    })
    .await??;
    if !out.status.success() {
        bail!(
            "--pg-restart failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    run.faults.pg_restarts += 1;
    Ok(())
}

/// SIGKILL, let the database forget the dead process's mail claims, start again. With other
/// instances alive, only the killed one restarts: they keep serving, and the dead one's
/// mail claims wait out their lease (another instance could be sending right now).
async fn kill_and_restart(run: &mut Run) -> Result<()> {
    if !run.others.is_empty() {
        run.portal.kill();
        return run.portal.start().await;
    }
    kill_and_restart_single(run).await
}

/// Every instance down, the dead processes' mail claims expired (nobody sends now), every
/// instance up again: the stand-in for waiting out the 5-minute lease.
async fn restart_all(run: &mut Run) -> Result<()> {
    for p in &mut run.others {
        p.kill();
    }
    kill_and_restart_single(run).await?;
    for p in &mut run.others {
        p.start().await?;
    }
    Ok(())
}

async fn kill_and_restart_single(run: &mut Run) -> Result<()> {
    run.portal.kill();
    sqlx::query("UPDATE mail_outbox SET lease_until = 0 WHERE state = 'sending'")
        .execute(&run.db)
        .await
        .context("expiring orphaned mail leases")?;
    run.portal.start().await
}

/// Terminate every server connection to the test database (PostgreSQL only).
async fn terminate_backends(run: &mut Run) -> Result<()> {
    let Some(pg) = &run.pg else { return Ok(()) };
    let n = procs::terminate_server_connections(pg).await?;
    run.faults.db_terminations += 1;
    run.faults.db_connections_terminated += n;
    Ok(())
}

fn csv_text(lines: &[(String, i64)], paid_on: &str, bad_line: bool) -> String {
    let mut s = String::from("bill_no,amount,paid_on\n");
    for (bill, amount) in lines {
        s.push_str(&format!("{bill},{amount},{paid_on}\n"));
    }
    if bad_line {
        // A bill that does not exist: the whole file must be refused.
        s.push_str(&format!("AAF99999999999,1500,{paid_on}\n"));
    }
    s
}

async fn reconcile_with_faults(
    run: &mut Run,
    first_new: usize,
    invariants: &mut BTreeMap<&'static str, Invariant>,
) -> Result<()> {
    let new: Vec<(String, i64)> = run.apps[first_new..]
        .iter()
        .map(|a| (a.bill_no.clone(), a.amount))
        .collect();
    // Already-paid bills of earlier rounds make each transaction longer (more to interrupt);
    // re-importing them is harmless by design.
    let filler: Vec<(String, i64)> = run.apps[..first_new]
        .iter()
        .rev()
        .take(120)
        .map(|a| (a.bill_no.clone(), a.amount))
        .collect();
    let paid_on = today();
    let n_files = 3usize;
    let chunk = new.len().div_ceil(n_files).max(1);
    let mut files: Vec<(Vec<(String, i64)>, bool)> = Vec::new();
    for (i, c) in new.chunks(chunk).enumerate() {
        let mut lines = c.to_vec();
        let start = (i * 37) % filler.len().max(1);
        lines.extend(
            filler
                .iter()
                .cycle()
                .skip(start)
                .take(filler.len().min(60))
                .cloned(),
        );
        // The last file first arrives with one bad line and must change nothing.
        files.push((lines, i + 1 == new.len().div_ceil(chunk)));
    }
    let file_ids: Vec<usize> = files
        .iter()
        .map(|(lines, _)| {
            let bills = lines
                .iter()
                .filter(|(b, _)| new.iter().any(|(n, _)| n == b))
                .map(|(b, _)| b.clone())
                .collect();
            run.files.push(CsvFile { bills });
            run.files.len() - 1
        })
        .collect();

    // First wave: all files at once, a kill at a random moment, maybe lost connections.
    let mut done = vec![false; files.len()];
    let mut bad_sent = vec![false; files.len()];
    let waves = 2;
    for wave in 0..waves {
        let mut tasks = Vec::new();
        for (i, (lines, bad)) in files.iter().enumerate() {
            if done[i] {
                continue;
            }
            let with_bad = *bad && !bad_sent[i];
            let csv = csv_text(lines, &paid_on, with_bad);
            let api = run.operator.clone();
            tasks.push((
                i,
                with_bad,
                tokio::spawn(async move { api.post_csv("/api/admin/reconciliation", &csv).await }),
            ));
        }
        if tasks.is_empty() {
            break;
        }
        let delay = run.rng.below(if wave == 0 { 15 } else { 8 });
        tokio::time::sleep(Duration::from_millis(delay)).await;
        let terminate = run.pg.is_some() && run.rng.chance(60);
        if terminate {
            terminate_backends(run).await?;
        }
        let kill = wave == 0 || run.rng.chance(50);
        if kill {
            run.portal.kill();
            run.faults.kills_reconciliation += 1;
        }
        let mut interrupted = false;
        for (i, with_bad, t) in tasks {
            let a = t.await?;
            match &a {
                Answer::Http(200, _) => done[i] = true,
                Answer::Http(422, _) if with_bad => bad_sent[i] = true,
                Answer::Http(s, text) if *s < 500 => {
                    run.observed
                        .lock()
                        .await
                        .client_errors
                        .push(format!("reconciliation import answered {s}: {text}"));
                    done[i] = true;
                }
                _ => {
                    interrupted = true;
                    note_retry(&run.observed, &a).await;
                }
            }
        }
        if kill {
            if interrupted {
                run.faults.kills_reconciliation_in_flight += 1;
            }
            // Straight after the crash, before anyone retries: each file all or nothing.
            checks::all_or_nothing(run, &file_ids, invariants).await?;
            kill_and_restart(run).await?;
        }
    }
    // Retry whatever is left until every file has been applied.
    let deadline = Instant::now() + Duration::from_secs(120);
    for (i, (lines, bad)) in files.iter().enumerate() {
        loop {
            if done[i] {
                break;
            }
            let with_bad = *bad && !bad_sent[i];
            let csv = csv_text(lines, &paid_on, with_bad);
            let a = run
                .operator
                .post_csv("/api/admin/reconciliation", &csv)
                .await;
            match &a {
                Answer::Http(200, _) => done[i] = true,
                Answer::Http(422, _) if with_bad => {
                    bad_sent[i] = true;
                    checks::all_or_nothing(run, &file_ids, invariants).await?;
                }
                Answer::Http(s, text) if *s < 500 => bail!("reconciliation: {s} {text}"),
                _ => note_retry(&run.observed, &a).await,
            }
            if Instant::now() > deadline {
                bail!("reconciliation: no success before the deadline");
            }
            if !done[i] {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
    checks::all_or_nothing(run, &file_ids, invariants).await?;
    Ok(())
}

async fn issue_with_faults(run: &mut Run, first_new: usize) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(180);
    let answered = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for app in run.apps[first_new..].iter() {
        // Two tabs of the same applicant submit the same CSR at once.
        for _ in 0..2 {
            let api = run.applicants[app.api_slot].clone();
            let app = app.clone();
            let observed = Arc::clone(&run.observed);
            let answered = Arc::clone(&answered);
            tasks.push(tokio::spawn(async move {
                let r = submit_until_answered(api, app, observed, deadline).await;
                answered.fetch_add(1, Ordering::SeqCst);
                r
            }));
        }
    }
    // Kill after a random number of submits has been answered, so the kill lands while
    // others are still in flight (a fixed delay mostly hit after the last answer).
    let wait_for = run.rng.below(tasks.len() as u64) as usize;
    let until = Instant::now() + Duration::from_secs(20);
    while answered.load(Ordering::SeqCst) < wait_for && Instant::now() < until {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    // The database server itself goes away and comes back while submits are in flight.
    if run.pg_restart.is_some() {
        restart_postgres(run).await?;
    }
    if run.pg.is_some() && run.rng.chance(70) {
        terminate_backends(run).await?;
    }
    let in_flight = tasks.iter().any(|t| !t.is_finished());
    run.portal.kill();
    run.faults.kills_issuance += 1;
    if in_flight {
        run.faults.kills_issuance_in_flight += 1;
    }
    // Clients keep retrying against the dead port; bring the server back.
    tokio::time::sleep(Duration::from_millis(run.rng.below(300))).await;
    kill_and_restart(run).await?;
    // Sometimes a second crash while the retries come in.
    if run.rng.chance(40) {
        tokio::time::sleep(Duration::from_millis(run.rng.below(150))).await;
        let in_flight = tasks.iter().any(|t| !t.is_finished());
        if run.pg.is_some() && run.rng.chance(50) {
            terminate_backends(run).await?;
        }
        run.faults.kills_issuance += 1;
        if in_flight {
            run.faults.kills_issuance_in_flight += 1;
        }
        kill_and_restart(run).await?;
    }
    for t in tasks {
        t.await??;
    }
    Ok(())
}

async fn submit_until_answered(
    api: Api,
    app: Applicant,
    observed: Arc<Mutex<Observed>>,
    deadline: Instant,
) -> Result<()> {
    let path = format!("/api/applications/{}/csr", app.app_serial);
    let body = serde_json::json!({ "csr_pem": app.csr_pem });
    loop {
        let a = api.post_json(&path, &body).await;
        match &a {
            Answer::Http(200, text) => {
                let c: IssuedCertificate = serde_json::from_str(text)?;
                let mut o = observed.lock().await;
                o.issued
                    .entry(app.app_serial.clone())
                    .or_default()
                    .push(c.serial_hex.to_ascii_lowercase());
                return Ok(());
            }
            Answer::Http(s, text) if *s < 500 => {
                observed.lock().await.client_errors.push(format!(
                    "CSR submit for {} ({}) answered {s}: {text}",
                    app.app_serial, app.tax_id
                ));
                return Ok(());
            }
            _ => note_retry(&observed, &a).await,
        }
        if Instant::now() > deadline {
            bail!(
                "CSR submit for {}: no answer before the deadline",
                app.app_serial
            );
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Wait until every outbox row is sent (or given up), moving retry times of waiting rows to
/// now so the worker's backoff does not stretch the run.
async fn drain_mail(run: &mut Run, max: Duration) -> Result<()> {
    let deadline = Instant::now() + max;
    let mut stuck_since: Option<Instant> = None;
    loop {
        sqlx::query(
            "UPDATE mail_outbox SET next_attempt_at = 0 WHERE state = 'pending' AND next_attempt_at > 0",
        )
        .execute(&run.db)
        .await?;
        let open: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM mail_outbox WHERE state IN ('pending', 'sending')",
        )
        .fetch_one(&run.db)
        .await?;
        if open == 0 {
            return Ok(());
        }
        // A row claimed by the live process but stuck in 'sending' (its connection was cut
        // between claim and outcome) waits out the 5-minute lease. Stand in for that wait:
        // restart the server and expire the lease while it is down.
        let stuck: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM mail_outbox WHERE state = 'sending'")
                .fetch_one(&run.db)
                .await?;
        if stuck > 0 {
            stuck_since.get_or_insert_with(Instant::now);
        } else {
            stuck_since = None;
        }
        if stuck_since.is_some_and(|t| t.elapsed() > Duration::from_secs(12)) {
            run.faults.mail_stuck_in_lease += u64::try_from(stuck).unwrap_or(0);
            run.faults.drain_restarts += 1;
            restart_all(run).await?;
            stuck_since = None;
        }
        if Instant::now() > deadline {
            // Left for the mail invariant to report.
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}
