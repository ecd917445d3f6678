//! End-to-end delivery through a real SMTP server (aiosmtpd writing a Maildir) on SQLite and
//! PostgreSQL: right subject and address for every kind, SMTP outages, restarts, permanent
//! failures, concurrent workers, and the maildir transport.

// Test helpers in tests/common are not #[test] fns, so the workspace test allowance misses them.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::HashSet;

use common::*;
use mailer::{MailKind, OutboxState, Worker, get_mail, list_mail, retry_failed};
use proto::api::MailState;

on_both_databases!(
    every_kind_arrives_with_its_subject_at_the_contact_address,
    rolled_back_status_change_sends_nothing,
    smtp_down_then_back_delivers_once,
    restart_with_unsent_mail_sends_each_once,
    permanent_rejection_is_recorded_for_operators,
    temporary_rejection_retries_then_gives_up,
    concurrent_workers_send_each_row_once,
    concurrent_workers_each_take_a_full_batch,
    maildir_transport_writes_parseable_files,
    run_loop_sends_when_woken_and_stops_on_shutdown,
);

async fn every_kind_arrives_with_its_subject_at_the_contact_address(db: TestDb) {
    let tmp = tempfile::tempdir().unwrap();
    let maildir = tmp.path().join("mail");
    let smtp = SmtpServer::start(free_port(), &maildir).await;
    let worker = Worker::new(db.pool.clone(), smtp_transport(smtp.port), options()).unwrap();

    let mut expected = Vec::new();
    for (i, kind) in MailKind::ALL.into_iter().enumerate() {
        let serial = format!("SW2026112400000{i}");
        let to = format!("contact.{}@example.com.tw", kind.code());
        let mail = new_mail(kind, &serial, &to);
        let id = enqueue_committed(&db.pool, &mail, NOW).await;
        expected.push((id, to, mail.rendered));
    }

    let stats = worker.run_once(NOW).await.unwrap();
    let n = u32::try_from(MailKind::ALL.len()).unwrap();
    assert_eq!((stats.claimed, stats.sent), (n, n), "{stats:?}");

    let got = read_maildir(&maildir);
    assert_eq!(got.len(), MailKind::ALL.len(), "{got:#?}");
    for (id, to, rendered) in &expected {
        let row = get_mail(&db.pool, *id).await.unwrap().unwrap();
        assert_eq!(row.state, OutboxState::Sent);
        assert_eq!(row.sent_at, Some(NOW.unix_timestamp()));
        let m = got
            .iter()
            .find(|m| &m.to == to)
            .unwrap_or_else(|| panic!("no mail to {to}"));
        assert_eq!(&m.subject, &rendered.subject);
        assert_eq!(m.body.trim_end(), rendered.body_text.trim_end());
        assert_eq!(m.rcpt_to.as_deref(), Some(to.as_str()));
        assert_eq!(format!("<{}>", m.message_id), row.message_id);
        assert_eq!(m.from, "noreply@portal.example.gov.tw");
        assert_eq!(m.from_name.as_deref(), Some("關港貿單一窗口"));
        assert_eq!(m.content_type, "text/plain; charset=utf-8");
        // Non-ASCII must travel encoded (RFC 2047 subject, base64/QP body), not as raw 8-bit.
        assert!(m.raw_is_ascii, "raw 8-bit in {}", m.file.display());
    }
    let serial_in_subject = got
        .iter()
        .find(|m| m.to == "contact.submitted@example.com.tw")
        .unwrap();
    assert_eq!(
        serial_in_subject.subject,
        "[關港貿單一窗口]通關專屬憑證申請繳費通知，申請序號:SW20261124000000"
    );
    assert!(serial_in_subject.body.contains("AAF11511000151"));
    assert!(serial_in_subject.body.contains("2026-12-08"));

    let sent = list_mail(&db.pool, Some(MailState::Sent)).await.unwrap();
    assert_eq!(sent.len(), MailKind::ALL.len());
    assert!(
        sent.iter()
            .all(|v| v.sent_at.as_deref() == Some("2026-11-24T09:30:00Z"))
    );
    assert!(
        list_mail(&db.pool, Some(MailState::Pending))
            .await
            .unwrap()
            .is_empty()
    );

    assert_eq!(worker.run_once(at(3600)).await.unwrap().claimed, 0);
    assert_eq!(maildir_count(&maildir), MailKind::ALL.len());
}

