use std::process::ExitCode;

use card_bridge::card::pcsc_reader::PcscReader;
use card_bridge::cli::{Cli, Command, print_list};
use card_bridge::http::{self, origin::AllowedOrigins};
use clap::Parser;
use tracing_subscriber::EnvFilter;

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_env_filter(
            EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| EnvFilter::new("card_bridge=info")),
        )
        .init();
    match cli.command {
        Command::List => {
            let mut reader = PcscReader::new();
            match print_list(&mut reader, &mut std::io::stdout()) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("card-bridge: {e}");
                    ExitCode::from(2)
                }
            }
        }
        Command::Serve { allow_origin, port } => match serve(&allow_origin, port) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("card-bridge: {e}");
                ExitCode::from(1)
            }
        },
    }
}

fn serve(allow_origin: &[String], port: u16) -> Result<(), Box<dyn std::error::Error>> {
    let allowed = AllowedOrigins::parse(allow_origin)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        // Loopback only: the bridge must never be reachable from the network.
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
        let bound = listener.local_addr()?;
        // On stdout, one line, so scripts and tests can pick up the port.
        println!("card-bridge listening on http://{bound}");
        tracing::info!(origins = ?allowed.as_slice(), "allowed portal origins");
        http::serve(
            listener,
            Box::new(PcscReader::new()),
            allowed,
            shutdown_signal(),
        )
        .await?;
        Ok(())
    })
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
