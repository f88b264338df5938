//! The catalog: topics, creators with a group, and items that keep arriving.
//!
//! A replicate's catalog is generated once, arrivals included, and shared read-only by every
//! arm: an item uploaded at step t exists from step t on, in every arm alike. Items are stored
//! in upload order, so the items visible at a step are a prefix of the list (and of each
//! topic's list).

use crate::rng::{Purpose, Rng, stream};
use crate::scenario::{CatalogConfig, Scenario};
use crate::taste::CatalogTaste;
use rand::RngExt;
use rand_distr::{Beta, Distribution, LogNormal, Normal};

/// Index of an item in [`Catalog::items`].
pub type ItemIdx = u32;

/// Item is in a sensitive topic.
pub const SENSITIVE: u8 = 1;
/// Item is in an educational topic.
pub const EDUCATIONAL: u8 = 2;
/// Item is in a stance-bearing topic (agreement, `docs/model.md` §4c).
pub const STANCE_BEARING: u8 = 4;

/// One short video.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Item {
    /// Creator index.
    pub creator: u32,
    /// Topic index.
    pub topic: u16,
    /// Creator group index.
    pub group: u8,
    /// [`SENSITIVE`], [`EDUCATIONAL`] and [`STANCE_BEARING`] bits.
    pub flags: u8,
    /// Quality in [0, 1].
    pub quality: f32,
    /// Duration in seconds.
    pub duration: f32,
    /// Stance in [-1, 1].
    pub stance: f32,
    /// Step from which the item exists; negative for items present at the start.
    pub upload_step: i32,
}

impl Item {
    /// True if the item is in a sensitive topic.
    pub fn sensitive(&self) -> bool {
        self.flags & SENSITIVE != 0
    }

    /// True if the item is in an educational topic.
    pub fn educational(&self) -> bool {
        self.flags & EDUCATIONAL != 0
    }

    /// True if the item is in a stance-bearing topic.
    #[inline]
    pub fn stance_bearing(&self) -> bool {
        self.flags & STANCE_BEARING != 0
    }
}

/// Topics, creators and items of one replicate.
#[derive(Debug, Clone)]
pub struct Catalog {
    /// Topic names, K of them.
    pub topic_names: Vec<String>,
    /// Creator group names.
    pub group_names: Vec<String>,
    /// Each creator's group.
    pub creator_group: Vec<u8>,
    /// Each creator's home topic.
    pub creator_topic: Vec<u16>,
    /// Items in upload order.
    pub items: Vec<Item>,
    /// For each topic, its items in upload order.
    pub topic_items: Vec<Vec<ItemIdx>>,
    /// For each creator, their items in upload order.
    pub creator_items: Vec<Vec<ItemIdx>>,
    /// Number of items present at the start.
    pub n_initial: usize,
    /// The items' latent taste offsets (`docs/model.md` §2b; empty when taste is off).
    pub taste: CatalogTaste,
}