async fn rolled_back_status_change_sends_nothing(db: TestDb) {
    let tmp = tempfile::tempdir().unwrap();
    let maildir = tmp.path().join("mail");
    let smtp = SmtpServer::start(free_port(), &maildir).await;
    let worker = Worker::new(db.pool.clone(), smtp_transport(smtp.port), options()).unwrap();

    let mut tx = db.pool.begin().await.unwrap();
    let mail = new_mail(MailKind::Paid, "SW20261124000009", "a@example.com");
    mailer::enqueue(&mut tx, &mail, NOW).await.unwrap();
    tx.rollback().await.unwrap();

    assert_eq!(worker.run_once(NOW).await.unwrap().claimed, 0);
    assert!(list_mail(&db.pool, None).await.unwrap().is_empty());
    assert_eq!(maildir_count(&maildir), 0);
}

async fn smtp_down_then_back_delivers_once(db: TestDb) {
    let tmp = tempfile::tempdir().unwrap();
    let maildir = tmp.path().join("mail");
    let port = free_port();
    let worker = Worker::new(db.pool.clone(), smtp_transport(port), options()).unwrap();

    // Up: the first mail goes out. Then the server dies.
    let smtp = SmtpServer::start(port, &maildir).await;
    let first = enqueue_committed(
        &db.pool,
        &new_mail(MailKind::Submitted, "SW1", "a@example.com"),
        NOW,
    )
    .await;
    assert_eq!(worker.run_once(NOW).await.unwrap().sent, 1);
    smtp.stop();

    // Down during a transition: recorded for retry, nothing sent.
    let id = enqueue_committed(
        &db.pool,
        &new_mail(MailKind::Paid, "SW1", "a@example.com"),
        NOW,
    )
    .await;
    let stats = worker.run_once(NOW).await.unwrap();
    assert_eq!(
        (stats.claimed, stats.sent, stats.retried),
        (1, 0, 1),
        "{stats:?}"
    );
    let row = get_mail(&db.pool, id).await.unwrap().unwrap();
    assert_eq!(row.state, OutboxState::Pending);
    assert_eq!(row.attempts, 1);
    assert_eq!(row.next_attempt_at, at(30).unix_timestamp());
    assert!(
        row.last_error
            .as_deref()
            .is_some_and(|e| e.to_lowercase().contains("connection")),
        "{:?}",
        row.last_error
    );
    assert_eq!(row.lease_until, None);

    // Still down at the first retry: the backoff doubles.
    assert_eq!(worker.run_once(at(30)).await.unwrap().retried, 1);
    let row = get_mail(&db.pool, id).await.unwrap().unwrap();
    assert_eq!(
        (row.attempts, row.next_attempt_at),
        (2, at(90).unix_timestamp())
    );

    // Back up: not before the backoff ends, then exactly once.
    let _smtp = SmtpServer::start(port, &maildir).await;
    assert_eq!(worker.run_once(at(60)).await.unwrap().claimed, 0);
    assert_eq!(maildir_count(&maildir), 1);
    let stats = worker.run_once(at(90)).await.unwrap();
    assert_eq!((stats.claimed, stats.sent), (1, 1), "{stats:?}");
    let row = get_mail(&db.pool, id).await.unwrap().unwrap();
    assert_eq!(row.state, OutboxState::Sent);
    assert_eq!(row.last_error, None);
    assert_eq!(worker.run_once(at(100_000)).await.unwrap().claimed, 0);

    let got = read_maildir(&maildir);
    assert_eq!(got.len(), 2);
    let ids: HashSet<String> = got.iter().map(|m| format!("<{}>", m.message_id)).collect();
    for row_id in [first, id] {
        let row = get_mail(&db.pool, row_id).await.unwrap().unwrap();
        assert!(ids.contains(&row.message_id));
    }
}

