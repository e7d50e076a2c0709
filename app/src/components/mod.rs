//! Small components used by several pages.

mod fields;
mod health;
mod nav;
mod sessions;

pub use fields::{focus_first_error, ErrorSummary, PasswordField, TextField};
pub use health::HealthBadge;
pub use nav::NavBar;
pub use sessions::SessionsList;
