//! Prometheus metrics (`prometheus-client`): request latency per route, certificates issued,
//! CSRs refused by reason, failed logins, and, read at scrape time from the database and the
//! pool, the mail queue and pool use. Served by `/metrics` on `server.metrics_bind` or, with
//! `server.metrics_token`, on the main address behind that bearer token.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::db::Db;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    pub method: String,
    /// The route pattern (`/api/applications/{serial}`), never the raw path: bounded.
    pub route: String,
    pub status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReasonLabels {
    pub reason: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct KindLabels {
    pub kind: String,
}

type Latency = Family<RouteLabels, Histogram, fn() -> Histogram>;

fn latency_histogram() -> Histogram {
    // 1 ms … ~16 s.
    Histogram::new(exponential_buckets(0.001, 2.0, 15))
}

pub struct Metrics {
    registry: Registry,
    pub requests: Latency,
    pub certificates_issued: Counter,
    pub csrs_refused: Family<ReasonLabels, Counter>,
    pub logins_failed: Family<KindLabels, Counter>,
    mail_pending: Gauge,
    mail_oldest_pending_age: Gauge,
    mail_failed: Gauge,
    db_pool_connections: Gauge,
    db_pool_idle: Gauge,
    db_pool_max: Gauge,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::default();
        let requests: Latency = Family::new_with_constructor(latency_histogram);
        registry.register(
            "portal_http_request_duration_seconds",
            "Time to answer an HTTP request, by route pattern, method and status",
            requests.clone(),
        );
        let certificates_issued = Counter::default();
        registry.register(
            "portal_certificates_issued",
            "Certificates signed and stored",
            certificates_issued.clone(),
        );
        let csrs_refused = Family::<ReasonLabels, Counter>::default();
        registry.register(
            "portal_csrs_refused",
            "Certificate requests refused, by reason",
            csrs_refused.clone(),
        );
        let logins_failed = Family::<KindLabels, Counter>::default();
        registry.register(
            "portal_logins_failed",
            "Failed or rate-limited logins, by kind (operator, card) and outcome",
            logins_failed.clone(),
        );
        let gauge = |registry: &mut Registry, name: &str, help: &str| {
            let g = Gauge::default();
            registry.register(name, help, g.clone());
            g
        };
        let mail_pending = gauge(
            &mut registry,
            "portal_mail_queue_depth",
            "Mails waiting to be sent or being sent",
        );
        let mail_oldest_pending_age = gauge(
            &mut registry,
            "portal_mail_oldest_pending_age_seconds",
            "Age of the oldest mail not yet sent (0 when none waits)",
        );
        let mail_failed = gauge(
            &mut registry,
            "portal_mail_failed",
            "Mails given up as failed (an operator can retry them)",
        );
        let db_pool_connections = gauge(
            &mut registry,
            "portal_db_pool_connections",
            "Open database connections of this instance",
        );
        let db_pool_idle = gauge(
            &mut registry,
            "portal_db_pool_idle_connections",
            "Idle database connections of this instance",
        );
        let db_pool_max = gauge(
            &mut registry,
            "portal_db_pool_max_connections",
            "The pool's connection limit",
        );
        Metrics {
            registry,
            requests,
            certificates_issued,
            csrs_refused,
            logins_failed,
            mail_pending,
            mail_oldest_pending_age,
            mail_failed,
            db_pool_connections,
            db_pool_idle,
            db_pool_max,
        }
    }

    pub fn observe_request(&self, method: &str, route: &str, status: u16, seconds: f64) {
        self.requests
            .get_or_create(&RouteLabels {
                method: method.to_owned(),
                route: route.to_owned(),
                status: status.to_string(),
            })
            .observe(seconds);
    }

    pub fn csr_refused(&self, reason: &str) {
        self.csrs_refused
            .get_or_create(&ReasonLabels {
                reason: reason.to_owned(),
            })
            .inc();
    }

    pub fn login_failed(&self, kind: &str) {
        self.logins_failed
            .get_or_create(&KindLabels {
                kind: kind.to_owned(),
            })
            .inc();
    }

    /// The text exposition, after reading the gauges that live in the database and the pool.
    pub async fn render(&self, db: &Db, now: i64) -> String {
        match mailer::queue_stats(&db.pool, now).await {
            Ok(q) => {
                self.mail_pending.set(q.pending);
                self.mail_oldest_pending_age.set(q.oldest_pending_age_secs);
                self.mail_failed.set(q.failed);
            }
            Err(e) => tracing::warn!(error = %e, "metrics: mail queue not readable"),
        }
        self.db_pool_connections.set(i64::from(db.pool.size()));
        self.db_pool_idle
            .set(i64::try_from(db.pool.num_idle()).unwrap_or(i64::MAX));
        self.db_pool_max
            .set(i64::from(db.pool.options().get_max_connections()));
        let mut out = String::new();
        if let Err(e) = prometheus_client::encoding::text::encode(&mut out, &self.registry) {
            tracing::warn!(error = %e, "metrics: encoding failed");
        }
        out
    }
}

/// The label of a refused CSR: the kind of refusal, never the CSR's content.
pub fn csr_reason(e: &ca::CsrError) -> &'static str {
    match e {
        ca::CsrError::Parse(_) => "parse",
        ca::CsrError::BadSignature => "bad_signature",
        ca::CsrError::Algorithm(_) => "algorithm",
        ca::CsrError::KeyType(_) => "key_type",
        ca::CsrError::KeySize(_) => "key_size",
        ca::CsrError::Exponent => "exponent",
        ca::CsrError::WeakKey(_) => "weak_key",
    }
}
