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
    /// Check the configuration without serving: database reachable and migrated, CA key
    /// loads, matches its certificate and signs, SMTP reachable, public URL and TLS sane.
    /// One line per check; exits non-zero when one fails.
    CheckConfig,
    /// Operator accounts.
    Operator {
        #[command(subcommand)]
        command: OperatorCommand,
    },
    /// Cancel applications unpaid after 14 days now, instead of waiting for the job.
    ExpireNow,
    /// The CA: an offline root and the portal's issuing CA (docs/OPERATIONS.md).
    Ca {
        #[command(subcommand)]
        command: CaCommand,
    },
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum KeyAlg {
    Rsa2048,
    Rsa3072,
    Rsa4096,
    P256,
}

impl From<KeyAlg> for ca::KeyAlgorithm {
    fn from(k: KeyAlg) -> Self {
        match k {
            KeyAlg::Rsa2048 => ca::KeyAlgorithm::Rsa(2048),
            KeyAlg::Rsa3072 => ca::KeyAlgorithm::Rsa(3072),
            KeyAlg::Rsa4096 => ca::KeyAlgorithm::Rsa(4096),
            KeyAlg::P256 => ca::KeyAlgorithm::EcP256,
        }
    }
}

#[derive(Subcommand)]
enum CaCommand {
    /// Make an offline root: an encrypted key and a self-signed certificate in a new
    /// directory (the passphrase from --passphrase-file or the first line of stdin).
    InitRoot {
        #[arg(long)]
        out: PathBuf,
        #[arg(long)]
        passphrase_file: Option<PathBuf>,
        #[arg(long, default_value = "Customs Single Window Root CA")]
        common_name: String,
        #[arg(long, default_value = "Customs Single Window")]
        organization: String,
        #[arg(long, default_value = "TW")]
        country: String,
        #[arg(long, default_value_t = 25)]
        years: u32,
        #[arg(long, value_enum, default_value = "rsa4096")]
        key_algorithm: KeyAlg,
    },
    /// Make the issuing CA's key where ca.key says (a file or a pkcs11: token; kept when it
    /// exists) and write its certificate request.
    IssuingCsr {
        #[arg(long)]
        out: PathBuf,
        #[arg(long, value_enum, default_value = "rsa3072")]
        key_algorithm: KeyAlg,
    },
    /// With the offline root: sign an issuing CA request (the root key's passphrase from
    /// --passphrase-file or the first line of stdin).
    SignIssuing {
        #[arg(long)]
        root: PathBuf,
        #[arg(long)]
        csr: PathBuf,
        #[arg(long)]
        out: PathBuf,
        #[arg(long, default_value_t = 10)]
        years: u32,
        #[arg(long)]
        passphrase_file: Option<PathBuf>,
    },
    /// Install the signed issuing CA certificate and the root into the configuration.
    InstallIssuing {
        #[arg(long)]
        cert: PathBuf,
        #[arg(long)]
        root: PathBuf,
        /// Replace an installed CA certificate and chain.
        #[arg(long)]
        replace: bool,
    },
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum RoleArg {
    /// Payments and bank file imports.
    Cashier,
    /// Holds (暫禁/解禁) and revocations (註銷).
    Officer,
    /// Reads only.
    Auditor,
    /// Everything.
    Admin,
}

impl From<RoleArg> for proto::OperatorRole {
    fn from(r: RoleArg) -> Self {
        match r {
            RoleArg::Cashier => Self::Cashier,
            RoleArg::Officer => Self::Officer,
            RoleArg::Auditor => Self::Auditor,
            RoleArg::Admin => Self::Admin,
        }
    }
}

#[derive(Subcommand)]
enum OperatorCommand {
    /// Add an operator; the password is read from the first line of standard input.
    Add {
        #[arg(long)]
        username: String,
        #[arg(long, value_enum, default_value = "admin")]
        role: RoleArg,
    },
    /// List operators with their role and whether they are disabled.
    List,
    /// Disable an operator; their sessions end at once.
    Disable {
        #[arg(long)]
        username: String,
    },
    /// Enable a disabled operator again.
    Enable {
        #[arg(long)]
        username: String,
    },
    /// Set an operator's password (first line of standard input); their sessions end.
    Passwd {
        #[arg(long)]
        username: String,
    },
}

fn password_from_stdin() -> Result<String, String> {
    let mut password = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut password)
        .map_err(|e| format!("reading the password from stdin: {e}"))?;
    Ok(password.trim_end_matches(['\r', '\n']).to_owned())
}

