//! Audit bots ("sock puppets", `[[bots]]`): scripted accounts after the population's viewers.
//! Each follows its rule instead of the viewer model's response, and is measured after every
//! step: the minutes until its feed narrows to its topics and, after a switch, the impressions
//! until the feed follows it (`docs/model.md` §8d).

use super::step::last;
use crate::rng::Rng;
use crate::scenario::{BotRule, Scenario};
use crate::viewer::{Response, ViewerParams, ViewerState};
use rand::RngExt;

/// One bot's script, compiled.
#[derive(Debug, Clone)]
pub(super) struct BotPlan {
    /// Index of its `[[bots]]` table.
    pub table: usize,
    pub rule: BotRule,
    /// The topic it lingers on (or, for `random`, the one measured).
    topic: Option<u16>,
    /// The topic a `linger_switch` bot moves to.
    switch_topic: u16,
    /// Seconds of use at which it moves.
    switch_seconds: f32,
    /// The topics a `replay` bot watches.
    topics: Vec<u16>,
    /// Seconds of use after which it stops.
    pub end_seconds: f32,
    narrow_share: f64,
}

impl BotPlan {
    /// Every bot of the scenario, in the order of their ids (after the viewers).
    pub fn all(scenario: &Scenario) -> Vec<BotPlan> {
        let topic = |name: &str| scenario.topic_index(name).expect("validated topic") as u16;
        let mut plans = Vec::new();
        for (table, b) in scenario.bots.iter().enumerate() {
            for _ in 0..b.count {
                plans.push(BotPlan {
                    table,
                    rule: b.rule,
                    topic: b.topic.as_deref().map(topic),
                    switch_topic: b.switch_topic.as_deref().map_or(0, topic),
                    switch_seconds: (b.switch_minute * 60.0) as f32,
                    topics: b.topics.iter().map(|t| topic(t)).collect(),
                    end_seconds: (b.minutes * 60.0) as f32,
                    narrow_share: b.narrow_share,
                });
            }
        }
        plans
    }

    /// Whether the bot has switched topic at `clock` seconds of use.
    #[inline]
    fn switched(&self, clock: f32) -> bool {
        self.rule == BotRule::LingerSwitch && clock >= self.switch_seconds
    }

    /// True if the bot watches items of `topic` at `clock` (its topics now).
    #[inline]
    fn wants(&self, topic: u16, clock: f32) -> bool {
        match self.rule {
            BotRule::Linger => self.topic == Some(topic),
            BotRule::LingerSwitch if self.switched(clock) => self.switch_topic == topic,
            BotRule::LingerSwitch => self.topic == Some(topic),
            BotRule::Random => self.topic == Some(topic),
            BotRule::Replay => self.topics.contains(&topic),
        }
    }

    /// Replaces a drawn response by the bot's: its topics watched to the end, the rest
    /// skipped at once (a `random` bot watches a uniform fraction of everything, the next
    /// draw of the response stream `rng`); no likes or follows; it never leaves a session.
    pub fn respond(
        &self,
        params: &ViewerParams,
        clock: f32,
        item: &crate::catalog::Item,
        r: &mut Response,
        rng: &mut Rng,
    ) {
        let fraction = match self.rule {
            BotRule::Random => rng.random::<f32>(),
            _ => f32::from(u8::from(self.wants(item.topic, clock))),
        };
        *r = Response {
            fraction,
            seconds: fraction * item.duration,
            skipped: fraction < params.skip_below,
            liked: false,
            followed: false,
            trusted: r.trusted,
            returns: true,
            // Below any return probability: a bot never leaves.
            return_draw: f32::NEG_INFINITY,
        };
    }
}

/// What one bot's feed did.
#[derive(Debug, Clone, Copy)]
struct Observed {
    /// Minutes of use when its feed first narrowed to its topics; NaN if never.
    minutes_to_narrow: f32,
    /// Impressions before its first one after the switch, and the clock then.
    switch: Option<(u32, f32)>,
    /// Impressions after the switch until the feed followed, and the minutes.
    follow: Option<(u32, f32)>,
    /// Share of its topics in its last window.
    share: f64,
}

/// One row of `bots.csv`: a bot at the end of an arm's run.
#[derive(Debug, Clone, PartialEq)]
pub struct BotRow {
    pub arm: usize,
    pub replicate: u32,
    /// The bot's viewer id, as in `users.csv` and `explain` (the bots follow the viewers).
    pub bot: u32,
    /// Its `[[bots]]` table's name and rule.
    pub name: String,
    pub rule: &'static str,
    pub minutes: f64,
    pub impressions: u32,
    pub minutes_to_narrow: f64,
    /// Share of the bot's topics (after any switch) in its last W impressions.
    pub topic_share: f64,
    pub impressions_to_follow_switch: Option<u32>,
    pub minutes_to_follow_switch: f64,
}