impl Catalog {
    /// Generates the catalog of `replicate`, with arrivals for `scenario.feed.max_steps` steps.
    pub fn generate(scenario: &Scenario, replicate: u32) -> Catalog {
        let cfg = &scenario.catalog;
        let mut rng = stream(scenario.scenario.seed, replicate, 0, Purpose::Catalog, 0);
        let topic_weights = scaled_weights(cfg.topics.iter().map(|t| t.share));
        let group_weights = scaled_weights(cfg.groups.iter().map(|g| g.share));

        let n_creators = cfg.creators as usize;
        let (mut creator_topic, mut creator_group, mut creator_stance) =
            draw_creators(cfg, &mut rng, &topic_weights, &group_weights);
        // Creators by home topic, so an item of a topic comes from a creator of that topic.
        let mut topic_creators: Vec<Vec<u32>> = vec![Vec::new(); cfg.topics.len()];
        for (c, &t) in creator_topic.iter().enumerate() {
            topic_creators[t as usize].push(c as u32);
        }

        let n_initial = cfg.items as usize;
        let n_arrivals = scenario.n_arrivals() as usize;
        let duration =
            LogNormal::new(cfg.duration_median_seconds.ln(), cfg.duration_sigma).expect("validated duration");
        let quality = Beta::new(cfg.quality_alpha, cfg.quality_beta).expect("validated quality");
        let rate = cfg.arrivals_per_step.max(1.0);
        let mut items = Vec::with_capacity(n_initial + n_arrivals);
        for j in 0..n_initial + n_arrivals {
            let upload_step = if j < n_initial {
                ((j as f64 - n_initial as f64) / rate).floor() as i32
            } else {
                ((j - n_initial) as f64 / cfg.arrivals_per_step).floor() as i32
            };
            let creator = rng.random_range(0..n_creators);
            let home = creator_topic[creator] as usize;
            let topic = if rng.random_bool(cfg.off_topic_share) {
                pick(&mut rng, &topic_weights)
            } else {
                home
            };
            // Keep topics populated by their own creators where there are any.
            let creator = if topic != home && !topic_creators[topic].is_empty() && rng.random_bool(0.5) {
                let pool = &topic_creators[topic];
                pool[rng.random_range(0..pool.len())] as usize
            } else {
                creator
            };
            let t = &cfg.topics[topic];
            let flags = if t.sensitive { SENSITIVE } else { 0 }
                | if t.educational { EDUCATIONAL } else { 0 }
                | if t.stance_bearing { STANCE_BEARING } else { 0 };
            let stance = clamp_stance(creator_stance[creator] + normal(&mut rng, 0.0, cfg.stance_noise));
            items.push(Item {
                creator: creator as u32,
                topic: topic as u16,
                group: creator_group[creator],
                flags,
                quality: quality.sample(&mut rng) as f32,
                duration: duration
                    .sample(&mut rng)
                    .clamp(cfg.duration_min_seconds, cfg.duration_max_seconds)
                    as f32,
                stance: stance as f32,
                upload_step,
            });
        }
        // Creators who join during the run take some arrivals (§2b), from a stream of their own.
        let creators = crate::new_creators::Creators {
            topic: &mut creator_topic,
            group: &mut creator_group,
            stance: &mut creator_stance,
        };
        crate::new_creators::add(scenario, replicate, creators, &mut items[n_initial..]);
        let (topic_items, creator_items) = index_items(&items, cfg.topics.len(), creator_topic.len());
        let taste = CatalogTaste::generate(scenario, replicate, &items, creator_topic.len());
        Catalog {
            topic_names: cfg.topics.iter().map(|t| t.name.clone()).collect(),
            group_names: cfg.groups.iter().map(|g| g.name.clone()).collect(),
            creator_group,
            creator_topic,
            items,
            topic_items,
            creator_items,
            n_initial,
            taste,
        }
    }

    /// Number of topics, K.
    pub fn n_topics(&self) -> usize {
        self.topic_names.len()
    }

    /// Number of items visible at `step` (a prefix of [`Catalog::items`]).
    pub fn visible(&self, step: u32) -> usize {
        self.items.partition_point(|it| it.upload_step <= step as i32)
    }

    /// Number of items of `topic` visible at `step` (a prefix of its list).
    pub fn visible_in_topic(&self, topic: usize, step: u32) -> usize {
        self.topic_items[topic].partition_point(|&i| self.items[i as usize].upload_step <= step as i32)
    }
}

/// Draws the `catalog.creators` creators present at the start: each one's home topic (by
/// `topic_weights`), group (by `group_weights`) and stance (around its topic's), in that order.
fn draw_creators(
    cfg: &CatalogConfig,
    rng: &mut Rng,
    topic_weights: &[f64],
    group_weights: &[f64],
) -> (Vec<u16>, Vec<u8>, Vec<f64>) {
    let n_creators = cfg.creators as usize;
    let mut creator_topic = Vec::with_capacity(n_creators);
    let mut creator_group = Vec::with_capacity(n_creators);
    let mut creator_stance = Vec::with_capacity(n_creators);
    for _ in 0..n_creators {
        let topic = pick(rng, topic_weights);
        let t = &cfg.topics[topic];
        creator_topic.push(topic as u16);
        creator_group.push(pick(rng, group_weights) as u8);
        creator_stance.push(clamp_stance(normal(rng, t.stance_mean, t.stance_spread)));
    }
    (creator_topic, creator_group, creator_stance)
}

