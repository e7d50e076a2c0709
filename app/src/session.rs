//! What the server knows about the browser's session when it renders a page.

use crate::api::{AuthResponse, User};

/// Put into the request by the server's session middleware, read while
/// rendering, so a signed-in page is rendered signed in.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SessionUser(pub Option<User>);

/// The tokens of a sign-in made by a form posted before the app had loaded,
/// put into the request of the page that follows it: the app takes them
/// into its token store when it starts, as if it had signed in itself.
#[derive(Clone, Debug, PartialEq)]
pub struct TokenHandoff(pub AuthResponse);

/// The header with which the app's request wrapper asks a sign-in for a
/// browser session (the cookie the server renders signed-in pages from).
pub const BROWSER_SESSION_HEADER: &str = "x-browser-session";

/// Pages a signed-out visitor is sent away from (to `/login?next=…`).
pub fn requires_sign_in(path: &str) -> bool {
    matches!(path, "/profile" | "/protected" | "/account") || path.starts_with("/admin")
}

/// A `next` target is followed only when it is a path on this site: one
/// `/` first, and no backslash, control character or whitespace anywhere.
/// Browsers drop tabs and line breaks from a URL and read `\\` as `/`, so
/// `/\t/evil.example` would take the user to `//evil.example`.
pub fn safe_next(next: &str) -> Option<&str> {
    let path_on_this_site = next.starts_with('/')
        && !next.starts_with("//")
        && !next
            .chars()
            .any(|c| c == '\\' || c.is_control() || c.is_whitespace());
    path_on_this_site.then_some(next)
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
        for hostile in [
            "/\t/evil.example",
            "/\n/evil.example",
            "/\r/evil.example",
            "/ /evil.example",
            "/x\\..\\/evil.example",
            "\t//evil.example",
            "/\u{3000}/evil.example",
            "",
            "javascript:alert(1)",
        ] {
            assert_eq!(safe_next(hostile), None, "{hostile:?}");
        }
        assert_eq!(
            safe_next("/admin/users?page=2"),
            Some("/admin/users?page=2")
        );
        assert_eq!(
            safe_next("/%2F%2Fevil.example"),
            Some("/%2F%2Fevil.example")
        );
    }
}
