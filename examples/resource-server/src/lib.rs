//! A service that accepts the auth server's access tokens without calling
//! it for each request: it verifies them against the auth server's JWK Set.

pub mod jwks;
pub mod routes;
pub mod settings;
pub mod verify;

use std::{future::Future, net::SocketAddr, sync::Arc, time::Duration};

use tokio::net::TcpListener;

use crate::{
    jwks::{Audience, JwksCache},
    routes::AppState,
    settings::Settings,
};

/// How long a request to the auth server may take.
const AUTH_SERVER_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("cannot build the HTTP client: {0}")]
    Client(#[from] reqwest::Error),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

/// A bound, ready-to-run service.
pub struct App {
    listener: TcpListener,
    router: axum::Router,
    pub jwks: Arc<JwksCache>,
}

impl App {
    /// Fetches the JWK Set once (a failure is logged, and retried on the
    /// first token) and binds `settings.listen` (port 0 picks a free port).
    pub async fn build(settings: Settings) -> Result<Self, StartupError> {
        let http = reqwest::Client::builder()
            .timeout(AUTH_SERVER_TIMEOUT)
            .build()?;
        let audience = Audience {
            issuer: settings.issuer.clone(),
            audience: settings.audience.clone(),
        };
        let jwks = Arc::new(JwksCache::new(
            http.clone(),
            &settings.auth_url,
            audience,
            settings.jwks_min_refetch,
        ));
        jwks.refetch().await;
        let listener =
            TcpListener::bind(settings.listen)
                .await
                .map_err(|source| StartupError::Bind {
                    addr: settings.listen,
                    source,
                })?;
        let router = routes::router(AppState {
            jwks: jwks.clone(),
            http,
            validate_url: format!("{}/api/auth/validate", settings.auth_url),
        });
        Ok(App {
            listener,
            router,
            jwks,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    /// Serves until `shutdown` resolves.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        tracing::info!(addr = %self.local_addr(), "listening");
        axum::serve(self.listener, self.router)
            .with_graceful_shutdown(shutdown)
            .await
    }
}
