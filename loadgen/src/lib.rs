//! Load generator for the portal: N concurrent simulated applicants drive the real JSON API
//! (development login → application → operator payment → CSR → certificate), then the
//! database is checked for lost or duplicated certificates. The binary (`src/main.rs`) adds
//! starting the server, PostgreSQL databases and the openssl comparison.
//!
//! Each level runs three phases with the same number of concurrent clients:
//! - `prepare`: log in, apply, operator records the payment (paid applications for `issue`);
//! - `issue`: only the CSR → certificate request, for every prepared application;
//! - `flow`: the whole flow per client, end to end, including fetching the certificate.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use proto::api::{ApplicationForm, ApplicationView, IssuedCertificate, PaymentRecord, SessionView};
use proto::{BillStatus, Status};
use sqlx::Row as _;

pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// `n` distinct valid 統一編號, counting up from `start` (checksum from `proto::ids`).
pub fn tax_ids(start: u32, n: usize) -> Vec<String> {
    (start..99_999_999)
        .map(|i| format!("{i:08}"))
        .filter(|s| proto::ids::check_tax_id(s).is_ok())
        .take(n)
        .collect()
}

/// RSA-2048 applicant keys, generated before anything is timed.
pub fn make_keys(n: usize) -> Result<Vec<wasm_keygen::GeneratedKey>, Error> {
    let mut keys = Vec::with_capacity(n);
    for _ in 0..n {
        keys.push(wasm_keygen::generate(wasm_keygen::KeyAlgorithm::Rsa {
            bits: 2048,
        })?);
    }
    Ok(keys)
}

/// `n` CSRs (PEM), each its own signed document with a distinct subject, keys taken round
/// robin from `keys`: the CA does not refuse a public key it has certified before, and key
/// generation is the browser's cost, not the server's.
pub fn make_csrs(
    keys: &[wasm_keygen::GeneratedKey],
    n: usize,
    tag: &str,
) -> Result<Vec<String>, Error> {
    if keys.is_empty() {
        return Err("no keys".into());
    }
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let csr = wasm_keygen::build_csr(
            &keys[i % keys.len()].pkcs8,
            &wasm_keygen::Subject {
                cn: format!("loadgen-{tag}-{i}"),
                c: Some("TW".into()),
                ..Default::default()
            },
        )?;
        out.push(csr.pem);
    }
    Ok(out)
}

/// The application every simulated applicant submits (the tax ID comes from the session):
/// the test kit's good form under the load test's company name and mailbox.
pub fn form() -> ApplicationForm {
    let mut form = testkit::forms::form_with_email("load@example.com.tw".into());
    form.company.name = "負載測試報關股份有限公司".into();
    form.company.phone = "02-25505500".into();
    form
}

