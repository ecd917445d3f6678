//! Five concurrent clients against the real router on SQLite: no errors, and the database
//! holds exactly one certificate per paid application, the ones the clients received.

use std::sync::Arc;
use std::time::Duration;

use loadgen::LevelConfig;
use server::clock::SystemClock;
use server::config::Config;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_clients_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let data = dir.path().join("data");
    let mut config = Config {
        bind: addr,
        public_url: Some(format!("http://{addr}")),
        data_dir: data.clone(),
        web_dir: dir.path().join("web"),
        mail_worker: false,
        expiry_interval_secs: 0,
        ..Config::default()
    };
    config.auth.dev_login = true;
    let db_url = config.database_url();
    let built = server::build(config, Arc::new(SystemClock)).await.unwrap();
    server::auth::operators::add(
        &built.state.svc.db,
        loadgen::OPERATOR,
        loadgen::OPERATOR_PASSWORD,
        proto::OperatorRole::Cashier,
        time::OffsetDateTime::now_utc(),
    )
    .await
    .unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let handle = tokio::spawn(async move {
        server::serve(listener, built, async move {
            let _ = rx.await;
        })
        .await
        .unwrap();
    });

    let keys = loadgen::make_keys(2).unwrap();
    let csrs = loadgen::make_csrs(&keys, 20, "smoke").unwrap();
    let ids = loadgen::tax_ids(20_000_000, 20);
    assert!(ids.iter().all(|t| proto::ids::check_tax_id(t).is_ok()));
    let cfg = LevelConfig {
        clients: 5,
        issue_count: 12,
        flow_count: 8,
        max_phase: Duration::from_secs(120),
    };
    let base = format!("http://{addr}");
    let r = loadgen::run_level(&base, &cfg, &ids, &csrs).await.unwrap();
    let errors: Vec<_> = r
        .prepare
        .sample_errors
        .iter()
        .chain(&r.issue.sample_errors)
        .chain(&r.flow.sample_errors)
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!((r.prepare.ok, r.issue.ok, r.flow.ok), (12, 12, 8));
    assert_eq!(r.issued.len(), 20);
    assert_eq!(r.issue.latencies_ms.len(), 12);

    let check = loadgen::verify_db(&db_url, &r.issued).await.unwrap();
    assert!(check.ok(), "{check:?}");
    assert_eq!(check.certificates, 20);
    assert_eq!(check.paid_bills, 20);

    // The check is not vacuous: a certificate the database lacks is reported.
    let mut forged = r.issued.clone();
    forged[0].1 = "00".into();
    let bad = loadgen::verify_db(&db_url, &forged).await.unwrap();
    assert!(!bad.ok());
    assert_eq!(bad.client_missing, 1);

    let _ = tx.send(());
    handle.await.unwrap();
}
