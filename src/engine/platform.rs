//! The platform's global state between steps: what every viewer's recommendation reads of the
//! items (visibility, impressions, completion rates, trending) and how a step's outcomes update
//! it. Updates run in viewer order from integer counters, so they are the same for any thread
//! count.

use super::exposure::Exposure;
use super::recent::Recent;
use super::reduce::PlatformView;
use super::trending::TrendingRank;
use crate::catalog::{Catalog, ItemIdx};
use crate::recommender::kernel::TopicBlocks;
use crate::recommender::{Ranked, Shared, profile};
use crate::scenario::{Retrieval, Scenario};
use rayon::prelude::*;

/// Marks "no impression this step" in [`Outcome::item`].
pub(super) const NONE: ItemIdx = ItemIdx::MAX;

/// Per-item updates between steps run in parallel in chunks of at least this many items.
const PER_ITEM_CHUNK: usize = 8192;

/// What one viewer did at a step, for the global update.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Outcome {
    pub item: ItemIdx,
    /// Watch fraction in thousandths: integer, so sums are exact in any order.
    pub milli: u32,
    pub liked: bool,
    /// A coordinated account shared the item (one more engaged view for trending).
    pub shared: bool,
    /// The viewer followed the item's creator (for the collaborative model's signal).
    pub followed: bool,
    /// The viewer skipped the item.
    pub skipped: bool,
}

impl Outcome {
    /// No impression.
    pub const NOTHING: Outcome = Outcome {
        item: NONE,
        milli: 0,
        liked: false,
        shared: false,
        followed: false,
        skipped: false,
    };

    /// The observed signal of the impression (§6), with the watch fraction in thousandths as
    /// the item statistics record it: what the collaborative model learns from.
    #[inline]
    pub fn signal(&self, config: &crate::scenario::RecommenderConfig) -> f32 {
        profile::signal_of(
            config,
            self.milli as f32 / 1000.0,
            self.liked,
            self.followed,
            self.skipped,
        )
    }
}

/// The platform's global state, updated between steps.
#[derive(Clone)]
pub(super) struct Global {
    pub n_visible: usize,
    pub topic_visible: Vec<u32>,
    pub impressions: Vec<u32>,
    pub watched_milli: Vec<u64>,
    /// Each item's creator group, beside the counters (the catalog's items are larger).
    pub group: Vec<u8>,
    pub trend: Vec<f32>,
    pub trending: Vec<ItemIdx>,
    /// What ranking reads of every item, its completion rate rewritten between steps.
    pub ranked: Vec<Ranked>,
    /// The mean completion rate c̄ (`recommender.profile_prior` before any impression).
    pub mean_completion: f32,
    pub total_impressions: u64,
    pub total_milli: u64,
    pub covered: u64,
    pub group_impressions: Vec<u64>,
    pub group_visible: Vec<u64>,
    /// The visible items' impression counts, sorted, for `exposure_gini`.
    pub exposure: Exposure,
    /// The impressions of the last `metrics.recent_steps` steps, for `coverage_recent` and
    /// `exposure_gini_recent`.
    pub recent: Recent,
    /// The mean impressions of a visible item before the step last absorbed (warm-up
    /// included), what `shown_popularity` is relative to.
    pub popularity_mean: f64,
    /// Selects the trending list.
    pub trending_rank: TrendingRank,
    /// With exhaustive retrieval, the visible items by topic for the ranking kernel.
    pub blocks: Option<TopicBlocks>,
    /// The impressions of the warm-up (`population.warmup_minutes`): each item's (empty
    /// without a warm-up), and in all with their watch fractions. The platform's knowledge
    /// counts them; the measured figures (coverage, exposure, group shares) do not.
    pub warm: Vec<u32>,
    pub warm_impressions: u64,
    pub warm_milli: u64,
    /// Measured impressions by watch fraction in thousandths (`plays::FRACTION_BINS` bins),
    /// for `calibrate`; written to no result file.
    pub fraction_counts: Vec<u64>,
}

