//! The range checks of `[scenario]`, `[catalog]`, `[population]`, `[viewer]`,
//! `[recommender]`, `[feed]`, `[metrics]` and `[[arms]]`, one function per section; the
//! keys of `[day]`, `[arms.protections]` and `[[bots]]` are checked in `safety`.

use super::check::Checker;
use super::{
    Arm, BoostConfig, BoostMode, FeedConfig, GroupConfig, MetricsConfig, PopulationConfig, RecommenderConfig,
    Scenario, TopicConfig, ViewerConfig,
};

/// One function per section of the file, in the order [`Scenario::validate`] calls them.
impl Checker {
    /// `[scenario]`: the name, replicates, seed and baseline arm.
    pub(super) fn meta(&mut self, scenario: &Scenario) {
        let s = &scenario.scenario;
        if s.name.is_empty()
            || !s
                .name
                .chars()
                .all(|ch| ch.is_ascii_alphanumeric() || ch == '_' || ch == '-' || ch == '.')
            || s.name.starts_with('.')
        {
            self.fail(
                "scenario.name",
                "must be a non-empty name of letters, digits, '_', '-' or '.' (not starting with '.')",
                format!("{:?}", s.name),
            );
        }
        self.count("scenario.replicates", s.replicates.into(), 1, 10_000);
        // TOML integers are signed 64-bit: a larger seed could not be written back.
        self.count("scenario.seed", s.seed, 0, i64::MAX as u64);
        if let Some(b) = &s.baseline
            && !scenario.arms.iter().any(|a| &a.name == b)
        {
            let names: Vec<&str> = scenario.arms.iter().map(|a| a.name.as_str()).collect();
            self.fail(
                "scenario.baseline",
                format!("must name an arm ({})", names.join(", ")),
                format!("{b:?}"),
            );
        }
    }

    /// `[catalog]` without its topics and groups; arrivals are bounded by `feed.max_steps`.
    pub(super) fn catalog(&mut self, scenario: &Scenario) {
        let k = &scenario.catalog;
        self.count("catalog.items", k.items.into(), 1, 50_000_000);
        self.count("catalog.creators", k.creators.into(), 1, 10_000_000);
        self.range("catalog.arrivals_per_step", k.arrivals_per_step, 0.0, 1e6);
        if k.arrivals_per_step * f64::from(scenario.feed.max_steps) > 50e6 {
            self.fail(
                "catalog.arrivals_per_step",
                format!(
                    "times feed.max_steps ({}) must be at most 50,000,000 items",
                    scenario.feed.max_steps
                ),
                k.arrivals_per_step,
            );
        }
        self.positive("catalog.duration_median_seconds", k.duration_median_seconds);
        self.range("catalog.duration_sigma", k.duration_sigma, 0.0, 5.0);
        self.positive("catalog.duration_min_seconds", k.duration_min_seconds);
        self.range(
            "catalog.duration_max_seconds",
            k.duration_max_seconds,
            k.duration_min_seconds,
            86_400.0,
        );
        self.positive("catalog.quality_alpha", k.quality_alpha);
        self.positive("catalog.quality_beta", k.quality_beta);
        self.range("catalog.stance_noise", k.stance_noise, 0.0, 2.0);
        self.probability("catalog.off_topic_share", k.off_topic_share);
    }

    /// `[[catalog.topics]]`: 2 to 256 named, unique topics.
    pub(super) fn topics(&mut self, topics: &[TopicConfig]) {
        self.count("catalog.topics", topics.len() as u64, 2, 256);
        for (i, t) in topics.iter().enumerate() {
            let key = |f: &str| format!("catalog.topics.{i}.{f}");
            if t.name.is_empty() {
                self.fail(key("name"), "must not be empty", "\"\"");
            }
            if topics[..i].iter().any(|o| o.name == t.name) {
                self.fail(key("name"), "must be unique", format!("{:?}", t.name));
            }
            self.positive(&key("share"), t.share);
            self.range(&key("stance_mean"), t.stance_mean, -1.0, 1.0);
            self.range(&key("stance_spread"), t.stance_spread, 0.0, 2.0);
        }
    }

