//! Reading a scenario: TOML text in, `--set` overrides applied, a validated [`Scenario`] out.
//!
//! Split as `load(path)` (IO) over an IO-free [`load_str`], so the rules are tested without
//! files. Every error names the file, the key, the line where there is one, what was given
//! and what is allowed.

use super::{Invalid, Scenario};
use std::path::{Path, PathBuf};
use thiserror::Error;

/// Why a scenario could not be read.
#[derive(Debug, Error)]
pub enum ScenarioError {
    /// The file could not be read.
    #[error("{}: cannot read the scenario: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The file is not TOML, or a key is unknown or of the wrong type (toml names the line).
    #[error("{}: {message}", path.display())]
    Parse { path: PathBuf, message: String },
    /// A `--set KEY=VALUE` argument is malformed or names no key of the scenario at `path`.
    #[error("--set {arg} (on {}): {message}", path.display())]
    Override {
        path: PathBuf,
        arg: String,
        message: String,
    },
    /// A value is out of its allowed range.
    #[error("{}{}: {invalid}{}{}", path.display(), line.map(|l| format!(":{l}")).unwrap_or_default(),
        if *from_override { " (from --set)" } else { "" }, topics_note(*topics_replaced))]
    Invalid {
        path: PathBuf,
        line: Option<usize>,
        invalid: Invalid,
        from_override: bool,
        /// The value concerns topics and the file lists its own, which replace the defaults
        /// (said on a line of its own, [`topics_note`]).
        topics_replaced: bool,
    },
}

