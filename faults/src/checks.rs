//! The invariants, read from the database and the SMTP sink after each round (and, for the
//! bank files, straight after each crash).

use std::collections::{BTreeMap, HashMap};

use anyhow::Result;
use sqlx::Row as _;

use crate::report::{Invariant, Totals};
use crate::{INVARIANTS, Run};

type Invariants = BTreeMap<&'static str, Invariant>;

fn inv<'a>(invs: &'a mut Invariants, name: &'static str) -> &'a mut Invariant {
    invs.entry(name).or_insert_with(|| Invariant::new(name))
}

const ONE_APP: &str = INVARIANTS[0];
const ONE_CERT: &str = INVARIANTS[1];
const SERIALS: &str = INVARIANTS[2];
const AUDIT: &str = INVARIANTS[3];
const MAIL: &str = INVARIANTS[4];
const PAYMENTS: &str = INVARIANTS[5];
const CLIENTS: &str = INVARIANTS[6];

struct AppState {
    status: String,
    app_type: String,
    bill_status: Option<String>,
}

fn issues_certificate(app_type: &str) -> bool {
    matches!(app_type, "new" | "modify" | "renew")
}

async fn applications(run: &Run) -> Result<BTreeMap<String, AppState>> {
    let rows = sqlx::query(
        "SELECT a.serial, a.status, a.app_type, b.status AS bill_status \
         FROM applications a LEFT JOIN bills b ON b.application_id = a.id",
    )
    .fetch_all(&run.db)
    .await?;
    let mut out = BTreeMap::new();
    for r in rows {
        out.insert(
            r.try_get::<String, _>("serial")?,
            AppState {
                status: r.try_get("status")?,
                app_type: r.try_get("app_type")?,
                bill_status: r.try_get("bill_status")?,
            },
        );
    }
    Ok(out)
}

/// application serial → (certificate serial, has DER) for every certificate row.
async fn certificates(run: &Run) -> Result<Vec<(String, String, bool)>> {
    let rows = sqlx::query(
        "SELECT a.serial, c.serial_hex, \
         CAST(CASE WHEN c.cert_der IS NULL THEN 0 ELSE 1 END AS BIGINT) AS has_der \
         FROM certificates c JOIN applications a ON a.id = c.application_id",
    )
    .fetch_all(&run.db)
    .await?;
    rows.iter()
        .map(|r| {
            Ok((
                r.try_get::<String, _>("serial")?,
                r.try_get::<String, _>("serial_hex")?.to_ascii_lowercase(),
                r.try_get::<i64, _>("has_der")? == 1,
            ))
        })
        .collect()
}

/// Straight after a crash (server down) or a refused file: each bank file's own bills are
/// all paid or all unpaid.
pub async fn all_or_nothing(run: &Run, file_ids: &[usize], invs: &mut Invariants) -> Result<()> {
    let rows = sqlx::query("SELECT bill_no, status FROM bills")
        .fetch_all(&run.db)
        .await?;
    let mut status: HashMap<String, String> = HashMap::new();
    for r in rows {
        status.insert(r.try_get("bill_no")?, r.try_get("status")?);
    }
    let i = inv(invs, PAYMENTS);
    for id in file_ids {
        let Some(f) = run.files.get(*id) else {
            continue;
        };
        let paid = f
            .bills
            .iter()
            .filter(|b| status.get(*b).map(String::as_str) == Some("paid"))
            .count();
        i.checked += 1;
        if paid != 0 && paid != f.bills.len() {
            i.fail(format!(
                "bank file #{id}: {paid} of {} bills paid after a crash or refusal",
                f.bills.len()
            ));
        }
    }
    Ok(())
}

