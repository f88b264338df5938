//! Habit and return (`docs/model.md` §5c): whether a viewer who left a session comes back the
//! same day, and whether they use the app at all on a later day, depend on a habit strength
//! built by daily use and on how satisfying today was.
//!
//! Habit grows towards a plateau with each day of use, the asymptotic curve of habit formation
//! in Lally et al. (2010), and fades on a day without use. Returns follow a logistic rule whose
//! intercepts are today's constants, so with zero weights (the defaults) the model is exactly
//! the one before this mechanism: the same draws, the same comparisons. A day of use follows a
//! Bernoulli draw per calendar day, so the gap to the next day of use is geometric, as in
//! KuaiSim's return-time model (Zhao et al. 2023).

use crate::rng::{Purpose, Streams};
use crate::scenario::ViewerConfig;
use crate::viewer::{Response, ViewerParams, logistic};
use rand::RngExt;

/// The habit strength at which the return probabilities are the configured ones.
pub const HABIT_REFERENCE: f32 = 0.5;

/// The habit-and-return parameters, in the engine's precision.
#[derive(Debug, Clone, Copy)]
pub struct HabitParams {
    /// The same-day return depends on habit or satisfaction (a weight is not 0).
    within_day: bool,
    /// Some later day may go unused (`day_return_probability` below 1).
    across_days: bool,
    /// logit of `return_probability`.
    return_logit: f32,
    /// logit of `day_return_probability`.
    day_logit: f32,
    habit_weight: f32,
    satisfaction_weight: f32,
    /// s₀: the expected watch fraction of an average item for a viewer of average interest.
    satisfaction_reference: f32,
    gain: f32,
    decay: f32,
    /// Whether the viewer uses the app on a calendar day: per viewer and day.
    streams: Streams,
}

/// A viewer's habit and today's satisfaction.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Habit {
    /// Habit strength h in [0, 1].
    pub strength: f32,
    /// Σ of today's watch fractions.
    pub day_watched: f32,
    /// Today's impressions.
    pub day_impressions: u32,
    /// The viewer's id, for the day-of-use stream.
    pub id: u32,
    /// Days of use (the first included).
    pub active_days: u16,
}

/// ln(p / (1 - p)); ±∞ at 1 and 0, which the logistic maps back exactly.
fn logit(p: f64) -> f32 {
    (p / (1.0 - p)).ln() as f32
}

impl HabitParams {
    /// Parameters from the `[viewer]` section; the day-of-use streams are those of seed 0,
    /// replicate 0 until [`ViewerParams::seeded`] sets them.
    pub fn new(cfg: &ViewerConfig) -> HabitParams {
        HabitParams {
            within_day: cfg.habit_return_weight != 0.0 || cfg.satisfaction_return_weight != 0.0,
            across_days: cfg.day_return_probability < 1.0,
            return_logit: logit(cfg.return_probability),
            day_logit: logit(cfg.day_return_probability),
            habit_weight: cfg.habit_return_weight as f32,
            satisfaction_weight: cfg.satisfaction_return_weight as f32,
            satisfaction_reference: logistic(cfg.baseline_logit as f32),
            gain: cfg.habit_gain as f32,
            decay: cfg.habit_decay as f32,
            streams: Streams::new(0, 0, Purpose::Return),
        }
    }

    /// Today's satisfaction s: the mean watch fraction of today's impressions, or s₀ before
    /// the first.
    #[inline]
    pub fn satisfaction(&self, h: &Habit) -> f32 {
        if h.day_impressions > 0 {
            h.day_watched / h.day_impressions as f32
        } else {
            self.satisfaction_reference
        }
    }

    /// What habit and satisfaction add to the logit of a return.
    #[inline]
    fn shift(&self, h: &Habit) -> f32 {
        self.habit_weight * (h.strength - HABIT_REFERENCE)
            + self.satisfaction_weight * (self.satisfaction(h) - self.satisfaction_reference)
    }

    /// The probability of coming back the same day after a session ends.
    #[inline]
    pub fn return_probability(&self, h: &Habit) -> f32 {
        logistic(self.return_logit + self.shift(h))
    }

    /// The probability of using the app on a calendar day, decided when the last day of use
    /// ended (habit as updated since, satisfaction of that day).
    #[inline]
    pub fn day_probability(&self, h: &Habit) -> f32 {
        logistic(self.day_logit + self.shift(h))
    }

