//! Typed configuration, read once at start-up from the environment and from a
//! `.env` file (the environment wins). Every problem is one line that names the
//! variable; `main` prints it and exits with code 2.

use std::{
    collections::HashMap,
    net::{IpAddr, SocketAddr},
    path::PathBuf,
    time::Duration,
};

use ipnet::IpNet;

use crate::secret::{self, Secret};

#[derive(Debug, thiserror::Error)]
#[error("{variable}: {problem}")]
pub struct ConfigError {
    pub variable: &'static str,
    pub problem: String,
}

fn bad(variable: &'static str, problem: impl Into<String>) -> ConfigError {
    ConfigError {
        variable,
        problem: problem.into(),
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AppEnv {
    Development,
    Production,
}

/// HMAC algorithms the server signs and accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JwtAlgorithm {
    HS256,
    HS384,
    HS512,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// Every setting of the server. Tests build one directly.
#[derive(Clone, Debug)]
pub struct Config {
    pub app_env: AppEnv,
    pub site_addr: SocketAddr,
    /// Where cargo-leptos put the site (`LEPTOS_SITE_ROOT`, `LEPTOS_SITE_PKG_DIR`).
    pub site_root: String,
    pub site_pkg_dir: String,
    /// Base name of the JS/WASM/CSS files (`LEPTOS_OUTPUT_NAME`).
    pub output_name: String,
    /// Live-reload port of `cargo leptos watch` (`LEPTOS_RELOAD_PORT`).
    pub reload_port: u32,
    pub database_url: String,
    /// PostgreSQL connections per process (`DATABASE_MAX_CONNECTIONS`).
    pub database_max_connections: u32,
    pub redis_url: Option<String>,
    /// Prefix of every Redis key, so several deployments (or tests) can share one Redis.
    pub redis_key_prefix: String,
    pub data_dir: PathBuf,
    pub jwt_secret: Secret,
    pub jwt_algorithm: JwtAlgorithm,
    pub jwt_issuer: String,
    pub jwt_audience: String,
    /// Clock skew tolerated on `exp` and `nbf`.
    pub jwt_leeway: Duration,
    pub access_token_ttl: Duration,
    pub refresh_token_ttl: Duration,
    pub refresh_reuse_grace: Duration,
    pub bcrypt_cost: u32,
    pub lockout_threshold: u32,
    pub lockout_window: Duration,
    pub lockout_ip_threshold: u32,
    pub trusted_proxies: Vec<IpNet>,
    pub log_format: LogFormat,
    /// Serve HTTPS with this certificate chain and key (`TLS_CERT`, `TLS_KEY`).
    pub tls: Option<TlsFiles>,
    /// Browser origins allowed to call the API from other sites (`CORS_ORIGINS`).
    pub cors_origins: Vec<String>,
    /// The longest a request may take, body included (`REQUEST_TIMEOUT`).
    pub request_timeout: Duration,
    /// Requests per second and burst per client IP on the auth endpoints
    /// that take a password or a refresh token; `None` turns the limit off.
    pub auth_rate_limit: Option<RateLimit>,
    /// `GET /metrics` is served only with this bearer secret (`METRICS_TOKEN`).
    pub metrics_token: Option<Secret>,
    /// How long audit events are kept (`AUDIT_RETENTION_DAYS`); `None` keeps them forever.
    pub audit_retention: Option<Duration>,
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

impl Config {
    /// Reads `.env` (when present) and the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        let mut vars: HashMap<String, String> = HashMap::new();
        match dotenvy::from_filename_iter(".env") {
            Ok(iter) => {
                for item in iter {
                    let (k, v) =
                        item.map_err(|e| bad("(.env)", format!("cannot parse .env: {e}")))?;
                    vars.insert(k, v);
                }
            }
            Err(e) if e.not_found() => {}
            Err(e) => return Err(bad("(.env)", format!("cannot read .env: {e}"))),
        }
        vars.extend(std::env::vars());
        Self::from_vars(&vars)
    }

    /// Builds the configuration from a map of variables (the environment in production).
    pub fn from_vars(vars: &HashMap<String, String>) -> Result<Self, ConfigError> {
        let get = |name: &str| vars.get(name).map(|v| v.trim()).filter(|v| !v.is_empty());

        let app_env = match get("APP_ENV").unwrap_or("development") {
            "development" => AppEnv::Development,
            "production" => AppEnv::Production,
            other => {
                return Err(bad(
                    "APP_ENV",
                    format!("must be `development` or `production`, not `{other}`"),
                ))
            }
        };
        let site_addr = parse::<SocketAddr>(
            get,
            "LEPTOS_SITE_ADDR",
            "127.0.0.1:3000",
            "an address like 127.0.0.1:3000",
        )?;
        let database_url = get("DATABASE_URL")
            .unwrap_or("sqlite://data/auth.db")
            .to_string();
        if !(database_url.starts_with("sqlite:")
            || database_url.starts_with("postgres://")
            || database_url.starts_with("postgresql://"))
        {
            return Err(bad(
                "DATABASE_URL",
                "must start with `sqlite:` or `postgres://`",
            ));
        }
        // More connections than the cores can serve only make them contend:
        // on 2 cores, 4 connections rotated refresh tokens 10-20 % faster
        // than 16, with a p99 of 8-9 ms instead of 11.
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let database_max_connections =
            positive(get, "DATABASE_MAX_CONNECTIONS", &(2 * cores).to_string())?;
        let redis_url = get("REDIS_URL").map(str::to_string);
        if let Some(url) = &redis_url {
            if !(url.starts_with("redis://")
                || url.starts_with("rediss://")
                || url.starts_with("redis+unix://")
                || url.starts_with("unix://"))
            {
                return Err(bad(
                    "REDIS_URL",
                    "must start with `redis://` or `rediss://`",
                ));
            }
        }
        let redis_key_prefix = get("REDIS_KEY_PREFIX").unwrap_or("auth:").to_string();
        let data_dir = PathBuf::from(get("DATA_DIR").unwrap_or("data"));

        let jwt_secret = match get("JWT_SECRET") {
            Some(s) if s.len() >= secret::MIN_LEN => Secret::from(s.as_bytes().to_vec()),
            Some(_) => {
                return Err(bad(
                    "JWT_SECRET",
                    format!("must be at least {} bytes long", secret::MIN_LEN),
                ))
            }
            None if app_env == AppEnv::Production => {
                return Err(bad("JWT_SECRET", "must be set when APP_ENV=production"));
            }
            None => secret::load_or_generate(&data_dir.join("jwt-secret")).map_err(|e| {
                bad(
                    "JWT_SECRET",
                    format!(
                        "unset, and the development secret in {} is unusable: {e}",
                        data_dir.display()
                    ),
                )
            })?,
        };
        let jwt_algorithm = match get("JWT_ALGORITHM").unwrap_or("HS256") {
            "HS256" => JwtAlgorithm::HS256,
            "HS384" => JwtAlgorithm::HS384,
            "HS512" => JwtAlgorithm::HS512,
            other => {
                return Err(bad(
                    "JWT_ALGORITHM",
                    format!("must be HS256, HS384 or HS512, not `{other}`"),
                ))
            }
        };
        let log_format = match get("LOG_FORMAT").unwrap_or("text") {
            "text" => LogFormat::Text,
            "json" => LogFormat::Json,
            other => {
                return Err(bad(
                    "LOG_FORMAT",
                    format!("must be `text` or `json`, not `{other}`"),
                ))
            }
        };
        let bcrypt_cost = parse::<u32>(get, "BCRYPT_COST", "12", "a whole number from 4 to 31")?;
        if !(4..=31).contains(&bcrypt_cost) {
            return Err(bad(
                "BCRYPT_COST",
                format!("must be from 4 to 31, not {bcrypt_cost}"),
            ));
        }
        let trusted_proxies = match get("TRUSTED_PROXIES") {
            None => Vec::new(),
            Some(list) => list
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| {
                    s.parse::<IpNet>()
                        .or_else(|_| s.parse::<IpAddr>().map(IpNet::from))
                        .map_err(|_| {
                            bad(
                                "TRUSTED_PROXIES",
                                format!("`{s}` is not an IP address or CIDR range"),
                            )
                        })
                })
                .collect::<Result<_, _>>()?,
        };

        let tls_cert = get("TLS_CERT")
            .map(|path| existing_file("TLS_CERT", path))
            .transpose()?;
        let tls_key = get("TLS_KEY")
            .map(|path| existing_file("TLS_KEY", path))
            .transpose()?;
        let tls = match (tls_cert, tls_key) {
            (None, None) => None,
            (Some(cert), Some(key)) => Some(TlsFiles { cert, key }),
            (Some(_), None) => return Err(bad("TLS_KEY", "must be set with TLS_CERT")),
            (None, Some(_)) => return Err(bad("TLS_CERT", "must be set with TLS_KEY")),
        };
        let cors_origins = match get("CORS_ORIGINS") {
            None => Vec::new(),
            Some(list) => list
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|origin| {
                    let valid = (origin.starts_with("https://") || origin.starts_with("http://"))
                        && !origin.ends_with('/')
                        && origin.parse::<axum::http::HeaderValue>().is_ok();
                    if valid {
                        Ok(origin.to_string())
                    } else {
                        Err(bad(
                            "CORS_ORIGINS",
                            format!("`{origin}` is not an origin like https://app.example.com"),
                        ))
                    }
                })
                .collect::<Result<_, _>>()?,
        };
        let auth_rate_per_second: u32 = parse(
            get,
            "AUTH_RATE_PER_SECOND",
            "10",
            "a whole number of requests (0 turns the limit off)",
        )?;
        let auth_rate_limit = match auth_rate_per_second {
            0 => None,
            per_second => Some(RateLimit {
                per_second,
                burst: positive(get, "AUTH_RATE_BURST", "30")?,
            }),
        };
        let metrics_token = match get("METRICS_TOKEN") {
            None => None,
            Some(t) if t.len() >= 16 => Some(Secret::from(t.as_bytes().to_vec())),
            Some(_) => return Err(bad("METRICS_TOKEN", "must be at least 16 characters long")),
        };

        Ok(Config {
            app_env,
            site_addr,
            site_root: get("LEPTOS_SITE_ROOT").unwrap_or("target/site").to_string(),
            site_pkg_dir: get("LEPTOS_SITE_PKG_DIR").unwrap_or("pkg").to_string(),
            output_name: get("LEPTOS_OUTPUT_NAME")
                .or(option_env!("LEPTOS_OUTPUT_NAME"))
                .unwrap_or("auth")
                .to_string(),
            reload_port: parse(get, "LEPTOS_RELOAD_PORT", "3001", "a port number")?,
            database_url,
            database_max_connections,
            redis_url,
            redis_key_prefix,
            data_dir,
            jwt_secret,
            jwt_algorithm,
            jwt_issuer: get("JWT_ISSUER")
                .unwrap_or("PersonalManagerAPI")
                .to_string(),
            jwt_audience: get("JWT_AUDIENCE")
                .unwrap_or("PersonalManagerClient")
                .to_string(),
            jwt_leeway: seconds(get, "JWT_LEEWAY", "5", 0)?,
            access_token_ttl: seconds(get, "ACCESS_TOKEN_TTL", "3600", 1)?,
            refresh_token_ttl: seconds(get, "REFRESH_TOKEN_TTL", "604800", 1)?,
            refresh_reuse_grace: seconds(get, "REFRESH_REUSE_GRACE", "5", 0)?,
            bcrypt_cost,
            lockout_threshold: positive(get, "LOCKOUT_THRESHOLD", "5")?,
            lockout_window: seconds(get, "LOCKOUT_WINDOW", "900", 1)?,
            lockout_ip_threshold: positive(get, "LOCKOUT_IP_THRESHOLD", "50")?,
            trusted_proxies,
            log_format,
            tls,
            cors_origins,
            request_timeout: seconds(get, "REQUEST_TIMEOUT", "30", 1)?,
            auth_rate_limit,
            metrics_token,
            audit_retention: match parse::<u64>(
                get,
                "AUDIT_RETENTION_DAYS",
                "365",
                "a whole number of days (0 keeps events forever)",
            )? {
                0 => None,
                days if days > 100 * 365 => {
                    return Err(bad("AUDIT_RETENTION_DAYS", "must be at most 36500 days"))
                }
                days => Some(Duration::from_secs(days * 86_400)),
            },
        })
    }

    pub fn is_production(&self) -> bool {
        self.app_env == AppEnv::Production
    }
}