pub async fn check_all(run: &Run, invs: &mut Invariants) -> Result<()> {
    let apps = applications(run).await?;
    let certs = certificates(run).await?;

    // Creation retried across kills: each harness company applied once (one key), so it has
    // exactly one application, recorded under one key, the one its client was answered with.
    {
        let rows = sqlx::query(
            "SELECT a.tax_id, a.serial, \
             (SELECT COUNT(*) FROM application_requests r WHERE r.application_id = a.id) AS n_keys \
             FROM applications a",
        )
        .fetch_all(&run.db)
        .await?;
        let mut by_company: HashMap<String, Vec<(String, i64)>> = HashMap::new();
        for r in rows {
            by_company
                .entry(r.try_get("tax_id")?)
                .or_default()
                .push((r.try_get("serial")?, r.try_get("n_keys")?));
        }
        let i = inv(invs, ONE_APP);
        for app in &run.apps {
            i.checked += 1;
            let found = by_company
                .get(&app.tax_id)
                .map(Vec::as_slice)
                .unwrap_or(&[]);
            match found {
                [(serial, 1)] if *serial == app.app_serial => {}
                [(serial, keys)] => i.fail(format!(
                    "{}: application {serial} under {keys} key(s), client was answered {}",
                    app.tax_id, app.app_serial
                )),
                many => i.fail(format!(
                    "{}: {} applications for one key ({:?})",
                    app.tax_id,
                    many.len(),
                    many.iter().map(|(s, _)| s.as_str()).collect::<Vec<_>>()
                )),
            }
        }
    }

    // One certificate per application, stored whole, only for completed applications.
    let mut cert_of: HashMap<&str, Vec<(&str, bool)>> = HashMap::new();
    for (app, serial, has_der) in &certs {
        cert_of
            .entry(app.as_str())
            .or_default()
            .push((serial.as_str(), *has_der));
    }
    {
        let i = inv(invs, ONE_CERT);
        for (serial, a) in &apps {
            i.checked += 1;
            let cs = cert_of
                .get(serial.as_str())
                .map(Vec::as_slice)
                .unwrap_or(&[]);
            let completed = a.status == "A0" && issues_certificate(&a.app_type);
            match (completed, cs) {
                (true, [(_, true)]) | (false, []) => {}
                (true, [(c, false)]) => i.fail(format!("{serial}: certificate {c} without DER")),
                (_, cs) => i.fail(format!(
                    "{serial}: status {} with {} certificate row(s)",
                    a.status,
                    cs.len()
                )),
            }
        }
    }

    // Serials unique.
    {
        let i = inv(invs, SERIALS);
        let mut seen: HashMap<&str, usize> = HashMap::new();
        for (_, s, _) in &certs {
            i.checked += 1;
            *seen.entry(s.as_str()).or_default() += 1;
        }
        for (s, n) in seen {
            if n > 1 {
                i.fail(format!("serial {s} used by {n} certificates"));
            }
        }
    }

    // Clients: every application the harness drove is completed, and every 200 it got
    // carried the certificate the database holds.
    {
        let observed = run.observed.lock().await;
        let i = inv(invs, CLIENTS);
        for app in &run.apps {
            i.checked += 1;
            let db_serial = cert_of
                .get(app.app_serial.as_str())
                .and_then(|v| v.first())
                .map(|(s, _)| *s);
            let got = observed.issued.get(&app.app_serial);
            match (db_serial, got) {
                (Some(d), Some(got)) if !got.is_empty() => {
                    if let Some(other) = got.iter().find(|g| g.as_str() != d) {
                        i.fail(format!(
                            "{}: client got certificate {other}, database holds {d}",
                            app.app_serial
                        ));
                    }
                }
                (None, _) => i.fail(format!("{}: no certificate stored", app.app_serial)),
                (Some(_), _) => i.fail(format!(
                    "{}: client never received its certificate",
                    app.app_serial
                )),
            }
        }
        for e in &observed.client_errors {
            if e.starts_with("reconciliation") {
                inv(invs, PAYMENTS).fail(e.clone());
            } else if e.starts_with("creation") {
                inv(invs, ONE_APP).fail(e.clone());
            } else {
                inv(invs, CLIENTS).fail(e.clone());
            }
        }
    }

    // Audit log: one row per state change and issuance.
    {
        let rows = sqlx::query(
            "SELECT application_serial, action, certificate_serial FROM audit_log \
             WHERE application_serial IS NOT NULL",
        )
        .fetch_all(&run.db)
        .await?;
        let mut counts: HashMap<(String, String), Vec<Option<String>>> = HashMap::new();
        for r in rows {
            counts
                .entry((r.try_get("application_serial")?, r.try_get("action")?))
                .or_default()
                .push(r.try_get::<Option<String>, _>("certificate_serial")?);
        }
        let i = inv(invs, AUDIT);
        for (serial, a) in &apps {
            i.checked += 1;
            let n = |action: &str| {
                counts
                    .get(&(serial.clone(), action.to_owned()))
                    .map(Vec::len)
                    .unwrap_or(0)
            };
            let paid = a.bill_status.as_deref() == Some("paid");
            let completed = a.status == "A0";
            for (action, want) in [
                ("application.submit", 1),
                ("payment.record", usize::from(paid)),
                ("certificate.issue", usize::from(completed)),
            ] {
                let got = n(action);
                if got != want {
                    i.fail(format!(
                        "{serial}: {got} `{action}` audit rows, expected {want}"
                    ));
                }
            }
            if completed {
                let audited = counts
                    .get(&(serial.clone(), "certificate.issue".to_owned()))
                    .and_then(|v| v.first().cloned().flatten())
                    .map(|s| s.to_ascii_lowercase());
                let stored = cert_of
                    .get(serial.as_str())
                    .and_then(|v| v.first())
                    .map(|(s, _)| s.to_string());
                if audited != stored {
                    i.fail(format!(
                        "{serial}: audit names certificate {audited:?}, database {stored:?}"
                    ));
                }
            }
        }
    }

    // Mail: one outbox row per (application, kind) the state calls for, sent, and exactly
    // one copy of it at the SMTP sink.
    {
        let rows =
            sqlx::query("SELECT message_id, application_serial, kind, state FROM mail_outbox")
                .fetch_all(&run.db)
                .await?;
        let mut by_event: HashMap<(String, String), Vec<(String, String)>> = HashMap::new();
        let mut event_of: HashMap<String, (String, String)> = HashMap::new();
        for r in rows {
            let mid = norm_mid(&r.try_get::<String, _>("message_id")?);
            let app: Option<String> = r.try_get("application_serial")?;
            let kind: String = r.try_get("kind")?;
            let state: String = r.try_get("state")?;
            let key = (app.unwrap_or_default(), kind);
            event_of.insert(mid.clone(), key.clone());
            by_event.entry(key).or_default().push((mid, state));
        }
        let mut copies: HashMap<String, usize> = HashMap::new();
        for mid in testkit::maildir::message_ids(&run.smtp.maildir)? {
            *copies.entry(norm_mid(&mid)).or_default() += 1;
        }
        let i = inv(invs, MAIL);
        let mut redelivered = 0u64;
        for (serial, a) in &apps {
            let paid = a.bill_status.as_deref() == Some("paid");
            for (kind, want) in [
                ("submitted", 1usize),
                ("paid", usize::from(paid)),
                ("issued", usize::from(a.status == "A0")),
            ] {
                i.checked += 1;
                let key = (serial.clone(), kind.to_owned());
                let rows = by_event.get(&key).map(Vec::as_slice).unwrap_or(&[]);
                if rows.len() != want {
                    i.fail(format!(
                        "{serial}/{kind}: {} outbox rows, expected {want}",
                        rows.len()
                    ));
                }
                let delivered: usize = rows
                    .iter()
                    .map(|(mid, _)| copies.get(mid).copied().unwrap_or(0))
                    .sum();
                // A second copy of the same Message-ID is the documented at-least-once
                // redelivery after a crash: counted below, bounded by the crashes.
                let distinct = rows
                    .iter()
                    .filter(|(mid, _)| copies.get(mid).copied().unwrap_or(0) > 0)
                    .count();
                if delivered > want {
                    redelivered += (delivered - want) as u64;
                }
                if distinct != want {
                    i.fail(format!(
                        "{serial}/{kind}: {distinct} distinct messages received by SMTP, expected {want}"
                    ));
                }
                for (mid, state) in rows {
                    if state != "sent" {
                        i.fail(format!("{serial}/{kind}: outbox row {mid} left {state}"));
                    }
                }
            }
        }
        let crashes = run.faults.kills_creation
            + run.faults.kills_issuance
            + run.faults.kills_reconciliation
            + run.faults.smtp_outages
            + run.faults.drain_restarts;
        if redelivered > crashes {
            i.fail(format!(
                "{redelivered} redelivered copies, more than the {crashes} crashes explain"
            ));
        }
        for mid in copies.keys() {
            if !event_of.contains_key(mid) {
                i.fail(format!("SMTP received {mid}, which is in no outbox row"));
            }
        }
    }

    // Every bank file ended up applied in full, through reconciliation.
    {
        let rows = sqlx::query("SELECT bill_no, status, paid_via FROM bills")
            .fetch_all(&run.db)
            .await?;
        let mut bills: HashMap<String, (String, Option<String>)> = HashMap::new();
        for r in rows {
            bills.insert(
                r.try_get("bill_no")?,
                (r.try_get("status")?, r.try_get("paid_via")?),
            );
        }
        let i = inv(invs, PAYMENTS);
        for (id, f) in run.files.iter().enumerate() {
            i.checked += 1;
            for b in &f.bills {
                match bills.get(b) {
                    Some((s, Some(via))) if s == "paid" && via == "reconciliation" => {}
                    other => i.fail(format!(
                        "bank file #{id}: bill {b} ended as {other:?}, expected paid via reconciliation"
                    )),
                }
            }
        }
    }
    Ok(())
}

fn norm_mid(s: &str) -> String {
    s.trim().trim_matches(['<', '>']).to_owned()
}

pub async fn totals(run: &Run) -> Result<Totals> {
    let count = |sql: &'static str| async move {
        sqlx::query_scalar::<_, i64>(sql)
            .fetch_one(&run.db)
            .await
            .map(|n| u64::try_from(n).unwrap_or(0))
    };
    let delivered = testkit::maildir::message_ids(&run.smtp.maildir)?;
    let distinct: std::collections::HashSet<&String> = delivered.iter().collect();
    Ok(Totals {
        applications: count("SELECT COUNT(*) FROM applications").await?,
        certificates: count("SELECT COUNT(*) FROM certificates").await?,
        audit_rows: count("SELECT COUNT(*) FROM audit_log").await?,
        outbox_rows: count("SELECT COUNT(*) FROM mail_outbox").await?,
        smtp_messages: delivered.len() as u64,
        smtp_duplicates: (delivered.len() - distinct.len()) as u64,
        bank_files: run.files.len() as u64,
        server_starts: u64::from(run.portal.starts),
    })
}
