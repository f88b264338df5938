//! `docs/scenarios.md` documents every scenario key with the default the code uses, and its
//! example scenario is valid and complete.
//!
//! The keys are not listed here: they are found by serialising `Scenario::default()` with one
//! arm of every policy kind the scenario format accepts, and by asking serde which fields each
//! table declares (the error for an unknown key lists them, optional keys included). So a key
//! or a policy kind added to the code without a row in the docs fails these tests.

use rabbithole::scenario::{self, Scenario};
use std::path::Path;
use toml::Value;

const DOCS: &str = include_str!("../../docs/scenarios.md");

/// Where a key is documented: the section of its TOML table, or of its policy kind.
#[derive(Debug, Clone, PartialEq)]
enum Place {
    /// The section whose heading names the table, e.g. `[[catalog.topics]]`.
    Table(String),
    /// The section headed `kind = "<kind>"`, for the keys of one policy kind.
    Kind(String),
}

/// One scenario key, found in a serialised scenario or among the fields a table declares.
#[derive(Debug, Clone)]
struct Key {
    place: Place,
    /// Dotted path without array indices (`catalog.topics.share`).
    path: Vec<String>,
    /// The key lives in an element of a list of tables (topics, groups, arms).
    in_list: bool,
    /// The policy kind, for keys of `arms.policy`.
    kind: Option<String>,
}

impl Key {
    fn name(&self) -> &str {
        self.path.last().expect("a key has a name")
    }

    fn dotted(&self) -> String {
        self.path.join(".")
    }
}

fn is_table_list(v: &Value) -> bool {
    matches!(v, Value::Array(items) if !items.is_empty() && items.iter().all(Value::is_table))
}

/// Collects every key under `table` (at `path`), descending into tables and lists of tables.
fn walk(table: &toml::Table, path: &[String], in_list: bool, out: &mut Vec<Key>) {
    let kind = (path.join(".") == "arms.policy")
        .then(|| table.get("kind").and_then(Value::as_str).map(str::to_string))
        .flatten();
    for (name, value) in table {
        let mut key_path = path.to_vec();
        key_path.push(name.clone());
        let place = match &kind {
            Some(k) if name != "kind" => Place::Kind(k.clone()),
            _ => Place::Table(path.join(".")),
        };
        let key = Key {
            place,
            path: key_path.clone(),
            in_list,
            kind: kind.clone(),
        };
        push(out, key);
        match value {
            Value::Table(t) => walk(t, &key_path, in_list, out),
            Value::Array(items) if is_table_list(value) => {
                for item in items {
                    walk(item.as_table().expect("a table"), &key_path, true, out);
                }
            }
            _ => {}
        }
    }
}

fn push(out: &mut Vec<Key>, key: Key) {
    if !out.iter().any(|k| k.path == key.path && k.place == key.place) {
        out.push(key);
    }
}

/// The names serde lists after "expected" in `message`, between backticks.
fn expected_names(message: &str) -> Vec<String> {
    message
        .split_once("expected")
        .map(|(_, rest)| rest.split('`').skip(1).step_by(2).map(str::to_string).collect())
        .unwrap_or_default()
}

/// The fields the table at `path` of `root` declares (the first element of every list on the
/// way), read from the error an unknown key there gets. Empty if it declares none.
fn declared_fields(root: &Value, path: &[String]) -> Vec<String> {
    const UNKNOWN: &str = "zz_no_such_key";
    let mut root = root.clone();
    match get_mut(&mut root, path) {
        Some(Value::Table(t)) => t.insert(UNKNOWN.into(), Value::Integer(0)),
        _ => panic!("no table at {path:?}"),
    };
    match root.try_into::<Scenario>() {
        Err(e) if e.message().contains(&format!("unknown field `{UNKNOWN}`")) => expected_names(e.message()),
        _ => Vec::new(),
    }
}

/// Every policy kind the scenario format accepts, read from the error a made-up kind gets.
fn policy_kinds() -> Vec<String> {
    let text = "[[arms]]\nname = \"a\"\npolicy = { kind = \"no-such-kind\" }\n";
    let err = toml::from_str::<Scenario>(text)
        .expect_err("a made-up policy kind is refused")
        .to_string();
    let kinds = expected_names(&err);
    assert!(!kinds.is_empty(), "cannot read the policy kinds from {err:?}");
    kinds
}

