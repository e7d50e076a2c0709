//! Small components used by several pages.

mod fields;
mod health;
mod language;
mod nav;
mod sessions;
mod unverified;

pub use fields::{focus_first_error, ErrorSummary, PasswordField, TextField};
pub use health::HealthBadge;
pub use language::LanguageSwitcher;
pub use nav::NavBar;
pub use sessions::SessionsList;
pub use unverified::{resent_text, UnverifiedNotice};
