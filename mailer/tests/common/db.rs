//! A fresh database per test with only the outbox migration applied: a temp-file SQLite
//! database, or a PostgreSQL database created for the test (`testkit::pg`) and dropped
//! afterwards.

use std::path::PathBuf;

use sqlx::AnyPool;
use sqlx::any::AnyPoolOptions;
use testkit::pg::PgDb;

pub struct TestDb {
    pub pool: AnyPool,
    url: String,
    pub backend: &'static str,
    _dir: Option<tempfile::TempDir>,
    // Declared last: dropped (the database with it) after the pool.
    pg: Option<PgDb>,
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
            pg: None,
        }
    }

    pub async fn postgres() -> TestDb {
        sqlx::any::install_default_drivers();
        let pg = PgDb::create().await;
        let url = pg.url.clone();
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
            pg: Some(pg),
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
