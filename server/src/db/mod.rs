//! Database access over sqlx's Any driver, so one build serves SQLite and PostgreSQL. Every
//! query uses `$1` placeholders (both backends accept them) and stores times as Unix seconds.
//!
//! Write transactions go through [`Db::write`]: on SQLite it starts with `BEGIN IMMEDIATE`,
//! taking the write lock up front (a deferred transaction that upgrades later fails with
//! SQLITE_BUSY instead of waiting), and the connection has WAL and a busy timeout.
//!
//! All of the server's SQL is in this module, one file per aggregate; `domain/` holds the
//! rules and calls these functions, handlers never see a connection. Status columns are
//! written and compared through the vocabulary's `code()` (`Status`, `CertStatus`,
//! `BillStatus`), never as SQL literals. The mailer crate keeps its own outbox SQL.

pub mod admin_grid;
pub mod applications;
pub mod audit;
pub mod bills;
pub mod card_challenges;
pub mod certificates;
pub mod counters;
pub mod crls;
pub mod leases;
pub mod ocsp;
pub mod operators;
pub mod query;
pub mod rate_limits;
pub mod registrations;
pub mod reminders;
pub mod requests;
pub mod retention;
pub mod sessions;

use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions, AnyRow};
use sqlx::migrate::Migrator;
use sqlx::pool::PoolConnection;
use sqlx::{Any, AnyPool, Executor, Transaction};

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("../migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("../migrations/postgres");

/// How long a SQLite writer waits for the lock before giving up.
const SQLITE_BUSY_TIMEOUT_MS: u32 = 30_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn from_url(url: &str) -> Option<Backend> {
        if url.starts_with("sqlite:") {
            Some(Backend::Sqlite)
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Some(Backend::Postgres)
        } else {
            None
        }
    }
}

pub type Tx = Transaction<'static, Any>;

#[derive(Debug, Clone)]
pub struct Db {
    pub pool: AnyPool,
    pub backend: Backend,
}

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("database URL must start with sqlite: or postgres:")]
    UnknownBackend,
    #[error("database: {0}")]
    Sqlx(#[from] sqlx::Error),
    #[error("migrations: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("database directory: {0}")]
    Io(#[from] std::io::Error),
    #[error(
        "database {url} unreachable: gave up after {attempts} attempts in {secs} s \
         (server.database_connect_timeout_secs); last error: {last}"
    )]
    Unreachable {
        url: String,
        attempts: u32,
        secs: u64,
        last: String,
    },
}

/// A database URL fit for a log line: the password, if any, replaced by `***`.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (authority, tail) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split(':').next().unwrap_or("");
            let shown = if userinfo.contains(':') {
                format!("{user}:***")
            } else {
                user.to_owned()
            };
            format!("{scheme}://{shown}@{host}{tail}")
        }
        None => url.to_owned(),
    }
}

impl Db {
    /// [`Db::connect`], retrying an unreachable database until `timeout`: each failed
    /// attempt is logged with its reason (an operator sees at once what is wrong instead of a
    /// silent minute), and the end is a clear error rather than a hang.
    pub async fn connect_with_retry(url: &str, timeout: Duration) -> Result<Db, DbError> {
        sqlx::any::install_default_drivers();
        let backend = Backend::from_url(url).ok_or(DbError::UnknownBackend)?;
        if backend == Backend::Postgres {
            probe(url, timeout).await?;
        }
        Db::connect(url).await
    }