/// The bots of a scenario: their scripts and the id of the first.
pub(super) struct Bots {
    pub plans: Vec<BotPlan>,
    /// Id of the first bot (the number of viewers).
    pub first: u32,
}

impl Bots {
    pub fn new(scenario: &Scenario, first: u32) -> Bots {
        Bots {
            plans: BotPlan::all(scenario),
            first,
        }
    }

    /// The plan of viewer `id`, if it is a bot.
    #[inline]
    pub fn plan(&self, id: u32) -> Option<&BotPlan> {
        id.checked_sub(self.first)
            .and_then(|b| self.plans.get(b as usize))
    }
}

/// What the bots' feeds did so far in one arm.
pub(super) struct BotLog {
    observed: Vec<Observed>,
    window: usize,
}

impl BotLog {
    pub fn new(bots: &Bots, window: usize) -> BotLog {
        BotLog {
            observed: vec![
                Observed {
                    minutes_to_narrow: f32::NAN,
                    switch: None,
                    follow: None,
                    share: 0.0,
                };
                bots.plans.len()
            ],
            window,
        }
    }

    /// Measures every bot after a step; `topics` is the arm's rings of recent topics, `history`
    /// their length.
    pub fn observe(&mut self, bots: &Bots, viewers: &[ViewerState], topics: &[u16], history: usize) {
        for (b, (plan, seen)) in bots.plans.iter().zip(&mut self.observed).enumerate() {
            let id = bots.first as usize + b;
            let v = &viewers[id];
            let shown = v.impressions as usize;
            let ring = &topics[id * history..(id + 1) * history];
            let window = last(ring, shown, self.window);
            let n = shown.min(self.window);
            if n == 0 {
                continue;
            }
            let mut counts = [0u32; 256];
            for part in window {
                for &t in part {
                    counts[t as usize] += 1;
                }
            }
            let mine = match plan.rule {
                // A random bot without a topic: the feed's top topic.
                BotRule::Random if plan.topic.is_none() => counts.iter().copied().max().unwrap_or(0),
                _ => (0..256u16)
                    .filter(|&t| counts[t as usize] > 0 && plan.wants(t, v.clock))
                    .map(|t| counts[t as usize])
                    .sum(),
            };
            seen.share = f64::from(mine) / n as f64;
            let narrowed = n == self.window && seen.share >= plan.narrow_share;
            if plan.rule == BotRule::LingerSwitch && plan.switched(v.clock) {
                let (at, clock) = *seen.switch.get_or_insert((v.impressions, v.clock));
                // The window must hold impressions made after the switch.
                if seen.follow.is_none() && narrowed && v.impressions > at {
                    seen.follow = Some((v.impressions - at, (v.clock - clock) / 60.0));
                }
            } else if narrowed && seen.minutes_to_narrow.is_nan() {
                seen.minutes_to_narrow = v.clock / 60.0;
            }
        }
    }

    /// One row per bot.
    #[allow(clippy::too_many_arguments)]
    pub fn rows(
        &self,
        bots: &Bots,
        scenario: &Scenario,
        viewers: &[ViewerState],
        arm: usize,
        replicate: u32,
        out: &mut Vec<BotRow>,
    ) {
        for (b, (plan, seen)) in bots.plans.iter().zip(&self.observed).enumerate() {
            let v = &viewers[bots.first as usize + b];
            out.push(BotRow {
                arm,
                replicate,
                bot: bots.first + b as u32,
                name: scenario.bots[plan.table].name.clone(),
                rule: plan.rule.name(),
                minutes: f64::from(v.clock) / 60.0,
                impressions: v.impressions,
                minutes_to_narrow: f64::from(seen.minutes_to_narrow),
                topic_share: seen.share,
                impressions_to_follow_switch: seen.follow.map(|(n, _)| n),
                minutes_to_follow_switch: seen.follow.map_or(f64::NAN, |(_, m)| f64::from(m)),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::BotConfig;

    #[test]
    fn a_switching_bot_watches_its_second_topic_from_the_switch_on() {
        let mut s = Scenario::default();
        s.bots.push(BotConfig {
            name: "b".into(),
            rule: BotRule::LingerSwitch,
            count: 2,
            topic: Some("gaming".into()),
            switch_topic: Some("food".into()),
            switch_minute: 10.0,
            topics: Vec::new(),
            minutes: 60.0,
            minor: false,
            narrow_share: 0.8,
        });
        let bots = Bots::new(&s, 100);
        assert_eq!(bots.plans.len(), 2);
        assert!(bots.plan(99).is_none() && bots.plan(102).is_none());
        let plan = bots.plan(101).unwrap();
        let (gaming, food) = (
            s.topic_index("gaming").unwrap() as u16,
            s.topic_index("food").unwrap() as u16,
        );
        assert!(plan.wants(gaming, 599.0) && !plan.wants(food, 599.0));
        assert!(plan.wants(food, 600.0) && !plan.wants(gaming, 600.0));
    }
}
