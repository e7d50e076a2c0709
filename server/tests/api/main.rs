//! Integration tests: each one starts the real server on a random port with
//! its own fresh database, and talks to it over HTTP. `on_every_backend!`
//! runs a test once on SQLite and once on PostgreSQL + Redis.

mod helpers;

mod account;
mod account_forms;
mod admin;
mod audit;
mod auth_api;
mod bodies;
mod browser_session;
mod cli;
mod forms;
mod foundation;
mod hardening;
mod hostile_input;
mod languages;
mod lockout;
mod logs;
mod mail_delivery;
mod metrics;
mod openapi;
mod passwords;
mod process;
mod recovery;
mod refresh;
mod revocation;
mod sessions;
mod signing_keys;
mod tls;
mod tokens;
mod validation_cache;
