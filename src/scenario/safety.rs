//! What studying minors' safety adds to a scenario (`docs/model.md` §8c-8d): `[day]`, the time
//! of day viewers use the app; the vulnerable shares of `[population]`; `[arms.protections]`,
//! the protections an arm puts on the feed (most of them for minors); and `[[bots]]`, scripted
//! audit accounts. Adults use them too: the names say what each key is for.
use super::Scenario;
use super::check::Checker;
use serde::{Deserialize, Serialize};

/// `[day]`: when in the day viewers use the app.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DayConfig {
    /// Relative weight of each hour (0 to 23) as the start of a minor's day of use.
    pub minor_start_hours: Vec<f64>,
    /// Relative weight of each hour (0 to 23) as the start of an adult's day of use.
    pub adult_start_hours: Vec<f64>,
    /// Minutes between two sessions of one day.
    pub session_gap_minutes: f64,
    /// Hour at which the night starts, for `night_share`.
    pub night_start_hour: f64,
    /// Hour at which the night ends, for `night_share`.
    pub night_end_hour: f64,
}

impl Default for DayConfig {
    fn default() -> Self {
        DayConfig {
            // Teenagers: after school and in the evening, some late at night.
            minor_start_hours: vec![
                1.0, 0.5, 0.2, 0.1, 0.1, 0.1, 0.3, 1.0, 1.0, 0.5, 0.5, 0.5, 1.0, 1.0, 1.0, 3.0, 4.0, 4.0,
                3.0, 4.0, 5.0, 5.0, 4.0, 2.0,
            ],
            // Adults: commute, lunch and evening.
            adult_start_hours: vec![
                0.5, 0.2, 0.1, 0.1, 0.1, 0.2, 1.0, 3.0, 3.0, 1.0, 1.0, 1.0, 3.0, 2.0, 1.0, 1.0, 1.0, 2.0,
                3.0, 4.0, 4.0, 4.0, 3.0, 1.0,
            ],
            session_gap_minutes: 30.0,
            night_start_hour: 22.0,
            night_end_hour: 6.0,
        }
    }
}

/// True if `hour` (0..24) lies in the window from `start` to `end`, which wraps past
/// midnight when `start > end` (22 to 6); an empty window when they are equal.
#[inline]
pub fn in_hours(hour: f64, start: f64, end: f64) -> bool {
    if start <= end {
        hour >= start && hour < end
    } else {
        hour >= start || hour < end
    }
}

/// `[arms.protections]`: limits an arm puts on the feed. Every key is optional and they
/// combine.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ProtectionsConfig {
    /// Most share of sensitive items in any window of `metrics.window` impressions, for
    /// every viewer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sensitive_cap: Option<f64>,
    /// Most minutes of use per day for minors.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub minor_daily_minutes: Option<f64>,
    /// Hour at which the app closes for minors.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub minor_curfew_start: Option<f64>,
    /// Hour at which it opens again.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub minor_curfew_end: Option<f64>,
    /// Minors are shown educational items only.
    pub minor_educational_feed: bool,
    /// Weight of explicit feedback (likes, follows) against passive watch time in the
    /// profile the ranking learns: 0 = watch time only, 1 = explicit feedback only.
    pub explicit_weight: f64,
    /// Minutes of use at which the profile of the viewers who ask is forgotten.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reset_minute: Option<f64>,
    /// Share of viewers who ask for the reset.
    pub reset_share: f64,
}

impl Default for ProtectionsConfig {
    fn default() -> Self {
        ProtectionsConfig {
            sensitive_cap: None,
            minor_daily_minutes: None,
            minor_curfew_start: None,
            minor_curfew_end: None,
            minor_educational_feed: false,
            explicit_weight: 0.0,
            reset_minute: None,
            reset_share: 1.0,
        }
    }
}

impl ProtectionsConfig {
    /// The curfew window (start, end hours), when both ends are given.
    pub fn curfew(&self) -> Option<(f64, f64)> {
        self.minor_curfew_start.zip(self.minor_curfew_end)
    }
}

/// How an audit bot behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BotRule {
    /// Watches items of `topic` to the end and skips the rest.
    Linger,
    /// Lingers on `topic`, then from `switch_minute` on `switch_topic`.
    LingerSwitch,
    /// Watches a uniformly random fraction of every item.
    Random,
    /// Watches items of any of `topics` to the end and skips the rest.
    Replay,
}