/// Each topic's items and each creator's items, in upload order.
fn index_items(items: &[Item], n_topics: usize, n_creators: usize) -> (Vec<Vec<ItemIdx>>, Vec<Vec<ItemIdx>>) {
    let mut topic_items: Vec<Vec<ItemIdx>> = vec![Vec::new(); n_topics];
    let mut creator_items: Vec<Vec<ItemIdx>> = vec![Vec::new(); n_creators];
    for (i, item) in items.iter().enumerate() {
        topic_items[item.topic as usize].push(i as ItemIdx);
        creator_items[item.creator as usize].push(i as ItemIdx);
    }
    (topic_items, creator_items)
}

/// Positive finite weights scaled by the power of two that brings the largest into [1, 2).
///
/// A share need only be positive and finite, so raw shares can overflow when summed or
/// multiplied (1e308 twice); scaled, their sum is at most twice their number. A power of two
/// scales exactly, so sums and ratios of the scaled weights are those of the raw ones, bit for
/// bit, whenever the raw ones do not overflow.
pub fn scaled_weights(shares: impl Iterator<Item = f64>) -> Vec<f64> {
    let shares: Vec<f64> = shares.collect();
    let max = shares.iter().copied().fold(f64::MIN_POSITIVE, f64::max);
    let exponent = max.log2().floor() as i32;
    // Two steps, since 2^exponent itself may be out of range (exponent -1074 to 1023).
    let half = exponent / 2;
    let (a, b) = (2f64.powi(-half), 2f64.powi(half - exponent));
    shares.into_iter().map(|s| s * a * b).collect()
}

/// Draws an index with probability proportional to `weights`.
pub(crate) fn pick(rng: &mut Rng, weights: &[f64]) -> usize {
    let total: f64 = weights.iter().sum();
    let mut u = rng.random::<f64>() * total;
    for (i, w) in weights.iter().enumerate() {
        if u < *w {
            return i;
        }
        u -= w;
    }
    weights.len() - 1
}

/// A N(mean, sd²) draw (the mean itself when sd is 0).
pub(crate) fn normal(rng: &mut Rng, mean: f64, sd: f64) -> f64 {
    if sd == 0.0 {
        return mean;
    }
    Normal::new(mean, sd).expect("validated spread").sample(rng)
}

/// A stance clamped to [-1, 1].
pub(crate) fn clamp_stance(x: f64) -> f64 {
    x.clamp(-1.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalog_follows_the_scenario() {
        let mut s = Scenario::default();
        s.catalog.items = 2000;
        s.feed.max_steps = 100;
        let c = Catalog::generate(&s, 0);
        assert_eq!(c.items.len(), 2000 + 200);
        assert_eq!(c.visible(0), 2002);
        assert_eq!(c.visible(99), 2200);
        assert!(c.items.windows(2).all(|w| w[0].upload_step <= w[1].upload_step));
        for it in &c.items {
            assert!((3.0..=180.0).contains(&it.duration));
            assert!((0.0..=1.0).contains(&it.quality));
            assert!((-1.0..=1.0).contains(&it.stance));
            let topic = &s.catalog.topics[it.topic as usize];
            assert_eq!(it.sensitive(), topic.sensitive);
        }
        let total: usize = c.topic_items.iter().map(Vec::len).sum();
        assert_eq!(total, c.items.len());
        // Topic sizes follow the shares (comedy 0.2 of the weight, mental_health 0.06).
        let share = |t: usize| c.topic_items[t].len() as f64 / c.items.len() as f64;
        assert!(share(0) > 0.12 && share(0) < 0.3, "{}", share(0));
        assert!(share(7) < 0.12, "{}", share(7));
    }

    #[test]
    fn same_replicate_same_catalog() {
        let s = Scenario::default();
        let a = Catalog::generate(&s, 3);
        let b = Catalog::generate(&s, 3);
        assert_eq!(a.items, b.items);
        assert_ne!(a.items, Catalog::generate(&s, 4).items);
    }
}
