//! How passwords are hashed, and how many guesses they get.

use std::time::Duration;

use super::vars::{bad, ConfigError, Vars};

#[derive(Clone, Copy, Debug)]
pub struct PasswordSettings {
    /// bcrypt's cost, 4 to 31 (`BCRYPT_COST`).
    pub bcrypt_cost: u32,
}

impl PasswordSettings {
    pub fn from_vars(vars: &Vars) -> Result<Self, ConfigError> {
        let bcrypt_cost: u32 = vars.parse("BCRYPT_COST", "12", "a whole number from 4 to 31")?;
        if !(4..=31).contains(&bcrypt_cost) {
            return Err(bad(
                "BCRYPT_COST",
                format!("must be from 4 to 31, not {bcrypt_cost}"),
            ));
        }
        Ok(PasswordSettings { bcrypt_cost })
    }
}

/// The budgets of checked password guesses.
#[derive(Clone, Copy, Debug)]
pub struct LockoutSettings {
    /// Per account (or name) within the window (`LOCKOUT_THRESHOLD`).
    pub threshold: u32,
    pub window: Duration,
    /// Per client network (`LOCKOUT_IP_THRESHOLD`).
    pub ip_threshold: u32,
}

impl LockoutSettings {
    pub fn from_vars(vars: &Vars) -> Result<Self, ConfigError> {
        Ok(LockoutSettings {
            threshold: vars.positive("LOCKOUT_THRESHOLD", "5")?,
            window: vars.seconds("LOCKOUT_WINDOW", "900", 1)?,
            ip_threshold: vars.positive("LOCKOUT_IP_THRESHOLD", "50")?,
        })
    }
}
