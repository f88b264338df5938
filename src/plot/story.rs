//! What makes a report fit its scenario: which features the scenario uses (from the resolved
//! scenario in `manifest.json` and the files the run wrote), which chart carries its point,
//! which metrics the headline tables show, the audit bots' chart and table from
//! `bot_summary.csv`, and the paired comparison table from `comparison.csv`.

use super::PlotError;
use super::bars::{self, Bar, Cluster, YAxis};
use super::data::{ALL, Estimate, Run, Table};
use super::labels;
use super::report::esc;
use super::style::{self, Frame, Swatch, arm_colour};
use crate::metrics::Metric;
use crate::metrics::columns::{self, Condition, Reduction};
use crate::scenario::Scenario;
use std::fmt::Write as _;

/// Reads the optional files into `run`.
pub fn read_extras(run: &mut Run, comparison: Option<&[u8]>, bots: Option<&[u8]>) -> Result<(), PlotError> {
    run.comparison = comparison
        .map(|b| Table::parse("comparison.csv", b))
        .transpose()?;
    run.bots = bots
        .map(|b| Table::parse("bot_summary.csv", b))
        .transpose()?
        .filter(|t| !t.rows().is_empty());
    Ok(())
}

/// Whether the scenario has the safety features (minors, vulnerable viewers, the day model,
/// protections or bots): its files then have the columns only they write.
pub fn safety(run: &Run) -> bool {
    run.summary
        .col(&format!("{}_mean", Metric::NightShare.name()))
        .is_some()
}

/// Whether the scenario is about creator groups: groups other than the default ones, or a
/// target or boost that names groups. Without a manifest, assumed so.
pub fn uses_groups(run: &Run) -> bool {
    let Some(scenario) = run.manifest_field("/scenario") else {
        return true;
    };
    let defaults = serde_json::to_value(&Scenario::default().catalog.groups).unwrap_or_default();
    let own = scenario.pointer("/catalog/groups").cloned().unwrap_or_default();
    let named = ["target", "arms"]
        .iter()
        .filter_map(|k| scenario.get(*k))
        .any(names_groups);
    own != defaults || named
}

/// Whether `value` holds a non-empty `groups` list anywhere.
fn names_groups(value: &serde_json::Value) -> bool {
    match value {
        serde_json::Value::Object(map) => map
            .iter()
            .any(|(k, v)| (k == "groups" && v.as_array().is_some_and(|a| !a.is_empty())) || names_groups(v)),
        serde_json::Value::Array(items) => items.iter().any(names_groups),
        _ => false,
    }
}

/// Whether the scenario boosts a target set (a `[target]` or an arm's boosts).
fn boosts(run: &Run) -> bool {
    let Some(scenario) = run.manifest_field("/scenario") else {
        return false;
    };
    let target = scenario.get("target").is_some_and(|t| !t.is_null());
    let arm_boosts = scenario
        .get("arms")
        .and_then(|a| a.as_array())
        .is_some_and(|arms| {
            arms.iter().any(|a| {
                a.get("boosts")
                    .and_then(|b| b.as_array())
                    .is_some_and(|b| !b.is_empty())
            })
        });
    target || arm_boosts
}

/// The charts that carry the scenario's point, in the order they lead the report: creator
/// groups, boosts, audit bots with rabbit holes, sensitive content for minors; a comparison of
/// many recommenders leads with the trade-off; anything else with feed narrowing.
pub fn lead(run: &Run) -> Vec<&'static str> {
    let mut lead = Vec::new();
    if uses_groups(run) && run.manifest.is_some() {
        lead.push("group-exposure.svg");
    }
    if boosts(run) {
        lead.push("boosted.svg");
    }
    if run.bots.is_some() {
        lead.extend(["bots.svg", "rabbit-hole.svg"]);
    }
    if safety(run) {
        lead.push("sensitive.svg");
    }
    if lead.is_empty() && run.arms.len() >= 3 {
        lead.push("tradeoff.svg");
    }
    lead
}

/// The headline metrics worth a row: those some arm has a non-zero value of for all viewers
/// (a metric 0 in every arm belongs to a feature the scenario does not use), the creator
/// groups' only in a scenario about them; and those left out.
pub fn shown_metrics(run: &Run) -> (Vec<String>, Vec<String>) {
    let groups = uses_groups(run);
    run.summary_metrics().into_iter().partition(|m| {
        let per_group = columns::find(m).is_some_and(|(d, _)| d.when == Condition::PerGroup);
        (groups || !per_group)
            && run
                .arms
                .iter()
                .any(|a| run.estimate(a, ALL, m).is_some_and(|e| e.mean != 0.0))
    })
}

/// Whether `metric` is platform-wide, the same in every cohort.
pub fn platform_wide(metric: &str) -> bool {
    columns::find(metric).is_some_and(|(d, _)| d.reduce == Reduction::Platform)
}

