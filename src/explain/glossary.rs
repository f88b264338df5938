//! The words `explain` prints, each explained once in plain words: the columns, the candidate
//! sources, every policy's score parts, the viewer's flags and the platform's beliefs. The
//! text lists only the terms its rows use.

use super::Row;

/// The columns and what every explanation shows, in the order the text uses them.
const ALWAYS: &[(&str, &str)] = &[
    (
        "viewer",
        "minor: under 18; vulnerable: lingers on sensitive content and drifts towards it faster; \
         audit bot: a scripted account that researchers run; switcher: moves to the arm's other \
         recommender after some minutes of use; coordinated: an account that watches, likes and \
         shares the scenario's target items on purpose.",
    ),
    (
        "platform believes",
        "the platform's profile of the viewer: for each topic, the watch signal it expects from \
         them (the share of an item they watch, plus credit for a like or a follow, less a \
         penalty for a skip), learned only from what they did; the highest topics are shown. \
         It is what the CSV calls topic_estimate.",
    ),
    (
        "viewer really likes",
        "the viewer's true interests: the share of their attention each topic would get, adding \
         up to 1. The platform never sees them; they drift towards what the viewer watches.",
    ),
    (
        "day",
        "a day of use: the viewer scrolls until the day's time budget is spent or boredom ends \
         the session, and comes back the next day (or not).",
    ),
    (
        "step",
        "the impression's number in the run: at each step every viewer still scrolling is \
         shown one item.",
    ),
    (
        "minute",
        "the viewer's minutes of use (watching and swiping) before the impression.",
    ),
    (
        "policy",
        "the recommender that chose the item; a * marks the arm's other recommender, after the \
         viewer switched.",
    ),
    (
        "item, topic, group",
        "the item shown, its topic and its creator's group.",
    ),
    (
        "source",
        "where the item came into the list of candidates from (the sources used are below).",
    ),
    (
        "rank",
        "the item's position by the final score among the candidates not shown to the viewer \
         recently (1 = first); - for an item not ranked.",
    ),
    (
        "base",
        "its position by the score before any re-ranking (for the watch-time rankers, by \
         predicted watch seconds); it differs from rank only when the policy re-ranks.",
    ),
    ("watched", "the share of the item's length the viewer watched."),
    (
        "score = parts",
        "the final score written as the sum of its named parts (below); the candidate with the \
         highest score is shown.",
    ),
    (
        "candidates",
        "how many items the policy scored for this impression.",
    ),
    (
        "what the viewer did",
        "skipped the item, liked it, followed its creator; trusted creator: the item is by a \
         creator they follow.",
    ),
];

/// The candidate sources (by the name `explain` shows).
const SOURCES: &[(&str, &str)] = &[
    (
        "topic",
        "one of the viewer's strongest topics in the platform's profile.",
    ),
    (
        "trending",
        "the trending list: what many viewers have watched lately.",
    ),
    (
        "explore",
        "a random draw from the whole catalog, so that new topics get a chance.",
    ),
    ("fresh", "the newest uploads."),
    ("following", "a creator the viewer follows."),
    (
        "exploration",
        "a random item shown instead of the ranking (it has no rank or score).",
    ),
    ("catalog", "every visible item was a candidate."),
    (
        "protection",
        "an allowed item put in place of one that the arm's protections refused.",
    ),
    (
        "nearest",
        "items whose learned factors lie near the viewer's (collaborative filtering).",
    ),
    (
        "boost",
        "a slot that a disclosed boost filled with one of its items (boost:NAME).",
    ),
];

/// The parts of the score (every policy's [`crate::recommender::Policy::part_names`]).
const PARTS: &[(&str, &str)] = &[
    (
        "predicted_watch_seconds",
        "the seconds the platform expects the viewer to watch the item: its profile's estimate \
         for the topic x the item's completion rate so far x a bonus for a followed creator x \
         the item's length (each factor is in explain --csv).",
    ),
    (
        "relevance",
        "predicted watch seconds (the seconds the platform expects the viewer to watch the \
         item, as the engagement feed ranks) relative to the best candidate's, which gets 1, \
         times 1 minus the weight of the diversity or calibration part.",
    ),
    (
        "diversity",
        "a penalty: minus the diversity weight x the share of the item's topic among the \
         viewer's recent impressions.",
    ),
    (
        "topic_cap",
        "0, or minus infinity (the item is left out) when its topic would take more than the \
         allowed share of the recent impressions.",
    ),
    (
        "calibration",
        "a penalty: minus the calibration weight x how far the topic mix of the recent \
         impressions with this item would be from the viewer's interests as the platform \
         estimates them.",
    ),
    (
        "recency",
        "the step at which the item was uploaded: newer items score higher.",
    ),
    (
        "following",
        "a bonus for a recent item by a creator the viewer follows, so those come first.",
    ),
    (
        "trend",
        "the item's trending count: recent watching by everyone, fading with a half-life.",
    ),
    (
        "true_expected_watch_seconds",
        "the seconds the viewer model itself expects the viewer to watch (the oracle knows the \
         true interests: a benchmark, not a platform).",
    ),
    ("boost", "what a disclosed boost added to the score."),
];

/// The terms `rows` use, each with its explanation, in the order: the columns, the sources
/// used, the score parts used.
pub(super) fn terms(rows: &[Row]) -> Vec<(String, &'static str)> {
    let mut out: Vec<(String, &'static str)> = ALWAYS.iter().map(|(t, e)| (t.to_string(), *e)).collect();
    for (name, meaning) in SOURCES {
        let used = rows
            .iter()
            .any(|r| r.source == *name || (*name == "boost" && r.source.starts_with("boost:")));
        if used {
            out.push((format!("source {name}"), meaning));
        }
    }
    for (name, meaning) in PARTS {
        if rows.iter().any(|r| r.parts.iter().any(|(n, _)| n == name)) {
            out.push((name.to_string(), meaning));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{PARTS, SOURCES};
    use crate::recommender::{Source, build};
    use crate::scenario::{
        CalibratedConfig, ChronologicalConfig, CollaborativeConfig, DiversifiedConfig, EngagementConfig,
        OracleConfig, PolicyConfig, PopularityConfig,
    };

    /// Every part any policy names is explained: a new part without an explanation fails here.
    #[test]
    fn every_score_part_is_explained() {
        for config in [
            PolicyConfig::Engagement(EngagementConfig::default()),
            PolicyConfig::Chronological(ChronologicalConfig::default()),
            PolicyConfig::Popularity(PopularityConfig::default()),
            PolicyConfig::Diversified(DiversifiedConfig::default()),
            PolicyConfig::Calibrated(CalibratedConfig::default()),
            PolicyConfig::Collaborative(CollaborativeConfig::default()),
            PolicyConfig::Oracle(OracleConfig::default()),
        ] {
            for part in build(&config).part_names() {
                assert!(PARTS.iter().any(|(n, _)| n == part), "{part} is not explained");
            }
        }
    }

    /// Every candidate source is explained.
    #[test]
    fn every_source_is_explained() {
        for source in Source::ALL {
            assert!(
                SOURCES.iter().any(|(n, _)| *n == source.name()),
                "{} is not explained",
                source.name()
            );
        }
    }
}
