//! `explain`: one viewer's recommendations with the main parameters behind each, the
//! disclosure DSA Art. 27 asks of platforms, as a table a policy analyst can read or as CSV.
//!
//! For each impression: the policy that ranked, where the item came from (candidate source),
//! each part of its score (the parts add up to the score), its rank before re-ranking (by the
//! base score) and after, how many candidates were ranked, and what the viewer did. The text
//! for a person (`text`) adds the viewer's cohorts, what the platform believes about them at
//! the start, at each day and every few steps, and a glossary of the words it uses.

mod glossary;
mod text;

pub use text::{TextOptions, to_text, wrap};

use crate::catalog::Catalog;
use crate::engine::{TraceRecord, ViewerSnapshot};
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
    /// The item's duration, seconds.
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
    /// The viewer before the impression: day of use, cohorts, true interests and the
    /// platform's profile (the text shows them; the CSV does not).
    pub viewer: ViewerSnapshot,
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
                viewer: r.viewer.clone(),
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

/// The CSV columns before the factors and parts. No policy names a factor or part like one
/// of these or of [`TRAILING`] (a test checks every policy).
const LEADING: &[&str] = &[
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
];

/// The CSV columns after the factors and parts.
const TRAILING: &[&str] = &[
    "score",
    "watch_fraction",
    "watched_seconds",
    "skipped",
    "liked",
    "followed",
    "trusted",
];

/// The explanation as CSV: one row per impression; factor and part columns are empty where a
/// policy has no such factor or part. The part columns add up to `score`.
pub fn to_csv(rows: &[Row]) -> Vec<u8> {
    let factors = columns(rows, |r| &r.factors);
    let parts = columns(rows, |r| &r.parts);
    let mut w = csv::Writer::from_writer(Vec::new());
    let header: Vec<&str> = LEADING
        .iter()
        .chain(&factors)
        .chain(&parts)
        .chain(TRAILING)
        .copied()
        .collect();
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

#[cfg(test)]
mod tests {
    use super::{Row, to_csv};
    use crate::recommender::build;
    use crate::scenario::{
        CalibratedConfig, ChronologicalConfig, DiversifiedConfig, EngagementConfig, PolicyConfig,
        PopularityConfig, RandomConfig,
    };

    /// A ranked impression whose score has the given factors and parts (all 1).
    pub(super) fn row(factors: &'static [&'static str], parts: &'static [&'static str]) -> Row {
        Row {
            step: 3,
            minute: 1.5,
            policy: "p",
            switched: false,
            explored: false,
            item: 42,
            topic: "news".into(),
            creator: 7,
            group: "alpha".into(),
            duration: 30.0,
            source: "topic".into(),
            candidates: 50,
            rank: Some(1),
            base_rank: Some(2),
            factors: factors.iter().map(|&n| (n, 1.0)).collect(),
            parts: parts.iter().map(|&n| (n, 1.0)).chain([("boost", 1.0)]).collect(),
            score: Some(2.0),
            watch_fraction: 0.5,
            watched_seconds: 15.0,
            skipped: false,
            liked: true,
            followed: false,
            trusted: false,
            viewer: crate::engine::ViewerSnapshot {
                day: 1,
                minor: false,
                vulnerable: false,
                bot: false,
                switcher: false,
                coordinated: false,
                estimate: vec![0.5, 0.25],
                interests: vec![0.75, 0.25],
            },
        }
    }

    /// Every policy's factors and parts (and a disclosed boost) make a header without a
    /// repeated name: a reader addresses columns by name. Pins the two `duration` columns
    /// that the item's duration and engagement's factor of the same name once made.
    #[test]
    fn every_policy_gives_unique_column_names() {
        for config in [
            PolicyConfig::Engagement(EngagementConfig::default()),
            PolicyConfig::Random(RandomConfig {}),
            PolicyConfig::Chronological(ChronologicalConfig::default()),
            PolicyConfig::Popularity(PopularityConfig::default()),
            PolicyConfig::Diversified(DiversifiedConfig::default()),
            PolicyConfig::Calibrated(CalibratedConfig::default()),
        ] {
            let policy = build(&config);
            let csv = to_csv(&[row(policy.factor_names(), policy.part_names())]);
            let text = String::from_utf8(csv).unwrap();
            let header: Vec<&str> = text.lines().next().unwrap().split(',').collect();
            let mut names = header.clone();
            names.sort_unstable();
            names.dedup();
            assert_eq!(names.len(), header.len(), "{}: {header:?}", policy.name());
        }
    }

    /// The columns in order, and the values in the row under them.
    #[test]
    fn a_row_under_its_header() {
        let text = String::from_utf8(to_csv(&[row(&["f"], &["a"])])).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines,
            [
                "step,minute,policy,switched,explored,item,topic,creator,group,duration,source,\
                 candidates,rank,base_rank,f,a,boost,score,watch_fraction,watched_seconds,skipped,\
                 liked,followed,trusted",
                "3,1.500,p,0,0,42,news,7,alpha,30.0,topic,50,1,2,1.000000,1.000000,1.000000,\
                 2.000000,0.500,15.0,0,1,0,0",
            ]
        );
    }
}
