//! The variables settings are read from, and the parsers every section
//! shares. Each problem is one line that names the variable.

use std::{collections::HashMap, path::PathBuf, time::Duration};

/// A setting that cannot be used: `main` prints it and exits with code 2.
#[derive(Debug, thiserror::Error)]
#[error("{variable}: {problem}")]
pub struct ConfigError {
    pub variable: &'static str,
    pub problem: String,
}

pub fn bad(variable: &'static str, problem: impl Into<String>) -> ConfigError {
    ConfigError {
        variable,
        problem: problem.into(),
    }
}

/// The variables: the environment (and `.env`), or a map in tests.
pub struct Vars<'a>(pub &'a HashMap<String, String>);

impl Vars<'_> {
    /// The trimmed value, `None` when unset or empty.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(|v| v.trim()).filter(|v| !v.is_empty())
    }

    /// `name` parsed, or `default` when unset; `expected` says what it must be.
    pub fn parse<T: std::str::FromStr>(
        &self,
        name: &'static str,
        default: &str,
        expected: &str,
    ) -> Result<T, ConfigError> {
        let raw = self.get(name).unwrap_or(default);
        raw.parse()
            .map_err(|_| bad(name, format!("`{raw}` is not {expected}")))
    }

    /// A whole number of at least 1.
    pub fn positive(&self, name: &'static str, default: &str) -> Result<u32, ConfigError> {
        let n: u32 = self.parse(name, default, "a whole number")?;
        if n == 0 {
            return Err(bad(name, "must be at least 1"));
        }
        Ok(n)
    }

    /// A number of seconds, at least `min` and at most ten years.
    pub fn seconds(
        &self,
        name: &'static str,
        default: &str,
        min: u64,
    ) -> Result<Duration, ConfigError> {
        const TEN_YEARS: u64 = 10 * 365 * 24 * 3600;
        let n: u64 = self.parse(name, default, "a whole number of seconds")?;
        if n < min || n > TEN_YEARS {
            return Err(bad(
                name,
                format!("must be from {min} to {TEN_YEARS} seconds, not {n}"),
            ));
        }
        Ok(Duration::from_secs(n))
    }

    /// The path of a file that exists, when set.
    pub fn existing_file(&self, name: &'static str) -> Result<Option<PathBuf>, ConfigError> {
        let Some(path) = self.get(name) else {
            return Ok(None);
        };
        let path = PathBuf::from(path);
        if path.is_file() {
            Ok(Some(path))
        } else {
            Err(bad(
                name,
                format!("{} is not a readable file", path.display()),
            ))
        }
    }

    /// A comma-separated list, each item checked by `item`.
    pub fn list<T>(
        &self,
        name: &'static str,
        item: impl Fn(&str) -> Result<T, String>,
    ) -> Result<Vec<T>, ConfigError> {
        let Some(list) = self.get(name) else {
            return Ok(Vec::new());
        };
        list.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| item(s).map_err(|problem| bad(name, problem)))
            .collect()
    }
}