/// Today in Taipei (UTC+8, no DST), `YYYY-MM-DD`: the payment date operators type.
pub fn taipei_today() -> String {
    let offset = time::UtcOffset::from_hms(8, 0, 0).unwrap_or(time::UtcOffset::UTC);
    let d = time::OffsetDateTime::now_utc().to_offset(offset).date();
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

/// A browser-like session: its own cookie jar and connection pool, CSRF token from login.
/// `base` may list several instances (`http://a,http://b,…`): each request goes to the next
/// one round robin, as a load balancer without sticky sessions would send it.
#[derive(Clone)]
pub struct Session {
    http: reqwest::Client,
    bases: Arc<Vec<String>>,
    csrf: String,
}

/// Round robin over all sessions' requests.
static NEXT_INSTANCE: AtomicUsize = AtomicUsize::new(0);

fn instances(base: &str) -> Vec<String> {
    base.split(',')
        .map(|b| b.trim().trim_end_matches('/').to_owned())
        .filter(|b| !b.is_empty())
        .collect()
}

fn pick(bases: &[String]) -> &str {
    let i = NEXT_INSTANCE.fetch_add(1, Ordering::Relaxed);
    bases.get(i % bases.len().max(1)).map_or("", String::as_str)
}

/// The operator account the load run logs in with (password login: the development login is
/// for applicants only). Whoever starts the portal makes it (`portal operator add`).
pub const OPERATOR: &str = "load-op";
pub const OPERATOR_PASSWORD: &str = "load operator password";

/// Adds the run's operator account ([`OPERATOR`]) with `portal operator add`, in the
/// environment `env` the portal will start with (the CLI migrates the database first).
pub fn add_operator(
    portal: &std::path::Path,
    env: &[(&str, String)],
    log: &std::fs::File,
) -> Result<(), Error> {
    use std::io::Write as _;
    let mut adding = std::process::Command::new(portal)
        .env_remove("PORTAL_CONFIG")
        .envs(env.iter().map(|(k, v)| (k, v)))
        .args(["operator", "add", "--username", OPERATOR])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::from(log.try_clone()?))
        .spawn()?;
    if let Some(mut stdin) = adding.stdin.take() {
        writeln!(stdin, "{OPERATOR_PASSWORD}")?;
    }
    if !adding.wait()?.success() {
        return Err("portal operator add failed (see portal.log)".into());
    }
    Ok(())
}

impl Session {
    /// An operator session, logged in with a password.
    pub async fn operator(base: &str, username: &str, password: &str) -> Result<Session, String> {
        let body = serde_json::json!({"username": username, "password": password});
        Self::start(base, "operator-login", &body).await
    }

    pub async fn login(
        base: &str,
        role: &str,
        tax_id: &str,
        display: &str,
    ) -> Result<Session, String> {
        let body = serde_json::json!({"role": role, "tax_id": tax_id, "display_name": display});
        Self::start(base, "dev-login", &body).await
    }

    /// Logs in at `/api/auth/{login}` on one of the instances in `base` (comma-separated);
    /// the session's later requests go round robin over all of them.
    async fn start(base: &str, login: &str, body: &serde_json::Value) -> Result<Session, String> {
        let http = reqwest::Client::builder()
            .cookie_store(true)
            .timeout(Duration::from_secs(120))
            .build()
            .map_err(|e| format!("client: {e}"))?;
        let bases = instances(base);
        let r = http
            .post(format!("{}/api/auth/{login}", pick(&bases)))
            .header("X-Requested-With", "portal")
            .json(body)
            .send()
            .await
            .map_err(|e| format!("{login}: {e}"))?;
        let s: SessionView = expect_json(login, r, 200).await?;
        Ok(Session {
            http,
            bases: Arc::new(bases),
            csrf: s.csrf_token,
        })
    }

    async fn post<T: serde::Serialize + ?Sized>(
        &self,
        path: &str,
        body: &T,
    ) -> Result<reqwest::Response, String> {
        self.http
            .post(format!("{}{path}", pick(&self.bases)))
            .header("X-CSRF-Token", &self.csrf)
            .json(body)
            .send()
            .await
            .map_err(|e| format!("POST {path}: {e}"))
    }

    async fn get(&self, path: &str) -> Result<reqwest::Response, String> {
        self.http
            .get(format!("{}{path}", pick(&self.bases)))
            .send()
            .await
            .map_err(|e| format!("GET {path}: {e}"))
    }

    pub async fn apply(&self) -> Result<ApplicationView, String> {
        let r = self.post("/api/applications", &form()).await?;
        let app: ApplicationView = expect_json("apply", r, 201).await?;
        if app.status != Status::Submitted || app.bill.is_none() {
            return Err(format!("apply: unexpected {:?} without bill", app.status));
        }
        Ok(app)
    }

