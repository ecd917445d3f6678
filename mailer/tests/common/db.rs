//! A fresh database per test with only the outbox migration applied: a temp-file SQLite
//! database, or a PostgreSQL database created for the test and dropped afterwards.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};

use sqlx::AnyPool;
use sqlx::any::AnyPoolOptions;

const DEFAULT_PG_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

pub struct TestDb {
    pub pool: AnyPool,
    url: String,
    pub backend: &'static str,
    _dir: Option<tempfile::TempDir>,
    pg_drop: Option<(String, String)>,
}

fn migration(backend: &str) -> String {
    let path: PathBuf = [
        env!("CARGO_MANIFEST_DIR"),
        "..",
        "migrations",
        backend,
        "0002_mail_outbox.sql",
    ]
    .iter()
    .collect();
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

impl TestDb {
    pub async fn sqlite() -> TestDb {
        sqlx::any::install_default_drivers();
        let dir = tempfile::tempdir().unwrap();
        let url = format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("portal.db").display()
        );
        let pool = AnyPoolOptions::new()
            .max_connections(4)
            .connect(&url)
            .await
            .unwrap();
        sqlx::raw_sql("PRAGMA journal_mode = WAL")
            .execute(&pool)
            .await
            .unwrap();
        sqlx::raw_sql(&migration("sqlite"))
            .execute(&pool)
            .await
            .unwrap();
        TestDb {
            pool,
            url,
            backend: "sqlite",
            _dir: Some(dir),
            pg_drop: None,
        }
    }

    pub async fn postgres() -> TestDb {
        sqlx::any::install_default_drivers();
        static N: AtomicU32 = AtomicU32::new(0);
        let admin = std::env::var("PORTAL_TEST_PG_URL").unwrap_or_else(|_| DEFAULT_PG_URL.into());
        let name = format!(
            "mailer_test_{}_{}_{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed),
            time::OffsetDateTime::now_utc().unix_timestamp_nanos() % 1_000_000
        );
        let admin_pool = AnyPoolOptions::new()
            .max_connections(1)
            .connect(&admin)
            .await
            .unwrap_or_else(|e| {
                panic!("PostgreSQL at {admin} (set PORTAL_TEST_PG_URL to override): {e}")
            });
        sqlx::raw_sql(&format!("CREATE DATABASE {name}"))
            .execute(&admin_pool)
            .await
            .unwrap();
        admin_pool.close().await;
        let url = with_db_name(&admin, &name);
        let pool = AnyPoolOptions::new()
            .max_connections(4)
            .connect(&url)
            .await
            .unwrap();
        sqlx::raw_sql(&migration("postgres"))
            .execute(&pool)
            .await
            .unwrap();
        TestDb {
            pool,
            url,
            backend: "postgres",
            _dir: None,
            pg_drop: Some((admin, name)),
        }
    }

    /// A second, independent pool on the same database: another process or a restart.
    pub async fn new_pool(&self) -> AnyPool {
        AnyPoolOptions::new()
            .max_connections(4)
            .connect(&self.url)
            .await
            .unwrap()
    }
}

fn with_db_name(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let prefix = match base.rfind('/') {
        Some(i) if i > "postgres://".len() => &base[..i],
        _ => base,
    };
    match query {
        Some(q) => format!("{prefix}/{name}?{q}"),
        None => format!("{prefix}/{name}"),
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some((admin, name)) = self.pg_drop.take() else {
            return;
        };
        // Drop runs inside the test's runtime, which cannot block on async work: use a
        // thread with its own runtime. FORCE ends the connections the test still holds.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                if let Ok(pool) = AnyPoolOptions::new()
                    .max_connections(1)
                    .connect(&admin)
                    .await
                {
                    let _ = sqlx::raw_sql(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .execute(&pool)
                        .await;
                    pool.close().await;
                }
            });
        })
        .join();
    }
}
