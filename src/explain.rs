//! `explain`: one viewer's recommendations with the main parameters behind each, the
//! disclosure DSA Art. 27 asks of platforms, as a table a policy analyst can read or as CSV.
//!
//! For each impression: the policy that ranked, where the item came from (candidate source),
//! each part of its score (the parts add up to the score), its rank before re-ranking (by the
//! base score) and after, how many candidates were ranked, and what the viewer did.

use crate::catalog::Catalog;
use crate::engine::TraceRecord;
use crate::recommender::Scored;

/// One row of the explanation.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub step: u32,
    pub minute: f64,
    pub policy: &'static str,
    pub switched: bool,
    pub explored: bool,
    pub item: u32,
    pub topic: String,
    pub creator: u32,
    pub group: String,
    pub duration: f64,
    pub source: String,
    pub candidates: usize,
    /// Rank by the final score among eligible candidates (1 = first); None for exploration.
    pub rank: Option<usize>,
    /// Rank by the base score (before re-ranking) among eligible candidates.
    pub base_rank: Option<usize>,
    /// Named factors of the base score (for watch-time rankers: what predicted watch time is
    /// made of).
    pub factors: Vec<(&'static str, f64)>,
    /// Named parts of the score, in the policy's order.
    pub parts: Vec<(&'static str, f64)>,
    pub score: Option<f64>,
    pub watch_fraction: f64,
    pub watched_seconds: f64,
    pub skipped: bool,
    pub liked: bool,
    pub followed: bool,
    pub trusted: bool,
}

/// 1 + the number of eligible candidates (other items) ranked above `chosen` by `key`.
fn rank_by(candidates: &[Scored], chosen: &Scored, key: fn(&Scored) -> f32) -> usize {
    let mut above: Vec<u32> = candidates
        .iter()
        .filter(|c| !c.seen && c.item != chosen.item && key(c) > key(chosen))
        .map(|c| c.item)
        .collect();
    above.sort_unstable();
    above.dedup();
    above.len() + 1
}

/// The rows for `records`, naming topics and groups from `catalog`.
pub fn rows(records: &[TraceRecord], catalog: &Catalog) -> Vec<Row> {
    records
        .iter()
        .map(|r| {
            let item = &catalog.items[r.item as usize];
            // The chosen candidate: the best-scoring entry for the item (it may be listed twice).
            let chosen = r
                .trace
                .candidates
                .iter()
                .filter(|c| c.item == r.item && !r.trace.explored)
                .max_by(|a, b| a.score.total_cmp(&b.score));
            let names = r.trace.part_names;
            Row {
                step: r.step,
                minute: r.minute,
                policy: r.trace.policy,
                switched: r.switched,
                explored: r.trace.explored,
                item: r.item,
                topic: catalog.topic_names[item.topic as usize].clone(),
                creator: item.creator,
                group: catalog.group_names[item.group as usize].clone(),
                duration: f64::from(item.duration),
                source: match &r.slot {
                    Some((name, true)) => format!("boost:{name}"),
                    // What the platform would claim for a slot it does not disclose.
                    Some((_, false)) => "explore".to_string(),
                    None => r.source.name().to_string(),
                },
                candidates: r.trace.candidates.len(),
                // Ranked by the disclosed score: what hidden boosts added is not shown.
                rank: chosen.map(|c| rank_by(&r.trace.candidates, c, |s| s.score - s.hidden_boost)),
                base_rank: chosen.map(|c| rank_by(&r.trace.candidates, c, |s| s.base)),
                factors: match chosen {
                    Some(c) => named(r.trace.factor_names, &c.factors),
                    None => Vec::new(),
                },
                parts: match chosen {
                    Some(c) => {
                        let mut parts = named(names, &c.parts);
                        if c.boost != 0.0 {
                            parts.push(("boost", f64::from(c.boost)));
                        }
                        parts
                    }
                    None => Vec::new(),
                },
                score: chosen.map(|c| f64::from(c.score - c.hidden_boost)),
                watch_fraction: f64::from(r.response.fraction),
                watched_seconds: f64::from(r.response.seconds),
                skipped: r.response.skipped,
                liked: r.response.liked,
                followed: r.response.followed,
                trusted: r.response.trusted,
            }
        })
        .collect()
}

fn named(names: &'static [&'static str], values: &[f32]) -> Vec<(&'static str, f64)> {
    // Adding 0 turns -0 into 0, so a zero part does not print as "-0.000".
    names
        .iter()
        .zip(values)
        .map(|(n, v)| (*n, f64::from(*v) + 0.0))
        .collect()
}

