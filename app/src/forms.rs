//! Forms posted before the app has loaded (or without JavaScript): the
//! server signs in or registers and redirects, or renders the page again
//! with what went wrong. Once hydrated, the pages send the same forms
//! through the API instead.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// The server's answer to a form it could not accept, rendered into the
/// page that holds the form: the status, the message, every error, and the
/// fields as typed (never a password).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct FormOutcome {
    pub status: u16,
    pub message: String,
    pub errors: Vec<String>,
    /// The non-secret fields as typed, by name.
    pub values: Vec<(String, String)>,
}

impl FormOutcome {
    /// The value typed into the field `name`, or "".
    pub fn value(&self, name: &str) -> String {
        self.values
            .iter()
            .find(|(field, _)| field == name)
            .map(|(_, value)| value.clone())
            .unwrap_or_default()
    }
}

/// The outcome this page was rendered with, if any: put into the request by
/// the server, read back from the page in the browser (so hydration matches).
pub fn rendered_outcome() -> Option<FormOutcome> {
    let outcome = SharedValue::new(|| {
        #[cfg(feature = "ssr")]
        {
            let outcome = use_context::<http::request::Parts>()
                .and_then(|parts| parts.extensions.get::<FormOutcome>().cloned());
            if let (Some(outcome), Some(response)) =
                (&outcome, use_context::<leptos_axum::ResponseOptions>())
            {
                if let Ok(status) = http::StatusCode::from_u16(outcome.status) {
                    response.set_status(status);
                }
            }
            outcome
        }
        #[cfg(not(feature = "ssr"))]
        {
            None
        }
    });
    outcome.into_inner()
}
