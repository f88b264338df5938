//! `report.html`: one self-contained page a policy analyst can open or print. The scenario's
//! name and description, the chart that carries its point, the headline table (cohort `all`,
//! mean and 95 % interval per arm, the metrics the scenario uses), the paired differences
//! from the baseline and the bots' table (`story.rs`), the other charts inline, a table per
//! cohort, and the run's provenance from `manifest.json`.
//!
//! The page needs no network and runs no script; it is well-formed XML (XHTML syntax, inline
//! SVG), and its links point only at files in the run directory.

use super::data::{ALL, Run};
use super::labels::{self, interval};
use super::story;
use super::style::thousands;
use std::fmt::Write as _;

/// A chart as the report shows it: its file name and its SVG document.
pub struct Chart<'a> {
    pub file: &'a str,
    pub svg: &'a str,
}

pub(super) const STYLE: &str = "
body { font-family: sans-serif; color: #222; max-width: 1000px; margin: 2em auto; padding: 0 1em; line-height: 1.45; }
h1 { font-size: 1.7em; margin-bottom: 0.2em; }
h2 { font-size: 1.25em; margin-top: 2em; border-bottom: 1px solid #ddd; padding-bottom: 0.2em; }
p.lead { color: #555; margin-top: 0; }
table { border-collapse: collapse; margin: 1em 0; font-size: 0.95em; }
th, td { padding: 0.35em 0.8em; border-bottom: 1px solid #e4e4e4; vertical-align: top; }
th { text-align: left; }
table.many { font-size: 0.8em; }
table.many th, table.many td { padding: 0.35em 0.45em; }
div.scroll { overflow-x: auto; }
td.num, th.arm { text-align: right; }
td.num { white-space: nowrap; }
th.arm { hyphens: none; }
th.arm span, td .ci, td code, th code { color: #666; font-weight: normal; font-size: 0.85em; }
figure { margin: 1.5em 0; }
figure svg { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { color: #555; font-size: 0.9em; }
dl { display: grid; grid-template-columns: max-content auto; gap: 0.2em 1.2em; }
dt { font-weight: bold; }
dd { margin: 0; word-break: break-word; }
@media print { figure { break-inside: avoid; } }
";

/// The report page for `run` with `charts`, as bytes.
pub fn html(run: &Run, charts: &[Chart<'_>]) -> Vec<u8> {
    let mut h = String::new();
    let title = format!("{}: rabbithole report", run.name);
    h.push_str("<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\" lang=\"en\">\n<head>\n");
    h.push_str("<meta charset=\"utf-8\"/>\n");
    let _ = writeln!(h, "<title>{}</title>", esc(&title));
    let _ = writeln!(h, "<style>{STYLE}</style>\n</head>\n<body>");
    let _ = writeln!(h, "<h1>{}</h1>", esc(&run.name));
    if !run.description.is_empty() {
        let _ = writeln!(h, "<p>{}</p>", esc(&run.description));
    }
    let _ = writeln!(h, "<p class=\"lead\">{}</p>", esc(&lead(run)));
    let (shown, left_out) = story::shown_metrics(run);
    // The chart that carries the scenario's point first, then the tables, the other charts
    // and the cohorts.
    if let Some(first) = charts.first() {
        figure(&mut h, first);
    }
    headline(&mut h, run, &shown, &left_out);
    story::comparison_table(&mut h, run, &shown);
    story::bot_table(&mut h, run);
    if charts.len() > 1 {
        h.push_str("<h2>Charts</h2>\n");
        for chart in &charts[1..] {
            figure(&mut h, chart);
        }
    }
    cohorts(&mut h, run, &shown);
    provenance(&mut h, run);
    h.push_str("<p class=\"lead\">A simulation: the figures follow from the model's parameters, documented with the program; read them as the behaviour of the mechanism, not as a measurement of any platform.</p>\n");
    h.push_str("</body>\n</html>\n");
    h.into_bytes()
}

/// A chart inline, with a link to its file.
fn figure(h: &mut String, chart: &Chart<'_>) {
    let _ = writeln!(h, "<figure id=\"{}\">", esc(chart.file.trim_end_matches(".svg")));
    h.push_str(strip_prolog(chart.svg));
    let _ = writeln!(
        h,
        "<figcaption>File <a href=\"{0}\">{0}</a> in this directory.</figcaption>\n</figure>",
        esc(chart.file)
    );
}

/// The line under the description: arms, replicates, viewers, seed.
fn lead(run: &Run) -> String {
    let arms: Vec<String> = run
        .arms
        .iter()
        .map(|a| match run.policies.get(a) {
            Some(p) if p != a => format!("{a} ({p})"),
            _ => a.clone(),
        })
        .collect();
    let mut lead = format!(
        "{} arm{}: {}.",
        arms.len(),
        if arms.len() == 1 { "" } else { "s" },
        arms.join(", ")
    );
    if run.replicates > 0 {
        let _ = write!(
            lead,
            " {} replicate{}",
            run.replicates,
            if run.replicates == 1 { "" } else { "s" }
        );
        if let Some(u) = run.users() {
            let _ = write!(lead, " of {} simulated viewers", thousands(u));
        }
        lead.push('.');
    }
    if let Some(seed) = run.manifest_field("/seed") {
        let _ = write!(lead, " Seed {seed}.");
    }
    lead
}

/// The headline table for all viewers: one row per metric the scenario uses, one column per
/// arm, mean and interval; and the metrics left out.
fn headline(h: &mut String, run: &Run, shown: &[String], left_out: &[String]) {
    h.push_str("<h2>Headline results</h2>\n");
    let _ = writeln!(
        h,
        "<p>At the end of the run, for all viewers: the mean over replicates and, below it, the 95&#160;% interval over replicates (from <a href=\"summary.csv\">summary.csv</a>).</p>"
    );
    headline_table(h, run, ALL, shown);
    if !left_out.is_empty() {
        let names: Vec<String> = left_out
            .iter()
            .map(|m| format!("<code>{}</code>", esc(m)))
            .collect();
        let _ = writeln!(
            h,
            "<p>Left out, for features this scenario does not use (0 in every arm, or creator groups it does not set): {}.</p>",
            names.join(", ")
        );
    }
}

/// The headline tables of the cohorts other than all viewers and the bots (who have their own
/// table): the metrics measured per viewer (the platform-wide ones are the same in every
/// cohort).
fn cohorts(h: &mut String, run: &Run, shown: &[String]) {
    let others: Vec<&String> = run.cohorts.iter().filter(|c| *c != ALL && *c != "bot").collect();
    if others.is_empty() {
        return;
    }
    let per_viewer: Vec<String> = shown
        .iter()
        .filter(|m| !story::platform_wide(m))
        .cloned()
        .collect();
    h.push_str("<h2>By cohort</h2>\n<p>The same at the end of the run for each group of viewers, the metrics measured per viewer (the platform-wide ones are the same in every cohort). Each arm's difference from the baseline for these cohorts is in <a href=\"comparison.csv\">comparison.csv</a>.</p>\n");
    for cohort in others {
        let _ = writeln!(h, "<h3>{}</h3>", esc(&cohort_title(cohort)));
        headline_table(h, run, cohort, &per_viewer);
    }
}

/// How a cohort's table is titled.
fn cohort_title(cohort: &str) -> String {
    match cohort {
        ALL => "All viewers".to_string(),
        "minors" => "Minors".to_string(),
        "adults" => "Adults".to_string(),
        "vulnerable" => "Vulnerable viewers".to_string(),
        "switchers" => "Viewers who switch recommender".to_string(),
        "stayers" => "Viewers who stay with the arm's recommender".to_string(),
        "organic" => "Organic viewers (not coordinated accounts)".to_string(),
        "coordinated" => "Coordinated accounts".to_string(),
        other => format!("Cohort {}", other.replace('_', " ")),
    }
}

/// One cohort's headline table.
fn headline_table(h: &mut String, run: &Run, cohort: &str, shown: &[String]) {
    // Past five arms the table is set smaller, and scrolls rather than spill out of the page.
    let class = if run.arms.len() > 5 { " class=\"many\"" } else { "" };
    let _ = write!(
        h,
        "<div class=\"scroll\"><table{class}>\n<thead><tr><th>metric</th>"
    );
    for arm in &run.arms {
        let policy = run.policies.get(arm).filter(|p| *p != arm);
        let _ = write!(h, "<th class=\"arm\">{}", breakable(arm));
        if let Some(p) = policy {
            let _ = write!(h, "<br/><span>{}</span>", esc(p));
        }
        h.push_str("</th>");
    }
    h.push_str("</tr></thead>\n<tbody>\n");
    for metric in shown {
        let (label, unit) = labels::describe(metric);
        let _ = write!(
            h,
            "<tr><th>{}<br/><code>{}</code></th>",
            esc(&labels::with_unit(&label, unit)),
            esc(metric)
        );
        for arm in &run.arms {
            match run.estimate(arm, cohort, metric) {
                Some(e) => {
                    let _ = write!(
                        h,
                        "<td class=\"num\">{}{}",
                        labels::number(e.mean, unit),
                        labels::suffix(unit)
                    );
                    if let Some((lo, hi)) = e.interval {
                        let _ = write!(h, "<br/><span class=\"ci\">{}</span>", interval(lo, hi, unit));
                    }
                    h.push_str("</td>");
                }
                None => h.push_str("<td class=\"num\">\u{2013}</td>"),
            }
        }
        h.push_str("</tr>\n");
    }
    h.push_str("</tbody>\n</table></div>\n");
}

/// Provenance: what a reader needs to replay the run.
fn provenance(h: &mut String, run: &Run) {
    h.push_str("<h2>Provenance</h2>\n");
    let Some(serde_json::Value::Object(manifest)) = &run.manifest else {
        h.push_str("<p>This directory has no manifest.json: the run's provenance is not recorded.</p>\n");
        return;
    };
    const KNOWN: [(&str, &str); 12] = [
        ("scenario_file", "scenario file"),
        ("seed", "seed"),
        ("replicates", "replicates"),
        ("users", "viewers per replicate"),
        ("program", "program"),
        ("version", "version"),
        ("git_commit", "git commit"),
        ("start_time", "started (UTC)"),
        ("wall_seconds", "wall time (s)"),
        ("threads", "threads"),
        ("viewer_steps", "viewer-steps simulated"),
        ("command_line", "command line"),
    ];
    h.push_str("<dl>\n");
    let mut item = |key: &str, value: &serde_json::Value| {
        let text = match (key, value) {
            ("command_line", serde_json::Value::Array(words)) => words
                .iter()
                .map(|w| shell_word(&scalar(w)))
                .collect::<Vec<_>>()
                .join(" "),
            ("wall_seconds", serde_json::Value::Number(n)) => {
                format!("{:.1}", n.as_f64().unwrap_or_default())
            }
            ("users" | "viewer_steps", serde_json::Value::Number(n)) if n.is_u64() => {
                thousands(n.as_u64().unwrap_or_default())
            }
            _ => scalar(value),
        };
        let tag = if key == "command_line" || key == "git_commit" {
            "code"
        } else {
            "span"
        };
        let label = KNOWN.iter().find(|(k, _)| *k == key).map_or(key, |(_, l)| l);
        let _ = writeln!(h, "<dt>{}</dt><dd><{tag}>{}</{tag}></dd>", esc(label), esc(&text));
    };
    for (key, _) in KNOWN {
        if let Some(value) = manifest.get(key).filter(|v| !v.is_null()) {
            item(key, value);
        }
    }
    // Anything else the manifest records (a merged run's sources, for one), except the
    // resolved scenario itself, which is in manifest.json.
    for (key, value) in manifest {
        let skip = KNOWN.iter().any(|(k, _)| k == key)
            || matches!(key.as_str(), "scenario" | "files" | "viewer_steps_per_second")
            || value.is_object()
            || value.is_null();
        if !skip {
            item(key, value);
        }
    }
    h.push_str("</dl>\n");
    h.push_str("<p>The scenario as resolved (every default filled in) is in <a href=\"manifest.json\">manifest.json</a>; the data behind every chart in <a href=\"timeseries.csv\">timeseries.csv</a> and <a href=\"summary.csv\">summary.csv</a>.</p>\n");
}

/// A JSON value as text: strings bare, arrays joined.
fn scalar(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Array(items) => items.iter().map(scalar).collect::<Vec<_>>().join(", "),
        other => other.to_string(),
    }
}

/// A command-line word quoted for a POSIX shell when it needs it.
fn shell_word(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c));
    if plain {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}

/// An SVG document without its XML declaration, for inlining.
pub(super) fn strip_prolog(svg: &str) -> &str {
    let svg = svg.trim_start();
    match svg.strip_prefix("<?xml") {
        Some(rest) => rest.find("?>").map_or(svg, |end| rest[end + 2..].trim_start()),
        None => svg,
    }
}

/// An arm's name escaped, with break opportunities after `+`, `_` and `-` so long names wrap
/// between their parts rather than inside a word.
fn breakable(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        out.push_str(&esc(&c.to_string()));
        if matches!(c, '+' | '_' | '-') {
            out.push_str("<wbr/>");
        }
    }
    out
}

/// Escapes text for XML content and attribute values.
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if (c as u32) < 0x20 && c != '\n' && c != '\t' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_for_xml() {
        assert_eq!(esc("a<b & \"c\""), "a&lt;b &amp; &quot;c&quot;");
        assert_eq!(esc("bell\u{7}"), "bell\u{fffd}");
    }

    #[test]
    fn intervals_with_a_sign_use_words() {
        assert_eq!(
            interval(0.1, 0.2, Some(labels::Unit::Index)),
            "0.100\u{2013}0.200"
        );
        assert_eq!(
            interval(-0.011, -0.001, Some(labels::Unit::Index)),
            "-0.011 to -0.001"
        );
    }

    #[test]
    fn long_arm_names_break_between_parts() {
        assert_eq!(breakable("a+b_c"), "a+<wbr/>b_<wbr/>c");
        assert_eq!(breakable("a&b"), "a&amp;b");
    }

    #[test]
    fn shell_words_are_quoted_when_needed() {
        assert_eq!(shell_word("--set"), "--set");
        assert_eq!(shell_word("population.users=5"), "population.users=5");
        assert_eq!(shell_word("a b"), "'a b'");
        assert_eq!(shell_word("it's"), "'it'\\''s'");
    }

    #[test]
    fn the_xml_prolog_is_dropped_for_inlining() {
        assert_eq!(strip_prolog("<?xml version=\"1.0\"?>\n<svg/>"), "<svg/>");
        assert_eq!(strip_prolog("<svg/>"), "<svg/>");
    }
}