impl Global {
    /// The platform before step 0 of `viewers` viewers: no impressions, the items uploaded by
    /// step 0 visible.
    pub fn new(scenario: &Scenario, catalog: &Catalog, viewers: usize) -> Global {
        let n_items = catalog.items.len();
        let prior = scenario.recommender.profile_prior as f32;
        let k = catalog.n_topics();
        let mut global = Global {
            n_visible: 0,
            topic_visible: vec![0; k],
            impressions: vec![0; n_items],
            watched_milli: vec![0; n_items],
            group: catalog.items.iter().map(|item| item.group).collect(),
            trend: vec![0.0; n_items],
            trending: Vec::with_capacity(scenario.recommender.trending_pool as usize),
            ranked: catalog
                .items
                .iter()
                .map(|item| Ranked::new(item, prior, prior))
                .collect(),
            mean_completion: prior,
            total_impressions: 0,
            total_milli: 0,
            covered: 0,
            group_impressions: vec![0; catalog.group_names.len()],
            group_visible: vec![0; catalog.group_names.len()],
            exposure: Exposure::new(),
            recent: Recent::new(scenario.metrics.recent_steps as usize, viewers, n_items),
            popularity_mean: f64::NAN,
            trending_rank: TrendingRank::new(n_items),
            blocks: (scenario.feed.retrieval == Retrieval::Exhaustive).then(|| TopicBlocks::new(catalog)),
            warm: Vec::new(),
            warm_impressions: 0,
            warm_milli: 0,
            fraction_counts: vec![0; super::plays::FRACTION_BINS],
        };
        global.reveal(catalog, 0);
        global
    }

