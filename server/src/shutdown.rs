//! Graceful shutdown on SIGINT or SIGTERM.

use std::future::Future;

use tokio::signal::unix::{signal as on, Signal, SignalKind};

/// Listens for SIGINT and SIGTERM from the moment it is called (before the
/// port opens, so a signal sent right after start-up is not missed), and
/// returns a future that resolves on the first of them.
pub fn signal() -> impl Future<Output = ()> + Send + 'static {
    let listen = |kind: SignalKind, name: &'static str| {
        on(kind)
            .map_err(|e| tracing::error!(error = %e, "cannot listen for {name}"))
            .ok()
    };
    let interrupt = listen(SignalKind::interrupt(), "SIGINT");
    let terminate = listen(SignalKind::terminate(), "SIGTERM");
    async move {
        tokio::select! {
            () = received(interrupt) => {}
            () = received(terminate) => {}
        }
        tracing::info!("shutdown requested: finishing in-flight requests");
    }
}

async fn received(signal: Option<Signal>) {
    match signal {
        Some(mut signal) => {
            signal.recv().await;
        }
        None => std::future::pending().await,
    }
}
