//! Ampliganda: target sets of items, and boosts that quietly change how they rank.
//!
//! A [`TargetSet`] is computed once per replicate from the catalog (aligned creators are
//! drawn from their own stream, so they are the same in every arm). A [`Boost`] is an arm's
//! compiled `[[arms.boosts]]` entry; [`Boost::ramp`] gives its strength at a viewer's minute
//! of use, and [`Boost::delta`] what it adds to a score. Equations in `docs/model.md`.

use crate::catalog::{Catalog, Item, ItemIdx};
use crate::rng::{Purpose, stream};
use crate::scenario::{BoostConfig, BoostMode, Scenario, TargetConfig};
use rand::RngExt;

/// Most boosts an arm may have.
pub const MAX_BOOSTS: usize = 8;

/// Which items of a replicate's catalog are in a target.
#[derive(Debug, Clone)]
pub struct TargetSet {
    /// One flag per item.
    pub member: Vec<bool>,
    /// The members, in upload order.
    pub items: Vec<ItemIdx>,
}

impl TargetSet {
    /// The items of `catalog` that meet every condition of `config`.
    pub fn new(config: &TargetConfig, scenario: &Scenario, catalog: &Catalog, replicate: u32) -> TargetSet {
        let topic = |name: &String| {
            catalog
                .topic_names
                .iter()
                .position(|t| t == name)
                .expect("validated topic")
        };
        let group = |name: &String| {
            catalog
                .group_names
                .iter()
                .position(|g| g == name)
                .expect("validated group")
        };
        let topics: Vec<usize> = config.topics.iter().map(topic).collect();
        let groups: Vec<usize> = config.groups.iter().map(group).collect();
        let aligned: Vec<bool> = (0..catalog.creator_group.len())
            .map(|c| {
                config.aligned_share > 0.0 && {
                    let mut rng = stream(scenario.scenario.seed, replicate, c as u64, Purpose::Aligned, 0);
                    rng.random::<f64>() < config.aligned_share
                }
            })
            .collect();
        let member: Vec<bool> = catalog
            .items
            .iter()
            .map(|it| {
                (topics.is_empty() || topics.contains(&(it.topic as usize)))
                    && (groups.is_empty() || groups.contains(&(it.group as usize)))
                    && f64::from(it.stance) >= config.stance_min
                    && f64::from(it.stance) <= config.stance_max
                    && (config.aligned_share == 0.0 || aligned[it.creator as usize])
            })
            .collect();
        let items = (0..catalog.items.len() as ItemIdx)
            .filter(|&i| member[i as usize])
            .collect();
        TargetSet { member, items }
    }

    /// True if `item` is in the target.
    #[inline]
    pub fn contains(&self, item: ItemIdx) -> bool {
        self.member[item as usize]
    }
}

/// One boost of an arm, ready to apply.
#[derive(Debug, Clone)]
pub struct Boost {
    pub name: String,
    pub mode: BoostMode,
    pub strength: f32,
    pub target: TargetSet,
    pub start_seconds: f32,
    pub ramp_seconds: f32,
    pub trusted_only: bool,
    pub disclosed: bool,
}

impl Boost {
    /// Compiles `config` for a replicate; `default_target` is the scenario's `[target]`.
    pub fn new(
        config: &BoostConfig,
        default_target: Option<&TargetConfig>,
        scenario: &Scenario,
        catalog: &Catalog,
        replicate: u32,
    ) -> Boost {
        let target = config
            .target
            .as_ref()
            .or(default_target)
            .expect("validated: a boost has a target");
        Boost {
            name: config.name.clone(),
            mode: config.mode,
            strength: config.strength as f32,
            target: TargetSet::new(target, scenario, catalog, replicate),
            start_seconds: (config.start_minute * 60.0) as f32,
            ramp_seconds: (config.ramp_minutes * 60.0) as f32,
            trusted_only: config.trusted_only,
            disclosed: config.disclosed,
        }
    }

    /// The share of full strength at `clock` seconds of use: 0 before the start, rising
    /// linearly over the ramp, then 1.
    #[inline]
    pub fn ramp(&self, clock: f32) -> f32 {
        if clock < self.start_seconds {
            0.0
        } else if self.ramp_seconds <= 0.0 {
            1.0
        } else {
            ((clock - self.start_seconds) / self.ramp_seconds).min(1.0)
        }
    }

    /// True if the boost acts on `item` for a viewer who follows `follows`.
    #[inline]
    pub fn acts_on(&self, item: ItemIdx, creator: u32, follows: &[u32]) -> bool {
        self.target.contains(item) && (!self.trusted_only || follows.contains(&creator))
    }

    /// What the boost adds to `score` of an item it acts on, at ramp `r`; `impressions` is the
    /// item's count so far (for a reach cap). Slots change no score.
    #[inline]
    pub fn delta(&self, score: f32, r: f32, impressions: u32) -> f32 {
        match self.mode {
            BoostMode::Multiplier => score * (self.strength - 1.0) * r,
            BoostMode::Additive => self.strength * r,
            BoostMode::ReachCap if r > 0.0 && impressions as f32 >= self.strength => f32::NEG_INFINITY,
            BoostMode::ReachCap | BoostMode::Slots => 0.0,
        }
    }
}

