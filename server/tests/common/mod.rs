//! Test harness: the real router on 127.0.0.1:0 with a fresh data directory, over SQLite or
//! over a PostgreSQL database created for the test and dropped afterwards; reqwest clients
//! with cookies and the CSRF header. The database, SMTP sink, fixtures and tool runners come
//! from the shared test kit (`testkit`, tests/ at the repository root), re-exported here.
#![allow(dead_code, unused_imports)]

use std::path::Path;
use std::sync::{Arc, OnceLock};

use proto::api::{ApplicationForm, ApplicationView, IssuedCertificate, PaymentRecord, SessionView};
use proto::{ErrorCode, Status};
use reqwest::{Response, StatusCode};
use server::clock::ShiftedClock;
use server::config::Config;
use server::state::AppState;
use tempfile::TempDir;
use tokio::sync::oneshot;

pub use testkit::forms::{OTHER_TAX_ID, TAX_ID, good_form, targeted_form};
pub use testkit::keys::{csr_pem, test_key};
pub use testkit::pg::PgDb;
pub use testkit::tools::{
    assert_cert_lints_clean, assert_crl_lints_clean, lint, openssl_bin, openssl_stdout as openssl,
    output_text,
};
// SMTP for the mail tests: the same aiosmtpd sink, Maildir reader and TLS PKI as the mailer's.
pub use testkit::{maildir, pki, smtp};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Runs the test body once on SQLite and once on PostgreSQL.
#[macro_export]
macro_rules! both {
    ($name:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn sqlite() {
                super::$name($crate::common::Backend::Sqlite).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn postgres() {
                super::$name($crate::common::Backend::Postgres).await
            }
        }
    };
}

/// Every test operator's password.
pub const OPERATOR_PASSWORD: &str = "operator password 2026";

/// One CA for the whole test binary (RSA keygen is the slow part), as PEM files.
fn shared_ca() -> &'static (String, String) {
    static CA: OnceLock<(String, String)> = OnceLock::new();
    CA.get_or_init(|| {
        let ca = ca::Ca::generate(
            &ca::CaSubject {
                common_name: "Portal Test CA".into(),
                organization: "Customs Single Window Test".into(),
                country: "TW".into(),
            },
            time::OffsetDateTime::now_utc() - time::Duration::days(1),
            10,
        )
        .unwrap();
        (ca.certificate_pem(), ca.key_pem().to_string())
    })
}

pub struct TestServer {
    pub base: String,
    pub state: AppState,
    pub clock: Arc<ShiftedClock>,
    pub dir: TempDir,
    /// What the server was built with (after `tweak`), for [`TestServer::restart`].
    pub config: Config,
    shutdown: Option<oneshot::Sender<()>>,
    handle: Option<tokio::task::JoinHandle<()>>,
    // Declared last: dropped after the server stopped using it.
    pg: Option<PgDb>,
}

impl TestServer {
    pub async fn start(backend: Backend) -> TestServer {
        Self::start_with(backend, |_| {}).await
    }

    /// `tweak` adjusts the test config (dev login on, shared CA, no background jobs).
    pub async fn start_with(backend: Backend, tweak: impl FnOnce(&mut Config)) -> TestServer {
        let dir = tempfile::tempdir().unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let pg = match backend {
            Backend::Sqlite => None,
            Backend::Postgres => Some(PgDb::create().await),
        };
        let (cert_pem, key_pem) = shared_ca();
        let ca_cert = dir.path().join("test-ca.pem");
        let ca_key = dir.path().join("test-ca.key");
        std::fs::write(&ca_cert, cert_pem).unwrap();
        write_private(&ca_key, key_pem.as_bytes());
        let mut config = Config {
            bind: addr,
            public_url: Some(format!("http://{addr}")),
            data_dir: dir.path().join("data"),
            web_dir: dir.path().join("web"),
            database_url: pg.as_ref().map(|p| p.url.clone()),
            ca_cert: Some(ca_cert),
            ca_key: Some(ca_key),
            mail_worker: false,
            expiry_interval_secs: 0,
            ..Config::default()
        };
        config.auth.dev_login = true;
        // Tests move the clock by weeks; sessions must survive that unless a test says so.
        config.auth.idle_timeout_minutes = 90 * 24 * 60;
        config.auth.absolute_timeout_hours = 90 * 24;
        tweak(&mut config);
        let clock = Arc::new(ShiftedClock::default());
        Self::launch(listener, config, clock, dir, pg).await
    }