    /// Whether a viewer whose session ended with response `r` comes back the same day: the
    /// response's own draw against the return probability. With zero weights, the draw against
    /// `return_probability` that the response made (today's rule, unchanged).
    #[inline]
    pub fn returns(&self, h: &Habit, r: &Response) -> bool {
        if self.within_day {
            r.return_draw < self.return_probability(h)
        } else {
            r.returns
        }
    }

    /// The habit after a day of use: h ← h + α (1 − h).
    #[inline]
    fn used(&self, h: &mut Habit) {
        h.strength += self.gain * (1.0 - h.strength);
    }

    /// The habit after a day without use: h ← (1 − δ) h.
    #[inline]
    fn unused(&self, h: &mut Habit) {
        h.strength *= 1.0 - self.decay;
    }

    /// Ends calendar day `day`, a day of use, out of `days`: grows the habit, then walks the
    /// following days until one is used. Returns that day, or `None` when no day of use is
    /// left. A day without use lets the habit fade; `always` (an audit bot) uses every day.
    /// Today's satisfaction is reset for the next day of use.
    pub fn next_day(&self, h: &mut Habit, day: u16, days: u16, always: bool) -> Option<u16> {
        self.used(h);
        let mut next = day;
        loop {
            if next >= days {
                return None;
            }
            next += 1;
            if !self.across_days || always || self.uses(h, next) {
                break;
            }
            self.unused(h);
        }
        h.active_days = h.active_days.saturating_add(1);
        h.day_watched = 0.0;
        h.day_impressions = 0;
        Some(next)
    }

    /// Whether the viewer uses the app on calendar day `day`: the day's draw from the
    /// viewer's stream (seed, replicate, viewer, return, day).
    #[inline]
    fn uses(&self, h: &Habit, day: u16) -> bool {
        let mut rng = self.streams.at(u64::from(h.id), u64::from(day));
        rng.random::<f32>() < self.day_probability(h)
    }
}

impl Habit {
    /// A viewer with habit strength `initial`, on the first day of use.
    pub fn new(id: u32, initial: f32) -> Habit {
        Habit {
            strength: initial,
            day_watched: 0.0,
            day_impressions: 0,
            id,
            active_days: 1,
        }
    }

    /// Counts an impression watched to `fraction` into today's satisfaction.
    #[inline]
    pub fn observe(&mut self, fraction: f32) {
        self.day_watched += fraction;
        self.day_impressions += 1;
    }
}

