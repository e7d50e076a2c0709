//! The best of our three languages for an `Accept-Language` header
//! (RFC 9110 §12.5.4), with the contract's Chinese mapping: Traditional for
//! `zh-Hant`, `zh-TW`, `zh-HK` and `zh-MO`; Simplified for `zh`, `zh-Hans`,
//! `zh-CN`, `zh-SG` and any other Chinese.

use super::Locale;

/// The most preferred language we speak, or `None` when the header names
/// none of them (the caller then falls back).
pub fn best_match(header: &str) -> Option<Locale> {
    let mut ranked: Vec<(u16, usize, Locale)> = header
        .split(',')
        .take(32)
        .enumerate()
        .filter_map(|(position, item)| {
            let mut parts = item.split(';');
            let tag = parts.next()?.trim();
            let quality = parts
                .find_map(|p| p.trim().strip_prefix("q=").or(p.trim().strip_prefix("Q=")))
                .map_or(Some(1000), parse_quality)?;
            (quality > 0)
                .then(|| locale_of(tag))
                .flatten()
                .map(|locale| (quality, position, locale))
        })
        .collect();
    // Highest quality first; among equals, the header's order.
    ranked.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    ranked.first().map(|(_, _, locale)| *locale)
}

/// A quality value in thousandths; `None` when it is not one.
fn parse_quality(q: &str) -> Option<u16> {
    let value: f32 = q.trim().parse().ok()?;
    (0.0..=1.0)
        .contains(&value)
        .then(|| (value * 1000.0).round() as u16)
}

fn locale_of(tag: &str) -> Option<Locale> {
    let tag = tag.to_ascii_lowercase();
    let mut subtags = tag.split(['-', '_']);
    match subtags.next()? {
        "en" => Some(Locale::En),
        "zh" => {
            let rest: Vec<&str> = subtags.collect();
            let traditional = rest
                .iter()
                .any(|s| matches!(*s, "hant" | "tw" | "hk" | "mo"))
                && !rest.contains(&"hans");
            Some(if traditional {
                Locale::ZhTw
            } else {
                Locale::ZhCn
            })
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_headers() {
        let table: &[(&str, Option<Locale>)] = &[
            // Chrome, Firefox and Safari as people run them.
            ("en-US,en;q=0.9", Some(Locale::En)),
            ("zh-TW,zh;q=0.9,en-US;q=0.8,en;q=0.7", Some(Locale::ZhTw)),
            ("zh-CN,zh;q=0.9", Some(Locale::ZhCn)),
            ("zh-HK,zh;q=0.9,en;q=0.8", Some(Locale::ZhTw)),
            ("zh-MO", Some(Locale::ZhTw)),
            ("zh-SG,zh;q=0.9", Some(Locale::ZhCn)),
            ("zh-Hant-TW,zh-Hant;q=0.9", Some(Locale::ZhTw)),
            ("zh-Hans-CN,zh-Hans;q=0.9", Some(Locale::ZhCn)),
            ("zh-Hant", Some(Locale::ZhTw)),
            ("zh-Hans", Some(Locale::ZhCn)),
            ("zh", Some(Locale::ZhCn)),
            ("zh-hant-hk", Some(Locale::ZhTw)),
            ("zh_TW", Some(Locale::ZhTw)),
            ("en-GB,en;q=0.9,zh-TW;q=0.8", Some(Locale::En)),
            // A language we do not speak first: the next one we do.
            ("fr-FR,fr;q=0.9,zh-TW;q=0.8,en;q=0.7", Some(Locale::ZhTw)),
            ("ja,en-US;q=0.9,en;q=0.8", Some(Locale::En)),
            // Quality decides, not the order.
            ("en;q=0.5,zh-TW;q=0.8", Some(Locale::ZhTw)),
            ("zh-CN;q=0.9, zh-TW", Some(Locale::ZhTw)),
            ("zh-TW;q=0, en", Some(Locale::En)),
            ("ZH-tw", Some(Locale::ZhTw)),
            ("en;Q=0.1, zh-TW;q=0.2", Some(Locale::ZhTw)),
            // Nothing we speak, or nothing at all.
            ("fr-FR,fr;q=0.9", None),
            ("*", None),
            ("", None),
            ("zh-TW;q=2", None),
            ("zh-TW;q=abc", None),
            (";;;,,,", None),
            ("english", None),
        ];
        for (header, expected) in table {
            assert_eq!(best_match(header), *expected, "{header:?}");
        }
    }

    #[test]
    fn a_huge_header_is_read_only_so_far() {
        let header = format!("{}zh-TW", "fr,".repeat(10_000));
        assert_eq!(best_match(&header), None);
    }
}
