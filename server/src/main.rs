//! `portal`: the server (`serve`, the default), database migrations, operator accounts and a
//! one-off run of the expiry job.

use std::io::BufRead as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use server::clock::{Clock, SystemClock};
use server::config::Config;

#[derive(Parser)]
#[command(name = "portal", about = "Customs Single Window certificate portal")]
struct Cli {
    /// Configuration file (default: $PORTAL_CONFIG, else built-in defaults + PORTAL_* env).
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP server and background jobs (default).
    Serve,
    /// Apply database migrations and exit.
    Migrate,
    /// Operator accounts.
    Operator {
        #[command(subcommand)]
        command: OperatorCommand,
    },
    /// Cancel applications unpaid after 14 days now, instead of waiting for the job.
    ExpireNow,
}

#[derive(Subcommand)]
enum OperatorCommand {
    /// Add an operator; the password is read from the first line of standard input.
    Add {
        #[arg(long)]
        username: String,
    },
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("PORTAL_LOG")
        .or_else(|_| tracing_subscriber::EnvFilter::try_from_default_env())
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt().with_env_filter(filter).init();
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down");
}

async fn run(cli: Cli) -> Result<(), String> {
    let config = Config::load(cli.config.as_deref()).map_err(|e| e.to_string())?;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            let bind = config.bind;
            let public = config.public_url();
            let built = server::build(config, Arc::new(SystemClock))
                .await
                .map_err(|e| e.to_string())?;
            let listener = tokio::net::TcpListener::bind(bind)
                .await
                .map_err(|e| format!("bind {bind}: {e}"))?;
            tracing::info!(%bind, %public, "portal listening");
            server::serve(listener, built, shutdown_signal())
                .await
                .map_err(|e| e.to_string())
        }
        Command::Migrate => {
            server::open_db(&config).await.map_err(|e| e.to_string())?;
            tracing::info!("migrations applied");
            Ok(())
        }
        Command::Operator {
            command: OperatorCommand::Add { username },
        } => {
            let db = server::open_db(&config).await.map_err(|e| e.to_string())?;
            let mut password = String::new();
            std::io::stdin()
                .lock()
                .read_line(&mut password)
                .map_err(|e| format!("reading the password from stdin: {e}"))?;
            let password = password.trim_end_matches(['\r', '\n']);
            server::auth::operators::add(&db, &username, password, SystemClock.now())
                .await
                .map_err(|e| e.to_string())?;
            tracing::info!(%username, "operator added");
            Ok(())
        }
        Command::ExpireNow => {
            let built = server::build(
                Config {
                    mail_worker: false,
                    ..config
                },
                Arc::new(SystemClock),
            )
            .await
            .map_err(|e| e.to_string())?;
            let cancelled = server::domain::expiry::run(&built.state.svc, SystemClock.now())
                .await
                .map_err(|e| e.to_string())?;
            tracing::info!(count = cancelled.len(), "expiry run finished");
            for s in cancelled {
                println!("{s}");
            }
            Ok(())
        }
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    init_logging();
    let cli = Cli::parse();
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e}");
            eprintln!("portal: {e}");
            ExitCode::FAILURE
        }
    }
}
