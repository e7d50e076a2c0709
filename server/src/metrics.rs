//! Counters and histograms for Prometheus, one registry per server (tests run
//! several in one process). `GET /metrics` renders them in the text format.

use std::sync::Arc;

use axum::http::StatusCode;

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, Opts, Registry, TextEncoder,
};

use app::api::AuditKind;

#[derive(Clone)]
pub struct Metrics(Arc<Inner>);

struct Inner {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    auth_events: IntCounterVec,
    bcrypt_queue_depth: IntGauge,
    mails: IntCounterVec,
}

/// What became of a mail the outbox worker took up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MailOutcome {
    /// Handed to the relay, or written to its file.
    Sent,
    /// The relay failed; it is tried again later.
    Retried,
    /// Nothing left to say (the account changed or went since).
    Dropped,
    /// Failed for a day, or refused for good: logged as an error.
    GivenUp,
}

impl MailOutcome {
    const ALL: [MailOutcome; 4] = [
        MailOutcome::Sent,
        MailOutcome::Retried,
        MailOutcome::Dropped,
        MailOutcome::GivenUp,
    ];

    fn as_str(self) -> &'static str {
        match self {
            MailOutcome::Sent => "sent",
            MailOutcome::Retried => "retried",
            MailOutcome::Dropped => "dropped",
            MailOutcome::GivenUp => "given_up",
        }
    }
}

/// Latency buckets in seconds: validation is sub-millisecond, a login is a
/// bcrypt hash (a quarter of a second at cost 12) plus its queue.
const LATENCY_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

impl Metrics {
    pub fn new() -> Self {
        let registry = Registry::new();
        let requests = IntCounterVec::new(
            Opts::new(
                "http_requests_total",
                "HTTP requests answered, by route and status.",
            ),
            &["method", "route", "status"],
        )
        .expect("valid metric");
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "http_request_duration_seconds",
                "Time from request to response headers, by route.",
            )
            .buckets(LATENCY_BUCKETS.to_vec()),
            &["method", "route"],
        )
        .expect("valid metric");
        let auth_events = IntCounterVec::new(
            Opts::new(
                "auth_events_total",
                "Auth events (the kinds of the audit log): logins succeeded and failed, \
                 refreshes, refresh reuse detected, revocations, lockouts, ...",
            ),
            &["event"],
        )
        .expect("valid metric");
        let bcrypt_queue_depth = IntGauge::new(
            "bcrypt_queue_depth",
            "Password hashes waiting for a free core.",
        )
        .expect("valid metric");
        let mails = IntCounterVec::new(
            Opts::new(
                "mails_total",
                "Mails the outbox worker took up, by what became of them.",
            ),
            &["outcome"],
        )
        .expect("valid metric");
        for outcome in MailOutcome::ALL {
            mails.with_label_values(&[outcome.as_str()]);
        }
        for collector in [
            Box::new(requests.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(latency.clone()),
            Box::new(auth_events.clone()),
            Box::new(bcrypt_queue_depth.clone()),
            Box::new(mails.clone()),
        ] {
            registry.register(collector).expect("unique metric names");
        }
        // Every kind is listed from the start, so a rate over zero is zero, not absent.
        for kind in AuditKind::ALL {
            auth_events.with_label_values(&[kind.as_str()]);
        }
        Metrics(Arc::new(Inner {
            registry,
            requests,
            latency,
            auth_events,
            bcrypt_queue_depth,
            mails,
        }))
    }

    /// `route` is the route's pattern (`/api/admin/users/{id}/role`), never
    /// the raw path, so the number of series stays bounded.
    pub fn observe_request(&self, method: &str, route: &str, status: StatusCode, seconds: f64) {
        let me = &self.0;
        me.requests
            .with_label_values(&[method, route, status.as_str()])
            .inc();
        me.latency
            .with_label_values(&[method, route])
            .observe(seconds);
    }

    pub fn auth_event(&self, kind: AuditKind) {
        self.0.auth_events.with_label_values(&[kind.as_str()]).inc();
    }

    pub fn mail(&self, outcome: MailOutcome) {
        self.0.mails.with_label_values(&[outcome.as_str()]).inc();
    }

    pub fn bcrypt_queue_depth(&self) -> IntGauge {
        self.0.bcrypt_queue_depth.clone()
    }

    /// The Prometheus text exposition format (version 0.0.4).
    pub fn render(&self) -> (String, String) {
        let encoder = TextEncoder::new();
        let mut out = Vec::new();
        encoder
            .encode(&self.0.registry.gather(), &mut out)
            .expect("writing to a Vec cannot fail");
        (
            encoder.format_type().to_string(),
            String::from_utf8(out).expect("the text format is UTF-8"),
        )
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_the_text_format_with_every_auth_event_kind() {
        let metrics = Metrics::new();
        metrics.observe_request("GET", "/api/auth/me", StatusCode::OK, 0.002);
        metrics.auth_event(AuditKind::LoginFailed);
        let (content_type, text) = metrics.render();
        assert!(content_type.starts_with("text/plain; version=0.0.4"));
        assert!(text
            .contains(r#"http_requests_total{method="GET",route="/api/auth/me",status="200"} 1"#));
        assert!(text.contains(r#"auth_events_total{event="login_failed"} 1"#));
        assert!(text.contains(r#"auth_events_total{event="lockout"} 0"#));
        assert!(text.contains("bcrypt_queue_depth 0"));
        assert!(text.contains(r#"mails_total{outcome="retried"} 0"#));
        assert!(text.contains(
            r#"http_request_duration_seconds_bucket{method="GET",route="/api/auth/me",le="0.0025"} 1"#
        ));
    }
}