/// A scenario whose lists hold one minimal element each: only the keys a list element
/// requires, and an arm of policy `kind` (the first kind if empty). Not validated; used to
/// read the fields and defaults of list elements.
fn minimal(kind: &str) -> Value {
    let kind = if kind.is_empty() {
        policy_kinds().swap_remove(0)
    } else {
        kind.to_string()
    };
    // A blend needs at least one component to exist at all.
    let policy = if kind == "blend" {
        "{ kind = \"blend\", components = [{ weight = 1.0, policy = { kind = \"random\" } }] }".to_string()
    } else {
        format!("{{ kind = \"{kind}\" }}")
    };
    let text = format!(
        "[[catalog.topics]]\nname = \"a\"\n\n[[catalog.groups]]\nname = \"g\"\nshare = 1.0\n\n\
         [[arms]]\nname = \"a\"\npolicy = {policy}\nprotections = {{}}\n\n\
         [[bots]]\nname = \"b\"\nrule = \"linger\"\n"
    );
    let table: toml::Table = toml::from_str(&text).expect("valid TOML");
    Value::Table(table)
}

/// The default scenario with one arm of every policy kind.
fn everything() -> Value {
    let arms = policy_kinds()
        .iter()
        .map(|kind| {
            let resolved: Scenario = minimal(kind)
                .try_into()
                .unwrap_or_else(|e| panic!("policy kind {kind:?} needs keys this test does not write: {e}"));
            let mut arm = resolved.arms[0].clone();
            arm.name = kind.clone();
            arm
        })
        .collect();
    // The optional tables too: `[day]`, a `[[bots]]` element, and `[arms.protections]` (in
    // every minimal arm).
    let bot: Scenario = minimal("").try_into().expect("a minimal scenario with a bot");
    let s = Scenario {
        arms,
        day: Some(scenario::DayConfig::default()),
        bots: bot.bots,
        ..Scenario::default()
    };
    Value::try_from(&s).expect("a scenario serialises")
}

/// Every key of the scenario format: those the default scenario writes, and the fields every
/// table declares (optional keys absent by default among them).
fn all_keys() -> Vec<Key> {
    let root = everything();
    let mut keys = Vec::new();
    walk(root.as_table().expect("a table"), &[], false, &mut keys);
    let tables: Vec<Key> = keys
        .iter()
        .filter(|k| {
            let v = get(&root, &k.path);
            v.is_some_and(|v| v.is_table() || is_table_list(v))
        })
        .cloned()
        .collect();
    let top = Key {
        place: Place::Table(String::new()),
        path: Vec::new(),
        in_list: false,
        kind: None,
    };
    for table in std::iter::once(&top).chain(&tables) {
        let in_list = table.in_list || get(&root, &table.path).is_some_and(is_table_list);
        let dotted = table.dotted();
        let kinds = if dotted == "arms.policy" {
            policy_kinds()
        } else {
            vec![String::new()]
        };
        for kind in kinds {
            // Keys of list elements are read from a minimal element, of each policy kind.
            let source = if in_list { minimal(&kind) } else { root.clone() };
            for name in declared_fields(&source, &table.path) {
                let mut path = table.path.clone();
                path.push(name);
                let place = if kind.is_empty() {
                    Place::Table(dotted.clone())
                } else {
                    Place::Kind(kind.clone())
                };
                let kind = (!kind.is_empty()).then(|| kind.clone());
                push(
                    &mut keys,
                    Key {
                        place,
                        path,
                        in_list,
                        kind,
                    },
                );
            }
        }
    }
    keys
}

/// The value at `path`, taking the first element of every list on the way.
fn get<'a>(root: &'a Value, path: &[String]) -> Option<&'a Value> {
    let mut node = root;
    for part in path {
        if let Value::Array(items) = node {
            node = items.first()?;
        }
        node = node.get(part.as_str())?;
    }
    Some(node)
}

fn get_mut<'a>(root: &'a mut Value, path: &[String]) -> Option<&'a mut Value> {
    let mut node = root;
    for part in path {
        if let Value::Array(items) = node {
            node = items.first_mut()?;
        }
        node = node.get_mut(part.as_str())?;
    }
    if let Value::Array(items) = node {
        node = items.first_mut()?;
    }
    Some(node)
}

/// The default of a key of a list element: `None` if the element cannot leave it out.
fn element_default(key: &Key) -> ElementDefault {
    let mut m = minimal(key.kind.as_deref().unwrap_or(""));
    let parent = &key.path[..key.path.len() - 1];
    if let Some(Value::Table(t)) = get_mut(&mut m, parent) {
        t.remove(key.name());
    }
    let Ok(s) = m.try_into::<Scenario>() else {
        return ElementDefault::Required;
    };
    match get(&Value::try_from(&s).expect("a scenario serialises"), &key.path) {
        Some(v) => ElementDefault::Value(v.clone()),
        None => ElementDefault::Absent,
    }
}

