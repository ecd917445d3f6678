//! A throwaway PostgreSQL database: created with a unique name on the server that
//! `PORTAL_TEST_PG_URL` names (default `postgres://postgres@127.0.0.1:5432/postgres`, the
//! maintenance database of a local server), dropped `WITH (FORCE)` when the value is dropped.
//! The server's and the mailer's tests run each PostgreSQL test in one; `faults` and
//! `loadgen` run each backend round in one.

use sqlx::Connection as _;

use crate::Error;

/// The server the tests use when `PORTAL_TEST_PG_URL` is not set.
pub const DEFAULT_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// `PORTAL_TEST_PG_URL`, else [`DEFAULT_ADMIN_URL`]: where databases are created from.
pub fn admin_url() -> String {
    std::env::var("PORTAL_TEST_PG_URL").unwrap_or_else(|_| DEFAULT_ADMIN_URL.into())
}

/// `url` with its database name replaced by `db` (query string kept).
pub fn with_database(url: &str, db: &str) -> String {
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

/// A PostgreSQL database of its own; dropped (with FORCE) when this value is dropped.
pub struct PgDb {
    admin: String,
    pub name: String,
    pub url: String,
    dropped: bool,
}

impl PgDb {
    /// A database named `portal_test_…` on [`admin_url`]; the test stops with the reason if
    /// PostgreSQL is not there.
    pub async fn create() -> PgDb {
        let admin = admin_url();
        PgDb::try_create(&admin, "portal_test")
            .await
            .unwrap_or_else(|e| {
                panic!("PostgreSQL is required for these tests (set PORTAL_TEST_PG_URL): {e}")
            })
    }

    /// A database named `{prefix}_` and 16 random hex digits, created through `admin`.
    pub async fn try_create(admin: &str, prefix: &str) -> Result<PgDb, Error> {
        let mut b = [0u8; 8];
        getrandom::fill(&mut b).map_err(|e| Error(format!("random database name: {e}")))?;
        let name = format!(
            "{prefix}_{}",
            b.iter().map(|x| format!("{x:02x}")).collect::<String>()
        );
        let fail = |e: sqlx::Error| Error(format!("PostgreSQL at {admin}: {e}"));
        let mut conn = sqlx::PgConnection::connect(admin).await.map_err(fail)?;
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut conn)
            .await
            .map_err(fail)?;
        let _ = conn.close().await;
        Ok(PgDb {
            admin: admin.to_owned(),
            url: with_database(admin, &name),
            name,
            dropped: false,
        })
    }

    /// The maintenance URL this database was created through.
    pub fn admin_url(&self) -> &str {
        &self.admin
    }

    /// Drops the database now, from async code (dropping the value does it from a thread).
    pub async fn drop_database(mut self) {
        self.dropped = true;
        drop_database(&self.admin, &self.name).await;
    }
}

async fn drop_database(admin: &str, name: &str) {
    if let Ok(mut conn) = sqlx::PgConnection::connect(admin).await {
        let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .execute(&mut conn)
            .await;
        let _ = conn.close().await;
    }
}

impl Drop for PgDb {
    fn drop(&mut self) {
        if self.dropped {
            return;
        }
        let admin = self.admin.clone();
        let name = self.name.clone();
        // Drop runs inside the test's runtime, which cannot block on async work: use a
        // thread with its own runtime. FORCE ends the connections the test still holds.
        let _ = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(drop_database(&admin, &name));
        })
        .join();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_name_is_replaced() {
        assert_eq!(
            with_database("postgres://u@h:5432/postgres?sslmode=disable", "d"),
            "postgres://u@h:5432/d?sslmode=disable"
        );
        assert_eq!(with_database("postgres://u@h", "d"), "postgres://u@h/d");
    }

    #[tokio::test]
    async fn a_database_is_created_and_dropped() {
        let db = PgDb::create().await;
        let name = db.name.clone();
        let mut conn = sqlx::PgConnection::connect(&db.url).await.unwrap();
        let got: String = sqlx::query_scalar("SELECT current_database()")
            .fetch_one(&mut conn)
            .await
            .unwrap();
        assert_eq!(got, name);
        conn.close().await.unwrap();
        drop(db);
        let mut admin = sqlx::PgConnection::connect(&admin_url()).await.unwrap();
        let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM pg_database WHERE datname = $1")
            .bind(&name)
            .fetch_one(&mut admin)
            .await
            .unwrap();
        assert_eq!(left, 0);
    }
}
