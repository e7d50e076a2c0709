//! The auth app, compiled twice: on the server (`ssr`) and in the browser
//! (`hydrate`). It also owns the wire types of the JSON API and the
//! registration rules, so the server handlers and the browser forms share them.

pub mod api;
pub mod forms;
pub mod i18n;
pub mod rules;
pub mod session;

mod auth_state;
mod calls;
#[cfg(feature = "hydrate")]
mod client;
mod components;
mod failure;
mod pages;
mod shell;

pub use shell::{shell, App};
