//! How the server meets the network: address, TLS, proxies, CORS, limits,
//! and the site cargo-leptos built.

use std::{
    net::{IpAddr, SocketAddr},
    path::PathBuf,
    time::Duration,
};

use ipnet::IpNet;

use super::vars::{bad, ConfigError, Vars};
use crate::secret::Secret;

#[derive(Clone, Debug)]
pub struct HttpSettings {
    /// `LEPTOS_SITE_ADDR` (port 0 picks a free port).
    pub addr: SocketAddr,
    /// Peers whose `X-Forwarded-For` is believed (`TRUSTED_PROXIES`).
    pub trusted_proxies: Vec<IpNet>,
    /// Serve HTTPS with this certificate chain and key (`TLS_CERT`, `TLS_KEY`).
    pub tls: Option<TlsFiles>,
    /// Browser origins allowed to call the API from other sites (`CORS_ORIGINS`).
    pub cors_origins: Vec<String>,
    /// The longest a request may take, body included (`REQUEST_TIMEOUT`).
    pub request_timeout: Duration,
    /// Requests per second and burst per client on the auth endpoints that
    /// take a password or a refresh token; `None` turns the limit off.
    pub auth_rate_limit: Option<RateLimit>,
    /// `GET /metrics` is served only with this bearer secret (`METRICS_TOKEN`).
    pub metrics_token: Option<Secret>,
}

/// PEM files of the certificate chain and its private key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateLimit {
    pub per_second: u32,
    pub burst: u32,
}

impl HttpSettings {
    pub fn from_vars(vars: &Vars) -> Result<Self, ConfigError> {
        let trusted_proxies = vars.list("TRUSTED_PROXIES", |s| {
            s.parse::<IpNet>()
                .or_else(|_| s.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| format!("`{s}` is not an IP address or CIDR range"))
        })?;
        let tls = match (
            vars.existing_file("TLS_CERT")?,
            vars.existing_file("TLS_KEY")?,
        ) {
            (None, None) => None,
            (Some(cert), Some(key)) => Some(TlsFiles { cert, key }),
            (Some(_), None) => return Err(bad("TLS_KEY", "must be set with TLS_CERT")),
            (None, Some(_)) => return Err(bad("TLS_CERT", "must be set with TLS_KEY")),
        };
        let cors_origins = vars.list("CORS_ORIGINS", |origin| {
            let valid = (origin.starts_with("https://") || origin.starts_with("http://"))
                && !origin.ends_with('/')
                && origin.parse::<axum::http::HeaderValue>().is_ok();
            if valid {
                Ok(origin.to_string())
            } else {
                Err(format!(
                    "`{origin}` is not an origin like https://app.example.com"
                ))
            }
        })?;
        let per_second: u32 = vars.parse(
            "AUTH_RATE_PER_SECOND",
            "10",
            "a whole number of requests (0 turns the limit off)",
        )?;
        let auth_rate_limit = match per_second {
            0 => None,
            per_second => Some(RateLimit {
                per_second,
                burst: vars.positive("AUTH_RATE_BURST", "30")?,
            }),
        };
        let metrics_token = match vars.get("METRICS_TOKEN") {
            None => None,
            Some(t) if t.len() >= 16 => Some(Secret::from(t.as_bytes().to_vec())),
            Some(_) => return Err(bad("METRICS_TOKEN", "must be at least 16 characters long")),
        };
        Ok(HttpSettings {
            addr: vars.parse(
                "LEPTOS_SITE_ADDR",
                "127.0.0.1:3000",
                "an address like 127.0.0.1:3000",
            )?,
            trusted_proxies,
            tls,
            cors_origins,
            request_timeout: vars.seconds("REQUEST_TIMEOUT", "30", 1)?,
            auth_rate_limit,
            metrics_token,
        })
    }
}

/// Where cargo-leptos put the site, and what it named the files
/// (`LEPTOS_SITE_ROOT`, `LEPTOS_SITE_PKG_DIR`, `LEPTOS_OUTPUT_NAME`,
/// `LEPTOS_RELOAD_PORT`).
#[derive(Clone, Debug)]
pub struct SiteSettings {
    pub root: String,
    pub pkg_dir: String,
    pub output_name: String,
    /// Live-reload port of `cargo leptos watch`.
    pub reload_port: u32,
}

impl SiteSettings {
    pub fn from_vars(vars: &Vars) -> Result<Self, ConfigError> {
        Ok(SiteSettings {
            root: vars
                .get("LEPTOS_SITE_ROOT")
                .unwrap_or("target/site")
                .to_string(),
            pkg_dir: vars.get("LEPTOS_SITE_PKG_DIR").unwrap_or("pkg").to_string(),
            output_name: vars
                .get("LEPTOS_OUTPUT_NAME")
                .or(option_env!("LEPTOS_OUTPUT_NAME"))
                .unwrap_or("auth")
                .to_string(),
            reload_port: vars.parse("LEPTOS_RELOAD_PORT", "3001", "a port number")?,
        })
    }
}