    pub async fn connect(url: &str) -> Result<Db, DbError> {
        sqlx::any::install_default_drivers();
        let backend = Backend::from_url(url).ok_or(DbError::UnknownBackend)?;
        let options = AnyConnectOptions::from_str(url)?;
        let pool = match backend {
            Backend::Sqlite => {
                if let Some(dir) = sqlite_parent_dir(url) {
                    std::fs::create_dir_all(dir)?;
                }
                AnyPoolOptions::new()
                    .max_connections(8)
                    .acquire_timeout(Duration::from_secs(60))
                    .after_connect(|conn, _meta| {
                        Box::pin(async move {
                            conn.execute(
                                format!(
                                    "PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}; \
                                     PRAGMA journal_mode = WAL; \
                                     PRAGMA synchronous = NORMAL; \
                                     PRAGMA foreign_keys = ON;"
                                )
                                .as_str(),
                            )
                            .await?;
                            Ok(())
                        })
                    })
                    .connect_with(options)
                    .await?
            }
            Backend::Postgres => {
                // A request waits at most this long for a connection, e.g. while PostgreSQL
                // restarts; the pool replaces broken connections (tested before use).
                AnyPoolOptions::new()
                    .max_connections(16)
                    .acquire_timeout(Duration::from_secs(30))
                    .test_before_acquire(true)
                    .connect_with(options)
                    .await?
            }
        };
        Ok(Db { pool, backend })
    }

    pub async fn migrate(&self) -> Result<(), DbError> {
        let migrator = match self.backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
        migrator.run(&self.pool).await?;
        Ok(())
    }

    /// Versions of this build's migrations that the database has not applied (all of them
    /// on a new database); for `portal check-config`.
    pub async fn pending_migrations(&self) -> Result<Vec<i64>, sqlx::Error> {
        use sqlx::Row as _;
        let migrator = match self.backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
        let applied: Vec<i64> =
            match sqlx::query("SELECT version FROM _sqlx_migrations WHERE success")
                .fetch_all(&self.pool)
                .await
            {
                Ok(rows) => rows
                    .iter()
                    .map(|r| r.try_get::<i64, _>(0))
                    .collect::<Result<_, _>>()?,
                // No bookkeeping table: nothing applied yet.
                Err(sqlx::Error::Database(_)) => Vec::new(),
                Err(e) => return Err(e),
            };
        Ok(migrator
            .iter()
            .map(|m| m.version)
            .filter(|v| !applied.contains(v))
            .collect())
    }

    /// A write transaction: `BEGIN IMMEDIATE` on SQLite, a plain `BEGIN` (READ COMMITTED,
    /// with row locks and conditional updates doing the work) on PostgreSQL.
    pub async fn write(&self) -> Result<Tx, sqlx::Error> {
        match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await,
            Backend::Postgres => self.pool.begin().await,
        }
    }

    /// A connection for reads (and single-statement writes) outside a transaction.
    pub async fn conn(&self) -> Result<PoolConnection<Any>, sqlx::Error> {
        self.pool.acquire().await
    }

    /// Row locks for reads inside a write transaction, where the backend has them.
    pub fn for_update(&self) -> Lock {
        match self.backend {
            Backend::Sqlite => Lock::NONE,
            Backend::Postgres => Lock(" FOR UPDATE"),
        }
    }
}

/// Single connections to `url` until one succeeds or `timeout` has passed.
async fn probe(url: &str, timeout: Duration) -> Result<(), DbError> {
    use sqlx::Connection as _;
    let options = AnyConnectOptions::from_str(url)?;
    let start = std::time::Instant::now();
    let shown = redact_url(url);
    let mut attempts = 0u32;
    let mut pause = Duration::from_millis(250);
    loop {
        attempts += 1;
        let left = timeout.saturating_sub(start.elapsed());
        let per_try = left
            .min(Duration::from_secs(10))
            .max(Duration::from_millis(100));
        let error = match tokio::time::timeout(per_try, sqlx::AnyConnection::connect_with(&options))
            .await
        {
            Ok(Ok(conn)) => {
                let _ = conn.close().await;
                if attempts > 1 {
                    tracing::info!(url = %shown, attempts, "database reachable");
                }
                return Ok(());
            }
            Ok(Err(e)) => e.to_string(),
            Err(_) => format!("no answer within {} ms", per_try.as_millis()),
        };
        let elapsed = start.elapsed();
        if elapsed + pause >= timeout {
            return Err(DbError::Unreachable {
                url: shown,
                attempts,
                secs: timeout.as_secs(),
                last: error,
            });
        }
        tracing::warn!(
            url = %shown,
            attempt = attempts,
            error = %error,
            retry_in_ms = pause.as_millis() as u64,
            "database connection failed; retrying"
        );
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_secs(5));
    }
}

