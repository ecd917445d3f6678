//! What every handler shares.

use std::sync::Arc;

use time::OffsetDateTime;
use tokio::sync::Notify;

use crate::auth::rate_limit::LoginLimiter;
use crate::clock::Clock;
use crate::config::Config;
use crate::domain::Services;

pub struct App {
    pub svc: Services,
    pub config: Config,
    pub clock: Arc<dyn Clock>,
    /// Login and challenge limits; their counts are in the database (shared by instances).
    pub limiter: LoginLimiter,
    /// `server.trusted_proxies`, parsed.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// This process among the instances on the database (the holder name of job leases).
    pub instance: String,
    /// Wakes the mail worker after a commit that queued mail.
    pub mail_wake: Arc<Notify>,
    /// Roots, revocation mode and CRL source for IC-card login; `None` turns card login off.
    pub card_trust: Option<crate::auth::card::CardTrust>,
}

pub type AppState = Arc<App>;

impl App {
    pub fn now(&self) -> OffsetDateTime {
        self.clock.now()
    }

    pub fn mail_queued(&self) {
        self.mail_wake.notify_one();
    }
}
