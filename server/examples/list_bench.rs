//! How fast one page of the application grid answers at 100,000 applications, on SQLite and
//! PostgreSQL: `domain::applications::page` (COUNT of the filter + one page with offset
//! paging + the bill/certificate lookups of its rows), as `GET /api/applications` runs it.
//!
//! ```text
//! cargo run --release -p server --example list_bench -- 100000
//! ```
//!
//! Rows: half of them belong to one large company (the worst case for an applicant's grid),
//! the rest to 500 companies of 100 each; every application has its bill. PostgreSQL is
//! used when it answers at `PORTAL_TEST_PG_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`) in a database named by `LIST_BENCH_DB`
//! (default `list_bench_<pid>`), dropped afterwards.

// A benchmark: a failure is a panic with the reason.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout
)]

use std::sync::Arc;
use std::time::Instant;

use proto::api::ApplicationQuery;
use server::config::Config;
use server::domain::Actor;
use sqlx::Connection as _;

const BIG: &str = "12345675";
const RUNS: usize = 15;

fn tax_id(i: usize) -> String {
    // Any 8 digits: the bench writes rows directly, without the checksum rule.
    format!("{:08}", 20_000_000 + i)
}

async fn fill(db: &server::db::Db, n: usize) {
    let start = Instant::now();
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let mut tx = db.pool.begin().await.unwrap();
    let chunk = 500;
    let mut i = 0;
    while i < n {
        let end = (i + chunk).min(n);
        let mut apps = String::from(
            "INSERT INTO applications (serial, tax_id, app_type, status, company_name, \
             company_phone, company_fax, responsible_person, responsible_phone, contact_name, \
             contact_phone, contact_mobile, contact_email, customs_office, business_type, \
             box_number, cert_kind, staff_code, staff_national_id, cert_name, reason, \
             created_at, updated_at) VALUES ",
        );
        let mut bills = String::from(
            "INSERT INTO bills (bill_no, application_id, amount, issued_at, due_at, status) VALUES ",
        );
        for j in i..end {
            let company = if j % 2 == 0 {
                BIG.to_owned()
            } else {
                tax_id(j % 1000 / 2)
            };
            let status = ["10", "20", "A0", "A9"][j % 4];
            // One application per 30 s, oldest first.
            let at = now - (n - j) as i64 * 30;
            if j > i {
                apps.push(',');
                bills.push(',');
            }
            apps.push_str(&format!(
                "('SW{j:014}', '{company}', 'new', '{status}', '報關行 {company}', '02-25505500', '', \
                 '', '', '陳小華', '02-25505500', '0912345678', 'chen@example.com.tw', 'keelung', \
                 'broker', 'B00051', 'individual', 'K1234', 'A123456789', 'SingleWindow-01-B00051', \
                 '', {at}, {at})"
            ));
            bills.push_str(&format!(
                "('AAF{j:011}', (SELECT id FROM applications WHERE serial = 'SW{j:014}'), 2000, \
                 {at}, {}, 'unpaid')",
                at + 14 * 86_400
            ));
        }
        sqlx::query(&apps).execute(&mut *tx).await.unwrap();
        sqlx::query(&bills).execute(&mut *tx).await.unwrap();
        i = end;
    }
    tx.commit().await.unwrap();
    let analyze = match db.backend {
        server::db::Backend::Sqlite => "ANALYZE",
        server::db::Backend::Postgres => "ANALYZE applications; ANALYZE bills",
    };
    sqlx::raw_sql(analyze).execute(&db.pool).await.unwrap();
    println!(
        "  filled {n} applications + bills in {:.1} s",
        start.elapsed().as_secs_f64()
    );
}

async fn measure(state: &server::state::AppState, label: &str, actor: &Actor, q: ApplicationQuery) {
    let now = state.now();
    let mut ms = Vec::with_capacity(RUNS);
    let mut last = None;
    for _ in 0..RUNS {
        let t = Instant::now();
        let page = server::domain::applications::page(&state.svc, actor, &q, now)
            .await
            .unwrap();
        ms.push(t.elapsed().as_secs_f64() * 1000.0);
        last = Some(page);
    }
    ms.sort_by(f64::total_cmp);
    let page = last.unwrap();
    println!(
        "  {label:<52} {:>7} {:>6}/{:<6} {:>5} {:>8.2} {:>8.2}",
        page.total,
        page.page,
        page.pages(),
        page.items.len(),
        ms[RUNS / 2],
        ms[RUNS * 9 / 10],
    );
}

async fn run(url: &str, n: usize) {
    let dir = tempfile::tempdir().unwrap();
    let config = Config {
        data_dir: dir.path().join("data"),
        web_dir: dir.path().join("web"),
        database_url: Some(url.to_owned()),
        mail_worker: false,
        expiry_interval_secs: 0,
        ..Config::default()
    };
    let built = server::build(config, Arc::new(server::clock::SystemClock))
        .await
        .unwrap();
    let state = built.state;
    fill(&state.svc.db, n).await;
    let big = Actor::Applicant { tax_id: BIG.into() };
    let small = Actor::Applicant { tax_id: tax_id(7) };
    let ops = Actor::Operator {
        username: "bench".into(),
        role: proto::OperatorRole::Auditor,
    };
    let q = |page: Option<u32>| ApplicationQuery {
        page,
        ..ApplicationQuery::default()
    };
    println!(
        "  {:<52} {:>7} {:>13} {:>5} {:>8} {:>8}",
        "query (page size 10)", "total", "page/pages", "rows", "p50 ms", "p90 ms"
    );
    measure(
        &state,
        "applicant, 50% of all rows: first page",
        &big,
        q(None),
    )
    .await;
    measure(
        &state,
        "applicant, 50% of all rows: page 100",
        &big,
        q(Some(100)),
    )
    .await;
    measure(
        &state,
        "applicant, 50% of all rows: last page",
        &big,
        q(Some(u32::MAX)),
    )
    .await;
    let paid = ApplicationQuery {
        status: Some(proto::Status::Paid),
        ..ApplicationQuery::default()
    };
    measure(
        &state,
        "applicant, 50% of all rows: status 20, first page",
        &big,
        paid,
    )
    .await;
    measure(
        &state,
        "applicant with 100 rows: first page",
        &small,
        q(None),
    )
    .await;
    measure(&state, "operator, every row: first page", &ops, q(None)).await;
    measure(
        &state,
        "operator, every row: last page",
        &ops,
        q(Some(u32::MAX)),
    )
    .await;
}

#[tokio::main]
async fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .map(|s| s.parse().expect("number of applications"))
        .unwrap_or(100_000);
    println!("list_bench: {n} applications, page size 10, {RUNS} runs per query (release build)");

    println!("sqlite");
    let dir = tempfile::tempdir().unwrap();
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("bench.db").display()
    );
    run(&url, n).await;

    let admin = testkit::pg::admin_url();
    sqlx::any::install_default_drivers();
    let Ok(mut conn) = sqlx::PgConnection::connect(&admin).await else {
        println!("postgres: not reachable at {admin}; skipped");
        return;
    };
    let name = std::env::var("LIST_BENCH_DB")
        .unwrap_or_else(|_| format!("list_bench_{}", std::process::id()));
    let version: String = sqlx::query_scalar("SHOW server_version")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    println!("postgres {version}");
    sqlx::query(&format!("CREATE DATABASE \"{name}\""))
        .execute(&mut conn)
        .await
        .unwrap();
    run(&testkit::pg::with_database(&admin, &name), n).await;
    sqlx::query(&format!("DROP DATABASE \"{name}\" WITH (FORCE)"))
        .execute(&mut conn)
        .await
        .unwrap();
}
