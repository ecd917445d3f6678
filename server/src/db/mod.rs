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
pub mod operators;
pub mod query;
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
}

impl Db {
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
                AnyPoolOptions::new()
                    .max_connections(16)
                    .acquire_timeout(Duration::from_secs(60))
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
