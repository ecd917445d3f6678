//! The portal's server: JSON API over SQLite or PostgreSQL, the local CA, background jobs.
//!
//! [`build`] opens the database (running migrations), loads or creates the CA, makes sure a
//! CRL exists and returns the router with its state; [`Background`] runs the expiry job,
//! session housekeeping and the mail worker; [`serve`] runs the HTTP server until shutdown.

pub mod auth;
pub mod ca_commands;
pub mod ca_setup;
pub mod check;
pub mod clock;
pub mod config;
pub mod db;
pub mod domain;
pub mod error;
pub mod http;
pub mod metrics;
pub mod ocsp_setup;
pub mod state;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::{Notify, watch};

use crate::auth::rate_limit::LoginLimiter;
use crate::clock::Clock;
use crate::config::Config;
use crate::db::Db;
use crate::domain::Services;
use crate::state::{App, AppState};

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("{0}")]
    Config(#[from] config::ConfigError),
    #[error("{0}")]
    Db(#[from] db::DbError),
    #[error("{0}")]
    Ca(#[from] ca_setup::CaSetupError),
    #[error("CA profile: {0}")]
    Profile(String),
    #[error("card login trust roots: {0}")]
    CardTrust(String),
    #[error("mail: {0}")]
    Mail(#[from] mailer::MailError),
    #[error("CRL: {0}")]
    Crl(#[from] domain::DomainError),
    #[error("data directory {0}: {1}")]
    DataDir(String, std::io::Error),
}

/// The CA profile from the configuration and the public URL.
pub fn profile(config: &Config) -> ca::Profile {
    let base = config.public_url();
    ca::Profile {
        validity_days: config.ca.validity_days,
        crl_url: format!("{base}/crl/ca.crl"),
        ca_issuers_url: format!("{base}/ca.cer"),
        ocsp_url: Some(format!("{base}/ocsp")),
        crl_validity_hours: config.ca.crl_validity_hours,
        allow_ec_p256: config.ca.allow_ec_p256,
    }
}

fn host_of(url: &str) -> String {
    let rest = url.split_once("://").map(|(_, r)| r).unwrap_or(url);
    let host_port = rest.split('/').next().unwrap_or(rest);
    host_port
        .rsplit_once(':')
        .map(|(h, _)| h)
        .unwrap_or(host_port)
        .to_owned()
}

/// Open the database and migrate it.
pub async fn open_db(config: &Config) -> Result<Db, StartError> {
    std::fs::create_dir_all(&config.data_dir)
        .map_err(|e| StartError::DataDir(config.data_dir.display().to_string(), e))?;
    let timeout = Duration::from_secs(config.server.database_connect_timeout_secs);
    let db = Db::connect_with_retry(&config.database_url(), timeout).await?;
    db.migrate().await?;
    Ok(db)
}

/// Everything `serve` needs: the router and its state, and the background jobs to start.
pub struct Built {
    pub router: Router,
    pub state: AppState,
    pub background: Background,
}

pub async fn build(config: Config, clock: Arc<dyn Clock>) -> Result<Built, StartError> {
    config.validate()?;
    let db = open_db(&config).await?;
    let ca = ca_setup::load_or_create(&config, clock.now())?;
    let responder = ocsp_setup::load_or_issue(&config, &ca, clock.now())?;
    let card_trust = auth::card::load_trust(&config.auth).map_err(StartError::CardTrust)?;
    let worker = if config.mail_worker {
        Some(mailer::Worker::new(
            db.pool.clone(),
            config.mail_transport(),
            mailer::WorkerOptions::default(),
        )?)
    } else {
        None
    };
    let mail_wake = worker
        .as_ref()
        .map(mailer::Worker::notifier)
        .unwrap_or_else(|| Arc::new(Notify::new()));
    let svc = Services {
        db,
        ca_fingerprint: ca_setup::fingerprint(&ca),
        ca: Arc::new(ca),
        profile: profile(&config),
        portal_url: config.public_url(),
        mail_domain: host_of(&config.public_url()),
        applications_per_day: config.server.applications_per_company_per_day,
        metrics: Arc::new(metrics::Metrics::new()),
        ocsp: domain::ocsp::Ocsp::new(
            responder,
            config.ca.ocsp_validity_hours,
            config.ca.ocsp_sign_per_second,
            clock.now(),
        ),
    };
    let limiter = LoginLimiter::new(&config.auth);
    let trusted_proxies = config.server.proxies()?;
    let state: AppState = Arc::new(App {
        svc,
        config,
        clock,
        limiter,
        trusted_proxies,
        instance: instance_name(),
        mail_wake,
        card_trust,
    });
    // Serve a CRL from the first request on, signed by the CA we run with now.
    domain::crl::current(&state.svc, state.now()).await?;
    // And an OCSP answer for every certificate (those issued before, or gone stale while
    // the portal was down).
    domain::ocsp::refresh_due(&state.svc, state.now()).await?;
    if state.config.auth.dev_login {
        tracing::warn!("the development login is ENABLED (auth.dev_login); never in production");
    }
    let now = state.now();
    let ca_end = state.svc.ca.not_after();
    if ca_end <= now + time::Duration::days(i64::from(state.svc.profile.validity_days)) {
        // Certificates are then cut short at the CA's end (and none is issued after it).
        tracing::warn!(
            ca_not_after = %ca_end,
            validity_days = state.svc.profile.validity_days,
            "the CA certificate expires before a certificate issued now would; install a new CA"
        );
    }
    Ok(Built {
        router: http::router(state.clone()),
        background: Background {
            state: state.clone(),
            worker,
        },
        state,
    })
}

/// The jobs that run beside the HTTP server.
pub struct Background {
    state: AppState,
    worker: Option<mailer::Worker>,
}

impl Background {
    /// Start the jobs; they stop when `stop` turns true.
    pub fn spawn(self, stop: watch::Receiver<bool>) -> Vec<tokio::task::JoinHandle<()>> {
        let mut handles = Vec::new();
        if let Some(worker) = self.worker {
            let mut stop = stop.clone();
            // The worker compares due times with the clock that stamped them (the state's,
            // which tests and demos move), not with the system clock.
            let state = self.state.clone();
            handles.push(tokio::spawn(worker.run_with_clock(
                move || state.now(),
                async move {
                    let _ = stop.wait_for(|s| *s).await.map(drop);
                },
            )));
        }
        let secs = self.state.config.expiry_interval_secs;
        if secs > 0 {
            let state = self.state.clone();
            let mut stop = stop.clone();
            handles.push(tokio::spawn(async move {
                let mut tick = tokio::time::interval(Duration::from_secs(secs));
                tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                loop {
                    let stopped = tokio::select! {
                        r = stop.wait_for(|s| *s) => { drop(r); true }
                        _ = tick.tick() => false,
                    };
                    if stopped {
                        break;
                    }
                    run_jobs_once(&state).await;
                }
                // Hand the jobs to another instance now rather than when the lease runs out.
                if let Ok(mut conn) = state.svc.db.conn().await {
                    let _ = db::leases::release(&mut conn, JOBS_LEASE, &state.instance).await;
                }
            }));
        }
        handles
    }
}

/// The name of the lease on the periodic jobs: one instance at a time runs them.
pub const JOBS_LEASE: &str = "periodic-jobs";

/// `host:pid:random`, unique among the instances sharing a database.
fn instance_name() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .unwrap_or_else(|_| "host".into());
    let mut b = [0u8; 4];
    let _ = getrandom::fill(&mut b);
    format!("{host}:{}:{}", std::process::id(), domain::hex(&b))
}

/// One round of the periodic jobs if this instance holds (or now takes) their lease; the
/// lease lasts a few rounds, so a crashed holder's jobs move to another instance soon.
/// Returns whether this instance ran them.
pub async fn run_jobs_once(state: &AppState) -> bool {
    let now = state.now();
    let secs = i64::try_from(state.config.expiry_interval_secs.max(1)).unwrap_or(60);
    let t = now.unix_timestamp();
    let held = match state.svc.db.conn().await {
        Ok(mut conn) => {
            db::leases::acquire(&mut conn, JOBS_LEASE, &state.instance, t, t + 3 * secs).await
        }
        Err(e) => Err(e),
    };
    match held {
        Ok(true) => {
            run_jobs(state, now).await;
            true
        }
        Ok(false) => false,
        Err(e) => {
            tracing::warn!(error = %e, "could not take the periodic jobs' lease");
            false
        }
    }
}

/// The periodic jobs at `now`: expiry of unpaid applications, session and rate-limit
/// housekeeping, OCSP upkeep. Callers hold the jobs' lease (or are the only instance).
pub async fn run_jobs(state: &AppState, now: time::OffsetDateTime) {
    renew_ocsp(state, now).await;
    match domain::expiry::run(&state.svc, now).await {
        Ok(cancelled) if !cancelled.is_empty() => state.mail_queued(),
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "expiry job failed"),
    }
    run_lifecycle_jobs(state, now).await;
    if let Err(e) = auth::sessions::purge(&state.svc.db, &state.config.auth, now).await {
        tracing::warn!(error = %e, "session purge failed");
    }
    if let Err(e) = state
        .limiter
        .purge(&state.svc.db, now.unix_timestamp())
        .await
    {
        tracing::warn!(error = %e, "rate-limit purge failed");
    }
}

/// The certificate lifecycle jobs (renewal grace, expiry reminders, personal-data retention),
/// each a function of `now` and its `[lifecycle]` setting.
pub async fn run_lifecycle_jobs(state: &AppState, now: time::OffsetDateTime) {
    let l = &state.config.lifecycle;
    match domain::renewal::run(&state.svc, l.renewal_grace_days, now).await {
        Ok(done) if !done.is_empty() => state.mail_queued(),
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "renewal job failed"),
    }
    match domain::reminders::run(&state.svc, &l.reminder_days, now).await {
        Ok(done) if !done.is_empty() => state.mail_queued(),
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "expiry reminder job failed"),
    }
    if let Err(e) = domain::retention::run(&state.svc, l.personal_data_retention_days, now).await {
        tracing::warn!(error = %e, "personal-data retention job failed");
    }
}

