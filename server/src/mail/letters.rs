//! What each mail says: a subject, a plain-text part with the full link, and
//! a simple HTML part. Everything the user typed is escaped in the HTML.

use app::api::Locale;

use super::MailKind;

/// The words of one mail.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Words {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// What a mail is about.
pub struct About<'a> {
    pub kind: MailKind,
    pub locale: Locale,
    /// The account's full name.
    pub name: &'a str,
    /// The link of the mail (verify and reset).
    pub link: Option<&'a str>,
    /// How long the link works, in hours (rounded up).
    pub valid_hours: u64,
    /// An email change's new address, masked.
    pub new_address: Option<&'a str>,
}

/// Lines of a mail: paragraphs, with the link (if any) as a button in the
/// HTML part and on a line of its own in the text part.
struct Draft {
    subject: String,
    greeting: String,
    before_link: Vec<String>,
    button: Option<String>,
    after_link: Vec<String>,
    signature: String,
}

pub fn write(about: &About<'_>) -> Words {
    let draft = english(about);
    render(draft, about.link)
}

fn english(about: &About<'_>) -> Draft {
    let hours = match about.valid_hours {
        1 => "1 hour".to_string(),
        n => format!("{n} hours"),
    };
    let greeting = format!("Hello {},", about.name);
    let signature = "— Auth".to_string();
    let ignore = "If you did not ask for this, you can ignore this mail.".to_string();
    match about.kind {
        MailKind::VerifyEmail => Draft {
            subject: "Confirm your email address".into(),
            greeting,
            before_link: vec!["Please confirm that this is your email address:".into()],
            button: Some("Confirm my address".into()),
            after_link: vec![format!("The link works for {hours}, once."), ignore],
            signature,
        },
        MailKind::PasswordReset => Draft {
            subject: "Reset your password".into(),
            greeting,
            before_link: vec!["Someone (we hope you) asked to reset the password of your account. Choose a new one here:".into()],
            button: Some("Choose a new password".into()),
            after_link: vec![
                format!("The link works for {hours}, once. Your password stays as it is until you choose a new one."),
                ignore,
            ],
            signature,
        },
        MailKind::PasswordChanged => Draft {
            subject: "Your password was changed".into(),
            greeting,
            before_link: vec![
                "The password of your account was just reset, and every session of the account has been signed out.".into(),
                "If this was not you, reset your password again at once and tell your administrator.".into(),
            ],
            button: None,
            after_link: Vec::new(),
            signature,
        },
        MailKind::EmailChangeRequested => Draft {
            subject: "Your email address is being changed".into(),
            greeting,
            before_link: vec![
                format!(
                    "Someone signed in to your account asked to change its email address to {}. The change happens once the link we sent to that address is used.",
                    about.new_address.unwrap_or("another address")
                ),
                "If this was not you, change your password at once: the request needed it.".into(),
            ],
            button: None,
            after_link: Vec::new(),
            signature,
        },
    }
}

fn render(draft: Draft, link: Option<&str>) -> Words {
    let mut text = format!("{}\n\n", draft.greeting);
    let mut html = format!(
        "<!DOCTYPE html><html><body style=\"font-family: sans-serif; line-height: 1.5\"><p>{}</p>",
        escape(&draft.greeting)
    );
    for line in &draft.before_link {
        text.push_str(line);
        text.push_str("\n\n");
        html.push_str(&format!("<p>{}</p>", escape(line)));
    }
    if let (Some(link), Some(button)) = (link, &draft.button) {
        text.push_str(link);
        text.push_str("\n\n");
        html.push_str(&format!(
            "<p><a href=\"{0}\" style=\"display: inline-block; padding: 0.6em 1.2em; background: #2563eb; color: #fff; text-decoration: none; border-radius: 6px\">{1}</a></p>\
             <p style=\"font-size: 0.9em; color: #555\">{0}</p>",
            escape(link),
            escape(button)
        ));
    }
    for line in &draft.after_link {
        text.push_str(line);
        text.push_str("\n\n");
        html.push_str(&format!("<p>{}</p>", escape(line)));
    }
    text.push_str(&draft.signature);
    text.push('\n');
    html.push_str(&format!(
        "<p>{}</p></body></html>",
        escape(&draft.signature)
    ));
    Words {
        subject: draft.subject,
        text,
        html,
    }
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// `n•••@example.com`: enough for the owner of the old address to tell
/// which address was asked for, not enough to harvest it.
pub fn mask_address(address: &str) -> String {
    match address.split_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}•••@{domain}")
        }
        None => "•••".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_text_part_holds_the_whole_link_and_the_html_escapes_the_name() {
        let link = "https://auth.example.com/reset-password?token=abc&x=1";
        let words = write(&About {
            kind: MailKind::PasswordReset,
            locale: Locale::En,
            name: "<script>alert(1)</script>",
            link: Some(link),
            valid_hours: 1,
            new_address: None,
        });
        assert!(words.text.lines().any(|l| l == link), "{}", words.text);
        assert!(!words.html.contains("<script>"));
        assert!(words.html.contains("&lt;script&gt;"));
        assert!(words.html.contains("token=abc&amp;x=1"));
    }

    #[test]
    fn addresses_are_masked() {
        assert_eq!(mask_address("new@example.com"), "n•••@example.com");
        assert_eq!(mask_address("nonsense"), "•••");
    }
}