/// `bots.svg`: per `[[bots]]` table, the share of its bots whose feed narrowed to their
/// topics, per arm, with its 95 % interval; drawn when the run has audit bots.
pub fn bots_chart(run: &Run) -> Option<String> {
    let table = run.bots.as_ref()?;
    let mut names: Vec<String> = Vec::new();
    for row in table.rows() {
        if let Some(n) = table.get(row, "name").filter(|n| !names.iter().any(|m| m == n)) {
            names.push(n.to_string());
        }
    }
    let clusters: Vec<Cluster> = names
        .iter()
        .map(|name| Cluster {
            label: name.replace('_', " "),
            bars: run
                .arms
                .iter()
                .filter_map(|arm| {
                    let row = table
                        .rows()
                        .iter()
                        .find(|r| table.get(r, "arm") == Some(arm) && table.get(r, "name") == Some(name))?;
                    Some(Bar {
                        colour: arm_colour(run, arm),
                        estimate: bars::scaled(bot_estimate(table, row, "narrowed_share")?, 100.0),
                    })
                })
                .collect(),
        })
        .collect();
    let frame = Frame {
        title: "Audit bots whose feed narrowed to their topics",
        legend: run.arms.iter().map(|a| (Swatch::Block(arm_colour(run, a)), a.clone())).collect(),
        note: "Per group of scripted accounts (a [[bots]] table), the share of its bots whose last W impressions reached the table's narrow_share of its topics, mean over replicates; whiskers: 95 % interval over replicates. From bot_summary.csv.".to_string(),
    };
    let y = YAxis {
        desc: "bots whose feed narrowed (%)",
        format: &style::percent,
        value: &bars::one_decimal_percent,
        rule: None,
    };
    Some(style::render(run, &frame, |area| {
        bars::draw(area, &clusters, "group of audit bots", &y)
    }))
}

/// A `bot_summary.csv` metric of one row.
fn bot_estimate(table: &Table, row: &csv::StringRecord, metric: &str) -> Option<Estimate> {
    Some(Estimate {
        mean: table.num(row, &format!("{metric}_mean"))?,
        interval: table
            .num(row, &format!("{metric}_lo"))
            .zip(table.num(row, &format!("{metric}_hi"))),
    })
}

/// A value with its interval in a table cell, in `unit`.
fn cell(e: Option<Estimate>, unit: Option<labels::Unit>) -> String {
    match e {
        None => "<td class=\"num\">\u{2013}</td>".to_string(),
        Some(e) => {
            let mut out = format!(
                "<td class=\"num\">{}{}",
                labels::number(e.mean, unit),
                labels::suffix(unit)
            );
            if let Some((lo, hi)) = e.interval {
                let _ = write!(
                    out,
                    "<br/><span class=\"ci\">{}</span>",
                    labels::interval(lo, hi, unit)
                );
            }
            out.push_str("</td>");
            out
        }
    }
}

/// The audit bots' table, from `bot_summary.csv`.
pub fn bot_table(h: &mut String, run: &Run) {
    let Some(table) = &run.bots else {
        return;
    };
    h.push_str("<h2>Audit bots</h2>\n<p>Scripted accounts that watch by a rule (docs/model.md §8d), per arm and group of bots: the share whose feed narrowed to their topics and the median minutes of use until it did; for bots that switch topic, the share whose feed followed the switch. Mean over replicates, 95&#160;% interval below (from <a href=\"bot_summary.csv\">bot_summary.csv</a>; each bot's row in <a href=\"bots.csv\">bots.csv</a>).</p>\n");
    h.push_str("<div class=\"scroll\"><table>\n<thead><tr><th>arm</th><th>bots</th><th>rule</th><th>topics</th><th class=\"arm\">feeds narrowed</th><th class=\"arm\">minutes to narrow</th><th class=\"arm\">feeds followed the switch</th></tr></thead>\n<tbody>\n");
    for row in table.rows() {
        let text = |c: &str| esc(table.get(row, c).unwrap_or(""));
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{} ({})</td><td>{}</td><td>{}</td>",
            text("arm"),
            text("name"),
            text("bots"),
            text("rule"),
            text("topics")
        );
        h.push_str(&cell(
            bot_estimate(table, row, "narrowed_share"),
            Some(labels::Unit::Share),
        ));
        h.push_str(&cell(
            bot_estimate(table, row, "minutes_to_narrow"),
            Some(labels::Unit::Minutes),
        ));
        h.push_str(&cell(
            bot_estimate(table, row, "followed_switch_share"),
            Some(labels::Unit::Share),
        ));
        h.push_str("</tr>\n");
    }
    h.push_str("</tbody>\n</table></div>\n");
}