fn parse<'a, T: std::str::FromStr>(
    get: impl Fn(&str) -> Option<&'a str>,
    name: &'static str,
    default: &str,
    expected: &str,
) -> Result<T, ConfigError> {
    let raw = get(name).unwrap_or(default);
    raw.parse()
        .map_err(|_| bad(name, format!("`{raw}` is not {expected}")))
}

fn existing_file(name: &'static str, path: &str) -> Result<PathBuf, ConfigError> {
    let path = PathBuf::from(path);
    if path.is_file() {
        Ok(path)
    } else {
        Err(bad(
            name,
            format!("{} is not a readable file", path.display()),
        ))
    }
}

fn positive<'a>(
    get: impl Fn(&str) -> Option<&'a str>,
    name: &'static str,
    default: &str,
) -> Result<u32, ConfigError> {
    let n: u32 = parse(get, name, default, "a whole number")?;
    if n == 0 {
        return Err(bad(name, "must be at least 1"));
    }
    Ok(n)
}

/// A number of seconds, at least `min` and at most ten years.
fn seconds<'a>(
    get: impl Fn(&str) -> Option<&'a str>,
    name: &'static str,
    default: &str,
    min: u64,
) -> Result<Duration, ConfigError> {
    const TEN_YEARS: u64 = 10 * 365 * 24 * 3600;
    let n: u64 = parse(get, name, default, "a whole number of seconds")?;
    if n < min || n > TEN_YEARS {
        return Err(bad(
            name,
            format!("must be from {min} to {TEN_YEARS} seconds, not {n}"),
        ));
    }
    Ok(Duration::from_secs(n))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        let dir = tempfile::tempdir().unwrap().keep();
        let mut map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        map.entry("DATA_DIR".into())
            .or_insert_with(|| dir.display().to_string());
        map
    }

    #[test]
    fn defaults_are_the_embedded_mode() {
        let c = Config::from_vars(&vars(&[])).unwrap();
        assert_eq!(c.database_url, "sqlite://data/auth.db");
        let cores = std::thread::available_parallelism().unwrap().get() as u32;
        assert_eq!(c.database_max_connections, 2 * cores);
        assert_eq!(c.redis_url, None);
        assert_eq!(c.bcrypt_cost, 12);
        assert_eq!(c.access_token_ttl, Duration::from_secs(3600));
        assert_eq!(c.refresh_token_ttl, Duration::from_secs(604800));
        assert_eq!(c.refresh_reuse_grace, Duration::from_secs(5));
        assert_eq!((c.lockout_threshold, c.lockout_ip_threshold), (5, 50));
        assert_eq!(c.jwt_issuer, "PersonalManagerAPI");
        assert_eq!(c.jwt_audience, "PersonalManagerClient");
        assert_eq!(c.site_addr.to_string(), "127.0.0.1:3000");
        assert_eq!(c.tls, None);
        assert!(c.cors_origins.is_empty());
        assert!(c.metrics_token.is_none());
        assert_eq!(c.audit_retention, Some(Duration::from_secs(365 * 86_400)));
        assert_eq!(
            c.auth_rate_limit,
            Some(RateLimit {
                per_second: 10,
                burst: 30
            })
        );
    }

    #[test]
    fn bad_values_name_the_variable() {
        for (name, value) in [
            ("BCRYPT_COST", "3"),
            ("BCRYPT_COST", "32"),
            ("BCRYPT_COST", "twelve"),
            ("ACCESS_TOKEN_TTL", "-1"),
            ("LOCKOUT_THRESHOLD", "0"),
            ("DATABASE_URL", "mysql://x"),
            ("DATABASE_MAX_CONNECTIONS", "0"),
            ("REDIS_URL", "http://x"),
            ("JWT_ALGORITHM", "RS256"),
            ("JWT_SECRET", "short"),
            ("APP_ENV", "staging"),
            ("LEPTOS_SITE_ADDR", "nowhere"),
            ("TRUSTED_PROXIES", "10.0.0.0/8,not-an-ip"),
            ("TLS_CERT", "/nonexistent/cert.pem"),
            ("CORS_ORIGINS", "https://ok.example,*"),
            ("CORS_ORIGINS", "https://trailing.example/"),
            ("REQUEST_TIMEOUT", "0"),
            ("AUTH_RATE_PER_SECOND", "-1"),
            ("METRICS_TOKEN", "short"),
            ("AUDIT_RETENTION_DAYS", "a year"),
            ("AUDIT_RETENTION_DAYS", "-1"),
        ] {
            let err = Config::from_vars(&vars(&[(name, value)])).unwrap_err();
            assert_eq!(err.variable, name, "{value}: {err}");
            assert!(!err.to_string().contains('\n'));
        }
    }

    #[test]
    fn production_refuses_a_missing_secret() {
        let err = Config::from_vars(&vars(&[("APP_ENV", "production")])).unwrap_err();
        assert_eq!(err.variable, "JWT_SECRET");
        let ok = Config::from_vars(&vars(&[
            ("APP_ENV", "production"),
            ("JWT_SECRET", &"k".repeat(32)),
        ]));
        assert!(ok.is_ok());
    }

    #[test]
    fn trusted_proxies_take_addresses_and_ranges() {
        let c =
            Config::from_vars(&vars(&[("TRUSTED_PROXIES", "10.0.0.0/8, 127.0.0.1,::1")])).unwrap();
        assert_eq!(c.trusted_proxies.len(), 3);
    }

    #[test]
    fn tls_needs_both_files() {
        let dir = tempfile::tempdir().unwrap();
        let cert = dir.path().join("cert.pem");
        std::fs::write(&cert, "x").unwrap();
        let cert = cert.display().to_string();
        let mut vars = HashMap::from([
            ("DATA_DIR".to_string(), dir.path().display().to_string()),
            ("TLS_CERT".to_string(), cert.clone()),
        ]);
        assert_eq!(Config::from_vars(&vars).unwrap_err().variable, "TLS_KEY");
        vars.insert("TLS_KEY".into(), cert.clone());
        let tls = Config::from_vars(&vars).unwrap().tls.unwrap();
        assert_eq!(tls.cert.display().to_string(), cert);
    }
}
