//! The auth server: configuration, storage, the HTTP API and the SSR pages.

pub mod auth;
pub mod cli;
pub mod config;
pub mod db;
pub mod http;
pub mod mail;
pub mod maintenance;
pub mod metrics;
pub mod secret;
pub mod shutdown;
pub mod signing_keys;
pub mod startup;
pub mod state;
pub mod store;
pub mod telemetry;