async fn restart_with_unsent_mail_sends_each_once(db: TestDb) {
    let tmp = tempfile::tempdir().unwrap();
    let maildir = tmp.path().join("mail");
    let smtp = SmtpServer::start(free_port(), &maildir).await;

    // The old process committed three mails and died: one never tried, one claimed by a
    // send that crashed (lease over), one claimed by a send whose lease is still running.
    let old = Worker::new(db.new_pool().await, smtp_transport(smtp.port), options()).unwrap();
    let pending = enqueue_committed(
        &db.pool,
        &new_mail(MailKind::Submitted, "SW1", "a@example.com"),
        NOW,
    )
    .await;
    let crashed = enqueue_committed(
        &db.pool,
        &new_mail(MailKind::Paid, "SW2", "b@example.com"),
        NOW,
    )
    .await;
    let leased = enqueue_committed(
        &db.pool,
        &new_mail(MailKind::Issued, "SW3", "c@example.com"),
        NOW,
    )
    .await;
    for (id, lease_until) in [
        (crashed, NOW.unix_timestamp() - 1),
        (leased, at(100).unix_timestamp()),
    ] {
        sqlx::query("UPDATE mail_outbox SET state = 'sending', attempts = 1, lease_until = $1 WHERE id = $2")
            .bind(lease_until)
            .bind(id)
            .execute(&db.pool)
            .await
            .unwrap();
    }
    drop(old);

    let new = Worker::new(db.new_pool().await, smtp_transport(smtp.port), options()).unwrap();
    let stats = new.run_once(NOW).await.unwrap();
    assert_eq!((stats.claimed, stats.sent), (2, 2), "{stats:?}");
    assert_eq!(new.run_once(NOW).await.unwrap().claimed, 0);
    assert_eq!(maildir_count(&maildir), 2);
    assert_eq!(
        get_mail(&db.pool, leased).await.unwrap().unwrap().state,
        OutboxState::Sending
    );

    // The live lease is respected until it ends.
    assert_eq!(new.run_once(at(100)).await.unwrap().claimed, 0);
    assert_eq!(new.run_once(at(101)).await.unwrap().sent, 1);
    assert_eq!(new.run_once(at(10_000)).await.unwrap().claimed, 0);

    let got = read_maildir(&maildir);
    assert_eq!(got.len(), 3, "{got:#?}");
    for id in [pending, crashed, leased] {
        let row = get_mail(&db.pool, id).await.unwrap().unwrap();
        assert_eq!(row.state, OutboxState::Sent);
        let copies = got
            .iter()
            .filter(|m| format!("<{}>", m.message_id) == row.message_id)
            .count();
        assert_eq!(copies, 1, "row {id}");
    }
}

async fn permanent_rejection_is_recorded_for_operators(db: TestDb) {
    let server =
        ScriptedSmtp::start("550 5.1.1 <nobody@example.com>: Recipient address rejected").await;
    let worker = Worker::new(db.pool.clone(), smtp_transport(server.port), options()).unwrap();
    let id = enqueue_committed(
        &db.pool,
        &new_mail(MailKind::Issued, "SW1", "nobody@example.com"),
        NOW,
    )
    .await;

    let stats = worker.run_once(NOW).await.unwrap();
    assert_eq!(
        (stats.claimed, stats.failed, stats.retried),
        (1, 1, 0),
        "{stats:?}"
    );
    let row = get_mail(&db.pool, id).await.unwrap().unwrap();
    assert_eq!(row.state, OutboxState::Failed);
    assert!(
        row.last_error.as_deref().unwrap().contains("550"),
        "{:?}",
        row.last_error
    );
    assert_eq!(worker.run_once(at(100_000)).await.unwrap().claimed, 0);
    assert_eq!(
        server.rcpt_seen.load(std::sync::atomic::Ordering::SeqCst),
        1
    );

    let failed = list_mail(&db.pool, Some(MailState::Failed)).await.unwrap();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].id, id);
    assert_eq!(failed[0].to, "nobody@example.com");
    assert_eq!(failed[0].state, MailState::Failed);
    assert!(
        failed[0]
            .last_error
            .as_deref()
            .unwrap()
            .contains("Recipient address rejected")
    );
    assert!(
        list_mail(&db.pool, Some(MailState::Sent))
            .await
            .unwrap()
            .is_empty()
    );

    // An operator puts it back; it is tried again (and fails again here).
    assert!(retry_failed(&db.pool, id, at(200)).await.unwrap());
    assert!(!retry_failed(&db.pool, id, at(200)).await.unwrap());
    let row = get_mail(&db.pool, id).await.unwrap().unwrap();
    assert_eq!((row.state, row.attempts), (OutboxState::Pending, 0));
    assert_eq!(worker.run_once(at(200)).await.unwrap().failed, 1);
    assert_eq!(
        server.rcpt_seen.load(std::sync::atomic::Ordering::SeqCst),
        2
    );
}

