//! `faults`: fault injection against the real `portal` binary, with a report (see
//! RELIABILITY.md and scripts/faults.sh).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use faults::{Backend, Options};

#[derive(Parser)]
#[command(
    name = "faults",
    about = "Crash, cut off and restart the portal; check invariants"
)]
struct Cli {
    /// The portal binary (default: `portal` next to this executable).
    #[arg(long)]
    portal: Option<PathBuf>,
    /// Rounds per backend (default: as many as fit in --seconds).
    #[arg(long)]
    rounds: Option<u32>,
    /// Time budget per backend when --rounds is not given.
    #[arg(long, default_value_t = 140)]
    seconds: u64,
    /// Applications per round.
    #[arg(long, default_value_t = 16)]
    apps: usize,
    /// `sqlite`, `postgres` or `both`.
    #[arg(long, default_value = "both")]
    backend: String,
    #[arg(long)]
    seed: Option<u64>,
    /// Keep the work directory (server and SMTP logs, maildir).
    #[arg(long)]
    keep: bool,
    /// PostgreSQL: run this many `portal serve` processes on the database; clients send to
    /// them round robin and fail over; SIGKILLs hit one while the others serve.
    #[arg(long, default_value_t = 1)]
    instances: usize,
    /// PostgreSQL: a shell command that restarts the database server (e.g.
    /// `pg_ctlcluster 15 main restart`), run once per round while CSR submits are in flight.
    #[arg(long)]
    pg_restart: Option<String>,
    #[arg(long, short)]
    verbose: bool,
}

fn default_portal() -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|p| p.parent().map(|d| d.join("portal")))
        .unwrap_or_else(|| PathBuf::from("portal"))
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let mut opts = Options::new(cli.portal.unwrap_or_else(default_portal));
    opts.backends = match cli.backend.as_str() {
        "sqlite" => vec![Backend::Sqlite],
        "postgres" => vec![Backend::Postgres],
        "both" => vec![Backend::Sqlite, Backend::Postgres],
        other => {
            eprintln!("faults: unknown backend {other} (sqlite, postgres, both)");
            return ExitCode::from(2);
        }
    };
    opts.rounds = cli.rounds;
    opts.seconds_per_backend = cli.seconds;
    opts.apps_per_round = cli.apps.max(2);
    opts.keep = cli.keep;
    opts.instances = cli.instances.max(1);
    opts.pg_restart = cli.pg_restart;
    opts.verbose = cli.verbose;
    if let Some(s) = cli.seed {
        opts.seed = s;
    }
    match faults::run(&opts).await {
        Ok(report) => {
            print!("{}", report.render());
            if report.violations() == 0 {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(e) => {
            eprintln!("faults: {e:#}");
            ExitCode::from(2)
        }
    }
}
