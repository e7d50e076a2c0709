//! What the server knows about the browser's session when it renders a page.

use crate::api::User;

/// Put into the request by the server's session middleware, read while
/// rendering, so a signed-in page is rendered signed in.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SessionUser(pub Option<User>);

/// The header with which the app's request wrapper asks a sign-in for a
/// browser session (the cookie the server renders signed-in pages from).
pub const BROWSER_SESSION_HEADER: &str = "x-browser-session";

/// Pages a signed-out visitor is sent away from (to `/login?next=…`).
pub fn requires_sign_in(path: &str) -> bool {
    matches!(path, "/profile" | "/protected") || path.starts_with("/admin")
}

/// A `next` target is followed only when it is a path on this site.
pub fn safe_next(next: &str) -> Option<&str> {
    (next.starts_with('/') && !next.starts_with("//") && !next.starts_with("/\\")).then_some(next)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_is_followed_only_within_the_site() {
        assert_eq!(safe_next("/profile"), Some("/profile"));
        assert_eq!(safe_next("//evil.example"), None);
        assert_eq!(safe_next("https://evil.example"), None);
        assert_eq!(safe_next("/\\evil.example"), None);
    }
}
