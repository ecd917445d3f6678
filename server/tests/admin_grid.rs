//! The operator's grid: server-side pages, sorting, filters by status and date, counts per
//! status and the CSV export of the current filter; and (ignored, run by hand) the list
//! query timed at 100,000 applications (BENCHMARKS.md).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Instant;

use common::{Backend, TestServer};
use proto::admin::{AdminApplications, GridSort, SortDir, SortKey};
use proto::api::ApplicationQuery;
use proto::{BusinessType, CertKind, CustomsOffice, Status};
use reqwest::StatusCode;

async fn grid(ops: &common::Client, query: &str) -> AdminApplications {
    serde_json::from_value(
        ops.get_json(&format!("/api/admin/applications{query}"), 200)
            .await,
    )
    .unwrap()
}

fn count_of(g: &AdminApplications, s: Status) -> u64 {
    g.counts.iter().find(|c| c.status == s).unwrap().count
}

async fn grid_pages_sorts_filters_counts_and_exports(b: Backend) {
    let srv = TestServer::start(b).await;
    let alice = srv.applicant(common::TAX_ID).await;
    let bob = srv.applicant(common::OTHER_TAX_ID).await;
    let ops = srv.operator().await;
    let mut serials = Vec::new();
    for i in 0..23 {
        let who = if i % 3 == 0 { &bob } else { &alice };
        serials.push(who.create(&common::good_form()).await);
    }
    for a in serials.iter().take(4) {
        let bill = a.bill.clone().unwrap();
        assert_eq!(
            ops.pay(&bill.bill_no, bill.amount).await.status(),
            StatusCode::OK
        );
    }

    // Pages of 10, newest first; a page past the end answers the last one.
    let g = grid(&ops, "?page_size=10").await;
    assert_eq!((g.page.page, g.page.page_size, g.page.total), (1, 10, 23));
    assert_eq!(g.page.items.len(), 10);
    assert_eq!(g.page.items[0].serial, serials[22].serial);
    let g3 = grid(&ops, "?page_size=10&page=3").await;
    assert_eq!((g3.page.page, g3.page.items.len()), (3, 3));
    assert_eq!(g3.page.items[2].serial, serials[0].serial);
    assert_eq!(grid(&ops, "?page_size=10&page=99").await.page.page, 3);
    // Counts per status, whatever the status filter.
    assert_eq!(count_of(&g, Status::Submitted), 19);
    assert_eq!(count_of(&g, Status::Paid), 4);
    assert_eq!(count_of(&g, Status::Completed), 0);
    let paid = grid(&ops, "?status=20").await;
    assert_eq!(paid.page.total, 4);
    assert!(paid.page.items.iter().all(|a| a.status == Status::Paid));
    assert_eq!(count_of(&paid, Status::Submitted), 19);
    // Sorting: by serial ascending, by tax ID.
    let asc = grid(&ops, "?sort=serial&dir=asc&page_size=50").await;
    let got: Vec<_> = asc.page.items.iter().map(|a| a.serial.clone()).collect();
    let mut want = got.clone();
    want.sort();
    assert_eq!(got, want);
    assert_eq!(got.len(), 23);
    let by_tax = grid(&ops, "?sort=tax_id&dir=asc&page_size=50").await;
    assert_eq!(by_tax.page.items[0].tax_id, common::OTHER_TAX_ID);
    assert_eq!(by_tax.page.items[22].tax_id, common::TAX_ID);
    // Dates: today has all, tomorrow none.
    let today = common::today();
    assert_eq!(
        grid(&ops, &format!("?from={today}&to={today}"))
            .await
            .page
            .total,
        23
    );
    let tomorrow = server::domain::format_date(server::domain::taipei_date(
        srv.now() + time::Duration::days(1),
    ));
    let none = grid(&ops, &format!("?from={tomorrow}")).await;
    assert_eq!((none.page.total, none.page.items.len()), (0, 0));
    assert_eq!(
        common::code(
            &ops.get_json("/api/admin/applications?from=2026-13-01", 422)
                .await
        ),
        proto::ErrorCode::ValidationFailed
    );
    assert_eq!(
        ops.get("/api/admin/applications?sort=nonsense")
            .await
            .status(),
        StatusCode::BAD_REQUEST
    );

    // The CSV of the current filter: every page, a header, Chinese readable.
    let r = ops
        .get("/api/admin/applications/export.csv?status=20&sort=serial&dir=asc")
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "text/csv; charset=utf-8");
    assert!(
        r.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment; filename=\"applications-")
    );
    let csv = r.text().await.unwrap();
    let lines: Vec<&str> = csv.trim_end().split("\r\n").collect();
    assert!(
        lines[0].starts_with("\u{feff}申請序號 Serial,"),
        "{}",
        lines[0]
    );
    assert_eq!(lines.len(), 1 + 4, "{csv}");
    assert!(
        lines[1].contains("20 完成繳費，待業者金鑰產製"),
        "{}",
        lines[1]
    );
    assert!(lines[1].contains("台灣報關股份有限公司"));
    let all = ops
        .get("/api/admin/applications/export.csv")
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(all.trim_end().split("\r\n").count(), 1 + 23);

    // Operators only.
    assert_eq!(
        alice
            .get("/api/admin/applications/export.csv")
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        srv.client()
            .get("/api/admin/applications/export.csv")
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
    srv.stop().await;
}
both!(grid_pages_sorts_filters_counts_and_exports);

