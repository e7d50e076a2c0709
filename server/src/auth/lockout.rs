//! Lockout of repeated failed logins: windows of `LOCKOUT_WINDOW` seconds,
//! counted per account (or, for a name that is no account, per name typed,
//! so a lockout reveals nothing) and per client network.
//!
//! Each password check first *reserves* its place in both budgets, in one
//! atomic step, and only then runs the hash: however many guesses arrive at
//! once, at most the threshold of them are ever checked. A failed guess
//! keeps its place (it is the failure counted); a right one gives it back.

use std::sync::Arc;

use super::audit::storable;
use crate::{
    config::LockoutSettings,
    store::{LockoutCounters, Place, StoreError, Taken},
};

#[derive(Clone)]
pub struct Lockout {
    counters: Arc<dyn LockoutCounters>,
    account_threshold: i64,
    network_threshold: i64,
}

/// Whose budget a password check spends: the account's once the login
/// names one (its username and its email share one budget), else the name
/// typed.
#[derive(Clone, Copy, Debug)]
pub enum Subject<'a> {
    Account(i64),
    Name(&'a str),
}

/// A place reserved in the budgets, held while the password is checked.
#[must_use = "a reservation is settled with `failed` or `succeeded`"]
pub struct Reservation {
    account: Place,
    network: Option<Place>,
    /// Whether this attempt filled a budget: should it fail, that is a lockout.
    fills_a_budget: bool,
}

/// A budget that is spent: how long until the window ends.
#[derive(Debug, PartialEq, Eq)]
pub struct Refused {
    pub retry_after_secs: u64,
}

impl Lockout {
    pub fn new(counters: Arc<dyn LockoutCounters>, settings: &LockoutSettings) -> Self {
        Lockout {
            counters,
            account_threshold: settings.threshold.into(),
            network_threshold: settings.ip_threshold.into(),
        }
    }

    fn subject_key(subject: Subject<'_>) -> String {
        match subject {
            Subject::Account(id) => format!("account:{id}"),
            Subject::Name(name) => format!("name:{}", storable(name)),
        }
    }

    /// Reserves one checked guess in the budget of `subject` and of
    /// `network` (a client network), or refuses when either is spent.
    pub async fn reserve(
        &self,
        subject: Subject<'_>,
        network: Option<&str>,
        now: i64,
    ) -> Result<Result<Reservation, Refused>, StoreError> {
        let account = Self::subject_key(subject);
        let network = network.map(|n| format!("ip:{n}"));
        let mut budgets = vec![(account.as_str(), self.account_threshold)];
        if let Some(network) = &network {
            budgets.push((network.as_str(), self.network_threshold));
        }
        let places = match self.counters.take(&budgets, now).await? {
            Taken::Places(places) => places,
            Taken::Full { window_ends } => {
                return Ok(Err(Refused {
                    retry_after_secs: (window_ends - now).max(1) as u64,
                }))
            }
        };
        let mut places = places.into_iter();
        let (Some(account), network) = (places.next(), places.next()) else {
            unreachable!("a place in each budget asked for");
        };
        let fills_a_budget = account.count == self.account_threshold
            || network
                .as_ref()
                .is_some_and(|n| n.count == self.network_threshold);
        Ok(Ok(Reservation {
            account,
            network,
            fills_a_budget,
        }))
    }

    /// The guess was wrong: its place stays taken. True when it filled a
    /// budget (a new lockout).
    pub fn failed(&self, reservation: Reservation) -> bool {
        reservation.fills_a_budget
    }

    /// The guess was right: the account's count starts again, and the
    /// network gets its place back (a success is no failure).
    pub async fn succeeded(&self, reservation: Reservation, now: i64) -> Result<(), StoreError> {
        self.counters
            .clear(&reservation.account.subject, now)
            .await?;
        if let Some(network) = &reservation.network {
            self.counters.give_back(network, now).await?;
        }
        Ok(())
    }

    /// Starts the account's count again (its password was reset or set by
    /// the operator, or the account went).
    pub async fn clear_account(&self, user_id: i64, now: i64) -> Result<(), StoreError> {
        self.counters
            .clear(&Self::subject_key(Subject::Account(user_id)), now)
            .await
    }

    /// Drops counters whose window has ended (Redis expires its own).
    pub async fn delete_expired(&self, now: i64) -> Result<u64, StoreError> {
        self.counters.delete_expired(now).await
    }
}