impl BotRule {
    /// The name in scenario and result files.
    pub fn name(self) -> &'static str {
        match self {
            BotRule::Linger => "linger",
            BotRule::LingerSwitch => "linger_switch",
            BotRule::Random => "random",
            BotRule::Replay => "replay",
        }
    }
}

/// `[[bots]]`: scripted audit accounts ("sock puppets") added to the population.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BotConfig {
    /// Name, in `bots.csv`.
    pub name: String,
    /// How the bots behave.
    pub rule: BotRule,
    /// Number of bots with this script.
    #[serde(default = "one_bot")]
    pub count: u32,
    /// The topic they linger on (`linger`, `linger_switch`; for `random`, the topic whose
    /// share of the feed is measured).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topic: Option<String>,
    /// The topic a `linger_switch` bot moves to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub switch_topic: Option<String>,
    /// Minutes of use at which a `linger_switch` bot moves.
    #[serde(default)]
    pub switch_minute: f64,
    /// The topics a `replay` bot watches.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub topics: Vec<String>,
    /// Minutes of use of each bot.
    #[serde(default = "bot_minutes")]
    pub minutes: f64,
    /// The account is registered as a minor (protections for minors apply to it).
    #[serde(default)]
    pub minor: bool,
    /// Share of the feed window its topics must reach for the feed to count as narrowed.
    #[serde(default = "narrow_share")]
    pub narrow_share: f64,
}

fn one_bot() -> u32 {
    1
}

fn bot_minutes() -> f64 {
    60.0
}

fn narrow_share() -> f64 {
    0.8
}

impl Checker {
    /// An hour of the day, 0 to below 24.
    fn hour(&mut self, key: &str, h: f64) {
        if !(h.is_finite() && (0.0..24.0).contains(&h)) {
            self.fail(key, "must be an hour from 0 to below 24", h);
        }
    }

    /// A topic name of the catalog.
    fn topic(&mut self, key: &str, name: &str, scenario: &Scenario) {
        if scenario.topic_index(name).is_none() {
            let names: Vec<&str> = scenario.catalog.topics.iter().map(|t| t.name.as_str()).collect();
            self.fail(
                key,
                format!("must name a topic ({})", names.join(", ")),
                format!("{name:?}"),
            );
        }
    }

    /// 24 weights, none negative, some positive.
    fn hour_weights(&mut self, key: &str, weights: &[f64]) {
        self.count(key, weights.len() as u64, 24, 24);
        for (h, &w) in weights.iter().enumerate() {
            self.range(&format!("{key}.{h}"), w, 0.0, 1e6);
        }
        if weights.iter().sum::<f64>() <= 0.0 {
            self.fail(key, "must have weights that sum to more than 0", 0);
        }
    }

    /// The keys of `[day]`, `[arms.protections]` and `[[bots]]`, and the vulnerable shares.
    pub(super) fn safety(&mut self, s: &Scenario) {
        self.vulnerable(s);
        if let Some(d) = &s.day {
            self.day(d);
        }
        for (i, a) in s.arms.iter().enumerate() {
            if let Some(pr) = &a.protections {
                self.protections(i, pr, s);
            }
        }
        for (i, b) in s.bots.iter().enumerate() {
            self.bot(i, b, s);
        }
        if u64::from(s.population.users) + s.n_bots() > 100_000_000 {
            self.fail(
                "bots",
                "with population.users must be at most 100000000 accounts",
                s.n_bots(),
            );
        }
    }

    /// The vulnerable shares of `[population]` and the sensitive-content keys of `[viewer]`.
    fn vulnerable(&mut self, s: &Scenario) {
        let p = &s.population;
        self.probability("population.vulnerable_minor_share", p.vulnerable_minor_share);
        self.probability("population.vulnerable_adult_share", p.vulnerable_adult_share);
        self.range("viewer.sensitive_linger", s.viewer.sensitive_linger, -20.0, 20.0);
        self.range("viewer.sensitive_drift", s.viewer.sensitive_drift, 0.0, 100.0);
        self.range(
            "viewer.sensitive_approval",
            s.viewer.sensitive_approval,
            -20.0,
            20.0,
        );
    }

    /// `[day]`: two sets of 24 hour weights, the gap between sessions and the night.
    fn day(&mut self, d: &DayConfig) {
        self.hour_weights("day.minor_start_hours", &d.minor_start_hours);
        self.hour_weights("day.adult_start_hours", &d.adult_start_hours);
        self.range("day.session_gap_minutes", d.session_gap_minutes, 0.0, 1440.0);
        self.hour("day.night_start_hour", d.night_start_hour);
        self.hour("day.night_end_hour", d.night_end_hour);
    }