/// The boosts of an arm as they stand for one viewer at one step.
#[derive(Debug, Clone, Copy)]
pub struct BoostView<'a> {
    pub boosts: &'a [Boost],
    /// Each boost's ramp for this viewer now.
    pub ramps: [f32; MAX_BOOSTS],
    /// The catalog's items (for creators).
    pub items: &'a [Item],
    /// Impressions of every item so far (for reach caps).
    pub impressions: &'a [u32],
}

impl BoostView<'_> {
    /// No boosts.
    pub const NONE: BoostView<'static> = BoostView {
        boosts: &[],
        ramps: [0.0; MAX_BOOSTS],
        items: &[],
        impressions: &[],
    };

    /// The disclosed and the hidden change of `score` for `item`, for a viewer who follows
    /// `follows`.
    #[inline]
    pub fn deltas(&self, item: ItemIdx, follows: &[u32], score: f32) -> (f32, f32) {
        let mut disclosed = 0.0;
        let mut hidden = 0.0;
        for (b, &r) in self.boosts.iter().zip(&self.ramps) {
            if r > 0.0 && b.acts_on(item, self.items[item as usize].creator, follows) {
                let d = b.delta(score, r, self.impressions[item as usize]);
                if b.disclosed {
                    disclosed += d;
                } else {
                    hidden += d;
                }
            }
        }
        (disclosed, hidden)
    }
}

impl Boost {
    /// For a `slots` boost that fires: a target item for the slot, not `seen` recently. From the
    /// creators the viewer follows when the boost is `trusted_only` (None if none of theirs is
    /// in the target), otherwise from every target item visible at `step`.
    pub fn slot_item(
        &self,
        catalog: &Catalog,
        step: u32,
        follows: &[u32],
        seen: impl Fn(ItemIdx) -> bool,
        rng: &mut crate::rng::Rng,
    ) -> Option<ItemIdx> {
        let visible = |i: &ItemIdx| catalog.items[*i as usize].upload_step <= step as i32;
        for _ in 0..4 {
            let item = if self.trusted_only {
                if follows.is_empty() {
                    return None;
                }
                let creator = follows[rng.random_range(0..follows.len())];
                let items = &catalog.creator_items[creator as usize];
                let n = items.partition_point(visible);
                if n == 0 {
                    continue;
                }
                items[rng.random_range(0..n)]
            } else {
                let n = self.target.items.partition_point(visible);
                if n == 0 {
                    return None;
                }
                self.target.items[rng.random_range(0..n)]
            };
            if self.target.contains(item) && !seen(item) {
                return Some(item);
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn boost(mode: BoostMode, strength: f32) -> Boost {
        Boost {
            name: "b".into(),
            mode,
            strength,
            target: TargetSet {
                member: vec![true, false],
                items: vec![0],
            },
            start_seconds: 60.0,
            ramp_seconds: 120.0,
            trusted_only: false,
            disclosed: true,
        }
    }

    #[test]
    fn ramp_starts_and_grows_linearly() {
        let b = boost(BoostMode::Multiplier, 2.0);
        assert_eq!(b.ramp(30.0), 0.0);
        assert_eq!(b.ramp(120.0), 0.5);
        assert_eq!(b.ramp(1000.0), 1.0);
    }

    #[test]
    fn deltas_by_mode() {
        // Multiplier 2 at half ramp: the score grows by half of itself.
        assert_eq!(boost(BoostMode::Multiplier, 2.0).delta(10.0, 0.5, 0), 5.0);
        // A multiplier of 0.5 pushes down.
        assert_eq!(boost(BoostMode::Multiplier, 0.5).delta(10.0, 1.0, 0), -5.0);
        assert_eq!(boost(BoostMode::Additive, 3.0).delta(10.0, 0.5, 0), 1.5);
        assert_eq!(boost(BoostMode::ReachCap, 100.0).delta(10.0, 1.0, 99), 0.0);
        assert_eq!(
            boost(BoostMode::ReachCap, 100.0).delta(10.0, 1.0, 100),
            f32::NEG_INFINITY
        );
        assert_eq!(boost(BoostMode::Slots, 0.1).delta(10.0, 1.0, 0), 0.0);
    }

    #[test]
    fn trusted_only_acts_on_followed_creators() {
        let mut b = boost(BoostMode::Additive, 1.0);
        b.trusted_only = true;
        assert!(!b.acts_on(0, 7, &[3]));
        assert!(b.acts_on(0, 7, &[3, 7]));
        assert!(!b.acts_on(1, 7, &[7]));
    }

    #[test]
    fn hidden_and_disclosed_are_kept_apart() {
        let mut hidden = boost(BoostMode::Additive, 2.0);
        hidden.disclosed = false;
        let boosts = [boost(BoostMode::Additive, 1.0), hidden];
        let mut ramps = [0.0; MAX_BOOSTS];
        ramps[..2].fill(1.0);
        let item = Item {
            creator: 1,
            topic: 0,
            group: 0,
            flags: 0,
            quality: 0.5,
            duration: 10.0,
            stance: 0.0,
            upload_step: 0,
        };
        let view = BoostView {
            boosts: &boosts,
            ramps,
            items: &[item, item],
            impressions: &[0, 0],
        };
        assert_eq!(view.deltas(0, &[], 5.0), (1.0, 2.0));
        assert_eq!(view.deltas(1, &[], 5.0), (0.0, 0.0));
    }
}