    /// Operator: record full payment of the application's bill.
    pub async fn pay(&self, app: &ApplicationView) -> Result<(), String> {
        let bill = app.bill.as_ref().ok_or("pay: no bill")?;
        let rec = PaymentRecord {
            bill_no: bill.bill_no.clone(),
            amount: bill.amount,
            paid_on: taipei_today(),
        };
        let r = self.post("/api/admin/payments", &rec).await?;
        let v: ApplicationView = expect_json("pay", r, 200).await?;
        if v.status != Status::Paid {
            return Err(format!("pay: status {:?} after payment", v.status));
        }
        Ok(())
    }

    pub async fn submit_csr(
        &self,
        serial: &str,
        csr_pem: &str,
    ) -> Result<IssuedCertificate, String> {
        let r = self
            .post(
                &format!("/api/applications/{serial}/csr"),
                &serde_json::json!({ "csr_pem": csr_pem }),
            )
            .await?;
        let c: IssuedCertificate = expect_json("csr", r, 200).await?;
        if c.application_serial != serial || !c.certificate_pem.contains("BEGIN CERTIFICATE") {
            return Err(format!(
                "csr: answer for {} is not a certificate",
                c.application_serial
            ));
        }
        Ok(c)
    }

    pub async fn certificate(&self, serial: &str) -> Result<IssuedCertificate, String> {
        let r = self
            .get(&format!("/api/applications/{serial}/certificate"))
            .await?;
        expect_json("certificate", r, 200).await
    }
}

async fn expect_json<T: serde::de::DeserializeOwned>(
    step: &str,
    r: reqwest::Response,
    status: u16,
) -> Result<T, String> {
    let got = r.status().as_u16();
    let text = r.text().await.map_err(|e| format!("{step}: body: {e}"))?;
    if got != status {
        let short: String = text.chars().take(200).collect();
        return Err(format!("{step}: HTTP {got}: {short}"));
    }
    serde_json::from_str(&text).map_err(|e| format!("{step}: JSON: {e}"))
}

/// Outcome counts and latencies of one phase.
#[derive(Debug, Clone, Default)]
pub struct Phase {
    pub ok: usize,
    pub errors: usize,
    pub secs: f64,
    /// Milliseconds of the measured request (or whole flow), sorted.
    pub latencies_ms: Vec<f64>,
    /// The first few error messages.
    pub sample_errors: Vec<String>,
}

impl Phase {
    pub fn rate(&self) -> f64 {
        if self.secs > 0.0 {
            self.ok as f64 / self.secs
        } else {
            0.0
        }
    }

    pub fn percentile(&self, p: f64) -> f64 {
        if self.latencies_ms.is_empty() {
            return f64::NAN;
        }
        let idx = ((p / 100.0) * (self.latencies_ms.len() - 1) as f64).round() as usize;
        self.latencies_ms[idx.min(self.latencies_ms.len() - 1)]
    }

    fn from_outcomes(outcomes: Vec<Result<f64, String>>, secs: f64) -> Phase {
        let mut p = Phase {
            secs,
            ..Phase::default()
        };
        for o in outcomes {
            match o {
                Ok(ms) => {
                    p.ok += 1;
                    p.latencies_ms.push(ms);
                }
                Err(e) => {
                    p.errors += 1;
                    if p.sample_errors.len() < 5 {
                        p.sample_errors.push(e);
                    }
                }
            }
        }
        p.latencies_ms.sort_by(f64::total_cmp);
        p
    }
}

#[derive(Debug, Clone)]
pub struct LevelConfig {
    pub clients: usize,
    /// Paid applications prepared, then each issued with one CSR request.
    pub issue_count: usize,
    /// Whole flows.
    pub flow_count: usize,
    /// No new work starts in `prepare` or `flow` after this long (in-flight work finishes).
    pub max_phase: Duration,
}

