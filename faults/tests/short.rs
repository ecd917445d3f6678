//! The short fault run CI keeps: one round per backend against the server's own `main.rs`
//! (built here as `faults-portal`), at least one kill during creation, one during issuance and one during bank
//! reconciliation, an SMTP outage and (PostgreSQL) terminated connections; zero invariant
//! violations allowed.

use std::path::PathBuf;

use faults::{Backend, Options};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_round_per_backend_keeps_every_invariant() {
    let mut opts = Options::new(PathBuf::from(env!("CARGO_BIN_EXE_faults-portal")));
    opts.backends = vec![Backend::Sqlite, Backend::Postgres];
    opts.rounds = Some(1);
    opts.apps_per_round = 8;
    let report = faults::run(&opts).await.unwrap();
    println!("{}", report.render());
    for b in &report.backends {
        assert_eq!(b.rounds, 1);
        assert!(
            b.faults.kills_creation >= 1,
            "{}: no creation kill",
            b.backend
        );
        assert!(
            b.faults.kills_issuance >= 1,
            "{}: no issuance kill",
            b.backend
        );
        assert!(
            b.faults.kills_reconciliation >= 1,
            "{}: no import kill",
            b.backend
        );
        assert!(b.faults.smtp_outages >= 1, "{}: no SMTP outage", b.backend);
        // 8 applications, each with a certificate and 3 mails, all checked.
        assert!(b.totals.certificates >= 8, "{}: {:?}", b.backend, b.totals);
        assert!(
            b.totals.smtp_messages >= 24,
            "{}: {:?}",
            b.backend,
            b.totals
        );
        for i in &b.invariants {
            assert!(i.checked > 0, "{}: {} never checked", b.backend, i.name);
        }
    }
    assert_eq!(report.violations(), 0, "{}", report.render());
}
