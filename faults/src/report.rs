//! Counts and results, printed as plain text.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::time::Duration;

#[derive(Debug, Clone, Default)]
pub struct FaultCounts {
    pub kills_creation: u64,
    /// Kills that hit at least one application creation still waiting for its answer.
    pub kills_creation_in_flight: u64,
    /// Creation retries answered with the application an unanswered earlier try had made.
    pub creation_replays: u64,
    pub kills_issuance: u64,
    /// Kills that hit at least one CSR submit still waiting for its answer.
    pub kills_issuance_in_flight: u64,
    pub kills_reconciliation: u64,
    /// Kills that cut off at least one reconciliation import before it answered.
    pub kills_reconciliation_in_flight: u64,
    pub smtp_outages: u64,
    /// `pg_terminate_backend` rounds (PostgreSQL only) and connections they ended.
    pub db_terminations: u64,
    pub db_connections_terminated: u64,
    /// Mail rows left 'sending' by the live server after a lost connection, and the extra
    /// restarts that stood in for waiting out their 5-minute lease.
    pub mail_stuck_in_lease: u64,
    pub drain_restarts: u64,
    /// `--instances N`: portals on the database; the SIGKILLs hit one of them while the
    /// others serve (clients fail over).
    pub instances: u64,
    /// `--pg-restart`: PostgreSQL itself restarted while requests were in flight.
    pub pg_restarts: u64,
    /// Client requests that got no answer, or a 5xx, and were retried.
    pub no_answer: u64,
    pub server_errors: u64,
    pub retries: u64,
}

#[derive(Debug, Clone, Default)]
pub struct Totals {
    pub applications: u64,
    pub certificates: u64,
    pub audit_rows: u64,
    pub outbox_rows: u64,
    pub smtp_messages: u64,
    /// Copies beyond the first of one Message-ID at the SMTP sink.
    pub smtp_duplicates: u64,
    pub bank_files: u64,
    pub server_starts: u64,
}

#[derive(Debug, Clone)]
pub struct Invariant {
    pub name: &'static str,
    /// Individual checks performed (items × rounds).
    pub checked: u64,
    pub violations: BTreeSet<String>,
}

impl Invariant {
    pub fn new(name: &'static str) -> Invariant {
        Invariant {
            name,
            checked: 0,
            violations: BTreeSet::new(),
        }
    }

    pub fn fail(&mut self, what: String) {
        self.violations.insert(what);
    }
}

#[derive(Debug, Clone)]
pub struct BackendReport {
    pub backend: &'static str,
    pub rounds: u32,
    pub faults: FaultCounts,
    pub totals: Totals,
    pub invariants: Vec<Invariant>,
    pub elapsed: Duration,
}

#[derive(Debug, Clone)]
pub struct Report {
    pub seed: u64,
    pub backends: Vec<BackendReport>,
    pub elapsed: Duration,
}

impl Report {
    pub fn violations(&self) -> usize {
        self.backends
            .iter()
            .flat_map(|b| &b.invariants)
            .map(|i| i.violations.len())
            .sum()
    }

    pub fn render(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "fault injection, seed {}", self.seed);
        for b in &self.backends {
            let f = &b.faults;
            let t = &b.totals;
            let _ = writeln!(
                s,
                "\n== {} : {} rounds in {:.0} s",
                b.backend,
                b.rounds,
                b.elapsed.as_secs_f64()
            );
            let _ = writeln!(s, "faults injected:");
            let _ = writeln!(
                s,
                "  SIGKILL during creation          {:>5}  ({} with creations in flight; {} retries answered by the key)",
                f.kills_creation, f.kills_creation_in_flight, f.creation_replays
            );
            let _ = writeln!(
                s,
                "  SIGKILL during issuance          {:>5}  ({} with CSR submits in flight)",
                f.kills_issuance, f.kills_issuance_in_flight
            );
            let _ = writeln!(
                s,
                "  SIGKILL during reconciliation    {:>5}  ({} cut off an import)",
                f.kills_reconciliation, f.kills_reconciliation_in_flight
            );
            let _ = writeln!(
                s,
                "  SMTP server outages              {:>5}",
                f.smtp_outages
            );
            if f.instances > 1 {
                let _ = writeln!(
                    s,
                    "  instances serving                {:>5}  (each SIGKILL hits one; clients fail over to the others)",
                    f.instances
                );
            }
            if f.pg_restarts > 0 {
                let _ = writeln!(
                    s,
                    "  PostgreSQL restarts mid-load     {:>5}  (the portals reconnect without a restart)",
                    f.pg_restarts
                );
            }
            if b.backend == "postgres" {
                let _ = writeln!(
                    s,
                    "  DB connections terminated        {:>5}  (in {} pg_terminate_backend rounds)",
                    f.db_connections_terminated, f.db_terminations
                );
            } else {
                let _ = writeln!(
                    s,
                    "  DB connection loss               (SQLite is in-process: covered by the kills)"
                );
            }
            if f.drain_restarts > 0 {
                let _ = writeln!(
                    s,
                    "  mail rows stuck in 'sending'     {:>5}  (lease stand-in: {} extra SIGKILL+restart)",
                    f.mail_stuck_in_lease, f.drain_restarts
                );
            }
            let _ = writeln!(
                s,
                "  client requests retried          {:>5}  ({} without answer, {} with 5xx)",
                f.retries, f.no_answer, f.server_errors
            );
            let _ = writeln!(
                s,
                "work done: {} applications, {} certificates, {} bank files, {} audit rows, \
                 {} mails queued, {} received by SMTP ({} duplicate copies), {} server starts",
                t.applications,
                t.certificates,
                t.bank_files,
                t.audit_rows,
                t.outbox_rows,
                t.smtp_messages,
                t.smtp_duplicates,
                t.server_starts
            );
            let _ = writeln!(s, "invariants:");
            for i in &b.invariants {
                let verdict = if i.violations.is_empty() {
                    "ok".to_owned()
                } else {
                    format!("{} VIOLATIONS", i.violations.len())
                };
                let _ = writeln!(s, "  {:<56} {:>6} checks  {verdict}", i.name, i.checked);
                for v in i.violations.iter().take(20) {
                    let _ = writeln!(s, "      - {v}");
                }
            }
        }
        let _ = writeln!(
            s,
            "\ntotal: {} invariant violations, {:.0} s",
            self.violations(),
            self.elapsed.as_secs_f64()
        );
        s
    }
}