/// The names that appear in `pick(row)` over `rows`, in order of first appearance.
fn columns(rows: &[Row], pick: fn(&Row) -> &[(&'static str, f64)]) -> Vec<&'static str> {
    let mut names = Vec::new();
    for r in rows {
        for (n, _) in pick(r) {
            if !names.contains(n) {
                names.push(*n);
            }
        }
    }
    names
}

fn value(named: &[(&'static str, f64)], name: &str) -> String {
    opt(named.iter().find(|(n, _)| *n == name).map(|(_, v)| *v))
}

fn opt(x: Option<f64>) -> String {
    x.map_or_else(String::new, |v| format!("{v:.6}"))
}

/// The explanation as CSV: one row per impression; factor and part columns are empty where a
/// policy has no such factor or part. The part columns add up to `score`.
pub fn to_csv(rows: &[Row]) -> Vec<u8> {
    let factors = columns(rows, |r| &r.factors);
    let parts = columns(rows, |r| &r.parts);
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut header: Vec<String> = [
        "step",
        "minute",
        "policy",
        "switched",
        "explored",
        "item",
        "topic",
        "creator",
        "group",
        "duration",
        "source",
        "candidates",
        "rank",
        "base_rank",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    header.extend(factors.iter().map(|p| p.to_string()));
    header.extend(parts.iter().map(|p| p.to_string()));
    header.extend(
        [
            "score",
            "watch_fraction",
            "watched_seconds",
            "skipped",
            "liked",
            "followed",
            "trusted",
        ]
        .iter()
        .map(|s| s.to_string()),
    );
    w.write_record(&header).expect("writing to memory");
    for r in rows {
        let mut rec = vec![
            r.step.to_string(),
            format!("{:.3}", r.minute),
            r.policy.to_string(),
            u8::from(r.switched).to_string(),
            u8::from(r.explored).to_string(),
            r.item.to_string(),
            r.topic.clone(),
            r.creator.to_string(),
            r.group.clone(),
            format!("{:.1}", r.duration),
            r.source.clone(),
            r.candidates.to_string(),
            r.rank.map_or_else(String::new, |x| x.to_string()),
            r.base_rank.map_or_else(String::new, |x| x.to_string()),
        ];
        rec.extend(factors.iter().map(|f| value(&r.factors, f)));
        rec.extend(parts.iter().map(|p| value(&r.parts, p)));
        rec.extend([
            opt(r.score),
            format!("{:.3}", r.watch_fraction),
            format!("{:.1}", r.watched_seconds),
            u8::from(r.skipped).to_string(),
            u8::from(r.liked).to_string(),
            u8::from(r.followed).to_string(),
            u8::from(r.trusted).to_string(),
        ]);
        w.write_record(&rec).expect("writing to memory");
    }
    w.into_inner().expect("flushing to memory")
}

/// The explanation as a table for the terminal.
pub fn to_text(rows: &[Row]) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:>5} {:>7} {:<13} {:>7} {:<14} {:<10} {:<11} {:>5} {:>5}  {:<44} {:>6}  response",
        "step",
        "minute",
        "policy",
        "item",
        "topic",
        "group",
        "source",
        "rank",
        "base",
        "score = parts",
        "watch"
    );
    for r in rows {
        let parts = if r.explored {
            "exploration: a random item, not ranked".to_string()
        } else {
            let parts: Vec<String> = r.parts.iter().map(|(n, v)| format!("{n} {v:.3}")).collect();
            match r.score {
                Some(s) if !parts.is_empty() => format!("{s:.3} = {}", parts.join(" + ")),
                _ => "-".to_string(),
            }
        };
        let mut response = Vec::new();
        if r.skipped {
            response.push("skipped");
        }
        if r.liked {
            response.push("liked");
        }
        if r.followed {
            response.push("followed");
        }
        if r.trusted {
            response.push("trusted creator");
        }
        let _ = writeln!(
            out,
            "{:>5} {:>7.2} {:<13} {:>7} {:<14} {:<10} {:<11} {:>5} {:>5}  {:<44} {:>5.0}%  {}",
            r.step,
            r.minute,
            if r.switched {
                format!("{}*", r.policy)
            } else {
                r.policy.to_string()
            },
            r.item,
            r.topic,
            r.group,
            r.source,
            r.rank.map_or_else(|| "-".to_string(), |x| x.to_string()),
            r.base_rank.map_or_else(|| "-".to_string(), |x| x.to_string()),
            parts,
            100.0 * r.watch_fraction,
            response.join(", ")
        );
    }
    out
}