    async fn launch(
        listener: tokio::net::TcpListener,
        config: Config,
        clock: Arc<ShiftedClock>,
        dir: TempDir,
        pg: Option<PgDb>,
    ) -> TestServer {
        let addr = listener.local_addr().unwrap();
        let built = server::build(config.clone(), clock.clone()).await.unwrap();
        let state = built.state.clone();
        let (tx, rx) = oneshot::channel::<()>();
        let handle = tokio::spawn(async move {
            server::serve(listener, built, async move {
                let _ = rx.await;
            })
            .await
            .unwrap();
        });
        TestServer {
            base: format!("http://{addr}"),
            state,
            clock,
            dir,
            config,
            shutdown: Some(tx),
            handle: Some(handle),
            pg,
        }
    }

    /// Stop this server (as `stop` does, background jobs included) and start a new one on
    /// the same database, data directory, CA, address and clock, as after a process restart.
    /// Clients made before keep working (sessions are in the database).
    pub async fn restart(mut self) -> TestServer {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(h) = self.handle.take() {
            let _ = h.await;
        }
        self.state.svc.db.pool.close().await;
        let listener = tokio::net::TcpListener::bind(self.config.bind)
            .await
            .unwrap();
        let dir = std::mem::replace(&mut self.dir, tempfile::tempdir().unwrap());
        let pg = self.pg.take();
        Self::launch(listener, self.config.clone(), self.clock.clone(), dir, pg).await
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn client(&self) -> Client {
        Client {
            http: reqwest::Client::builder()
                .cookie_store(true)
                .build()
                .unwrap(),
            base: self.base.clone(),
            csrf: None,
        }
    }

    pub async fn applicant(&self, tax_id: &str) -> Client {
        let mut c = self.client();
        c.dev_login("applicant", tax_id, "").await;
        c
    }

    /// An administrator ("ops"), logged in with its password.
    pub async fn operator(&self) -> Client {
        self.operator_as("ops", proto::OperatorRole::Admin).await
    }

    /// An operator account `username` with `role` (made on first use), logged in with its
    /// password: the development login is for applicants only.
    pub async fn operator_as(&self, username: &str, role: proto::OperatorRole) -> Client {
        let db = &self.state.svc.db;
        let exists = {
            let mut conn = db.conn().await.unwrap();
            server::db::operators::exists(&mut conn, username)
                .await
                .unwrap()
        };
        if !exists {
            server::auth::operators::add(db, username, OPERATOR_PASSWORD, role, self.now())
                .await
                .unwrap();
        }
        let mut c = self.client();
        c.operator_login(username, OPERATOR_PASSWORD).await;
        c
    }

    pub fn now(&self) -> time::OffsetDateTime {
        self.state.now()
    }

    /// Stop the server and wait for it (the PostgreSQL database is dropped afterwards).
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(h) = self.handle.take() {
            let _ = h.await;
        }
        self.state.svc.db.pool.close().await;
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// A browser-like client: cookie jar, CSRF token from the last login.
#[derive(Clone)]
pub struct Client {
    pub http: reqwest::Client,
    pub base: String,
    pub csrf: Option<String>,
}

impl Client {
    pub async fn dev_login(&mut self, role: &str, tax_id: &str, display: &str) -> SessionView {
        let r = self
            .http
            .post(format!("{}/api/auth/dev-login", self.base))
            .header("X-Requested-With", "portal")
            .json(&serde_json::json!({"role": role, "tax_id": tax_id, "display_name": display}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
        let s: SessionView = r.json().await.unwrap();
        self.csrf = Some(s.csrf_token.clone());
        s
    }

    pub async fn operator_login(&mut self, username: &str, password: &str) -> SessionView {
        let r = self
            .http
            .post(format!("{}/api/auth/operator-login", self.base))
            .header("X-Requested-With", "portal")
            .json(&serde_json::json!({"username": username, "password": password}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
        let s: SessionView = r.json().await.unwrap();
        self.csrf = Some(s.csrf_token.clone());
        s
    }

    pub async fn get(&self, path: &str) -> Response {
        self.http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap()
    }

    pub async fn post<T: serde::Serialize + ?Sized>(&self, path: &str, body: &T) -> Response {
        let mut req = self.http.post(format!("{}{path}", self.base)).json(body);
        if let Some(t) = &self.csrf {
            req = req.header("X-CSRF-Token", t);
        }
        req.send().await.unwrap()
    }

    pub async fn post_csv(&self, path: &str, csv: &str) -> Response {
        let mut req = self
            .http
            .post(format!("{}{path}", self.base))
            .header("Content-Type", "text/csv")
            .body(csv.to_owned());
        if let Some(t) = &self.csrf {
            req = req.header("X-CSRF-Token", t);
        }
        req.send().await.unwrap()
    }

    /// POST expecting `status`; returns the JSON body.
    pub async fn post_ok<T: serde::Serialize + ?Sized>(
        &self,
        path: &str,
        body: &T,
        status: u16,
    ) -> serde_json::Value {
        let r = self.post(path, body).await;
        let got = r.status().as_u16();
        let text = r.text().await.unwrap();
        assert_eq!(got, status, "POST {path}: {text}");
        serde_json::from_str(&text).unwrap_or(serde_json::Value::Null)
    }

    pub async fn get_json(&self, path: &str, status: u16) -> serde_json::Value {
        let r = self.get(path).await;
        let got = r.status().as_u16();
        let text = r.text().await.unwrap();
        assert_eq!(got, status, "GET {path}: {text}");
        serde_json::from_str(&text).unwrap_or(serde_json::Value::Null)
    }

    pub async fn create(&self, form: &ApplicationForm) -> ApplicationView {
        let v = self.post_ok("/api/applications", form, 201).await;
        serde_json::from_value(v).unwrap()
    }

    pub async fn application(&self, serial: &str) -> ApplicationView {
        serde_json::from_value(
            self.get_json(&format!("/api/applications/{serial}"), 200)
                .await,
        )
        .unwrap()
    }

    pub async fn submit_csr(&self, serial: &str, csr_pem: &str) -> Response {
        self.post(
            &format!("/api/applications/{serial}/csr"),
            &serde_json::json!({ "csr_pem": csr_pem }),
        )
        .await
    }

    pub async fn pay(&self, bill_no: &str, amount: i64) -> Response {
        self.post(
            "/api/admin/payments",
            &PaymentRecord {
                bill_no: bill_no.into(),
                amount,
                paid_on: today(),
            },
        )
        .await
    }
}

/// Today in Taipei, `YYYY-MM-DD`.
/// A key, passphrase or PIN file: mode 0600, or the server refuses to start.
pub fn write_private(path: &Path, contents: &[u8]) {
    std::fs::write(path, contents).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
}

pub fn today() -> String {
    let d = server::domain::taipei_date(time::OffsetDateTime::now_utc());
    server::domain::format_date(d)
}

/// The error code of an error body (the test fails on a body without one).
pub fn code(v: &serde_json::Value) -> ErrorCode {
    serde_json::from_value(v["error"]["code"].clone())
        .unwrap_or_else(|e| panic!("no error code in {v}: {e}"))
}

/// New application → paid (status 20). Returns the application after payment.
pub async fn paid_application(applicant: &Client, operator: &Client) -> ApplicationView {
    let app = applicant.create(&good_form()).await;
    assert_eq!(app.status, Status::Submitted);
    let bill = app.bill.clone().unwrap();
    let r = operator.pay(&bill.bill_no, bill.amount).await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    let app = applicant.application(&app.serial).await;
    assert_eq!(app.status, Status::Paid);
    app
}

/// New application → paid → certificate issued (status A0).
pub async fn issued_application(
    applicant: &Client,
    operator: &Client,
) -> (ApplicationView, IssuedCertificate) {
    let app = paid_application(applicant, operator).await;
    let r = applicant
        .submit_csr(&app.serial, &csr_pem(0, "ignored"))
        .await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    let issued: IssuedCertificate = r.json().await.unwrap();
    let app = applicant.application(&app.serial).await;
    assert_eq!(app.status, Status::Completed);
    (app, issued)
}

/// Rows in a table (counting what the transactions left behind).
pub async fn count(srv: &TestServer, sql: &str) -> i64 {
    use sqlx::Row as _;
    sqlx::query(sql)
        .fetch_one(&srv.state.svc.db.pool)
        .await
        .unwrap()
        .try_get::<i64, _>(0)
        .unwrap()
}

// ---- several instances on one database (issue 16) -------------------------------------

impl TestServer {
    /// Another instance on this server's database (its own port, data directory and clock,
    /// the same CA and settings after `tweak`), as a second `portal serve` behind a load
    /// balancer would be. Stopping it leaves the database to its first instance.
    pub async fn sibling(&self, tweak: impl FnOnce(&mut Config)) -> TestServer {
        let dir = tempfile::tempdir().unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (cert_pem, key_pem) = shared_ca();
        let ca_cert = dir.path().join("test-ca.pem");
        let ca_key = dir.path().join("test-ca.key");
        std::fs::write(&ca_cert, cert_pem).unwrap();
        write_private(&ca_key, key_pem.as_bytes());
        let mut config = Config {
            bind: addr,
            public_url: Some(format!("http://{addr}")),
            data_dir: dir.path().join("data"),
            web_dir: dir.path().join("web"),
            ca_cert: Some(ca_cert),
            ca_key: Some(ca_key),
            ..self.config.clone()
        };
        if self.pg.is_none() {
            // SQLite: the same file.
            config.database_url = Some(self.config.database_url());
        }
        tweak(&mut config);
        let clock = Arc::new(ShiftedClock::default());
        Self::launch(listener, config, clock, dir, None).await
    }
}