/// The paired comparison table for all viewers, from `comparison.csv`: each arm's difference
/// from the baseline arm, replicate by replicate, with its 95 % interval; a difference whose
/// interval excludes 0 is set in bold.
pub fn comparison_table(h: &mut String, run: &Run, metrics: &[String]) {
    let Some(table) = &run.comparison else {
        return;
    };
    let baseline = table
        .rows()
        .iter()
        .find(|r| table.get(r, "note").is_some_and(|n| n.contains("baseline arm")))
        .and_then(|r| table.get(r, "arm"))
        .unwrap_or_default()
        .to_string();
    let arms: Vec<&String> = run.arms.iter().filter(|a| **a != baseline).collect();
    if arms.is_empty() {
        return;
    }
    let _ = writeln!(
        h,
        "<h2>Difference from the baseline arm ({})</h2>\n<p>For all viewers: each arm's value minus the baseline's in the same replicate (arms share their random numbers, so the pair cancels what they share), the mean over replicates and its 95&#160;% interval below; in bold where the interval excludes 0. Shares in percentage points. From <a href=\"comparison.csv\">comparison.csv</a>, which has every cohort.</p>",
        esc(&baseline)
    );
    h.push_str("<div class=\"scroll\"><table>\n<thead><tr><th>metric</th>");
    for arm in &arms {
        let _ = write!(
            h,
            "<th class=\"arm\">{} \u{2212} {}</th>",
            esc(arm),
            esc(&baseline)
        );
    }
    h.push_str("</tr></thead>\n<tbody>\n");
    for metric in metrics {
        let (label, unit) = labels::describe(metric);
        let _ = write!(h, "<tr><th>{}</th>", esc(&labels::with_unit(&label, unit)));
        for arm in &arms {
            let row = table.rows().iter().find(|r| {
                table.get(r, "arm") == Some(arm)
                    && table.get(r, "cohort") == Some(ALL)
                    && table.get(r, "metric") == Some(metric)
            });
            let diff = row.and_then(|r| {
                Some(Estimate {
                    mean: table.num(r, "diff")?,
                    interval: table.num(r, "diff_lo").zip(table.num(r, "diff_hi")),
                })
            });
            let mut text = cell(diff, unit).replace("\u{a0}%", "\u{a0}pp");
            if diff.is_some_and(|d| d.mean > 0.0) {
                text = text.replacen("<td class=\"num\">", "<td class=\"num\">+", 1);
            }
            if diff
                .and_then(|d| d.interval)
                .is_some_and(|(lo, hi)| lo > 0.0 || hi < 0.0)
            {
                text = text
                    .replacen("<td class=\"num\">", "<td class=\"num\"><b>", 1)
                    .replacen("<br/>", "</b><br/>", 1);
            }
            h.push_str(&text);
        }
        h.push_str("</tr>\n");
    }
    h.push_str("</tbody>\n</table></div>\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    const TIMESERIES: &str = "arm,replicate,cohort,step,mean_minutes\na,0,all,0,1.0\nb,0,all,0,1.0\n";
    const SUMMARY: &str = "\
arm,cohort,policy,users,feed_entropy_mean,feed_entropy_lo,feed_entropy_hi,boosted_share_mean,boosted_share_lo,boosted_share_hi,group_exposure_minority_mean,group_exposure_minority_lo,group_exposure_minority_hi
a,all,engagement,10,0.5,0.4,0.6,0,0,0,0.2,0.1,0.3
b,all,random,10,0.9,,,0,0,0,0.2,0.1,0.3
";

    /// A run whose manifest's scenario is `scenario` (JSON) completed by the defaults.
    fn run(scenario: serde_json::Value) -> Run {
        let mut resolved = serde_json::to_value(Scenario::default()).unwrap();
        for (k, v) in scenario.as_object().unwrap() {
            resolved[k] = v.clone();
        }
        let manifest = serde_json::json!({ "scenario": resolved }).to_string();
        Run::parse(
            TIMESERIES.as_bytes(),
            SUMMARY.as_bytes(),
            Some(manifest.as_bytes()),
            "x",
        )
        .unwrap()
    }

    #[test]
    fn rows_are_the_features_the_scenario_uses() {
        // Default groups, no boost: the boosted share (0 everywhere) and the groups are left out.
        let (shown, left_out) = shown_metrics(&run(serde_json::json!({})));
        assert_eq!(shown, ["feed_entropy"]);
        assert_eq!(left_out, ["boosted_share", "group_exposure_minority"]);
        // A boost naming the group: the group's exposure is shown.
        let boosted = run(serde_json::json!({ "target": { "groups": ["minority"] } }));
        assert_eq!(
            shown_metrics(&boosted).0,
            ["feed_entropy", "group_exposure_minority"]
        );
        assert!(platform_wide("group_exposure_minority") && !platform_wide("feed_entropy"));
    }

    #[test]
    fn the_scenario_s_point_leads() {
        assert!(lead(&run(serde_json::json!({}))).is_empty());
        assert_eq!(
            lead(&run(serde_json::json!({ "target": { "groups": ["minority"] } }))),
            ["group-exposure.svg", "boosted.svg"]
        );
        assert_eq!(
            lead(&run(serde_json::json!({ "target": { "groups": [] } }))),
            ["boosted.svg"]
        );
        assert!(!safety(&run(serde_json::json!({}))));
    }
}