async fn temporary_rejection_retries_then_gives_up(db: TestDb) {
    let server = ScriptedSmtp::start("451 4.3.0 Try again later").await;
    let opts = mailer::WorkerOptions {
        max_attempts: 3,
        ..options()
    };
    let worker = Worker::new(db.pool.clone(), smtp_transport(server.port), opts).unwrap();
    let id = enqueue_committed(
        &db.pool,
        &new_mail(MailKind::Paid, "SW1", "a@example.com"),
        NOW,
    )
    .await;
    // A 4xx on one recipient does not stop the batch: the next mail is tried too.
    let other = enqueue_committed(
        &db.pool,
        &new_mail(MailKind::Paid, "SW2", "b@example.com"),
        NOW,
    )
    .await;

    assert_eq!(worker.run_once(NOW).await.unwrap().retried, 2);
    assert_eq!(worker.run_once(at(30)).await.unwrap().retried, 2);
    let row = get_mail(&db.pool, id).await.unwrap().unwrap();
    assert_eq!((row.state, row.attempts), (OutboxState::Pending, 2));
    assert!(row.last_error.as_deref().unwrap().contains("451"));
    let stats = worker.run_once(at(90)).await.unwrap();
    assert_eq!((stats.failed, stats.retried), (2, 0), "{stats:?}");
    for id in [id, other] {
        let row = get_mail(&db.pool, id).await.unwrap().unwrap();
        assert_eq!(row.state, OutboxState::Failed);
        assert!(
            row.last_error
                .as_deref()
                .unwrap()
                .starts_with("gave up after 3 attempts")
        );
    }
    assert_eq!(
        server.rcpt_seen.load(std::sync::atomic::Ordering::SeqCst),
        6
    );
}

async fn concurrent_workers_send_each_row_once(db: TestDb) {
    let tmp = tempfile::tempdir().unwrap();
    let maildir = tmp.path().join("mail");
    let smtp = SmtpServer::start(free_port(), &maildir).await;
    let mut ids = Vec::new();
    for i in 0..20 {
        let mail = new_mail(
            MailKind::Submitted,
            &format!("SW{i:014}"),
            &format!("c{i}@example.com"),
        );
        ids.push(enqueue_committed(&db.pool, &mail, NOW).await);
    }
    let a = Worker::new(db.new_pool().await, smtp_transport(smtp.port), options()).unwrap();
    let b = Worker::new(db.new_pool().await, smtp_transport(smtp.port), options()).unwrap();

    let (sa, sb) = tokio::join!(
        tokio::spawn(async move { a.run_once(NOW).await.unwrap() }),
        tokio::spawn(async move { b.run_once(NOW).await.unwrap() }),
    );
    let (sa, sb) = (sa.unwrap(), sb.unwrap());
    assert_eq!(sa.sent + sb.sent, 20, "{sa:?} {sb:?}");
    assert_eq!(sa.claimed + sb.claimed, 20, "{sa:?} {sb:?}");

    let got = read_maildir(&maildir);
    assert_eq!(got.len(), 20);
    let distinct: HashSet<&str> = got.iter().map(|m| m.message_id.as_str()).collect();
    assert_eq!(distinct.len(), 20);
    for id in ids {
        assert_eq!(
            get_mail(&db.pool, id).await.unwrap().unwrap().state,
            OutboxState::Sent
        );
    }
}