/// What a key of a list element takes when left out.
enum ElementDefault {
    /// The element is refused without it.
    Required,
    /// An optional key with no value by default.
    Absent,
    /// This value.
    Value(Value),
}

/// The lines of a document outside fenced code blocks, with their heading level (0 if none).
fn lines(doc: &str) -> Vec<(usize, &str)> {
    let mut in_fence = false;
    let mut out = Vec::new();
    for line in doc.lines() {
        if line.starts_with("```") {
            in_fence = !in_fence;
            continue;
        }
        if !in_fence {
            let level = line.chars().take_while(|&c| c == '#').count();
            let level = if line[level..].starts_with(' ') { level } else { 0 };
            out.push((level, line));
        }
    }
    out
}

/// The lines of the section whose heading satisfies `is_heading`, up to the next heading of
/// the same or a higher level, or the next one that names a TOML table.
fn section(doc: &str, is_heading: impl Fn(&str) -> bool) -> Option<Vec<&str>> {
    let all = lines(doc);
    let start = all
        .iter()
        .position(|(level, line)| *level > 0 && is_heading(line))?;
    let level = all[start].0;
    Some(
        all[start + 1..]
            .iter()
            .take_while(|(l, line)| *l == 0 || (*l > level && !line.contains("`[")))
            .map(|(_, line)| *line)
            .collect(),
    )
}

fn section_of<'a>(doc: &'a str, place: &Place) -> Option<Vec<&'a str>> {
    match place {
        Place::Table(t) => {
            let names = [format!("`[{t}]`"), format!("`[[{t}]]`")];
            section(doc, |h| names.iter().any(|n| h.contains(n.as_str())))
        }
        Place::Kind(k) => {
            let name = format!("`kind = \"{k}\"`");
            section(doc, |h| h.contains(name.as_str()))
        }
    }
}

/// The cells of the table rows in `lines` whose first cell is `` `name` ``.
fn rows<'a>(lines: &[&'a str], name: &str) -> Vec<Vec<&'a str>> {
    let wanted = format!("`{name}`");
    lines
        .iter()
        .filter(|l| l.trim_start().starts_with('|'))
        .map(|l| {
            l.trim()
                .trim_matches('|')
                .split('|')
                .map(str::trim)
                .collect::<Vec<_>>()
        })
        .filter(|cells| cells.first() == Some(&wanted.as_str()))
        .collect()
}

/// The default column (key | meaning | unit | default | range) read as a TOML value.
fn documented_default(cells: &[&str]) -> Option<Value> {
    let inner = cells.get(3)?.strip_prefix('`')?.strip_suffix('`')?;
    let mut t: toml::Table = toml::from_str(&format!("v = {inner}")).ok()?;
    t.remove("v")
}

