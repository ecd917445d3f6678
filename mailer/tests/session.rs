//! Once the SMTP server has accepted a mail, the worker records it as sent before anything
//! else: QUIT comes after the database update, and a server that never answers QUIT neither
//! delays the record nor turns the accepted mail into a failure (which would send it again).

// Test helpers in tests/common are not #[test] fns, so the workspace test allowance misses them.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;
use mailer::{MailKind, OutboxState, Worker, get_mail};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// What the scripted server saw: the mail row's state when QUIT arrived, if it did.
#[derive(Default)]
struct Seen {
    accepted: usize,
    state_at_quit: Option<OutboxState>,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accepted_mail_is_recorded_before_quit_and_a_silent_quit_changes_nothing() {
    let db = TestDb::sqlite().await;
    let mail = new_mail(
        MailKind::Issued,
        "SW20261124000042",
        "contact@example.com.tw",
    );
    let id = enqueue_committed(&db.pool, &mail, NOW).await;

    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = Arc::new(Mutex::new(Seen::default()));
    let server = {
        let seen = Arc::clone(&seen);
        let pool = db.pool.clone();
        tokio::spawn(async move {
            let (stream, _) = listener.accept().await.unwrap();
            let (r, mut w) = stream.into_split();
            let mut lines = BufReader::new(r).lines();
            w.write_all(b"220 scripted ESMTP\r\n").await.unwrap();
            let mut in_data = false;
            while let Some(line) = lines.next_line().await.unwrap() {
                if in_data {
                    if line == "." {
                        in_data = false;
                        seen.lock().unwrap().accepted += 1;
                        w.write_all(b"250 2.0.0 queued\r\n").await.unwrap();
                    }
                    continue;
                }
                match line.get(..4).unwrap_or("").to_ascii_uppercase().as_str() {
                    "EHLO" | "HELO" => w.write_all(b"250 scripted\r\n").await.unwrap(),
                    "DATA" => {
                        in_data = true;
                        w.write_all(b"354 go ahead\r\n").await.unwrap();
                    }
                    "QUIT" => {
                        let row = get_mail(&pool, id).await.unwrap().unwrap();
                        seen.lock().unwrap().state_at_quit = Some(row.state);
                        // Never answer; hold the connection open.
                        tokio::time::sleep(Duration::from_secs(60)).await;
                        return;
                    }
                    _ => w.write_all(b"250 ok\r\n").await.unwrap(),
                }
            }
        })
    };

    // timeout_secs = 5: waiting for QUIT's answer would have taken up to 10 s.
    let worker = Worker::new(db.pool.clone(), smtp_transport(port), options()).unwrap();
    let started = Instant::now();
    let stats = worker.run_once(NOW).await.unwrap();
    let took = started.elapsed();

    assert_eq!(
        (stats.sent, stats.retried, stats.failed),
        (1, 0, 0),
        "{stats:?}"
    );
    assert!(took < Duration::from_secs(3), "took {took:?}");
    let row = get_mail(&db.pool, id).await.unwrap().unwrap();
    assert_eq!(row.state, OutboxState::Sent);
    let seen = seen.lock().unwrap();
    assert_eq!(seen.accepted, 1);
    assert_eq!(
        seen.state_at_quit,
        Some(OutboxState::Sent),
        "QUIT must come after the row is marked sent"
    );
    server.abort();
}
