//! Typed configuration, read once at start-up from the environment and from a
//! `.env` file (the environment wins). Each section has its own parser, and
//! each part of the server takes only its section. Every problem is one line
//! that names the variable; `main` prints it and exits with code 2.

mod database;
mod http;
mod mail;
mod passwords;
mod tokens;
mod vars;

use std::{collections::HashMap, path::PathBuf, time::Duration};

use self::vars::{bad, Vars};
pub use self::{
    database::DatabaseSettings,
    http::{HttpSettings, RateLimit, SiteSettings, TlsFiles},
    mail::{EmailVerification, MailSettings, SmtpCredentials, SmtpRelay, SmtpSecurity},
    passwords::{LockoutSettings, PasswordSettings},
    tokens::TokenSettings,
    vars::ConfigError,
};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AppEnv {
    Development,
    Production,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// Every setting of the server. Tests build one from a map of variables.
#[derive(Clone, Debug)]
pub struct Config {
    pub app_env: AppEnv,
    /// Where the development secret (and the default SQLite file) are kept.
    pub data_dir: PathBuf,
    pub log_format: LogFormat,
    pub database: DatabaseSettings,
    pub tokens: TokenSettings,
    pub passwords: PasswordSettings,
    pub lockout: LockoutSettings,
    pub http: HttpSettings,
    pub site: SiteSettings,
    pub mail: MailSettings,
    /// How long audit events are kept (`AUDIT_RETENTION_DAYS`); `None` keeps them forever.
    pub audit_retention: Option<Duration>,
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
    pub fn from_vars(map: &HashMap<String, String>) -> Result<Self, ConfigError> {
        let vars = Vars(map);
        let app_env = match vars.get("APP_ENV").unwrap_or("development") {
            "development" => AppEnv::Development,
            "production" => AppEnv::Production,
            other => {
                return Err(bad(
                    "APP_ENV",
                    format!("must be `development` or `production`, not `{other}`"),
                ))
            }
        };
        let log_format = match vars.get("LOG_FORMAT").unwrap_or("text") {
            "text" => LogFormat::Text,
            "json" => LogFormat::Json,
            other => {
                return Err(bad(
                    "LOG_FORMAT",
                    format!("must be `text` or `json`, not `{other}`"),
                ))
            }
        };
        let data_dir = PathBuf::from(vars.get("DATA_DIR").unwrap_or("data"));
        let audit_retention = match vars.parse::<u64>(
            "AUDIT_RETENTION_DAYS",
            "365",
            "a whole number of days (0 keeps events forever)",
        )? {
            0 => None,
            days if days > 100 * 365 => {
                return Err(bad("AUDIT_RETENTION_DAYS", "must be at most 36500 days"))
            }
            days => Some(Duration::from_secs(days * 86_400)),
        };
        let http = HttpSettings::from_vars(&vars)?;
        Ok(Config {
            database: DatabaseSettings::from_vars(&vars)?,
            tokens: TokenSettings::from_vars(&vars, app_env == AppEnv::Production, &data_dir)?,
            passwords: PasswordSettings::from_vars(&vars)?,
            lockout: LockoutSettings::from_vars(&vars)?,
            mail: MailSettings::from_vars(&vars, http.addr, http.tls.is_some())?,
            http,
            site: SiteSettings::from_vars(&vars)?,
            app_env,
            data_dir,
            log_format,
            audit_retention,
        })
    }

    pub fn is_production(&self) -> bool {
        self.app_env == AppEnv::Production
    }
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
        assert_eq!(c.database.url, "sqlite://data/auth.db");
        let cores = std::thread::available_parallelism().unwrap().get() as u32;
        assert_eq!(c.database.max_connections, 2 * cores);
        assert_eq!(c.database.redis_url, None);
        assert_eq!(c.passwords.bcrypt_cost, 12);
        assert_eq!(c.tokens.access_ttl, Duration::from_secs(3600));
        assert_eq!(c.tokens.refresh_ttl, Duration::from_secs(604800));
        assert_eq!(c.tokens.reuse_grace, Duration::from_secs(5));
        assert_eq!((c.lockout.threshold, c.lockout.ip_threshold), (5, 50));
        assert_eq!(c.tokens.issuer, "PersonalManagerAPI");
        assert_eq!(c.tokens.audience, "PersonalManagerClient");
        assert_eq!(c.http.addr.to_string(), "127.0.0.1:3000");
        assert_eq!(c.http.tls, None);
        assert!(c.http.cors_origins.is_empty());
        assert!(c.http.metrics_token.is_none());
        assert_eq!(c.audit_retention, Some(Duration::from_secs(365 * 86_400)));
        assert_eq!(c.mail.public_url, "http://127.0.0.1:3000");
        assert!(c.mail.smtp.is_none());
        assert_eq!(c.mail.from, "no-reply@localhost");
        assert_eq!(c.mail.verification, EmailVerification::Optional);
        assert_eq!(
            (c.mail.verify_ttl, c.mail.reset_ttl),
            (Duration::from_secs(86_400), Duration::from_secs(3_600))
        );
        assert_eq!(
            c.http.auth_rate_limit,
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
            ("JWT_ALGORITHM", "ES384"),
            ("JWT_ALGORITHM", "none"),
            ("JWT_PRIVATE_KEY", "/nonexistent/key.pem"),
            ("JWT_PREVIOUS_KEYS", "/nonexistent/key.pem"),
            ("JWT_PREVIOUS_SECRETS", "short"),
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
            ("PUBLIC_URL", "auth.example.com"),
            ("SMTP_URL", "mail.example.com"),
            ("MAIL_FROM", "not an address"),
            ("EMAIL_VERIFICATION", "sometimes"),
            ("VERIFY_TOKEN_TTL", "0"),
            ("RESET_TOKEN_TTL", "an hour"),
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
        assert_eq!(c.http.trusted_proxies.len(), 3);
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
        let tls = Config::from_vars(&vars).unwrap().http.tls.unwrap();
        assert_eq!(tls.cert.display().to_string(), cert);
    }
}
