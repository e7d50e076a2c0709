use std::process::ExitCode;

use clap::Parser;
use server::{
    cli::{self, Cli, Command},
    config::Config,
    shutdown,
    startup::Application,
    telemetry,
};

// glibc's malloc spent a visible share of the CPU under load (arena locks
// and consolidation across threads); mimalloc trades some resident memory
// for it (docs/performance.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    let args = Cli::parse();
    // Before the configuration: a production set-up lacking its key is
    // what this command is run to mend.
    if let Some(Command::Keys(command)) = args.command {
        return finish(cli::run_keys(command));
    }
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(e) => {
            eprintln!("configuration error: {e}");
            return ExitCode::from(2);
        }
    };
    if let Some(Command::Admin(command)) = args.command {
        return finish(cli::run(command, config).await);
    }
    if let Err(e) = telemetry::init(config.log_format) {
        eprintln!("configuration error: {e}");
        return ExitCode::from(2);
    }
    let stop = shutdown::signal();
    let app = match Application::build(config).await {
        Ok(app) => app,
        Err(e) => {
            tracing::error!("cannot start: {e}");
            return ExitCode::FAILURE;
        }
    };
    match app.run_until_stopped(stop).await {
        Ok(()) => {
            tracing::info!("stopped");
            ExitCode::SUCCESS
        }
        Err(e) => {
            tracing::error!("server error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Reports a command's outcome on standard error.
fn finish(outcome: Result<String, cli::CliError>) -> ExitCode {
    match outcome {
        Ok(done) => {
            eprintln!("{done}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}