    /// The platform-wide figures every cohort's row shares.
    pub fn view(&mut self) -> PlatformView<'_> {
        PlatformView {
            visible: self.n_visible,
            exposure_gini: self.exposure.gini(self.n_visible),
            covered: self.covered,
            recent_gini: self.recent.gini(self.n_visible),
            recent_covered: self.recent.shown_items(),
            popularity_mean: self.popularity_mean,
            total_impressions: self.total_impressions,
            group_impressions: &self.group_impressions,
            group_visible: &self.group_visible,
        }
    }

    /// What every viewer's recommendation reads of the platform during `step`.
    pub fn shared<'a>(&'a self, catalog: &'a Catalog, scenario: &'a Scenario, step: u32) -> Shared<'a> {
        Shared {
            catalog,
            step,
            n_visible: self.n_visible,
            topic_visible: &self.topic_visible,
            ranked: &self.ranked,
            trend: &self.trend,
            impressions: &self.impressions,
            trending: &self.trending,
            config: &scenario.recommender,
            feed: &scenario.feed,
            blocks: self.blocks.as_ref(),
            factors: None,
        }
    }

    /// Makes the items uploaded by `step` visible.
    ///
    /// Items are in upload order, so these are the ones after the visible prefix (the counts
    /// are those of [`Catalog::visible`] and [`Catalog::visible_in_topic`]).
    pub fn reveal(&mut self, catalog: &Catalog, step: u32) {
        for item in &catalog.items[self.n_visible..] {
            if item.upload_step > step as i32 {
                break;
            }
            self.group_visible[item.group as usize] += 1;
            self.topic_visible[item.topic as usize] += 1;
            // An item never shown has completion c_i = (0 + A c̄) / (0 + A) = c̄ (docs/model.md
            // §6), the rate the next update gives it too.
            self.ranked[self.n_visible].ratio = Ranked::ratio(self.mean_completion, self.mean_completion);
            self.n_visible += 1;
        }
        debug_assert_eq!(self.n_visible, catalog.visible(step));
    }

    /// Adds a step's outcomes to the item statistics, in viewer order (`outcomes` may leave
    /// out viewers without an impression). The trending counter decays with `half_life` steps
    /// and counts engaged views (watch fractions).
    pub fn absorb<'o>(
        &mut self,
        outcomes: impl IntoIterator<Item = &'o Outcome>,
        config: &crate::scenario::RecommenderConfig,
        half_life: f64,
    ) {
        let decay = 0.5f32.powf(1.0 / half_life as f32);
        self.trend[..self.n_visible]
            .par_iter_mut()
            .with_min_len(PER_ITEM_CHUNK)
            .for_each(|t| *t *= decay);
        self.trending_rank.decay(decay);
        self.popularity_mean =
            (self.total_impressions + self.warm_impressions) as f64 / self.n_visible.max(1) as f64;
        self.recent.start_step();
        for o in outcomes.into_iter().filter(|o| o.item != NONE) {
            let i = o.item as usize;
            self.recent.add(o.item);
            let measured = self.impressions[i] - self.warm.get(i).copied().unwrap_or(0);
            if measured == 0 {
                self.covered += 1;
            }
            self.exposure.add(measured);
            self.impressions[i] += 1;
            self.watched_milli[i] += u64::from(o.milli);
            self.trend[i] += o.milli as f32 / 1000.0 + if o.shared { 1.0 } else { 0.0 };
            self.total_impressions += 1;
            self.total_milli += u64::from(o.milli);
            self.fraction_counts[(o.milli as usize).min(super::plays::FRACTION_BINS - 1)] += 1;
            self.group_impressions[self.group[i] as usize] += 1;
        }
        let (all, milli) = (
            self.total_impressions + self.warm_impressions,
            self.total_milli + self.warm_milli,
        );
        if all > 0 {
            self.mean_completion = (milli as f64 / 1000.0 / all as f64) as f32;
        }
        let mean_f32 = self.mean_completion;
        let mean = f64::from(mean_f32);
        let prior = config.item_prior_weight;
        let visible = self.n_visible;
        self.ranked[..visible]
            .par_iter_mut()
            .zip(&self.watched_milli[..visible])
            .zip(&self.impressions[..visible])
            .with_min_len(PER_ITEM_CHUNK)
            .for_each(|((r, &milli), &shown)| {
                let completion = profile::completion(milli as f64 / 1000.0, shown, mean, prior);
                r.ratio = Ranked::ratio(completion, mean_f32);
            });
    }

    /// Ends the warm-up: what the platform learnt stays (item statistics, c̄, trending) and
    /// the measured counters start from zero.
    pub fn start_measuring(&mut self) {
        self.warm.clone_from(&self.impressions);
        self.warm_impressions += self.total_impressions;
        self.warm_milli += self.total_milli;
        self.total_impressions = 0;
        self.total_milli = 0;
        self.fraction_counts.fill(0);
        self.covered = 0;
        self.group_impressions.fill(0);
        self.exposure = Exposure::new();
        self.recent.clear();
    }

    /// Rebuilds the trending list: the most-watched visible items, by decayed count.
    pub fn rank_trending(&mut self, config: &crate::scenario::RecommenderConfig) {
        self.trending_rank.rank(
            &self.trend[..self.n_visible],
            config.trending_pool as usize,
            &mut self.trending,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An item revealed after impressions were made ranks as an item never shown: its
    /// completion is c̄ (ratio 1), not `recommender.profile_prior` (issue 13).
    #[test]
    fn a_new_item_has_the_mean_completion() {
        let mut scenario = Scenario::default();
        scenario.catalog.items = 10;
        scenario.catalog.arrivals_per_step = 1.0;
        scenario.feed.max_steps = 5;
        scenario.recommender.profile_prior = 0.3;
        let catalog = Catalog::generate(&scenario, 0);
        let mut global = Global::new(&scenario, &catalog, 3);
        let new = global.n_visible;
        // Step 0: item 0 watched to 0.9, item 1 to 0.3, so c̄ = 0.6.
        let seen = |item, milli| Outcome {
            item,
            milli,
            ..Outcome::NOTHING
        };
        global.absorb(
            &[seen(0, 900), Outcome::NOTHING, seen(1, 300)],
            &scenario.recommender,
            10.0,
        );
        global.reveal(&catalog, 1);
        assert_eq!(global.n_visible, new + 1);
        assert_eq!(global.mean_completion, 0.6);
        // c = c̄: ratio 1, where the prior gave 0.3 / 0.6 = 0.5; the same as an unshown item's.
        assert_eq!(global.ranked[new].ratio, 1.0);
        assert_eq!(global.ranked[2].ratio, 1.0);
        // A shown item: (0.9 + 5 · 0.6) / (1 + 5) = 0.65, over c̄.
        assert!((global.ranked[0].ratio - 0.65 / 0.6).abs() < 1e-6);
    }
}