fn same(a: &Value, b: &Value) -> bool {
    let num = |v: &Value| v.as_float().or_else(|| v.as_integer().map(|i| i as f64));
    match (num(a), num(b)) {
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}

#[test]
fn every_key_has_a_row_in_its_section() {
    let mut missing = Vec::new();
    for key in all_keys() {
        let body = section_of(DOCS, &key.place);
        if key.path.len() == 1 {
            // A top-level key is a section of its own.
            if section_of(DOCS, &Place::Table(key.dotted())).is_none() {
                missing.push(format!("no section headed `[{0}]` or `[[{0}]]`", key.dotted()));
            }
            continue;
        }
        match body {
            None => missing.push(format!("{}: no section for {:?}", key.dotted(), key.place)),
            Some(body) if rows(&body, key.name()).is_empty() => missing.push(format!(
                "{}: no row `{}` in the section of {:?}",
                key.dotted(),
                key.name(),
                key.place
            )),
            Some(body) => {
                for cells in rows(&body, key.name()).iter().filter(|c| c.len() != 5) {
                    missing.push(format!(
                        "{}: the row has {} cells, not key | meaning | unit | default | allowed range",
                        key.dotted(),
                        cells.len()
                    ));
                }
            }
        }
    }
    for kind in policy_kinds() {
        if section_of(DOCS, &Place::Kind(kind.clone())).is_none() {
            missing.push(format!(
                "policy kind {kind:?}: no section headed `kind = \"{kind}\"`"
            ));
        }
    }
    assert!(
        missing.is_empty(),
        "docs/scenarios.md does not document:\n{}",
        missing.join("\n")
    );
}

#[test]
fn documented_defaults_are_the_code_defaults() {
    // The default scenario, with the defaults of its optional tables (`[day]`) filled in.
    let defaults = everything();
    let mut wrong = Vec::new();
    for key in all_keys().iter().filter(|k| k.path.len() > 1) {
        let Some(body) = section_of(DOCS, &key.place) else {
            continue; // reported by every_key_has_a_row_in_its_section
        };
        let rows = rows(&body, key.name());
        let Some(cells) = rows.first() else {
            continue;
        };
        let (expected, required) = if key.in_list {
            match element_default(key) {
                ElementDefault::Value(v) => (Some(v), false),
                ElementDefault::Absent => (None, false),
                ElementDefault::Required => (None, true),
            }
        } else {
            (get(&defaults, &key.path).cloned(), false)
        };
        let cell = cells.get(3).copied().unwrap_or("");
        if required {
            if cell != "required" {
                wrong.push(format!("{}: required, documented {cell:?}", key.dotted()));
            }
            continue;
        }
        let Some(expected) = expected else {
            // An optional key absent by default: the docs must not give it a value.
            if documented_default(cells).is_some() {
                wrong.push(format!("{}: has no default, documented {cell:?}", key.dotted()));
            }
            continue;
        };
        if expected.is_table() || is_table_list(&expected) {
            continue;
        }
        match documented_default(cells) {
            Some(doc) if same(&doc, &expected) => {}
            _ => wrong.push(format!(
                "{}: default is {expected}, documented {cell:?}",
                key.dotted()
            )),
        }
    }
    assert!(
        wrong.is_empty(),
        "docs/scenarios.md has wrong defaults:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn default_topics_and_groups_are_listed() {
    let catalog = Scenario::default().catalog;
    let body = section_of(DOCS, &Place::Table("catalog.topics".into())).expect("a topics section");
    let mut wrong = Vec::new();
    for t in &catalog.topics {
        let row = format!(
            "| {} | {} | {} | {} | {} | {} |",
            t.name, t.share, t.sensitive, t.educational, t.stance_spread, t.stance_bearing
        );
        if !body.iter().any(|l| l.trim() == row) {
            wrong.push(format!("no row {row:?}"));
        }
        if t.stance_mean != 0.0 {
            wrong.push(format!("{} has stance_mean {}, not 0.0", t.name, t.stance_mean));
        }
    }
    let body = section_of(DOCS, &Place::Table("catalog.groups".into())).expect("a groups section");
    let text = body.join("\n");
    for g in &catalog.groups {
        let phrase = format!("`{}` (share {})", g.name, g.share);
        if !text.contains(&phrase) {
            wrong.push(format!("no {phrase:?}"));
        }
    }
    let count = |kind: &str, n: usize| format!("the {n} {kind} below");
    let body = section_of(DOCS, &Place::Table("catalog".into())).expect("a catalog section");
    for phrase in [
        count("topics", catalog.topics.len()),
        count("groups", catalog.groups.len()),
    ] {
        if !body.iter().any(|l| l.contains(&phrase)) {
            wrong.push(format!("no {phrase:?} in the [catalog] table"));
        }
    }
    assert!(
        wrong.is_empty(),
        "docs/scenarios.md lists the default topics and groups wrongly:\n{}",
        wrong.join("\n")
    );
}

/// The first ```toml block of the docs.
fn example() -> &'static str {
    let start = DOCS
        .find("```toml\n")
        .expect("a ```toml block in docs/scenarios.md")
        + 8;
    let len = DOCS[start..].find("```").expect("the block ends");
    &DOCS[start..start + len]
}

#[test]
fn example_scenario_is_valid() {
    let s = scenario::load_str(example(), Path::new("docs/scenarios.md"), &[])
        .unwrap_or_else(|e| panic!("the example in docs/scenarios.md is refused: {e}"));
    // It says it shows the defaults, apart from the scenario's name, description and baseline.
    let mut as_default = s.clone();
    as_default.scenario = Scenario::default().scenario;
    assert_eq!(
        as_default,
        Scenario::default(),
        "the example no longer shows the defaults"
    );
}

#[test]
fn example_scenario_writes_every_key() {
    let written: toml::Table = toml::from_str(example()).expect("the example is TOML");
    let mut in_example = Vec::new();
    walk(&written, &[], false, &mut in_example);
    let mut default = Scenario::default();
    default.scenario.baseline = Some("random".into());
    let mut keys = Vec::new();
    walk(
        Value::try_from(&default)
            .expect("a scenario serialises")
            .as_table()
            .expect("a table"),
        &[],
        false,
        &mut keys,
    );
    let missing: Vec<String> = keys
        .iter()
        .filter(|k| !in_example.iter().any(|e| e.path == k.path))
        .map(Key::dotted)
        .collect();
    assert!(
        missing.is_empty(),
        "the example in docs/scenarios.md leaves out {missing:?}"
    );
}
