//! Range checks of a deserialised scenario: every rule names its key, what is allowed and
//! what was given, so the command line can point at the exact line of the file.
//! The rules of each section are in `sections` and `safety`; [`Scenario::validate`] here
//! calls them in the order of the file.

use super::{PolicyConfig, Scenario, TargetConfig};
use std::fmt;

/// A value outside what a key allows.
#[derive(Debug, Clone, PartialEq)]
pub struct Invalid {
    /// Dotted path of the key, with array indices (`catalog.topics.2.share`).
    pub key: String,
    /// What the key allows, e.g. "must be at least 1".
    pub rule: String,
    /// What was given.
    pub value: String,
}

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}, got {}", self.key, self.rule, self.value)
    }
}

/// Collects the first broken rule.
pub(super) struct Checker {
    first: Option<Invalid>,
}

impl Checker {
    pub(super) fn fail(&mut self, key: impl Into<String>, rule: impl Into<String>, value: impl fmt::Display) {
        if self.first.is_none() {
            self.first = Some(Invalid {
                key: key.into(),
                rule: rule.into(),
                value: value.to_string(),
            });
        }
    }

    /// `lo <= v <= hi`, and finite.
    pub(super) fn range(&mut self, key: &str, v: f64, lo: f64, hi: f64) {
        if !(v.is_finite() && v >= lo && v <= hi) {
            let rule = if hi == f64::MAX {
                format!("must be at least {lo}")
            } else {
                format!("must be between {lo} and {hi}")
            };
            self.fail(key, rule, v);
        }
    }

    /// `v > 0`, and finite.
    pub(super) fn positive(&mut self, key: &str, v: f64) {
        if !(v.is_finite() && v > 0.0) {
            self.fail(key, "must be greater than 0", v);
        }
    }

    pub(super) fn probability(&mut self, key: &str, v: f64) {
        self.range(key, v, 0.0, 1.0);
    }

    /// A target's conditions; `key` is the dotted path of its table.
    pub(super) fn target(&mut self, key: &str, t: &TargetConfig, scenario: &Scenario) {
        for (n, topic) in t.topics.iter().enumerate() {
            if !scenario.catalog.topics.iter().any(|x| &x.name == topic) {
                let names: Vec<&str> = scenario.catalog.topics.iter().map(|x| x.name.as_str()).collect();
                self.fail(
                    format!("{key}.topics.{n}"),
                    format!("must name a topic ({})", names.join(", ")),
                    format!("{topic:?}"),
                );
            }
        }
        for (n, group) in t.groups.iter().enumerate() {
            if !scenario.catalog.groups.iter().any(|x| &x.name == group) {
                let names: Vec<&str> = scenario.catalog.groups.iter().map(|x| x.name.as_str()).collect();
                self.fail(
                    format!("{key}.groups.{n}"),
                    format!("must name a creator group ({})", names.join(", ")),
                    format!("{group:?}"),
                );
            }
        }
        self.range(&format!("{key}.stance_min"), t.stance_min, -1.0, 1.0);
        self.range(
            &format!("{key}.stance_max"),
            t.stance_max,
            t.stance_min.max(-1.0),
            1.0,
        );
        self.probability(&format!("{key}.aligned_share"), t.aligned_share);
    }

    /// A policy's parameters; `key` is the dotted path of its table.
    pub(super) fn policy(&mut self, key: &str, policy: &PolicyConfig, blend_allowed: bool) {
        let k = |field: &str| format!("{key}.{field}");
        match policy {
            PolicyConfig::Engagement(e) => self.probability(&k("exploration"), e.exploration),
            PolicyConfig::Random(_) => {}
            PolicyConfig::Chronological(ch) => {
                self.count(&k("following_window"), ch.following_window.into(), 0, 10_000_000)
            }
            PolicyConfig::Popularity(p) => {
                self.probability(&k("exploration"), p.exploration);
                if let Some(h) = p.half_life {
                    self.positive(&k("half_life"), h);
                }
            }
            PolicyConfig::Diversified(d) => {
                self.probability(&k("exploration"), d.exploration);
                self.probability(&k("diversity"), d.diversity);
                if let Some(cap) = d.topic_cap
                    && !(cap > 0.0 && cap <= 1.0)
                {
                    self.fail(k("topic_cap"), "must be greater than 0 and at most 1", cap);
                }
            }
            PolicyConfig::Calibrated(cal) => {
                self.probability(&k("exploration"), cal.exploration);
                self.probability(&k("weight"), cal.weight);
            }
            PolicyConfig::Collaborative(c) => {
                self.probability(&k("exploration"), c.exploration);
                self.count(&k("dimensions"), c.dimensions.into(), 1, 256);
                self.range(&k("learning_rate"), c.learning_rate, 0.0, 1.0);
                self.range(&k("regularization"), c.regularization, 0.0, 1.0);
                self.range(&k("init_scale"), c.init_scale, 0.0, 10.0);
                self.count(&k("cell_bits"), c.cell_bits.into(), 0, 12);
                self.count(&k("probe"), c.probe.into(), 1, 4096);
            }
            PolicyConfig::Oracle(o) => self.probability(&k("exploration"), o.exploration),
            PolicyConfig::Blend(b) => {
                if !blend_allowed {
                    self.fail(key, "must not be a blend inside a blend", "kind = \"blend\"");
                }
                self.count(&k("components"), b.components.len() as u64, 1, 16);
                for (j, comp) in b.components.iter().enumerate() {
                    self.range(&k(&format!("components.{j}.weight")), comp.weight, 0.0, 1e6);
                    self.policy(&k(&format!("components.{j}.policy")), &comp.policy, false);
                }
                if b.components.iter().map(|c| c.weight).sum::<f64>() <= 0.0 {
                    self.fail(k("components"), "must have weights that sum to more than 0", 0);
                }
            }
        }
    }