async fn run_operator(config: &Config, command: OperatorCommand) -> Result<(), String> {
    use server::auth::operators;
    let db = server::open_db(config).await.map_err(|e| e.to_string())?;
    let now = SystemClock.now();
    let cli = server::domain::Actor::System("cli");
    match command {
        OperatorCommand::Add { username, role } => {
            let password = password_from_stdin()?;
            operators::add(&db, &username, &password, role.into(), now)
                .await
                .map_err(|e| e.to_string())?;
            tracing::info!(%username, "operator added");
        }
        OperatorCommand::List => {
            for o in operators::list(&db).await.map_err(|e| e.to_string())? {
                let state = if o.disabled { "disabled" } else { "enabled" };
                let created = server::domain::rfc3339(o.created_at);
                println!("{}\t{}\t{state}\t{created}", o.username, o.role);
            }
        }
        OperatorCommand::Disable { username } => {
            let ended = operators::set_disabled(&db, &username, true, now)
                .await
                .map_err(|e| e.to_string())?;
            println!("{username} disabled; {ended} session(s) ended");
        }
        OperatorCommand::Enable { username } => {
            operators::set_disabled(&db, &username, false, now)
                .await
                .map_err(|e| e.to_string())?;
            println!("{username} enabled");
        }
        OperatorCommand::Passwd { username } => {
            let password = password_from_stdin()?;
            operators::set_password(&db, &cli, &username, &password, None, now)
                .await
                .map_err(|e| e.to_string())?;
            println!("password of {username} changed; their sessions ended");
        }
    }
    Ok(())
}

/// Human-readable lines, or with `PORTAL_LOG_FORMAT=json` one JSON object per line (for a
/// log collector), each carrying the fields of its request span (`request_id`, `route`).
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("PORTAL_LOG")
        .or_else(|_| tracing_subscriber::EnvFilter::try_from_default_env())
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let json = std::env::var("PORTAL_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json"));
    if json {
        tracing_subscriber::fmt()
            .json()
            .with_env_filter(filter)
            .with_current_span(true)
            .with_span_list(false)
            .init();
    } else {
        tracing_subscriber::fmt().with_env_filter(filter).init();
    }
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

fn run_ca(config: &Config, command: CaCommand) -> Result<(), String> {
    use server::ca_commands as cmd;
    let text = |p: &PathBuf| server::ca_setup::read(p).map_err(|e| e.to_string());
    let now = SystemClock.now();
    match command {
        CaCommand::InitRoot {
            out,
            passphrase_file,
            common_name,
            organization,
            country,
            years,
            key_algorithm,
        } => {
            let pass =
                cmd::passphrase_from(passphrase_file.as_deref()).map_err(|e| e.to_string())?;
            let opts = cmd::RootOptions {
                out: out.clone(),
                subject: ca::CaSubject {
                    common_name,
                    organization,
                    country,
                },
                years,
                algorithm: key_algorithm.into(),
            };
            let fp = cmd::init_root(&opts, &pass, now).map_err(|e| e.to_string())?;
            println!(
                "root written to {}; SHA-256 fingerprint {fp}",
                out.display()
            );
        }
        CaCommand::IssuingCsr { out, key_algorithm } => {
            let created =
                cmd::issuing_csr(config, &out, key_algorithm.into()).map_err(|e| e.to_string())?;
            let key = if created { "new key" } else { "existing key" };
            println!("issuing CA request ({key}) written to {}", out.display());
        }
        CaCommand::SignIssuing {
            root,
            csr,
            out,
            years,
            passphrase_file,
        } => {
            let pass =
                cmd::passphrase_from(passphrase_file.as_deref()).map_err(|e| e.to_string())?;
            let fp = cmd::sign_issuing(&root, &text(&csr)?, &out, years, &pass, now)
                .map_err(|e| e.to_string())?;
            println!(
                "issuing CA certificate written to {}; SHA-256 fingerprint {fp}",
                out.display()
            );
        }
        CaCommand::InstallIssuing {
            cert,
            root,
            replace,
        } => {
            let path = cmd::install_issuing(config, &text(&cert)?, &text(&root)?, replace)
                .map_err(|e| e.to_string())?;
            println!("issuing CA installed as {}", path.display());
        }
    }
    Ok(())
}

async fn run(cli: Cli) -> Result<(), String> {
    let config = Config::load(cli.config.as_deref()).map_err(|e| e.to_string())?;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Ca { command } => run_ca(&config, command),
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
        Command::CheckConfig => {
            let checks = server::check::run(&config).await;
            for c in &checks {
                println!("{c}");
            }
            let failed = checks
                .iter()
                .filter(|c| c.outcome == server::check::Outcome::Fail)
                .count();
            if failed > 0 {
                return Err(format!("{failed} check(s) failed"));
            }
            Ok(())
        }
        Command::Migrate => {
            server::open_db(&config).await.map_err(|e| e.to_string())?;
            tracing::info!("migrations applied");
            Ok(())
        }
        Command::Operator { command } => run_operator(&config, command).await,
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