/// The lock clause of a read: ` FOR UPDATE` on PostgreSQL inside a write transaction, nothing
/// on SQLite (its write lock, taken by `BEGIN IMMEDIATE`, already covers it) or outside one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lock(&'static str);

impl Lock {
    pub const NONE: Lock = Lock("");

    fn sql(self) -> &'static str {
        self.0
    }
}

/// A stored code parsed back into its vocabulary type; an unknown one is a decode error.
fn decode<T>(what: &str, v: String, parse: fn(&str) -> Option<T>) -> Result<T, sqlx::Error> {
    parse(&v)
        .ok_or_else(|| sqlx::Error::Decode(format!("unknown {what} {v:?} in the database").into()))
}

/// The row (if any) a `SELECT` with one bound key finds, decoded by `from_row`.
async fn optional<T>(
    conn: &mut sqlx::AnyConnection,
    sql: &str,
    key: query::Value,
    from_row: fn(&AnyRow) -> Result<T, sqlx::Error>,
) -> Result<Option<T>, sqlx::Error> {
    let q = match key {
        query::Value::Text(s) => sqlx::query(sql).bind(s),
        query::Value::Int(i) => sqlx::query(sql).bind(i),
    };
    q.fetch_optional(&mut *conn)
        .await?
        .as_ref()
        .map(from_row)
        .transpose()
}

/// The first column (an id) of every row a query returns.
async fn ids<'q>(
    conn: &mut sqlx::AnyConnection,
    q: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
) -> Result<Vec<i64>, sqlx::Error> {
    use sqlx::Row as _;
    q.fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| r.try_get::<i64, _>(0))
        .collect()
}

/// `$first, $first+1, ...` for `n` values bound in a row (an `IN (...)` list).
fn placeholders(first: usize, n: usize) -> String {
    (first..first + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn sqlite_parent_dir(url: &str) -> Option<std::path::PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or(url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next()?;
    if path.is_empty() || path == ":memory:" {
        return None;
    }
    std::path::Path::new(path)
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map(std::path::Path::to_path_buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backends_from_urls() {
        assert_eq!(
            Backend::from_url("sqlite://data/portal.db"),
            Some(Backend::Sqlite)
        );
        assert_eq!(
            Backend::from_url("postgres://u@h/db"),
            Some(Backend::Postgres)
        );
        assert_eq!(Backend::from_url("mysql://x"), None);
    }

    #[test]
    fn passwords_are_not_shown() {
        assert_eq!(
            redact_url("postgres://portal:s3cret@db.internal:5432/portal?sslmode=require"),
            "postgres://portal:***@db.internal:5432/portal?sslmode=require"
        );
        assert_eq!(
            redact_url("postgres://nouser@127.0.0.1:1/x"),
            "postgres://nouser@127.0.0.1:1/x"
        );
        assert_eq!(
            redact_url("sqlite://data/portal.db"),
            "sqlite://data/portal.db"
        );
    }

    #[test]
    fn placeholder_lists() {
        assert_eq!(placeholders(2, 3), "$2, $3, $4");
        assert_eq!(placeholders(1, 1), "$1");
    }

    #[test]
    fn sqlite_directory_is_found() {
        assert_eq!(
            sqlite_parent_dir("sqlite:///tmp/x/portal.db?mode=rwc"),
            Some("/tmp/x".into())
        );
        assert_eq!(sqlite_parent_dir("sqlite::memory:"), None);
    }
}