    /// `[arms.protections]` of arm `i`: a curfew needs both ends, an educational feed
    /// needs an educational topic.
    fn protections(&mut self, i: usize, pr: &ProtectionsConfig, s: &Scenario) {
        let k = |f: &str| format!("arms.{i}.protections.{f}");
        if let Some(cap) = pr.sensitive_cap {
            self.probability(&k("sensitive_cap"), cap);
        }
        if let Some(m) = pr.minor_daily_minutes {
            self.range(&k("minor_daily_minutes"), m, 1.0 / 60.0, 1440.0);
        }
        match (pr.minor_curfew_start, pr.minor_curfew_end) {
            (Some(start), Some(end)) => {
                self.hour(&k("minor_curfew_start"), start);
                self.hour(&k("minor_curfew_end"), end);
            }
            (None, None) => {}
            (Some(_), None) => self.fail(
                k("minor_curfew_end"),
                "must be given with minor_curfew_start",
                "nothing",
            ),
            (None, Some(_)) => self.fail(
                k("minor_curfew_start"),
                "must be given with minor_curfew_end",
                "nothing",
            ),
        }
        if pr.minor_educational_feed && !s.catalog.topics.iter().any(|t| t.educational) {
            self.fail(
                k("minor_educational_feed"),
                "needs at least one topic with educational = true",
                "no educational topic",
            );
        }
        self.probability(&k("explicit_weight"), pr.explicit_weight);
        if let Some(m) = pr.reset_minute {
            self.range(&k("reset_minute"), m, 0.0, 1e7);
        }
        self.probability(&k("reset_share"), pr.reset_share);
    }

    /// `[[bots]]` number `i`: which topics its rule needs, and which it must not have.
    fn bot(&mut self, i: usize, b: &BotConfig, s: &Scenario) {
        let k = |f: &str| format!("bots.{i}.{f}");
        if b.name.is_empty() {
            self.fail(k("name"), "must not be empty", "\"\"");
        }
        self.count(&k("count"), b.count.into(), 1, 100_000);
        let needs_topic = matches!(b.rule, BotRule::Linger | BotRule::LingerSwitch);
        match &b.topic {
            Some(t) => self.topic(&k("topic"), t, s),
            None if needs_topic => self.fail(
                k("topic"),
                format!("is needed by rule {:?}", b.rule.name()),
                "nothing",
            ),
            None => {}
        }
        match (&b.switch_topic, b.rule) {
            (Some(t), BotRule::LingerSwitch) => self.topic(&k("switch_topic"), t, s),
            (None, BotRule::LingerSwitch) => self.fail(
                k("switch_topic"),
                "is needed by rule \"linger_switch\"",
                "nothing",
            ),
            (Some(_), rule) => self.fail(
                k("switch_topic"),
                "is only allowed with rule \"linger_switch\"",
                format!("rule {:?}", rule.name()),
            ),
            (None, _) => {}
        }
        self.range(&k("switch_minute"), b.switch_minute, 0.0, 1e7);
        if b.rule == BotRule::Replay {
            self.count(&k("topics"), b.topics.len() as u64, 1, 256);
        } else if !b.topics.is_empty() {
            self.fail(
                k("topics"),
                "is only allowed with rule \"replay\"",
                format!("rule {:?}", b.rule.name()),
            );
        }
        for (j, t) in b.topics.iter().enumerate() {
            self.topic(&k(&format!("topics.{j}")), t, s);
        }
        self.range(&k("minutes"), b.minutes, 1.0 / 60.0, 1e7);
        if !(b.narrow_share > 0.0 && b.narrow_share <= 1.0) {
            self.fail(
                k("narrow_share"),
                "must be greater than 0 and at most 1",
                b.narrow_share,
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::in_hours;

    #[test]
    fn hour_windows_wrap_past_midnight() {
        let check = |hour, start, end, expected| {
            assert_eq!(in_hours(hour, start, end), expected, "{hour} in {start}..{end}");
        };
        check(23.0, 22.0, 6.0, true);
        check(5.99, 22.0, 6.0, true);
        check(6.0, 22.0, 6.0, false);
        check(12.0, 22.0, 6.0, false);
        check(22.0, 22.0, 6.0, true);
        check(13.0, 12.0, 14.0, true);
        check(14.0, 12.0, 14.0, false);
        check(3.0, 5.0, 5.0, false);
    }
}
