//! The resource server against a real auth server, over HTTP.

mod helpers;
mod key_set;
mod strict;
mod verification;