impl ViewerParams {
    /// The parameters with the day-of-use streams of `(seed, replicate)`.
    pub fn seeded(mut self, seed: u64, replicate: u32) -> ViewerParams {
        self.habit.streams = Streams::new(seed, replicate, Purpose::Return);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(got: f32, expected: f32) {
        assert!((got - expected).abs() < 1e-6, "got {got}, expected {expected}");
    }

    /// Habit on: γ_H = 2, γ_S = 4, p₀ = 0.8, q₀ = 0.75, α = 0.1, δ = 0.2, and β₀ = −0.5 (so
    /// s₀ = σ(−0.5); `viewer::pinned_config`).
    fn params() -> HabitParams {
        HabitParams::new(&ViewerConfig {
            habit_return_weight: 2.0,
            satisfaction_return_weight: 4.0,
            day_return_probability: 0.75,
            habit_gain: 0.1,
            habit_decay: 0.2,
            ..crate::viewer::pinned_config()
        })
    }

    /// The viewer of the model before issue 14: no habit or satisfaction weight, every day used.
    fn old_model() -> ViewerConfig {
        ViewerConfig {
            habit_return_weight: 0.0,
            satisfaction_return_weight: 0.0,
            day_return_probability: 1.0,
            ..ViewerConfig::default()
        }
    }

    fn logit_of(p: f32) -> f32 {
        (p / (1.0 - p)).ln()
    }

    #[test]
    fn return_probabilities_match_hand_computation() {
        let p = params();
        let s0 = 1.0 / (1.0 + 0.5f32.exp());
        let mut h = Habit::new(0, 0.5);
        // Middling habit, no impression yet (s = s₀): the configured probabilities.
        check(p.return_probability(&h), 0.8);
        check(p.day_probability(&h), 0.75);
        // h = 0.9, today's watch fractions 0.6 and 0.4 (s = 0.5):
        // logit = ln 4 + 2 · 0.4 + 4 · (0.5 − s₀).
        h.strength = 0.9;
        h.observe(0.6);
        h.observe(0.4);
        let z = 4f32.ln() + 0.8 + 4.0 * (0.5 - s0);
        check(p.return_probability(&h), 1.0 / (1.0 + (-z).exp()));
        let z = 3f32.ln() + 0.8 + 4.0 * (0.5 - s0);
        check(p.day_probability(&h), 1.0 / (1.0 + (-z).exp()));
        // A better day, the same habit: more likely to come back.
        let mut good = h;
        good.observe(1.0);
        assert!(p.return_probability(&good) > p.return_probability(&h));
        assert!(logit_of(p.return_probability(&h)) > logit_of(0.8));
    }

    #[test]
    fn zero_weights_keep_the_responses_own_return() {
        let p = HabitParams::new(&old_model());
        let h = Habit::new(0, 1.0);
        let r = |draw: f32, returns: bool| Response {
            fraction: 0.0,
            seconds: 0.0,
            skipped: true,
            liked: false,
            followed: false,
            trusted: false,
            returns,
            return_draw: draw,
        };
        assert!(p.returns(&h, &r(0.9, true)));
        assert!(!p.returns(&h, &r(0.1, false)));
        // On, the draw is compared with σ(logit 0.8 + 2 · 0.5) = 0.916.
        let on = params();
        assert!(on.returns(&h, &r(0.9, false)));
        assert!(!on.returns(&h, &r(0.92, true)));
    }

    #[test]
    fn habit_grows_with_use_and_fades_without() {
        // q₀ = 1: every day is used; h = 0.5 → 0.55 → 0.595 (α = 0.1).
        let every = HabitParams {
            across_days: false,
            ..params()
        };
        let mut h = Habit::new(0, 0.5);
        h.observe(0.3);
        assert_eq!(every.next_day(&mut h, 1, 3, false), Some(2));
        check(h.strength, 0.55);
        assert_eq!((h.active_days, h.day_impressions, h.day_watched), (2, 0, 0.0));
        assert_eq!(every.next_day(&mut h, 2, 3, false), Some(3));
        check(h.strength, 0.595);
        // The last day ends the run, after its habit gain.
        assert_eq!(every.next_day(&mut h, 3, 3, false), None);
        check(h.strength, 0.6355);
        assert_eq!(h.active_days, 3);
        // q₀ = 0 and no weights: no later day is used. Day 1's use lifts 0.5 to 0.55, days
        // 2 to 4 pass unused (δ = 0.2 each), then the run is over.
        let never = HabitParams::new(&ViewerConfig {
            day_return_probability: 0.0,
            habit_gain: 0.1,
            habit_decay: 0.2,
            ..old_model()
        });
        let mut h = Habit::new(0, 0.5);
        assert_eq!(never.next_day(&mut h, 1, 4, false), None);
        check(h.strength, 0.55 * 0.8 * 0.8 * 0.8);
        assert_eq!(h.active_days, 1);
        // An audit bot uses every day.
        let mut h = Habit::new(0, 0.5);
        assert_eq!(never.next_day(&mut h, 1, 4, true), Some(2));
    }

    #[test]
    fn habit_state_is_20_bytes_per_viewer() {
        assert_eq!(std::mem::size_of::<Habit>(), 20);
    }

    #[test]
    fn lally_rate_reaches_95_percent_of_the_plateau_in_66_days() {
        // α = 1 − 0.05^(1/66): from 0, 66 days of use give h = 1 − (1 − α)^66 = 0.95.
        let alpha = 1.0 - 0.05f64.powf(1.0 / 66.0);
        assert!((alpha - 0.0444).abs() < 1e-4, "{alpha}");
        let p = HabitParams::new(&ViewerConfig {
            habit_gain: alpha,
            ..old_model()
        });
        let mut h = Habit::new(0, 0.0);
        for day in 1..=66 {
            p.next_day(&mut h, day, 100, false);
        }
        assert!((h.strength - 0.95).abs() < 1e-4, "{}", h.strength);
    }
}