#[derive(Debug, Clone)]
pub struct LevelResult {
    pub clients: usize,
    pub prepare: Phase,
    /// The CSR → certificate request alone.
    pub issue: Phase,
    /// Whole flows (latency = whole flow).
    pub flow: Phase,
    /// The CSR request inside whole flows (mixed load).
    pub flow_csr: Phase,
    /// (application serial, certificate serial) of every certificate the clients received.
    pub issued: Vec<(String, String)>,
    /// The CSRs submitted in the `issue` phase, in order (for the openssl comparison).
    pub issue_csrs: Vec<String>,
}

struct Prepared {
    session: Session,
    serial: String,
}

/// `n` tasks pulling indices `0..count` from a shared counter until `deadline`.
async fn run_workers<T, F, Fut>(
    clients: usize,
    count: usize,
    deadline: Option<Instant>,
    work: F,
) -> Result<Vec<(usize, T)>, Error>
where
    T: Send + 'static,
    F: Fn(usize, usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = T> + Send,
{
    let next = Arc::new(AtomicUsize::new(0));
    let work = Arc::new(work);
    let mut handles = Vec::with_capacity(clients);
    for w in 0..clients {
        let next = next.clone();
        let work = work.clone();
        handles.push(tokio::spawn(async move {
            let mut out = Vec::new();
            loop {
                if deadline.is_some_and(|d| Instant::now() >= d) {
                    break;
                }
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= count {
                    break;
                }
                out.push((i, work(w, i).await));
            }
            out
        }));
    }
    let mut all = Vec::new();
    for h in handles {
        all.extend(h.await?);
    }
    all.sort_by_key(|(i, _)| *i);
    Ok(all)
}

fn ms(since: Instant) -> f64 {
    since.elapsed().as_secs_f64() * 1000.0
}

/// One concurrency level against `base`. `tax_ids` needs `issue_count + flow_count`
/// entries and `csrs` as many (the first `issue_count` for `issue`, the rest for `flow`).
pub async fn run_level(
    base: &str,
    cfg: &LevelConfig,
    tax_ids: &[String],
    csrs: &[String],
) -> Result<LevelResult, Error> {
    let total = cfg.issue_count + cfg.flow_count;
    if tax_ids.len() < total || csrs.len() < total {
        return Err("not enough tax IDs or CSRs for this level".into());
    }
    // Operators: one session per ten applicants, like a small back office.
    let mut ops = Vec::new();
    for _ in 0..cfg.clients.div_ceil(10) {
        ops.push(Session::operator(base, OPERATOR, OPERATOR_PASSWORD).await?);
    }
    let ops = Arc::new(ops);
    let base_s: Arc<str> = Arc::from(base);

    // prepare: login → apply → pay.
    let ids: Arc<Vec<String>> = Arc::new(tax_ids[..cfg.issue_count].to_vec());
    let start = Instant::now();
    let prepared = {
        let (ops, base, ids) = (ops.clone(), base_s.clone(), ids.clone());
        run_workers(
            cfg.clients,
            cfg.issue_count,
            Some(start + cfg.max_phase),
            move |w, i| {
                let (ops, base, ids) = (ops.clone(), base.clone(), ids.clone());
                async move {
                    let t = Instant::now();
                    let s = Session::login(&base, "applicant", &ids[i], "").await?;
                    let app = s.apply().await?;
                    ops[w % ops.len()].pay(&app).await?;
                    Ok::<_, String>((
                        ms(t),
                        Prepared {
                            session: s,
                            serial: app.serial,
                        },
                    ))
                }
            },
        )
        .await?
    };
    let prepare_secs = start.elapsed().as_secs_f64();
    let mut ready = Vec::new();
    let mut outcomes = Vec::new();
    for (i, r) in prepared {
        match r {
            Ok((t, p)) => {
                outcomes.push(Ok(t));
                ready.push((i, p));
            }
            Err(e) => outcomes.push(Err(e)),
        }
    }
    let prepare = Phase::from_outcomes(outcomes, prepare_secs);

    // issue: the CSR request only, every prepared application (not time bounded, so no
    // paid application is left behind on purpose).
    let issue_csrs: Vec<String> = ready.iter().map(|(i, _)| csrs[*i].clone()).collect();
    let ready = Arc::new(ready);
    let start = Instant::now();
    let issued_raw = {
        let (ready, csrs) = (ready.clone(), Arc::new(issue_csrs.clone()));
        run_workers(cfg.clients, ready.len(), None, move |_, i| {
            let (ready, csrs) = (ready.clone(), csrs.clone());
            async move {
                let (_, p) = &ready[i];
                let t = Instant::now();
                let c = p.session.submit_csr(&p.serial, &csrs[i]).await?;
                Ok::<_, String>((ms(t), (p.serial.clone(), c.serial_hex)))
            }
        })
        .await?
    };
    let issue_secs = start.elapsed().as_secs_f64();
    let mut issued = Vec::new();
    let mut outcomes = Vec::new();
    for (_, r) in issued_raw {
        match r {
            Ok((t, pair)) => {
                outcomes.push(Ok(t));
                issued.push(pair);
            }
            Err(e) => outcomes.push(Err(e)),
        }
    }
    let issue = Phase::from_outcomes(outcomes, issue_secs);

    // flow: everything, per client.
    let ids: Arc<Vec<String>> = Arc::new(tax_ids[cfg.issue_count..total].to_vec());
    let flow_csrs: Arc<Vec<String>> = Arc::new(csrs[cfg.issue_count..total].to_vec());
    let start = Instant::now();
    let flows = {
        let (ops, base, ids) = (ops.clone(), base_s.clone(), ids.clone());
        run_workers(
            cfg.clients,
            cfg.flow_count,
            Some(start + cfg.max_phase),
            move |w, i| {
                let (ops, base, ids, csrs) =
                    (ops.clone(), base.clone(), ids.clone(), flow_csrs.clone());
                async move {
                    let t = Instant::now();
                    let s = Session::login(&base, "applicant", &ids[i], "")
                        .await
                        .map_err(|e| (false, e))?;
                    let app = s.apply().await.map_err(|e| (false, e))?;
                    ops[w % ops.len()].pay(&app).await.map_err(|e| (false, e))?;
                    let tc = Instant::now();
                    let c = s.submit_csr(&app.serial, &csrs[i]).await;
                    let csr_ms = ms(tc);
                    let c = c.map_err(|e| (true, e))?;
                    let fetched = s.certificate(&app.serial).await.map_err(|e| (false, e))?;
                    if fetched.serial_hex != c.serial_hex {
                        return Err((false, "certificate: serial differs from issuance".into()));
                    }
                    Ok::<_, (bool, String)>((ms(t), csr_ms, (app.serial, c.serial_hex)))
                }
                // (true, _) = the CSR request itself failed.
            },
        )
        .await?
    };
    let flow_secs = start.elapsed().as_secs_f64();
    let mut outcomes = Vec::new();
    let mut csr_outcomes = Vec::new();
    for (_, r) in flows {
        match r {
            Ok((t, c, pair)) => {
                outcomes.push(Ok(t));
                csr_outcomes.push(Ok(c));
                issued.push(pair);
            }
            Err((csr_failed, e)) => {
                if csr_failed {
                    csr_outcomes.push(Err(e.clone()));
                }
                outcomes.push(Err(e));
            }
        }
    }
    let flow = Phase::from_outcomes(outcomes, flow_secs);
    let flow_csr = Phase::from_outcomes(csr_outcomes, flow_secs);
    Ok(LevelResult {
        clients: cfg.clients,
        prepare,
        issue,
        flow,
        flow_csr,
        issued,
        issue_csrs,
    })
}

/// What the database says after a run.
#[derive(Debug, Clone, Default)]
pub struct DbCheck {
    pub paid_bills: i64,
    pub certificates: i64,
    pub distinct_serials: i64,
    pub distinct_applications: i64,
    /// Paid bills whose application has no (signed) certificate.
    pub paid_without_certificate: i64,
    /// Certificate rows never signed.
    pub unsigned: i64,
    /// Applications still at status 20 (paid, waiting for a CSR).
    pub waiting: i64,
    pub completed: i64,
    /// Certificates the clients received that the database does not have for that application.
    pub client_missing: usize,
    /// Certificates in the database no client received.
    pub unreported: usize,
}

impl DbCheck {
    /// Exactly one certificate per paid application, unique serials, nothing lost.
    pub fn ok(&self) -> bool {
        self.paid_bills == self.certificates
            && self.certificates == self.distinct_serials
            && self.certificates == self.distinct_applications
            && self.certificates == self.completed
            && self.paid_without_certificate == 0
            && self.unsigned == 0
            && self.waiting == 0
            && self.client_missing == 0
            && self.unreported == 0
    }
}

async fn count(pool: &sqlx::AnyPool, sql: &str) -> Result<i64, Error> {
    count_with(pool, sql, &[]).await
}

/// A count with the status codes it compares bound (`$1`, ...): codes come from the
/// vocabulary (`Status::code()`), never SQL literals.
async fn count_with(pool: &sqlx::AnyPool, sql: &str, codes: &[&'static str]) -> Result<i64, Error> {
    let mut q = sqlx::query(sql);
    for c in codes {
        q = q.bind(*c);
    }
    Ok(q.fetch_one(pool).await?.try_get::<i64, _>(0)?)
}

/// Checks the portal's database at `url` against what the clients received (`issued`).
/// Meant for a database this run created: every paid bill must come from this run.
pub async fn verify_db(url: &str, issued: &[(String, String)]) -> Result<DbCheck, Error> {
    sqlx::any::install_default_drivers();
    let pool = sqlx::any::AnyPoolOptions::new()
        .max_connections(1)
        .connect(url)
        .await?;
    let mut c = DbCheck {
        paid_bills: count_with(
            &pool,
            "SELECT COUNT(*) FROM bills WHERE status = $1",
            &[BillStatus::Paid.code()],
        )
        .await?,
        certificates: count(&pool, "SELECT COUNT(*) FROM certificates").await?,
        distinct_serials: count(&pool, "SELECT COUNT(DISTINCT serial_hex) FROM certificates")
            .await?,
        distinct_applications: count(
            &pool,
            "SELECT COUNT(DISTINCT application_id) FROM certificates",
        )
        .await?,
        paid_without_certificate: count_with(
            &pool,
            "SELECT COUNT(*) FROM bills b LEFT JOIN certificates c \
             ON c.application_id = b.application_id \
             WHERE b.status = $1 AND (c.id IS NULL OR c.cert_der IS NULL)",
            &[BillStatus::Paid.code()],
        )
        .await?,
        unsigned: count(
            &pool,
            "SELECT COUNT(*) FROM certificates WHERE cert_der IS NULL",
        )
        .await?,
        waiting: count_with(
            &pool,
            "SELECT COUNT(*) FROM applications WHERE status = $1",
            &[Status::Paid.code()],
        )
        .await?,
        completed: count_with(
            &pool,
            "SELECT COUNT(*) FROM applications WHERE status = $1",
            &[Status::Completed.code()],
        )
        .await?,
        ..DbCheck::default()
    };
    let rows = sqlx::query(
        "SELECT a.serial, c.serial_hex FROM certificates c \
         JOIN applications a ON a.id = c.application_id",
    )
    .fetch_all(&pool)
    .await?;
    let mut in_db = HashMap::new();
    for r in rows {
        in_db.insert(r.try_get::<String, _>(0)?, r.try_get::<String, _>(1)?);
    }
    let mut reported = HashMap::new();
    for (app, cert) in issued {
        if in_db.get(app) != Some(cert) {
            c.client_missing += 1;
        }
        reported.insert(app.clone(), cert.clone());
    }
    c.unreported = in_db.keys().filter(|k| !reported.contains_key(*k)).count();
    pool.close().await;
    Ok(c)
}

/// The mail of a run: one outbox row per status change (submitted, paid, issued), each
/// delivered once. Read after the queue drained (or the wait ran out).
#[derive(Debug, Clone, Default)]
pub struct MailCheck {
    /// Rows the status changes call for: applications + paid bills + signed certificates.
    pub expected: i64,
    pub rows: i64,
    pub sent: i64,
    pub pending: i64,
    pub failed: i64,
    /// (application, kind) pairs with more than one row.
    pub duplicate_rows: i64,
    /// Files in the instances' maildirs, and distinct names among them (one per Message-ID).
    pub delivered: usize,
    pub distinct_delivered: usize,
    /// Rows still pending or being sent when this check starts (right after the last level
    /// and the database check), and how long the instances then took to send them all
    /// (`None`: the wait ran out first). What tells one mail worker's pace from another's,
    /// where both end with every mail once.
    pub backlog_at_end: i64,
    pub drained_after: Option<Duration>,
}

impl MailCheck {
    pub fn ok(&self) -> bool {
        self.rows == self.expected
            && self.sent == self.rows
            && self.pending == 0
            && self.failed == 0
            && self.duplicate_rows == 0
            && i64::try_from(self.delivered).is_ok_and(|d| d == self.sent)
            && self.delivered == self.distinct_delivered
    }
}

/// Waits up to `wait` for the outbox to drain, then checks it and the maildirs the
/// instances delivered to.
pub async fn verify_mail(
    url: &str,
    maildirs: &[std::path::PathBuf],
    wait: Duration,
) -> Result<MailCheck, Error> {
    sqlx::any::install_default_drivers();
    let pool = sqlx::any::AnyPoolOptions::new()
        .max_connections(1)
        .connect(url)
        .await?;
    let started = Instant::now();
    let deadline = started + wait;
    let pending_sql = "SELECT COUNT(*) FROM mail_outbox WHERE state IN ('pending', 'sending')";
    let backlog_at_end = count(&pool, pending_sql).await?;
    let mut drained_after = None;
    loop {
        if count(&pool, pending_sql).await? == 0 {
            drained_after = Some(started.elapsed());
            break;
        }
        if Instant::now() >= deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let mut c = MailCheck {
        expected: count(&pool, "SELECT COUNT(*) FROM applications").await?
            + count_with(
                &pool,
                "SELECT COUNT(*) FROM bills WHERE status = $1",
                &[BillStatus::Paid.code()],
            )
            .await?
            + count(
                &pool,
                "SELECT COUNT(*) FROM certificates WHERE cert_der IS NOT NULL",
            )
            .await?,
        rows: count(&pool, "SELECT COUNT(*) FROM mail_outbox").await?,
        sent: count(
            &pool,
            "SELECT COUNT(*) FROM mail_outbox WHERE state = 'sent'",
        )
        .await?,
        pending: count(&pool, pending_sql).await?,
        backlog_at_end,
        drained_after,
        failed: count(
            &pool,
            "SELECT COUNT(*) FROM mail_outbox WHERE state = 'failed'",
        )
        .await?,
        duplicate_rows: count(
            &pool,
            "SELECT COUNT(*) FROM (SELECT application_serial, kind FROM mail_outbox \
             GROUP BY application_serial, kind HAVING COUNT(*) > 1) d",
        )
        .await?,
        ..MailCheck::default()
    };
    pool.close().await;
    let mut names = std::collections::HashSet::new();
    for dir in maildirs {
        for file in testkit::maildir::delivered_files(dir)? {
            c.delivered += 1;
            names.insert(file.file_name().map(ToOwned::to_owned));
        }
    }
    c.distinct_delivered = names.len();
    Ok(c)
}