    pub(super) fn count(&mut self, key: &str, v: u64, lo: u64, hi: u64) {
        if v < lo || v > hi {
            self.fail(key, format!("must be between {lo} and {hi}"), v);
        }
    }
}

impl Scenario {
    /// Checks every range and cross-key rule; the first broken one is returned.
    ///
    /// The sections are checked in the order of the file, so a scenario with several
    /// mistakes is always refused for the same one.
    pub fn validate(&self) -> Result<(), Invalid> {
        let mut c = Checker { first: None };
        c.meta(self);
        c.catalog(self);
        c.topics(&self.catalog.topics);
        c.groups(&self.catalog.groups);
        c.population(&self.population);
        c.viewer(&self.viewer);
        c.taste(self);
        c.following(self);
        c.recommender(&self.recommender);
        c.feed(&self.feed);
        c.metrics(&self.metrics);
        if let Some(t) = &self.target {
            c.target("target", t, self);
        }
        c.count("arms", self.arms.len() as u64, 1, 1000);
        for (i, a) in self.arms.iter().enumerate() {
            c.arm(i, a, self);
        }
        c.safety(self);
        match c.first {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(edit: impl FnOnce(&mut Scenario), key: &str) {
        let mut s = Scenario::default();
        edit(&mut s);
        let err = s.validate().expect_err("scenario should be refused");
        assert_eq!(err.key, key, "{err}");
    }

    #[test]
    fn default_scenario_is_valid() {
        Scenario::default().validate().unwrap();
    }

    #[test]
    fn out_of_range_values_name_their_key() {
        check(|s| s.population.users = 0, "population.users");
        check(|s| s.population.minor_share = 1.5, "population.minor_share");
        check(|s| s.catalog.topics[2].share = -1.0, "catalog.topics.2.share");
        check(|s| s.viewer.drift_rate = f64::NAN, "viewer.drift_rate");
        check(|s| s.scenario.baseline = Some("nope".into()), "scenario.baseline");
        check(|s| s.arms[1].name = "engagement".into(), "arms.1.name");
        check(|s| s.feed.top_topics = 999, "feed.top_topics");
        check(|s| s.scenario.seed = u64::MAX, "scenario.seed");
        check(|s| s.viewer.boredom_threshold = 0.0, "viewer.boredom_threshold");
        check(
            |s| {
                s.arms[0].policy =
                    PolicyConfig::Engagement(super::super::EngagementConfig { exploration: 2.0 })
            },
            "arms.0.policy.exploration",
        );
    }

    /// The sections are checked in the file's order (the vulnerable shares, with the rest of
    /// `safety`, last): with mistakes in every section from the k-th on, the k-th is reported.
    #[test]
    fn first_mistake_in_file_order_is_reported() {
        // The key a mistake is reported under, and how to make it.
        type Mistake = (&'static str, fn(&mut Scenario));
        let mistakes: [Mistake; 12] = [
            ("scenario.replicates", |s| s.scenario.replicates = 0),
            ("catalog.items", |s| s.catalog.items = 0),
            ("catalog.topics.0.share", |s| s.catalog.topics[0].share = 0.0),
            ("catalog.groups.0.share", |s| s.catalog.groups[0].share = 0.0),
            ("population.users", |s| s.population.users = 0),
            ("viewer.drift_rate", |s| s.viewer.drift_rate = 2.0),
            ("recommender.trending_pool", |s| s.recommender.trending_pool = 0),
            ("feed.top_topics", |s| s.feed.top_topics = 999),
            ("metrics.window", |s| s.metrics.window = 0),
            ("arms.0.name", |s| s.arms[0].name = String::new()),
            ("arms.1.policy.exploration", |s| {
                s.arms[1].policy =
                    PolicyConfig::Engagement(super::super::EngagementConfig { exploration: 2.0 })
            }),
            ("population.vulnerable_minor_share", |s| {
                s.population.vulnerable_minor_share = 2.0
            }),
        ];
        for (first, (key, _)) in mistakes.iter().enumerate() {
            let mut s = Scenario::default();
            for (_, make) in &mistakes[first..] {
                make(&mut s);
            }
            let err = s.validate().expect_err("scenario should be refused");
            assert_eq!(&err.key, key, "{err}");
        }
    }

    #[test]
    fn message_names_rule_and_value() {
        let mut s = Scenario::default();
        s.population.minor_share = 1.5;
        let msg = s.validate().unwrap_err().to_string();
        assert_eq!(msg, "population.minor_share must be between 0 and 1, got 1.5");
    }
}
