//! Why an API call failed, as the pages show it.

use crate::i18n::{t, Msg};

/// Why a call failed, ready to show.
#[derive(Clone, Debug, PartialEq)]
// On the server no call is made, so only `Network` is built there.
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
pub enum ApiFailure {
    /// The server answered with an error envelope.
    Rejected {
        status: u16,
        message: String,
        errors: Vec<String>,
    },
    /// The request never got an answer.
    Network(String),
    /// There is no valid session any more; the user must sign in.
    SignedOut,
}

impl ApiFailure {
    pub fn message(&self) -> String {
        match self {
            ApiFailure::Rejected { message, .. } => message.clone(),
            ApiFailure::Network(_) => t(Msg::AppUnreachable).into(),
            ApiFailure::SignedOut => t(Msg::AppSessionEnded).into(),
        }
    }

    /// The envelope's list of failed rules, if any.
    pub fn errors(&self) -> Vec<String> {
        match self {
            ApiFailure::Rejected { errors, .. } => errors.clone(),
            _ => Vec::new(),
        }
    }
}