/// 100,000 applications (a quarter in each status, one a minute), then the grid's queries.
async fn fill(srv: &TestServer, b: Backend, n: i64) {
    let base = srv.now().unix_timestamp() - n * 60;
    let series = match b {
        Backend::Sqlite => "WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s \
                            WHERE i < $1) "
            .to_owned(),
        Backend::Postgres => String::new(),
    };
    let from = match b {
        Backend::Sqlite => "FROM s",
        Backend::Postgres => "FROM generate_series(1, $1) AS s(i)",
    };
    let sql = format!(
        "{series}INSERT INTO applications (serial, tax_id, app_type, status, company_name, \
         company_phone, company_fax, responsible_person, responsible_phone, contact_name, \
         contact_phone, contact_mobile, contact_email, customs_office, business_type, box_number, \
         cert_kind, staff_code, staff_national_id, cert_name, reason, created_at, updated_at) \
         SELECT 'SWB' || CAST(i AS TEXT), CASE WHEN i % 2 = 0 THEN '12345675' ELSE '04595257' END, \
         'new', CASE i % 4 WHEN 0 THEN '10' WHEN 1 THEN '20' WHEN 2 THEN 'A0' ELSE 'A9' END, \
         '公司' || CAST(i % 997 AS TEXT), '02-25505500', '', '王大明', '', '陳小華', '02-25505500', \
         '0912345678', 'chen@example.com.tw', $2, $3, 'B00051', $4, 'K1234', 'A123456789', NULL, \
         '', $5 + i * 60, $5 + i * 60 {from}"
    );
    sqlx::query(&sql)
        .bind(n)
        .bind(CustomsOffice::Keelung.code())
        .bind(BusinessType::Broker.code())
        .bind(CertKind::Individual.code())
        .bind(base)
        .execute(&srv.state.svc.db.pool)
        .await
        .unwrap();
    if b == Backend::Postgres {
        sqlx::query("ANALYZE applications")
            .execute(&srv.state.svc.db.pool)
            .await
            .unwrap();
    }
}

/// Median milliseconds of `runs` runs of the grid's list call.
async fn time_list(srv: &TestServer, q: &ApplicationQuery, sort: GridSort, runs: usize) -> f64 {
    let ops = server::domain::Actor::Operator {
        username: "bench".into(),
        role: proto::OperatorRole::Auditor,
    };
    let mut ms = Vec::with_capacity(runs);
    for _ in 0..runs {
        let t = Instant::now();
        let g = server::domain::admin_grid::list(&srv.state.svc, &ops, q, sort, srv.now())
            .await
            .unwrap();
        ms.push(t.elapsed().as_secs_f64() * 1000.0);
        assert!(!g.page.items.is_empty());
    }
    ms.sort_by(f64::total_cmp);
    ms[ms.len() / 2]
}

async fn bench_grid(b: Backend) {
    let n = 100_000;
    let srv = TestServer::start(b).await;
    let t = Instant::now();
    fill(&srv, b, n).await;
    println!(
        "{b:?}: {n} applications inserted in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    let page = |p: Option<u32>| ApplicationQuery {
        page: p,
        page_size: Some(50),
        ..ApplicationQuery::default()
    };
    let newest = GridSort::default();
    let runs = 21;
    let rows: Vec<(&str, ApplicationQuery, GridSort)> = vec![
        ("page 1, newest first (50 rows)", page(None), newest),
        ("page 1000 of 2000, newest first", page(Some(1000)), newest),
        ("last page (2000), newest first", page(Some(2000)), newest),
        (
            "status 20, page 1",
            ApplicationQuery {
                status: Some(Status::Paid),
                ..page(None)
            },
            newest,
        ),
        (
            "one day (1,440 rows), page 1",
            ApplicationQuery {
                from: Some(server::domain::format_date(server::domain::taipei_date(
                    srv.now() - time::Duration::days(30),
                ))),
                to: Some(server::domain::format_date(server::domain::taipei_date(
                    srv.now() - time::Duration::days(30),
                ))),
                ..page(None)
            },
            newest,
        ),
        (
            "sorted by company name, page 1",
            page(None),
            GridSort {
                sort: Some(SortKey::Company),
                dir: Some(SortDir::Asc),
            },
        ),
    ];
    println!("| {b:?}: grid query at {n} applications | median ms ({runs} runs) |");
    println!("|---|---|");
    for (name, q, sort) in rows {
        let ms = time_list(&srv, &q, sort, runs).await;
        println!("| {name} | {ms:.1} |");
    }
    let t = Instant::now();
    let csv = server::domain::admin_grid::export_csv(
        &srv.state.svc,
        &ApplicationQuery {
            status: Some(Status::Paid),
            ..ApplicationQuery::default()
        },
        newest,
        srv.now(),
    )
    .await
    .unwrap();
    println!(
        "| CSV export, status 20 ({} rows, {} KB) | {:.1} |",
        csv.lines().count() - 1,
        csv.len() / 1024,
        t.elapsed().as_secs_f64() * 1000.0
    );
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark: cargo test -p server --test admin_grid -- --ignored --nocapture"]
async fn bench_grid_100k_sqlite() {
    bench_grid(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark: cargo test -p server --test admin_grid -- --ignored --nocapture"]
async fn bench_grid_100k_postgres() {
    bench_grid(Backend::Postgres).await;
}
