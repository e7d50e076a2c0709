//! Runs a number of concurrent workers against a deadline and a request
//! budget, and gathers their latencies.

use std::{
    future::Future,
    sync::{
        atomic::{AtomicI64, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use hdrhistogram::Histogram;
use serde::Serialize;

/// What a scenario measured.
pub struct Stats {
    pub requests: u64,
    pub errors: u64,
    pub elapsed: Duration,
    /// Microseconds.
    pub latency: Histogram<u64>,
}

impl Stats {
    pub fn rps(&self) -> f64 {
        self.requests as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    pub fn ms(&self, quantile: f64) -> f64 {
        self.latency.value_at_quantile(quantile) as f64 / 1000.0
    }

    pub fn max_ms(&self) -> f64 {
        self.latency.max() as f64 / 1000.0
    }
}

/// The figures a table row shows, from either load generator.
#[derive(Serialize, Clone)]
pub struct Summary {
    pub requests: u64,
    pub errors: u64,
    pub rps: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

impl From<&Stats> for Summary {
    fn from(s: &Stats) -> Self {
        Summary {
            requests: s.requests,
            errors: s.errors,
            rps: s.rps(),
            p50_ms: s.ms(0.5),
            p99_ms: s.ms(0.99),
            max_ms: s.max_ms(),
        }
    }
}

/// Stops every worker at the deadline or when the budget is spent.
pub struct Budget {
    deadline: Instant,
    remaining: AtomicI64,
}

impl Budget {
    pub fn new(duration: Duration, max_requests: u64) -> Arc<Budget> {
        Arc::new(Budget {
            deadline: Instant::now() + duration,
            remaining: AtomicI64::new(max_requests as i64),
        })
    }

    fn take(&self) -> bool {
        Instant::now() < self.deadline && self.remaining.fetch_sub(1, Ordering::Relaxed) > 0
    }
}

/// Runs one worker per state: each calls `step(state)` (returning the next
/// state and whether the request succeeded) until the budget ends.
pub async fn drive<S, F, Fut>(budget: Arc<Budget>, states: Vec<S>, step: F) -> Stats
where
    S: Send + 'static,
    F: Fn(S) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = (S, bool)> + Send,
{
    let started = Instant::now();
    let workers: Vec<_> = states
        .into_iter()
        .map(|mut state| {
            let (budget, step) = (budget.clone(), step.clone());
            tokio::spawn(async move {
                let mut latency =
                    Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).expect("histogram bounds");
                let (mut requests, mut errors) = (0u64, 0u64);
                while budget.take() {
                    let sent = Instant::now();
                    let (next, ok) = step(state).await;
                    state = next;
                    let _ = latency.record(sent.elapsed().as_micros().max(1) as u64);
                    requests += 1;
                    errors += u64::from(!ok);
                }
                (latency, requests, errors)
            })
        })
        .collect();
    let mut stats = Stats {
        requests: 0,
        errors: 0,
        elapsed: Duration::ZERO,
        latency: Histogram::new_with_bounds(1, 60_000_000, 3).expect("histogram bounds"),
    };
    for worker in workers {
        let (latency, requests, errors) = worker.await.expect("worker");
        stats.latency.add(latency).expect("same bounds");
        stats.requests += requests;
        stats.errors += errors;
    }
    stats.elapsed = started.elapsed();
    stats
}