    /// `[[catalog.groups]]`: 1 to 64 creator groups with unique names.
    pub(super) fn groups(&mut self, groups: &[GroupConfig]) {
        self.count("catalog.groups", groups.len() as u64, 1, 64);
        for (i, g) in groups.iter().enumerate() {
            let key = |f: &str| format!("catalog.groups.{i}.{f}");
            if g.name.is_empty() || !g.name.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '_') {
                self.fail(
                    key("name"),
                    "must be a non-empty name of letters, digits or '_'",
                    format!("{:?}", g.name),
                );
            }
            if groups[..i].iter().any(|o| o.name == g.name) {
                self.fail(key("name"), "must be unique", format!("{:?}", g.name));
            }
            self.positive(&key("share"), g.share);
        }
    }

    /// `[population]`, except the vulnerable shares (see `safety`).
    pub(super) fn population(&mut self, p: &PopulationConfig) {
        self.count("population.users", p.users.into(), 1, 100_000_000);
        self.probability("population.minor_share", p.minor_share);
        self.range(
            "population.interest_concentration",
            p.interest_concentration,
            1e-3,
            1e4,
        );
        self.range("population.stance_mean", p.stance_mean, -1.0, 1.0);
        self.range("population.stance_sd", p.stance_sd, 0.0, 2.0);
        self.range(
            "population.susceptibility_mean",
            p.susceptibility_mean,
            0.0,
            100.0,
        );
        self.range(
            "population.susceptibility_shape",
            p.susceptibility_shape,
            1e-3,
            1e6,
        );
        self.range("population.confidence_bound", p.confidence_bound, 0.0, 2.0);
        self.positive("population.budget_median_minutes", p.budget_median_minutes);
        self.range("population.budget_sigma", p.budget_sigma, 0.0, 5.0);
        self.range("population.warmup_minutes", p.warmup_minutes, 0.0, 1e6);
        self.probability("population.initial_habit", p.initial_habit);
    }

    /// The initial follows: within the follow capacity and the catalog's creators, and the
    /// popularity exponent that weighs them.
    pub(super) fn following(&mut self, scenario: &Scenario) {
        let (p, c) = (&scenario.population, &scenario.catalog);
        self.range(
            "catalog.creator_popularity_exponent",
            c.creator_popularity_exponent,
            0.0,
            5.0,
        );
        let cap = scenario.viewer.max_follows.min(c.creators);
        if p.initial_follows > cap {
            self.fail(
                "population.initial_follows",
                format!("must be between 0 and {cap} (viewer.max_follows and catalog.creators)"),
                p.initial_follows,
            );
        }
    }

    /// `[viewer]`, except the sensitive-content keys (see `safety`).
    pub(super) fn viewer(&mut self, v: &ViewerConfig) {
        for (key, x) in [
            ("viewer.baseline_logit", v.baseline_logit),
            ("viewer.interest_weight", v.interest_weight),
            ("viewer.quality_weight", v.quality_weight),
            ("viewer.satiation_weight", v.satiation_weight),
            ("viewer.trust_weight", v.trust_weight),
            ("viewer.duration_weight", v.duration_weight),
        ] {
            self.range(key, x, -20.0, 20.0);
        }
        self.positive("viewer.duration_reference_seconds", v.duration_reference_seconds);
        self.range("viewer.watch_concentration", v.watch_concentration, 0.1, 1e4);
        self.probability("viewer.skip_below", v.skip_below);
        self.probability("viewer.like_rate", v.like_rate);
        self.probability("viewer.follow_rate", v.follow_rate);
        self.count("viewer.max_follows", v.max_follows.into(), 0, 255);
        self.range("viewer.satiation_gain", v.satiation_gain, 0.0, 10.0);
        self.probability("viewer.satiation_decay", v.satiation_decay);
        self.probability("viewer.session_recovery", v.session_recovery);
        self.probability("viewer.boredom_decay", v.boredom_decay);
        if !(v.boredom_threshold > 0.0 && v.boredom_threshold <= 1.0) {
            self.fail(
                "viewer.boredom_threshold",
                "must be greater than 0 and at most 1",
                v.boredom_threshold,
            );
        }
        self.probability("viewer.return_probability", v.return_probability);
        self.probability("viewer.drift_rate", v.drift_rate);
        self.probability("viewer.stance_rate", v.stance_rate);
        self.range(
            "viewer.trust_stance_multiplier",
            v.trust_stance_multiplier,
            0.0,
            100.0,
        );
        self.range("viewer.swipe_seconds", v.swipe_seconds, 0.0, 600.0);
        self.range("viewer.habit_return_weight", v.habit_return_weight, 0.0, 20.0);
        self.range(
            "viewer.satisfaction_return_weight",
            v.satisfaction_return_weight,
            0.0,
            20.0,
        );
        self.probability("viewer.day_return_probability", v.day_return_probability);
        self.probability("viewer.habit_gain", v.habit_gain);
        self.probability("viewer.habit_decay", v.habit_decay);
        self.range("viewer.agreement_weight", v.agreement_weight, 0.0, 20.0);
    }

    /// `[recommender]`: the profile every policy learns and the trending pool.
    pub(super) fn recommender(&mut self, r: &RecommenderConfig) {
        self.range("recommender.profile_prior", r.profile_prior, 1e-3, 1.0);
        self.range(
            "recommender.profile_prior_weight",
            r.profile_prior_weight,
            0.0,
            1e6,
        );
        self.probability("recommender.learning_rate_min", r.learning_rate_min);
        self.range("recommender.like_weight", r.like_weight, 0.0, 10.0);
        self.range("recommender.follow_weight", r.follow_weight, 0.0, 10.0);
        self.range("recommender.skip_penalty", r.skip_penalty, 0.0, 10.0);
        self.range("recommender.item_prior_weight", r.item_prior_weight, 0.0, 1e6);
        self.range("recommender.follow_bonus", r.follow_bonus, 0.0, 100.0);
        self.positive("recommender.trending_half_life", r.trending_half_life);
        self.count("recommender.trending_pool", r.trending_pool.into(), 1, 1_000_000);
        self.range("recommender.agreement_weight", r.agreement_weight, 0.0, 20.0);
    }

    /// `[feed]`: length of the run and the candidate sources, at least one of them non-empty.
    pub(super) fn feed(&mut self, f: &FeedConfig) {
        self.count("feed.days", f.days.into(), 1, 10_000);
        if let Some(m) = f.minutes {
            self.range("feed.minutes", m, 1e-3, 1e7);
        }
        self.count("feed.max_steps", f.max_steps.into(), 1, 10_000_000);
        self.count("feed.topic_candidates", f.topic_candidates.into(), 0, 100_000);
        self.count("feed.top_topics", f.top_topics.into(), 1, 256);
        self.count("feed.no_repeat", f.no_repeat.into(), 0, 255);
        self.count(
            "feed.trending_candidates",
            f.trending_candidates.into(),
            0,
            100_000,
        );
        self.count("feed.explore_candidates", f.explore_candidates.into(), 0, 100_000);
        if u64::from(f.topic_candidates) + u64::from(f.trending_candidates) + u64::from(f.explore_candidates)
            == 0
        {
            self.fail(
                "feed.explore_candidates",
                "must be at least 1 when feed.topic_candidates and feed.trending_candidates are 0",
                0,
            );
        }
    }

    /// `[metrics]`: the window and thresholds the results are measured with.
    pub(super) fn metrics(&mut self, m: &MetricsConfig) {
        self.count("metrics.window", m.window.into(), 1, 255);
        self.range("metrics.rabbit_hole_threshold", m.rabbit_hole_threshold, 0.0, 1.0);
        self.count("metrics.every", m.every.into(), 1, 10_000_000);
        self.range("metrics.stance_threshold", m.stance_threshold, 0.0, 2.0);
        self.count("metrics.recent_steps", m.recent_steps.into(), 1, 10_000);
    }

    /// `[[arms]]` number `i`: its name, policy, boosts, coordinated accounts and switch
    /// (its protections are checked with the rest of `safety`).
    pub(super) fn arm(&mut self, i: usize, a: &Arm, scenario: &Scenario) {
        if a.name.is_empty()
            || !a
                .name
                .chars()
                .all(|ch| ch.is_ascii_alphanumeric() || "_-+.".contains(ch))
        {
            self.fail(
                format!("arms.{i}.name"),
                "must be a non-empty name of letters, digits, '_', '-', '+' or '.'",
                format!("{:?}", a.name),
            );
        }
        if scenario.arms[..i].iter().any(|o| o.name == a.name) {
            self.fail(
                format!("arms.{i}.name"),
                "must be unique",
                format!("{:?}", a.name),
            );
        }
        self.policy(&format!("arms.{i}.policy"), &a.policy, true);
        self.count(&format!("arms.{i}.boosts"), a.boosts.len() as u64, 0, 8);
        for (j, b) in a.boosts.iter().enumerate() {
            self.boost(&format!("arms.{i}.boosts.{j}"), b, scenario);
        }
        if let Some(co) = &a.coordinated {
            self.probability(&format!("arms.{i}.coordinated.share"), co.share);
            if scenario.target.is_none() {
                self.fail(
                    format!("arms.{i}.coordinated"),
                    "needs the scenario's [target] table (the content coordinated accounts push)",
                    "no [target]",
                );
            }
        }
        if let Some(s) = &a.switch {
            self.probability(&format!("arms.{i}.switch.share"), s.share);
            self.range(&format!("arms.{i}.switch.at_minute"), s.at_minute, 0.0, 1e7);
            self.policy(&format!("arms.{i}.switch.policy"), &s.policy, true);
        }
    }

    /// One boost; `key` is the dotted path of its table. The strength's range depends on
    /// the mode, and a boost without a target needs the scenario's.
    pub(super) fn boost(&mut self, key: &str, b: &BoostConfig, scenario: &Scenario) {
        let k = |f: &str| format!("{key}.{f}");
        match b.mode {
            BoostMode::Multiplier => self.range(&k("strength"), b.strength, 0.0, 1e6),
            BoostMode::Additive => self.range(&k("strength"), b.strength, -1e6, 1e6),
            BoostMode::Slots => self.probability(&k("strength"), b.strength),
            BoostMode::ReachCap => self.range(&k("strength"), b.strength, 1.0, 1e9),
        }
        self.range(&k("start_minute"), b.start_minute, 0.0, 1e7);
        self.range(&k("ramp_minutes"), b.ramp_minutes, 0.0, 1e7);
        match &b.target {
            Some(t) => self.target(&k("target"), t, scenario),
            None if scenario.target.is_none() => self.fail(
                k("target"),
                "is needed when the scenario has no [target] table",
                "nothing",
            ),
            None => {}
        }
    }
}
