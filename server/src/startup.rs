//! Building the application from a [`Config`]; `main` and the tests share it.

use std::{future::Future, net::SocketAddr, sync::Arc, time::Duration};

use axum_server::{tls_rustls::RustlsConfig, Handle};
use hyper_util::{rt::TokioExecutor, server::conn::auto::Builder as HttpBuilder};

use leptos::config::LeptosOptions;
use tokio::{net::TcpListener, task::JoinHandle};

use crate::{
    auth::{AuthError, AuthService, Clock},
    config::Config,
    db::Db,
    http::{self, extract::ClientAddresses},
    mail::{self, Postman, Transport},
    maintenance,
    metrics::Metrics,
    state::{AppState, Services},
    store::{RedisStore, Stores},
};

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    Db(#[from] crate::db::DbError),
    #[error("REDIS_URL: {0}")]
    Redis(#[from] redis::RedisError),
    #[error("cannot set up authentication: {0}")]
    Auth(#[from] AuthError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("TLS_CERT/TLS_KEY: {0}")]
    Tls(std::io::Error),
    #[error("{0}")]
    Mail(String),
}

/// A bound, ready-to-run server.
pub struct Application {
    listener: TcpListener,
    tls: Option<RustlsConfig>,
    router: axum::Router,
    pub state: AppState,
    /// The outbox worker and the upkeep loops: they stop with the server.
    background: Vec<JoinHandle<()>>,
}

impl Application {
    /// Connects the stores, migrates, and binds `config.http.addr` (port 0 picks a free port).
    pub async fn build(config: Config) -> Result<Self, StartupError> {
        Self::build_with_clock(config, Clock::system()).await
    }

    /// Like [`Application::build`], with a clock the caller can move (tests).
    pub async fn build_with_clock(config: Config, clock: Clock) -> Result<Self, StartupError> {
        let db = Db::connect(&config.database.url, config.database.max_connections).await?;
        let redis = match &config.database.redis_url {
            Some(url) => Some(RedisStore::connect(url, &config.database.redis_key_prefix)?),
            None => None,
        };
        let listener = TcpListener::bind(config.http.addr)
            .await
            .map_err(|source| StartupError::Bind {
                addr: config.http.addr,
                source,
            })?;
        let tls = match &config.http.tls {
            Some(files) => Some(
                RustlsConfig::from_pem_file(&files.cert, &files.key)
                    .await
                    .map_err(StartupError::Tls)?,
            ),
            None => None,
        };
        let metrics = Metrics::new();
        let stores = Stores::open(&db, redis.as_ref(), &config, &clock);
        let auth = AuthService::new(
            &config,
            db.clone(),
            &stores,
            redis.as_ref(),
            clock.clone(),
            metrics.clone(),
        )?;
        let mut background = vec![postman(&config, &auth, clock, metrics.clone())?.spawn()];
        let state = AppState::new(Services {
            leptos_options: leptos_options(&config),
            client_addresses: ClientAddresses::new(config.http.trusted_proxies.clone()),
            config: Arc::new(config),
            db,
            redis,
            auth,
            metrics,
            stores,
        });
        background.extend(maintenance::spawn(&state));
        let router = http::router(state.clone());
        Ok(Application {
            listener,
            tls,
            router,
            state,
            background,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    /// Serves (HTTPS when TLS files are configured) until `shutdown`
    /// resolves, then lets in-flight requests finish within the request timeout.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let config = &self.state.config;
        tracing::info!(
            addr = %self.local_addr(),
            tls = self.tls.is_some(),
            backend = ?self.state.db.backend,
            redis = self.state.redis.is_some(),
            // Public: the kid names the key, and tells nothing of it.
            signing = ?config.tokens.keys.signing.algorithm,
            kid = %config.tokens.keys.signing.kid,
            verifying_keys = config.tokens.keys.verifying.len(),
            "listening"
        );
        let grace = config.http.request_timeout;
        let handle = Handle::new();
        let stopper = handle.clone();
        tokio::spawn(async move {
            shutdown.await;
            stopper.graceful_shutdown(Some(grace));
        });
        let service = self
            .router
            .into_make_service_with_connect_info::<SocketAddr>();
        let listener = self.listener.into_std()?;
        let served = match self.tls {
            Some(tls) => {
                let mut server = axum_server::from_tcp_rustls(listener, tls)?.handle(handle);
                limit_slow_clients(server.http_builder(), grace);
                server.serve(service).await
            }
            None => {
                let mut server = axum_server::from_tcp(listener)?.handle(handle);
                limit_slow_clients(server.http_builder(), grace);
                server.serve(service).await
            }
        };
        for task in self.background {
            task.abort();
        }
        served
    }
}

/// The outbox worker: through the relay of `SMTP_URL`, or into files.
fn postman(
    config: &Config,
    auth: &AuthService,
    clock: Clock,
    metrics: Metrics,
) -> Result<Postman, StartupError> {
    let transport = Transport::new(config.mail.smtp.as_ref(), mail::files_dir(&config.data_dir))
        .map_err(|e| StartupError::Mail(format!("SMTP_URL: {e}")))?;
    if transport.is_files() {
        tracing::info!(dir = %mail::files_dir(&config.data_dir).display(), "no SMTP_URL: mails are written as files");
    }
    Ok(Postman {
        outbox: auth.outbox().clone(),
        log_links: transport.is_files() && !config.is_production(),
        transport,
        composer: Arc::new(auth.clone()),
        from: config
            .mail
            .from
            .parse()
            .map_err(|e| StartupError::Mail(format!("MAIL_FROM: {e}")))?,
        clock,
        metrics,
    })
}

/// A client that trickles its headers in holds a connection without ever
/// reaching the request timeout, which starts once the headers are read.
fn limit_slow_clients(builder: &mut HttpBuilder<TokioExecutor>, timeout: Duration) {
    builder
        .http1()
        .header_read_timeout(Some(timeout.min(Duration::from_secs(10))));
}

fn leptos_options(config: &Config) -> LeptosOptions {
    // cargo-leptos writes hash.txt beside the binary when it hashes the asset names.
    let hashed = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|dir| dir.join("hash.txt").exists()))
        .unwrap_or(false);
    LeptosOptions::builder()
        .output_name(config.site.output_name.as_str())
        .site_root(config.site.root.as_str())
        .site_pkg_dir(config.site.pkg_dir.as_str())
        .site_addr(config.http.addr)
        .reload_port(config.site.reload_port)
        .hash_files(hashed)
        .build()
}
