//! What each mail says: a subject, a plain-text part with the full link, and
//! a simple HTML part. Everything the user typed is escaped in the HTML.

use app::{
    api::Locale,
    i18n::{self, Msg, Text},
};

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
    render(draft(about), about.link, about.locale)
}

fn draft(about: &About<'_>) -> Draft {
    let locale = about.locale;
    let say = |msg: Msg| i18n::text(locale, msg).to_string();
    let hours = match about.valid_hours {
        1 => say(Msg::MailHoursOne),
        n => Text::new(Msg::MailHoursMany)
            .with("count", n)
            .render(locale),
    };
    let validity = |msg: Msg| Text::new(msg).with("hours", &hours).render(locale);
    let greeting = Text::new(Msg::MailGreeting)
        .with("name", about.name)
        .render(locale);
    let signature = say(Msg::MailSignature);
    match about.kind {
        MailKind::VerifyEmail => Draft {
            subject: say(Msg::MailVerifySubject),
            greeting,
            before_link: vec![say(Msg::MailVerifyIntro)],
            button: Some(say(Msg::MailVerifyButton)),
            after_link: vec![validity(Msg::MailVerifyValidity), say(Msg::MailIgnore)],
            signature,
        },
        MailKind::PasswordReset => Draft {
            subject: say(Msg::MailResetSubject),
            greeting,
            before_link: vec![say(Msg::MailResetIntro)],
            button: Some(say(Msg::MailResetButton)),
            after_link: vec![validity(Msg::MailResetValidity), say(Msg::MailIgnore)],
            signature,
        },
        MailKind::PasswordChanged => Draft {
            subject: say(Msg::MailChangedSubject),
            greeting,
            before_link: vec![say(Msg::MailChangedText), say(Msg::MailChangedWarning)],
            button: None,
            after_link: Vec::new(),
            signature,
        },
        MailKind::EmailChangeRequested => Draft {
            subject: say(Msg::MailEmailChangeSubject),
            greeting,
            before_link: vec![
                Text::new(Msg::MailEmailChangeText)
                    .with(
                        "address",
                        about
                            .new_address
                            .map_or_else(|| say(Msg::MailAnotherAddress), str::to_string),
                    )
                    .render(locale),
                say(Msg::MailEmailChangeWarning),
            ],
            button: None,
            after_link: Vec::new(),
            signature,
        },
    }
}

fn render(draft: Draft, link: Option<&str>, locale: Locale) -> Words {
    let mut text = format!("{}\n\n", draft.greeting);
    let mut html = format!(
        "<!DOCTYPE html><html lang=\"{}\"><body style=\"font-family: sans-serif; line-height: 1.5\"><p>{}</p>",
        locale.as_str(),
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
    fn a_mail_is_in_the_accounts_language() {
        let about = |locale| About {
            kind: MailKind::VerifyEmail,
            locale,
            name: "Ada",
            link: Some("https://auth.example.com/verify-email?token=t"),
            valid_hours: 24,
            new_address: None,
        };
        let tw = write(&about(Locale::ZhTw));
        assert_eq!(tw.subject, "請確認您的電子郵件地址");
        assert!(tw.text.starts_with("Ada 您好："), "{}", tw.text);
        assert!(tw.text.contains("24 小時內有效"), "{}", tw.text);
        assert!(tw.html.contains(r#"<html lang="zh-TW">"#));
        let cn = write(&about(Locale::ZhCn));
        assert_eq!(cn.subject, "请确认您的邮箱地址");
        assert!(cn.html.contains(r#"<html lang="zh-CN">"#));
        let en = write(&about(Locale::En));
        assert_eq!(en.subject, "Confirm your email address");
        assert!(en.text.contains("The link works for 24 hours, once."));
    }

    #[test]
    fn addresses_are_masked() {
        assert_eq!(mask_address("new@example.com"), "n•••@example.com");
        assert_eq!(mask_address("nonsense"), "•••");
    }
}