/// Three instances' workers on one queue: each round takes a whole batch of rows nobody else
/// holds, so every worker reports a full batch and goes straight on (instead of waiting a
/// poll interval after colliding with the others on the same rows).
async fn concurrent_workers_each_take_a_full_batch(db: TestDb) {
    let tmp = tempfile::tempdir().unwrap();
    for i in 0..30 {
        let mail = new_mail(
            MailKind::Issued,
            &format!("SW{i:014}"),
            &format!("c{i}@example.com"),
        );
        enqueue_committed(&db.pool, &mail, NOW).await;
    }
    let opts = mailer::WorkerOptions {
        batch_size: 10,
        ..options()
    };
    let mut workers = Vec::new();
    for w in 0..3 {
        let transport = mailer::MailTransport::Maildir {
            dir: tmp.path().join(format!("instance{w}")),
            from: mailer::default_from(),
        };
        workers.push(Worker::new(db.new_pool().await, transport, opts.clone()).unwrap());
    }
    let rounds: Vec<_> = workers
        .into_iter()
        .map(|w| tokio::spawn(async move { w.run_once(NOW).await.unwrap() }))
        .collect();
    let mut stats = Vec::new();
    for r in rounds {
        stats.push(r.await.unwrap());
    }
    for s in &stats {
        assert_eq!((s.claimed, s.sent), (10, 10), "{stats:?}");
    }
    let delivered: usize = (0..3)
        .map(|w| maildir_count(&tmp.path().join(format!("instance{w}"))))
        .sum();
    assert_eq!(delivered, 30);
    let pending = list_mail(&db.pool, Some(MailState::Pending)).await.unwrap();
    assert!(pending.is_empty(), "{pending:?}");
}

async fn maildir_transport_writes_parseable_files(db: TestDb) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("outbox");
    let transport = mailer::MailTransport::Maildir {
        dir: dir.clone(),
        from: mailer::default_from(),
    };
    let worker = Worker::new(db.pool.clone(), transport, options()).unwrap();
    let mail = new_mail(
        MailKind::Issued,
        "SW20261124000001",
        "contact@example.com.tw",
    );
    let id = enqueue_committed(&db.pool, &mail, NOW).await;
    assert_eq!(worker.run_once(NOW).await.unwrap().sent, 1);

    let got = read_maildir(&dir);
    assert_eq!(got.len(), 1);
    let m = &got[0];
    assert!(m.file.starts_with(dir.join("new")));
    assert_eq!(m.file.extension().and_then(|e| e.to_str()), Some("eml"));
    assert_eq!(m.subject, mail.rendered.subject);
    assert_eq!(m.to, "contact@example.com.tw");
    assert_eq!(m.body.trim_end(), mail.rendered.body_text.trim_end());
    assert_eq!(m.content_type, "text/plain; charset=utf-8");
    assert!(m.raw_is_ascii);
    assert_eq!(std::fs::read_dir(dir.join("tmp")).unwrap().count(), 0);

    // A resend of the same row (its `sent` mark lost) replaces the file, never adds one.
    sqlx::query("UPDATE mail_outbox SET state = 'pending' WHERE id = $1")
        .bind(id)
        .execute(&db.pool)
        .await
        .unwrap();
    assert_eq!(worker.run_once(at(1)).await.unwrap().sent, 1);
    assert_eq!(maildir_count(&dir), 1);
}

async fn run_loop_sends_when_woken_and_stops_on_shutdown(db: TestDb) {
    let tmp = tempfile::tempdir().unwrap();
    let maildir = tmp.path().join("mail");
    let smtp = SmtpServer::start(free_port(), &maildir).await;
    // Polling so rare that only the wake-up can explain a prompt delivery.
    let opts = mailer::WorkerOptions {
        poll_interval: std::time::Duration::from_secs(3600),
        ..options()
    };
    let worker = Worker::new(db.pool.clone(), smtp_transport(smtp.port), opts).unwrap();
    let wake = worker.notifier();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let handle = tokio::spawn(worker.run(async move {
        let _ = stop_rx.await;
    }));
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;

    let now = time::OffsetDateTime::now_utc();
    let id = enqueue_committed(
        &db.pool,
        &new_mail(MailKind::Paid, "SW1", "a@example.com"),
        now,
    )
    .await;
    wake.notify_one();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while maildir_count(&maildir) == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "not delivered after wake-up"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while get_mail(&db.pool, id).await.unwrap().unwrap().state != OutboxState::Sent {
        assert!(std::time::Instant::now() < deadline, "not marked sent");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }

    stop_tx.send(()).unwrap();
    tokio::time::timeout(std::time::Duration::from_secs(5), handle)
        .await
        .expect("run() did not stop on shutdown")
        .unwrap();
    assert_eq!(maildir_count(&maildir), 1);
}