/// Renews the OCSP responder certificate when it nears its end, then re-signs the answers
/// that are due (all of them after a renewal is not needed: the old ones stay valid).
pub async fn renew_ocsp(state: &AppState, now: time::OffsetDateTime) {
    let svc = &state.svc;
    if ocsp_setup::due(&state.config, &svc.ocsp.current().responder, now) {
        // Opening a token key blocks.
        let (config, ca) = (state.config.clone(), svc.ca.clone());
        let renewed =
            tokio::task::spawn_blocking(move || ocsp_setup::load_or_issue(&config, &ca, now)).await;
        match renewed {
            Ok(Ok(r)) => svc.ocsp.replace_responder(r),
            Ok(Err(e)) => tracing::warn!(error = %e, "OCSP responder renewal failed"),
            Err(e) => tracing::warn!(error = %e, "OCSP responder renewal task failed"),
        }
    }
    if let Err(e) = domain::ocsp::refresh_due(svc, now).await {
        tracing::warn!(error = %e, "OCSP refresh failed");
    }
}

/// Serve until `shutdown` resolves (then background jobs are told to stop too).
pub async fn serve(
    listener: TcpListener,
    built: Built,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let (stop_tx, stop_rx) = watch::channel(false);
    // Metrics and readiness on their own, private address, when configured.
    let admin = match built.state.config.server.metrics_bind {
        Some(addr) => {
            let admin_listener = TcpListener::bind(addr).await?;
            tracing::info!(%addr, "metrics and readiness listening");
            let router = http::ops::admin_router(built.state.clone());
            let mut stop = stop_rx.clone();
            Some(tokio::spawn(async move {
                let _ = axum::serve(admin_listener, router)
                    .with_graceful_shutdown(async move {
                        let _ = stop.wait_for(|s| *s).await.map(drop);
                    })
                    .await;
            }))
        }
        None => None,
    };
    let jobs = built.background.spawn(stop_rx);
    let app = built
        .router
        .into_make_service_with_connect_info::<SocketAddr>();
    let result = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await;
    let _ = stop_tx.send(true);
    for j in jobs.into_iter().chain(admin) {
        let _ = j.await;
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profile_urls_come_from_the_public_url() {
        let c = Config {
            public_url: Some("https://portal.example.gov.tw/".into()),
            ..Config::default()
        };
        let p = profile(&c);
        assert_eq!(p.crl_url, "https://portal.example.gov.tw/crl/ca.crl");
        assert_eq!(p.ca_issuers_url, "https://portal.example.gov.tw/ca.cer");
        assert_eq!(
            p.ocsp_url.as_deref(),
            Some("https://portal.example.gov.tw/ocsp")
        );
        assert_eq!(
            host_of("https://portal.example.gov.tw:8443/x"),
            "portal.example.gov.tw"
        );
        assert_eq!(host_of("http://127.0.0.1:8080"), "127.0.0.1");
    }
}
