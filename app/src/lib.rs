//! The auth app, compiled twice: on the server (`ssr`) and in the browser
//! (`hydrate`). It also owns the wire types of the JSON API and the
//! registration rules, so the server handlers and the browser forms share them.

pub mod api;
pub mod rules;

#[cfg(feature = "hydrate")]
pub mod client;
mod components;
mod pages;
mod shell;

pub use shell::{shell, App};
