//! Turns the translations in `locales/{language}/*.toml` (one file per part
//! of the product, every language with the same files) into Rust: one `Msg` variant
//! per key, one table of texts per language. A key missing from a language,
//! a key only one language has, or a translation whose `{placeholders}`
//! differ from the English ones stops the build with the file and key named.

use std::{collections::BTreeSet, env, fmt::Write, fs, path::Path};

/// The languages, in the order of `Locale::ALL`; English is the reference.
const LANGUAGES: &[(&str, &str)] = &[("en", "EN"), ("zh-CN", "ZH_CN"), ("zh-TW", "ZH_TW")];

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    let dir = Path::new(&env::var("CARGO_MANIFEST_DIR").unwrap()).join("locales");
    let catalogs: Vec<Vec<(String, String)>> = LANGUAGES
        .iter()
        .map(|(tag, _)| {
            let language_dir = dir.join(tag);
            println!("cargo::rerun-if-changed={}", language_dir.display());
            let mut files: Vec<_> = fs::read_dir(&language_dir)
                .unwrap_or_else(|e| fail(&format!("cannot read {}: {e}", language_dir.display())))
                .map(|entry| entry.unwrap().path())
                .filter(|path| path.extension().is_some_and(|e| e == "toml"))
                .collect();
            files.sort();
            let mut entries = Vec::new();
            for path in files {
                println!("cargo::rerun-if-changed={}", path.display());
                let source = fs::read_to_string(&path)
                    .unwrap_or_else(|e| fail(&format!("cannot read {}: {e}", path.display())));
                let table: toml::Table = source
                    .parse()
                    .unwrap_or_else(|e| fail(&format!("{}: {e}", path.display())));
                flatten("", &table, &mut entries, tag);
            }
            entries.sort();
            if let Some(twice) = entries.windows(2).find(|w| w[0].0 == w[1].0) {
                fail(&format!("locales/{tag} has `{}` twice", twice[0].0));
            }
            entries
        })
        .collect();

    let reference = &catalogs[0];
    let mut problems = Vec::new();
    for ((tag, _), catalog) in LANGUAGES.iter().zip(&catalogs).skip(1) {
        let keys: BTreeSet<&str> = catalog.iter().map(|(k, _)| k.as_str()).collect();
        for (key, english) in reference {
            match catalog.iter().find(|(k, _)| k == key) {
                None => problems.push(format!("locales/{tag} has no `{key}`")),
                Some((_, text)) if placeholders(text) != placeholders(english) => {
                    problems.push(format!(
                        "locales/{tag} `{key}` must use the placeholders {:?}, as English does",
                        placeholders(english)
                    ))
                }
                Some((_, text)) if text.trim().is_empty() => {
                    problems.push(format!("locales/{tag} `{key}` is empty"))
                }
                Some(_) => {}
            }
        }
        for key in keys {
            if !reference.iter().any(|(k, _)| k == key) {
                problems.push(format!(
                    "locales/{tag} has `{key}`, which locales/en has not"
                ));
            }
        }
    }
    if !problems.is_empty() {
        fail(&problems.join("\n"));
    }

    let mut out = String::new();
    out.push_str(
        "/// One text of the app, the API or the mails, named by its key in `locales/*.toml`.\n",
    );
    out.push_str(
        "#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]\n#[repr(u16)]\npub enum Msg {\n",
    );
    for (key, english) in reference {
        let _ = writeln!(out, "    /// `{key}`: {}", english.replace('\n', " "));
        let _ = writeln!(out, "    {},", variant(key));
    }
    out.push_str("}\n\n");
    let _ = writeln!(
        out,
        "impl Msg {{\n    pub const COUNT: usize = {};\n}}\n",
        reference.len()
    );
    for ((_, name), catalog) in LANGUAGES.iter().zip(&catalogs) {
        let _ = writeln!(out, "pub static {name}: [&str; {}] = [", reference.len());
        for (key, _) in reference {
            let text = &catalog.iter().find(|(k, _)| k == key).unwrap().1;
            let _ = writeln!(out, "    {text:?},");
        }
        out.push_str("];\n\n");
    }
    // Names the served catalogs, so a browser never keeps an outdated one.
    let version = fnv1a(format!("{catalogs:?}").as_bytes());
    let _ = writeln!(out, "pub const CATALOG_VERSION: &str = \"{version:016x}\";");
    fs::write(
        Path::new(&env::var("OUT_DIR").unwrap()).join("catalog.rs"),
        out,
    )
    .unwrap();
}

fn flatten(prefix: &str, table: &toml::Table, out: &mut Vec<(String, String)>, tag: &str) {
    for (name, value) in table {
        let key = if prefix.is_empty() {
            name.clone()
        } else {
            format!("{prefix}.{name}")
        };
        match value {
            toml::Value::String(text) => out.push((key, text.clone())),
            toml::Value::Table(inner) => flatten(&key, inner, out, tag),
            _ => fail(&format!("locales/{tag} `{key}` must be a string")),
        }
    }
}

/// `page.login.title` → `PageLoginTitle`.
fn variant(key: &str) -> String {
    key.split(['.', '_', '-'])
        .map(|part| {
            let mut chars = part.chars();
            chars
                .next()
                .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect()
}

/// The `{name}`s of a text.
fn placeholders(text: &str) -> BTreeSet<String> {
    text.split('{')
        .skip(1)
        .filter_map(|rest| rest.split_once('}').map(|(name, _)| name.to_string()))
        .collect()
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf29ce484222325, |hash, b| {
        (hash ^ u64::from(*b)).wrapping_mul(0x100000001b3)
    })
}

fn fail(message: &str) -> ! {
    for line in message.lines() {
        println!("cargo::error={line}");
    }
    std::process::exit(1)
}
