//! Structured logs: `RUST_LOG` filters, `LOG_FORMAT` picks text or JSON lines.

use tracing_subscriber::{fmt, EnvFilter};

use crate::config::{ConfigError, LogFormat};

/// Installs the global subscriber. A bad `RUST_LOG` is a configuration error.
pub fn init(format: LogFormat) -> Result<(), ConfigError> {
    let filter = match std::env::var("RUST_LOG") {
        Ok(spec) if !spec.trim().is_empty() => {
            EnvFilter::try_new(&spec).map_err(|e| ConfigError {
                variable: "RUST_LOG",
                problem: e.to_string(),
            })?
        }
        _ => EnvFilter::new("info"),
    };
    let builder = fmt().with_env_filter(filter).with_target(false);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .init(),
    }
    Ok(())
}

/// An error and its causes, one after the other: how failures are logged.
pub fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(e) = cause {
        text.push_str(": ");
        text.push_str(&e.to_string());
        cause = e.source();
    }
    text
}
