//! A server that accepts the connection and then never answers: the send is cut off at
//! twice `timeout_secs` (lettre's async transport only times the TCP connect), recorded as a
//! transient failure, and the worker is free again in seconds, not at the lease cut-off.

// Test helpers in tests/common are not #[test] fns, so the workspace test allowance misses them.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::{Duration, Instant};

use common::*;
use mailer::{MailKind, OutboxState, Worker, get_mail};

#[tokio::test]
async fn silent_server_is_cut_off_at_twice_the_timeout() {
    let db = TestDb::sqlite().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    // Accept and hold connections open without a greeting.
    let holder = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((s, _)) = listener.accept().await {
            held.push(s);
        }
    });

    let mut transport = smtp_transport(port);
    if let mailer::MailTransport::Smtp(c) = &mut transport {
        c.timeout_secs = 1;
    }
    let worker = Worker::new(db.pool.clone(), transport, options()).unwrap();
    let mail = new_mail(
        MailKind::Submitted,
        "SW20261124000009",
        "contact@example.com.tw",
    );
    let id = enqueue_committed(&db.pool, &mail, NOW).await;

    let started = Instant::now();
    let stats = worker.run_once(NOW).await.unwrap();
    let took = started.elapsed();
    assert_eq!((stats.claimed, stats.retried), (1, 1), "{stats:?}");
    assert!(
        took >= Duration::from_millis(1900) && took < Duration::from_secs(10),
        "took {took:?}"
    );
    let row = get_mail(&db.pool, id).await.unwrap().unwrap();
    assert_eq!(row.state, OutboxState::Pending);
    let err = row.last_error.unwrap_or_default();
    assert!(err.contains("did not finish within 2 s"), "{err}");
    holder.abort();
}