/// Reads, overrides and validates the scenario at `path`.
pub fn load(path: &Path, overrides: &[String]) -> Result<Scenario, ScenarioError> {
    let bytes = std::fs::read(path).map_err(|source| ScenarioError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let text = String::from_utf8(bytes).map_err(|e| {
        let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        let line = valid.iter().filter(|&&b| b == b'\n').count() + 1;
        let column = valid.len() - valid.iter().rposition(|&b| b == b'\n').map_or(0, |p| p + 1) + 1;
        ScenarioError::Parse {
            path: path.to_path_buf(),
            message: format!("line {line}, column {column}: not UTF-8 text (a TOML file must be UTF-8)"),
        }
    })?;
    load_str(&text, path, overrides)
}

/// Parses `text` (named `path` in messages), applies `overrides` (`KEY=VALUE`) and validates.
pub fn load_str(text: &str, path: &Path, overrides: &[String]) -> Result<Scenario, ScenarioError> {
    let parse_err = |e: toml::de::Error| {
        let key = e.span().and_then(|span| key_at(text, span.start));
        let message = in_words(e.to_string().trim_end());
        ScenarioError::Parse {
            path: path.to_path_buf(),
            message: match key {
                Some(key) => format!(
                    "{key}: {message}{}",
                    topics_note(about_replaced_topics(text, &key))
                ),
                None => message,
            },
        }
    };
    // Deserialise the file as written first, so type errors and unknown keys carry its lines.
    let mut scenario: Scenario = toml::from_str(text).map_err(parse_err)?;
    if let Some(topic) = topic_without_share(text) {
        let key = format!("catalog.topics.{topic}.share");
        return Err(ScenarioError::Invalid {
            path: path.to_path_buf(),
            line: locate_line(text, &format!("catalog.topics.{topic}")),
            invalid: Invalid {
                key,
                rule: "is missing while other topics give theirs: write a share (> 0) for every topic, or for none (all then weigh the same)".into(),
                value: "none".into(),
            },
            from_override: false,
            topics_replaced: writes_topics(text),
        });
    }
    let mut overridden = Vec::new();
    if !overrides.is_empty() {
        // Overrides apply to the resolved scenario, so a key left to its default can be set too.
        let mut root = toml::Value::try_from(&scenario).expect("a scenario always serialises");
        for arg in overrides {
            overridden.push(apply_override(&mut root, arg, path)?);
            // Deserialise after each one, so a wrong key or type is blamed on its own argument.
            scenario = root
                .clone()
                .try_into()
                .map_err(|e: toml::de::Error| ScenarioError::Override {
                    path: path.to_path_buf(),
                    arg: arg.clone(),
                    message: in_words(e.message().trim_end()),
                })?;
        }
    }
    scenario.validate().map_err(|invalid| {
        // Blamed on --set when it set the key, or when the file alone is valid (`arms=[]`
        // breaks the file's baseline).
        let from_override = overridden.iter().any(|k| invalid.key.starts_with(k.as_str()))
            || (!overridden.is_empty()
                && toml::from_str::<Scenario>(text).is_ok_and(|s| s.validate().is_ok()));
        let about = format!("{} {}", invalid.key, invalid.rule);
        ScenarioError::Invalid {
            topics_replaced: about_replaced_topics(text, &about),
            path: path.to_path_buf(),
            line: if overridden.iter().any(|k| invalid.key.starts_with(k.as_str())) {
                None
            } else {
                locate_line(text, &invalid.key)
            },
            invalid,
            from_override,
        }
    })?;
    Ok(scenario)
}

/// Rust's names of number types, as serde's messages give them ("expected u32"), and what a
/// person should read instead.
const TYPE_WORDS: &[(&str, &str)] = &[
    ("expected u8", "expected a whole number from 0 to 255"),
    ("expected u16", "expected a whole number from 0 to 65535"),
    ("expected u32", "expected a whole number from 0 to 4294967295"),
    (
        "expected u64",
        "expected a whole number from 0 to 18446744073709551615",
    ),
    (
        "expected usize",
        "expected a whole number from 0 to 18446744073709551615",
    ),
    ("expected i32", "expected a whole number"),
    ("expected i64", "expected a whole number"),
    ("expected f32", "expected a number (such as 2 or 0.5)"),
    ("expected f64", "expected a number (such as 2 or 0.5)"),
];

/// A deserialiser's `message` with the Rust type names it expects said in words.
fn in_words(message: &str) -> String {
    let mut out = message.replace(" as i128,", ",");
    for (rust, words) in TYPE_WORDS {
        out = out.replace(rust, words);
    }
    out
}

/// True when the scenario file `text` lists its own `[[catalog.topics]]`.
pub fn writes_topics(text: &str) -> bool {
    toml::from_str::<toml::Table>(text)
        .is_ok_and(|t| t.get("catalog").and_then(|c| c.get("topics")).is_some())
}

/// True for a message `about` topics (it names one) from a file `text` that lists its own.
fn about_replaced_topics(text: &str, about: &str) -> bool {
    about.contains("topic") && writes_topics(text)
}

/// With `replaced`, a line saying that the file's topics replace the default topics; else
/// nothing.
fn topics_note(replaced: bool) -> String {
    if replaced {
        format!("\n{}", replaced_defaults_note())
    } else {
        String::new()
    }
}

/// That a file's `[[catalog.topics]]` replace the default topics, which it names.
pub fn replaced_defaults_note() -> String {
    let defaults = super::CatalogConfig::default().topics;
    let names: Vec<&str> = defaults.iter().map(|t| t.name.as_str()).collect();
    format!(
        "note: the topics the file lists replace all {} default topics ({}); list every topic the scenario needs",
        defaults.len(),
        names.join(", ")
    )
}

/// The first topic the file `text` writes without a `share` while another writes one: the
/// default (1.0) means "all alike" only when no topic gives a share, and beside given shares
/// (the default topics' sum to 1) it would silently outweigh them.
fn topic_without_share(text: &str) -> Option<usize> {
    let table = toml::from_str::<toml::Table>(text).ok()?;
    let topics = table.get("catalog")?.get("topics")?.as_array()?;
    let has_share = |t: &toml::Value| t.get("share").is_some();
    if !topics.iter().any(has_share) {
        return None;
    }
    topics.iter().position(|t| t.is_table() && !has_share(t))
}

/// True when the scenario file `text` writes no `[[arms]]`, so that it runs the default arms
/// (those of [`Scenario::default`]); false for text that is not TOML, which [`load_str`]
/// refuses anyway.
pub fn writes_no_arms(text: &str) -> bool {
    toml::from_str::<toml::Table>(text).is_ok_and(|t| !t.contains_key("arms"))
}

/// Sets the dotted key of `arg` (`KEY=VALUE`) in the `root` table; returns the key.
///
/// VALUE is read as TOML (`500`, `0.5`, `true`, `"text"`, `[1, 2]`); anything that is not
/// TOML is taken as a string. An array element is named by its index or, for tables with a
/// `name`, by that name (`arms.engagement.policy.exploration=0.1`).
fn apply_override(root: &mut toml::Value, arg: &str, path: &Path) -> Result<String, ScenarioError> {
    let fail = |message: String| ScenarioError::Override {
        path: path.to_path_buf(),
        arg: arg.to_string(),
        message,
    };
    let (key, raw) = arg
        .split_once('=')
        .ok_or_else(|| fail("expected KEY=VALUE, e.g. population.users=500".into()))?;
    let key = key.trim();
    let value = parse_value(raw.trim());
    let parts: Vec<&str> = key.split('.').collect();
    if parts.iter().any(|p| p.is_empty()) {
        return Err(fail(format!("{key:?} is not a dotted key")));
    }
    let mut canonical = Vec::with_capacity(parts.len());
    let mut node = root;
    for (depth, part) in parts.iter().enumerate() {
        let last = depth + 1 == parts.len();
        match node {
            toml::Value::Table(t) => {
                canonical.push(part.to_string());
                if last {
                    t.insert(part.to_string(), value);
                    return Ok(canonical.join("."));
                }
                node = t
                    .entry(part.to_string())
                    .or_insert_with(|| toml::Value::Table(toml::Table::new()));
            }
            toml::Value::Array(items) => {
                let idx = match part.parse::<usize>() {
                    Ok(i) if i < items.len() => i,
                    _ => items
                        .iter()
                        .position(|v| v.get("name").and_then(|n| n.as_str()) == Some(part))
                        .ok_or_else(|| {
                            fail(format!(
                                "{} has no element {part:?} (give an index below {} or a name)",
                                canonical.join("."),
                                items.len()
                            ))
                        })?,
                };
                canonical.push(idx.to_string());
                if last {
                    items[idx] = value;
                    return Ok(canonical.join("."));
                }
                node = &mut items[idx];
            }
            _ => {
                return Err(fail(format!("{} is a value, not a table", canonical.join("."))));
            }
        }
    }
    unreachable!("the loop returns at the last part")
}

/// Reads an override value as TOML, or as a bare string when it is not TOML.
fn parse_value(raw: &str) -> toml::Value {
    let doc = format!("v = {raw}");
    match toml::from_str::<toml::Table>(&doc) {
        Ok(mut t) => t.remove("v").expect("the key was just written"),
        Err(_) => toml::Value::String(raw.to_string()),
    }
}

/// The 1-based line at which the dotted `key` is written in `text`, if it is.
pub fn locate_line(text: &str, key: &str) -> Option<usize> {
    let root = toml::de::DeValue::Table(toml::de::DeTable::parse(text).ok()?.into_inner());
    let mut node = &root;
    let mut found = None;
    for part in key.split('.') {
        let next = match part.parse::<usize>() {
            Ok(i) if node.is_array() => node.get(i),
            _ => node.get(part),
        };
        match next {
            Some(n) => {
                node = n.get_ref();
                found = Some(n.span().start);
            }
            None => break,
        }
    }
    found.map(|offset| text[..offset.min(text.len())].matches('\n').count() + 1)
}

/// The dotted key written at byte `offset` of `text` (its name or its value), if any.
fn key_at(text: &str, offset: usize) -> Option<String> {
    use std::ops::Range;
    use toml::{Spanned, de::DeValue};
    // The deepest key whose name or value covers the offset. Table spans cover only a
    // `[header]`, so every branch is searched, not only those whose span covers it.
    fn visit(
        name: String,
        child: &Spanned<DeValue>,
        key: Option<Range<usize>>,
        at: usize,
        path: &mut Vec<String>,
    ) -> bool {
        path.push(name);
        let here = child.span().contains(&at) || key.is_some_and(|k| k.contains(&at));
        if walk(child.get_ref(), at, path) || here {
            return true;
        }
        path.pop();
        false
    }
    fn walk(value: &DeValue, at: usize, path: &mut Vec<String>) -> bool {
        match value {
            DeValue::Table(table) => table
                .iter()
                .any(|(k, v)| visit(k.get_ref().to_string(), v, Some(k.span()), at, path)),
            DeValue::Array(items) => items
                .iter()
                .enumerate()
                .any(|(i, v)| visit(i.to_string(), v, None, at, path)),
            _ => false,
        }
    }
    let root = DeValue::Table(toml::de::DeTable::parse(text).ok()?.into_inner());
    let mut path = Vec::new();
    walk(&root, offset, &mut path).then(|| path.join("."))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load_err(text: &str, overrides: &[&str]) -> String {
        let overrides: Vec<String> = overrides.iter().map(|s| s.to_string()).collect();
        load_str(text, Path::new("s.toml"), &overrides)
            .expect_err("should be refused")
            .to_string()
    }

    /// Shares given for every topic or for none; one left out beside given ones is refused
    /// at its line, and the error names the key, what is allowed and the file.
    #[test]
    fn a_topic_share_is_given_for_every_topic_or_none() {
        let none = "[catalog]\ntopics = [{ name = \"a\" }, { name = \"b\" }]\n";
        let s = load_str(none, Path::new("s.toml"), &[]).unwrap();
        assert_eq!(
            s.catalog.topics.iter().map(|t| t.share).collect::<Vec<_>>(),
            [1.0, 1.0]
        );
        let one = "[catalog]\n\n[[catalog.topics]]\nname = \"a\"\nshare = 3.0\n\n[[catalog.topics]]\nname = \"b\"\n";
        let err = load_err(one, &[]);
        assert!(
            err.starts_with("s.toml:7: catalog.topics.1.share is missing"),
            "{err}"
        );
        assert!(err.contains("for every topic, or for none"), "{err}");
        // --set may give one topic a share of its own.
        let set = load_str(none, Path::new("s.toml"), &["catalog.topics.0.share=2".into()]).unwrap();
        assert_eq!(set.catalog.topics[0].share, 2.0);
    }

    #[test]
    fn an_unknown_key_in_set_names_the_scenario_file() {
        let err = load_err("", &["population.usres=5"]);
        assert!(
            err.starts_with("--set population.usres=5 (on s.toml): unknown field `usres`"),
            "{err}"
        );
    }

    #[test]
    fn a_file_without_arms_is_told_apart() {
        assert!(writes_no_arms(""));
        assert!(writes_no_arms(
            "[population]\nusers = 5\n# [[arms]] in a comment\n"
        ));
        assert!(!writes_no_arms(
            "[[arms]]\nname = \"a\"\npolicy = { kind = \"random\" }\n"
        ));
        assert!(!writes_no_arms("arms = []\n"));
        assert!(!writes_no_arms("not toml ["));
    }

    #[test]
    fn empty_file_is_the_default_scenario() {
        let s = load_str("", Path::new("s.toml"), &[]).unwrap();
        assert_eq!(s, Scenario::default());
    }

    #[test]
    fn unknown_key_is_named_with_its_line() {
        let msg = load_err("[population]\nusers = 10\nusres = 5\n", &[]);
        assert!(msg.contains("usres") && msg.contains("line 3"), "{msg}");
    }

    #[test]
    fn out_of_range_value_names_file_line_key_and_rule() {
        let msg = load_err("[population]\n\nminor_share = 1.5\n", &[]);
        assert_eq!(
            msg,
            "s.toml:3: population.minor_share must be between 0 and 1, got 1.5"
        );
    }

    #[test]
    fn wrong_type_is_refused_with_key_and_line() {
        let msg = load_err("[population]\nusers = \"many\"\n", &[]);
        assert!(
            msg.contains("line 2") && msg.contains("population.users"),
            "{msg}"
        );
        let msg = load_err("[population]\nminor_share = 0.1\nusers = -5\n", &[]);
        assert!(msg.starts_with("s.toml: population.users: "), "{msg}");
    }

    #[test]
    fn unknown_key_in_a_policy_without_parameters_is_refused() {
        let msg = load_err(
            "[[arms]]\nname = \"a\"\npolicy = { kind = \"random\", exploration = 0.1 }\n",
            &[],
        );
        assert!(msg.contains("exploration") && msg.contains("line 3"), "{msg}");
    }

    #[test]
    fn a_bad_override_is_named_alone() {
        let msg = load_err("", &["population.users=300", "population.usres=5"]);
        assert!(msg.starts_with("--set population.usres=5 (on s.toml):"), "{msg}");
    }

    #[test]
    fn overrides_set_nested_and_named_keys() {
        let text = "[[arms]]\nname = \"a\"\npolicy = { kind = \"engagement\" }\n";
        let overrides = vec![
            "population.users=7".to_string(),
            "arms.a.policy.exploration=0.25".to_string(),
            "scenario.name=other".to_string(),
        ];
        let s = load_str(text, Path::new("s.toml"), &overrides).unwrap();
        assert_eq!(s.population.users, 7);
        // Keys left to their defaults can be overridden too.
        let d = load_str("", Path::new("s.toml"), &["arms.random.name=control".to_string()]).unwrap();
        assert_eq!(d.arms[1].name, "control");
        assert_eq!(s.scenario.name, "other");
        match &s.arms[0].policy {
            crate::scenario::PolicyConfig::Engagement(e) => assert_eq!(e.exploration, 0.25),
            other => panic!("unexpected policy {other:?}"),
        }
    }

    #[test]
    fn bad_overrides_are_refused() {
        assert!(load_err("", &["population.usres=5"]).contains("usres"));
        assert!(load_err("", &["population.users"]).contains("KEY=VALUE"));
        let msg = load_err("", &["population.users=0"]);
        assert!(
            msg.contains("population.users must be between 1") && msg.contains("--set"),
            "{msg}"
        );
        assert!(load_err("", &["arms.nope.name=x"]).contains("no element"));
        assert!(load_err("", &["arms.7.name=x"]).contains("no element"));
        assert!(load_err("", &["population.users.x=1"]).contains("not a table"));
    }

    #[test]
    fn an_override_that_breaks_another_key_is_blamed_on_set() {
        let text = "[scenario]\nbaseline = \"random\"\n";
        let msg = load_err(text, &["arms=[]"]);
        assert!(msg.ends_with("(from --set)"), "{msg}");
        // The file's own fault keeps its line and no --set.
        let msg = load_err("[scenario]\nbaseline = \"nope\"\n", &["population.users=5"]);
        assert!(msg.starts_with("s.toml:2:") && !msg.contains("--set"), "{msg}");
    }

    #[test]
    fn invalid_utf8_is_refused_with_its_position() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.toml");
        std::fs::write(&path, b"[population]\nusers = 5 # caf\xe9\n").unwrap();
        let msg = load(&path, &[]).unwrap_err().to_string();
        assert!(
            msg.ends_with("bad.toml: line 2, column 16: not UTF-8 text (a TOML file must be UTF-8)"),
            "{msg}"
        );
    }

    #[test]
    fn locate_finds_nested_keys() {
        let text = "[scenario]\nname = \"x\"\n\n[[catalog.topics]]\nname = \"a\"\n[[catalog.topics]]\nname = \"b\"\nshare = 2\n";
        assert_eq!(locate_line(text, "scenario.name"), Some(2));
        assert_eq!(locate_line(text, "catalog.topics.1.share"), Some(8));
    }
}
