//! The most common passwords, refused for new passwords. The list ships with
//! the project (`common-passwords.txt`: the head of Django's list of 20,000
//! common passwords by Royce Williams, BSD-3-Clause), lower-cased, one per line.

use std::{collections::HashSet, sync::LazyLock};

use app::i18n::{Msg, Text};

static LIST: LazyLock<HashSet<&'static str>> =
    LazyLock::new(|| include_str!("common-passwords.txt").lines().collect());

pub fn too_common() -> Text {
    Msg::RulesPasswordTooCommon.into()
}

/// Compared without case: `Password1` is as guessable as `password1`.
pub fn is_common(password: &str) -> bool {
    LIST.contains(password.trim().to_lowercase().as_str())
}

/// Adds the common-password rule to the result of the other rules, so a
/// form shows every problem at once.
pub fn check<T>(password: &str, checked: Result<T, Vec<Text>>) -> Result<T, Vec<Text>> {
    match (checked, is_common(password)) {
        (checked, false) => checked,
        (Ok(_), true) => Err(vec![too_common()]),
        (Err(mut errors), true) => {
            errors.push(too_common());
            Err(errors)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_is_loaded_and_compared_without_case() {
        assert!(LIST.len() > 1000, "{}", LIST.len());
        assert!(is_common("password"));
        assert!(is_common("Password123"));
        assert!(is_common("QWERTY123"));
        assert!(!is_common("correct horse"));
        assert!(!is_common("a password nobody would ever guess"));
    }

    #[test]
    fn every_problem_is_listed() {
        assert_eq!(check("qwerty123", Ok::<(), _>(())), Err(vec![too_common()]));
        assert_eq!(
            check(
                "qwerty123",
                Err::<(), _>(vec![Msg::RulesEmailInvalid.into()])
            )
            .unwrap_err(),
            vec![Msg::RulesEmailInvalid.into(), too_common()]
        );
        assert_eq!(check("correct horse", Ok::<_, Vec<Text>>(1)), Ok(1));
    }
}
