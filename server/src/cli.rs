//! The operator's commands: `server admin create`, `server admin promote`
//! and `server admin set-password`, which parse their arguments and ask the
//! auth domain as the API does; and `server keys generate`, which makes a
//! signing key.

use std::io::{BufRead, IsTerminal};

use app::{api::RegisterRequest, i18n::Text};
use clap::{Parser, Subcommand};

use crate::{
    auth::{AuthError, AuthService, Clock},
    config::Config,
    db::Db,
    metrics::Metrics,
    signing_keys,
    store::{RedisStore, Stores},
};

/// The auth server. Without a command, it serves HTTP.
#[derive(Parser)]
#[command(name = "server", version)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand)]
pub enum Command {
    /// Manage admin accounts (on the database of DATABASE_URL).
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Make signing keys for access tokens (needs no configuration).
    #[command(subcommand)]
    Keys(KeysCommand),
}

#[derive(Subcommand)]
pub enum KeysCommand {
    /// Write a new private key (PKCS#8 PEM, mode 0600) for JWT_PRIVATE_KEY,
    /// and print its `kid`. An existing file is never overwritten.
    Generate {
        /// EdDSA (Ed25519, the fastest to verify), ES256 (P-256) or RS256 (RSA 2048).
        #[arg(long, default_value = "EdDSA")]
        alg: String,
        /// Where to write it; by default `jwt-<alg>-<start of kid>.pem` here.
        #[arg(long)]
        out: Option<std::path::PathBuf>,
    },
}

#[derive(Subcommand)]
pub enum AdminCommand {
    /// Create an Admin account. The password is read from a prompt, or from
    /// the first line of standard input when it is not a terminal.
    Create {
        #[arg(long)]
        username: String,
        #[arg(long)]
        email: String,
        /// Defaults to the username.
        #[arg(long)]
        full_name: Option<String>,
    },
    /// Give an existing user the Admin role.
    Promote {
        /// Username or email.
        username: String,
    },
    /// Set a user's password (read like `create`'s) and end every session
    /// of the user: the way back in for someone who cannot receive mail.
    SetPassword {
        /// Username or email.
        #[arg(long)]
        username: String,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The input breaks a rule (exit code 2).
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Failed(String),
}

impl CliError {
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Invalid(_) => 2,
            CliError::Failed(_) => 1,
        }
    }
}

impl From<AuthError> for CliError {
    fn from(e: AuthError) -> Self {
        match e {
            AuthError::Validation(errors) => CliError::Invalid(
                errors
                    .iter()
                    .map(Text::to_string)
                    .collect::<Vec<_>>()
                    .join(" "),
            ),
            AuthError::Conflict(_) => {
                CliError::Failed("a user with this username or email already exists".into())
            }
            other => CliError::Failed(crate::telemetry::error_chain(&other)),
        }
    }
}

fn failed(e: impl std::fmt::Display) -> CliError {
    CliError::Failed(e.to_string())
}

pub async fn run(command: AdminCommand, config: Config) -> Result<String, CliError> {
    let db = Db::connect(&config.database.url, config.database.max_connections)
        .await
        .map_err(failed)?;
    let redis = match &config.database.redis_url {
        Some(url) => {
            Some(RedisStore::connect(url, &config.database.redis_key_prefix).map_err(failed)?)
        }
        None => None,
    };
    let clock = Clock::system();
    let stores = Stores::open(&db, redis.as_ref(), &config, &clock);
    let auth = AuthService::new(&config, db, &stores, redis.as_ref(), clock, Metrics::new())?;
    match command {
        AdminCommand::Create {
            username,
            email,
            full_name,
        } => {
            let password = read_password()?;
            let request = RegisterRequest {
                full_name: full_name.unwrap_or_else(|| username.clone()),
                username,
                email,
                confirm_password: password.clone(),
                password,
            };
            let admin = auth.create_admin(&request).await?;
            Ok(format!(
                "created admin {} (id {})",
                admin.username, admin.id
            ))
        }
        AdminCommand::Promote { username } => match auth.promote(&username).await {
            Ok(user) => Ok(format!("{} is now an admin", user.username)),
            Err(AuthError::NotFound) => Err(CliError::Failed(format!("no user named {username}"))),
            Err(other) => Err(other.into()),
        },
        AdminCommand::SetPassword { username } => {
            let password = read_password()?;
            match auth.set_password(&username, &password).await {
                Ok(ended) => Ok(format!(
                    "the password of {username} is set; {ended} sessions ended"
                )),
                Err(AuthError::NotFound) => {
                    Err(CliError::Failed(format!("no user named {username}")))
                }
                Err(other) => Err(other.into()),
            }
        }
    }
}

/// From a prompt (asked twice, not echoed), or the first line of stdin.
fn read_password() -> Result<String, CliError> {
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("Password: ").map_err(failed)?;
        let second = rpassword::prompt_password("Repeat the password: ").map_err(failed)?;
        if first != second {
            return Err(CliError::Invalid("the passwords differ".into()));
        }
        return Ok(first);
    }
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(failed)?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

/// Runs `server keys ...`.
pub fn run_keys(command: KeysCommand) -> Result<String, CliError> {
    let KeysCommand::Generate { alg, out } = command;
    let algorithm = signing_keys::parse_algorithm(&alg)
        .filter(|a| !signing_keys::is_hmac(*a))
        .ok_or_else(|| {
            CliError::Invalid(format!("--alg must be EdDSA, ES256 or RS256, not `{alg}`"))
        })?;
    let pem = signing_keys::generate(algorithm).map_err(CliError::Failed)?;
    let (key, _) = signing_keys::from_private_pem(&pem).map_err(CliError::Failed)?;
    let path = out.unwrap_or_else(|| {
        format!(
            "jwt-{}-{}.pem",
            format!("{algorithm:?}").to_lowercase(),
            &key.kid[..8]
        )
        .into()
    });
    crate::secret::create_private_file(&path, pem.as_bytes())
        .map_err(|e| CliError::Failed(format!("cannot write {}: {e}", path.display())))?;
    Ok(format!(
        "wrote {} ({algorithm:?}, kid {})",
        path.display(),
        key.kid
    ))
}
