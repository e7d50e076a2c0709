//! The operator's commands: `server admin create` and `server admin promote`.

use std::io::{BufRead, IsTerminal};

use app::{
    api::{RegisterRequest, Role},
    rules::validate_registration,
};
use clap::{Parser, Subcommand};

use crate::{
    auth::{
        audit::{AuditEvent, AuditKind, AuditLog},
        client::ClientInfo,
        common_passwords,
        passwords::PasswordHasher,
        users::{self, login_key},
        Clock,
    },
    config::Config,
    db::Db,
    metrics::Metrics,
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
}

#[derive(Debug, thiserror::Error)]
pub enum CliError {
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

fn failed(e: impl std::fmt::Display) -> CliError {
    CliError::Failed(e.to_string())
}

pub async fn run(command: AdminCommand, config: Config) -> Result<String, CliError> {
    let db = Db::connect(&config.database_url, config.database_max_connections)
        .await
        .map_err(failed)?;
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
            let account =
                common_passwords::check(&request.password, validate_registration(&request))
                    .map_err(|errors| CliError::Invalid(errors.join(" ")))?;
            let hasher =
                PasswordHasher::new(config.bcrypt_cost, Metrics::new().bcrypt_queue_depth())
                    .map_err(failed)?;
            let hash = hasher.hash(&account.password).await.map_err(failed)?;
            let now = Clock::system().now();
            let id = match users::insert_with_role(&db, &account, &hash, Role::Admin, now).await {
                Ok(id) => id,
                Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                    return Err(CliError::Failed(
                        "a user with this username or email already exists".into(),
                    ));
                }
                Err(e) => return Err(failed(e)),
            };
            let event = AuditEvent {
                kind: AuditKind::Register,
                user_id: Some(id),
                username: Some(account.username.as_str()),
                detail: Some("admin created on the command line"),
            };
            AuditLog::new(db, Metrics::new())
                .record(event, &ClientInfo::default(), now)
                .await;
            Ok(format!(
                "created admin {} (id {id})",
                account.username.as_str()
            ))
        }
        AdminCommand::Promote { username } => {
            let now = Clock::system().now();
            let changed = sqlx::query("UPDATE users SET role = 'Admin', updated_at = $1 WHERE username_key = $2 OR email_key = $2")
                .bind(now)
                .bind(login_key(&username))
                .execute(&db.writer)
                .await
                .map_err(failed)?
                .rows_affected();
            if changed == 0 {
                return Err(CliError::Failed(format!("no user named {username}")));
            }
            Ok(format!("{username} is now an admin"))
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
