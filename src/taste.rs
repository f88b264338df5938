//! Item-level taste (`docs/model.md` §2b, §3b, §4b, §5b): a latent space of D dimensions in
//! which each topic is a region around its centre. A creator sits at an offset from its topic's
//! centre, an item at an offset from its creator's; a viewer has a taste vector in the same
//! space of offsets. The watch logit gains β_M m(u, i), the match of the viewer's taste with
//! the item's offset (a dot product, as in the latent-factor viewers of Chaney, Stewart and
//! Engelhardt 2018 and T-RECS, Lucherini et al. 2021), and watching moves the taste towards
//! the item. Topic interest θ stays the between-topic part, so only offsets enter the match.
//!
//! Every position is latent: the platform reads none of them. Each is drawn from a stream of
//! its own (purpose `Taste`), so the catalog's and the population's other draws are unchanged.

use crate::catalog::{Item, ItemIdx};
use crate::rng::{Purpose, Rng, stream};
use crate::scenario::Scenario;
use crate::viewer::Response;
use rand_distr::{Distribution, StandardNormal};
use rayon::prelude::*;

/// What a `Taste` stream is for, its `step` part of the key: a viewer's taste, a creator's
/// offset, an item's offset (the entity being the viewer, creator or item).
#[derive(Debug, Clone, Copy)]
#[repr(u64)]
enum Draw {
    Viewer = 0,
    Creator = 1,
    Item = 2,
}

/// Floats after a viewer's taste in its block: Σ m over impressions, Σ seconds · m.
pub const SUMS: usize = 2;

/// Floats of a viewer's taste block for D dimensions: none when taste is off.
pub fn block_len(dims: usize) -> usize {
    if dims == 0 { 0 } else { dims + SUMS }
}

/// The latent offsets of a catalog's items from their topics' centres.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CatalogTaste {
    /// D; 0 when taste is off.
    pub dims: usize,
    /// 1/√D, which makes the match's spread independent of D.
    pub scale: f32,
    /// D floats per item, in item order (empty when off).
    pub offsets: Vec<f32>,
}

impl CatalogTaste {
    /// The items' offsets: creator c at o_c ~ N(0, σ_C² I), item i at δ_i = o_c(i) + N(0, σ_I² I).
    pub fn generate(scenario: &Scenario, replicate: u32, items: &[Item], n_creators: usize) -> CatalogTaste {
        let cfg = &scenario.catalog;
        let d = cfg.taste_dimensions as usize;
        if d == 0 {
            return CatalogTaste::default();
        }
        let seed = scenario.scenario.seed;
        let mut creators = vec![0f32; n_creators * d];
        creators.par_chunks_mut(d).enumerate().for_each(|(c, row)| {
            let mut rng = stream(seed, replicate, c as u64, Purpose::Taste, Draw::Creator as u64);
            gaussian(&mut rng, cfg.creator_taste_spread, row);
        });
        let mut offsets = vec![0f32; items.len() * d];
        offsets.par_chunks_mut(d).enumerate().for_each(|(j, row)| {
            let mut rng = stream(seed, replicate, j as u64, Purpose::Taste, Draw::Item as u64);
            gaussian(&mut rng, cfg.item_taste_spread, row);
            let c = items[j].creator as usize;
            for (x, o) in row.iter_mut().zip(&creators[c * d..(c + 1) * d]) {
                *x += o;
            }
        });
        CatalogTaste {
            dims: d,
            scale: 1.0 / (d as f32).sqrt(),
            offsets,
        }
    }

    /// Item `item`'s offset δ_i (empty when taste is off).
    #[inline]
    pub fn offset(&self, item: ItemIdx) -> &[f32] {
        let d = self.dims;
        &self.offsets[item as usize * d..(item as usize + 1) * d]
    }
}

/// Viewer `id`'s initial taste t⁰_u ~ N(0, σ_U² I) into `out` (D floats).
pub fn viewer_taste(scenario: &Scenario, replicate: u32, id: u32, out: &mut [f32]) {
    let mut rng = stream(
        scenario.scenario.seed,
        replicate,
        u64::from(id),
        Purpose::Taste,
        Draw::Viewer as u64,
    );
    gaussian(&mut rng, scenario.population.taste_spread, out);
}

/// The initial tastes of `viewers` viewers, D floats each, then `bots` zero rows (an audit
/// bot has no taste). Empty when taste is off.
pub fn population_taste(scenario: &Scenario, replicate: u32, viewers: usize, bots: usize) -> Vec<f32> {
    let d = scenario.catalog.taste_dimensions as usize;
    if d == 0 {
        return Vec::new();
    }
    let mut taste = vec![0f32; (viewers + bots) * d];
    taste[..viewers * d]
        .par_chunks_mut(d)
        .enumerate()
        .for_each(|(id, row)| viewer_taste(scenario, replicate, id as u32, row));
    taste
}

/// Fills `out` with independent N(0, sd²) draws.
pub(crate) fn gaussian(rng: &mut Rng, sd: f64, out: &mut [f32]) {
    for x in out.iter_mut() {
        let z: f64 = StandardNormal.sample(rng);
        *x = (sd * z) as f32;
    }
}

/// The match m(u, i) = t_u · δ_i / √D (`scale` = 1/√D): 0 on average over a topic's items.
#[inline]
pub fn matching(taste: &[f32], offset: &[f32], scale: f32) -> f32 {
    taste.iter().zip(offset).map(|(t, o)| t * o).sum::<f32>() * scale
}

/// After an impression: the taste moves towards the item's offset,
/// t ← t + η (δ_i − t) with η = min(1, λ_T ψ_u f), and the viewer's sums of m take it in.
/// `block` is the viewer's taste block (D floats, then the [`SUMS`]).
#[inline]
pub fn learn(block: &mut [f32], offset: &[f32], m: f32, drift_rate: f32, susceptibility: f32, r: &Response) {
    let (taste, sums) = block.split_at_mut(offset.len());
    sums[0] += m;
    sums[1] += r.seconds * m;
    let eta = (drift_rate * susceptibility * r.fraction).min(1.0);
    if eta > 0.0 {
        for (t, o) in taste.iter_mut().zip(offset) {
            *t += eta * (o - *t);
        }
    }
}

/// A viewer's taste columns at the end: the RMS change of the taste since the start
/// (‖t − t⁰‖/√D), the mean match of the items shown and the mean match of the seconds watched
/// (NaN without impressions or seconds).
pub fn summary(block: &[f32], initial: &[f32], impressions: u32, watched_seconds: f32) -> [f64; 3] {
    let d = initial.len();
    let (taste, sums) = block.split_at(d);
    let change: f64 = taste
        .iter()
        .zip(initial)
        .map(|(t, t0)| f64::from(t - t0).powi(2))
        .sum();
    let ratio = |sum: f32, n: f64| if n > 0.0 { f64::from(sum) / n } else { f64::NAN };
    [
        (change / d as f64).sqrt(),
        ratio(sums[0], f64::from(impressions)),
        ratio(sums[1], f64::from(watched_seconds)),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(fraction: f32, seconds: f32) -> Response {
        Response::watched(fraction, seconds)
    }

    #[test]
    fn match_is_a_scaled_dot_product() {
        // (1, 2, 0, -1) · (0.5, 0.5, 3, 1) = 0.5 + 1 + 0 - 1 = 0.5; /√4 = 0.25.
        let m = matching(&[1.0, 2.0, 0.0, -1.0], &[0.5, 0.5, 3.0, 1.0], 0.5);
        assert!((m - 0.25).abs() < 1e-6, "{m}");
        assert_eq!(matching(&[1.0, 1.0], &[1.0, -1.0], 1.0), 0.0);
    }

    #[test]
    fn drift_moves_taste_towards_the_watched_item() {
        // λ_T 0.5, ψ 0.8, f 0.5: η = 0.2. t = (1, 0) towards δ = (0, 2): (0.8, 0.4).
        let mut block = [1.0, 0.0, 0.0, 0.0];
        learn(&mut block, &[0.0, 2.0], 0.3, 0.5, 0.8, &response(0.5, 10.0));
        let want = [0.8, 0.4, 0.3, 3.0];
        for (g, w) in block.iter().zip(want) {
            assert!((g - w).abs() < 1e-6, "{block:?}");
        }
        // η is capped at 1: the taste lands on the item.
        learn(&mut block, &[0.0, 2.0], 0.0, 10.0, 1.0, &response(1.0, 1.0));
        assert_eq!(&block[..2], &[0.0, 2.0]);
        // No drift rate: only the sums move.
        learn(&mut block, &[5.0, 5.0], -1.0, 0.0, 1.0, &response(1.0, 2.0));
        assert_eq!(block, [0.0, 2.0, -0.7, 1.0]);
    }

    #[test]
    fn the_match_term_adds_to_the_watch_logit() {
        // K = 4, interest 0.25, quality 0.5, 18 s: z = β₀ = -0.5; a taste term of 1 makes it 0.5.
        // With κ = 10⁴ the watch fraction is within about 0.005 of μ = σ(0.5) = 0.6225.
        let mut p = crate::viewer::ViewerParams::new(&crate::viewer::pinned_config(), 4, 1);
        p.watch_concentration = 1e4;
        let item = Item {
            creator: 0,
            topic: 1,
            group: 0,
            flags: 0,
            quality: 0.5,
            duration: 18.0,
            stance: 0.0,
            upload_step: 0,
        };
        let fraction = |taste_logit: f32| {
            let mut rng = stream(1, 0, 0, Purpose::Response, 0);
            crate::viewer::respond(
                &p,
                &[0.25; 4],
                &[0.0; 4],
                false,
                false,
                taste_logit,
                &item,
                &mut rng,
            )
            .fraction
        };
        let sigma = |z: f32| 1.0 / (1.0 + (-z).exp());
        assert!((fraction(1.0) - sigma(0.5)).abs() < 0.02, "{}", fraction(1.0));
        assert!((fraction(0.0) - sigma(-0.5)).abs() < 0.02, "{}", fraction(0.0));
    }

    #[test]
    fn summary_of_a_viewer() {
        // Taste moved from (0, 0) to (3, 4): RMS change √(25 / 2); sums 1.5 over 3 impressions,
        // 6 over 12 seconds.
        let s = summary(&[3.0, 4.0, 1.5, 6.0], &[0.0, 0.0], 3, 12.0);
        assert!((s[0] - 12.5f64.sqrt()).abs() < 1e-9);
        assert_eq!((s[1], s[2]), (0.5, 0.5));
        assert!(summary(&[0.0, 0.0, 0.0, 0.0], &[0.0, 0.0], 0, 0.0)[1].is_nan());
    }

    #[test]
    fn a_taste_space_of_16_dimensions_adds_72_bytes_per_viewer() {
        let bytes = |dims: u32| {
            let mut s = Scenario::default();
            s.population.users = 1;
            s.catalog.items = 10;
            s.feed.max_steps = 1;
            s.catalog.taste_dimensions = dims;
            let catalog = crate::catalog::Catalog::generate(&s, 0);
            let population = crate::population::Population::generate(&s, 0);
            crate::engine::ArmRun::new(&s, &catalog, &population, 0).bytes_per_viewer()
        };
        // 16 taste floats and the 2 sums, 4 bytes each; nothing when off.
        assert_eq!(bytes(16) - bytes(0), 72);
    }

    #[test]
    fn offsets_sit_near_their_creator() {
        let mut s = Scenario::default();
        s.catalog.taste_dimensions = 8;
        s.catalog.creator_taste_spread = 1.0;
        s.catalog.item_taste_spread = 0.1;
        s.catalog.items = 2000;
        s.feed.max_steps = 10;
        let c = crate::catalog::Catalog::generate(&s, 0);
        let t = &c.taste;
        assert_eq!((t.dims, t.offsets.len()), (8, 8 * c.items.len()));
        // Two items of one creator are close (distance² about 2 · 8 · 0.01), two of different
        // creators far apart (about 2 · 8 · 1.01).
        let dist2 = |a: u32, b: u32| -> f32 {
            t.offset(a)
                .iter()
                .zip(t.offset(b))
                .map(|(x, y)| (x - y).powi(2))
                .sum()
        };
        let same = &c.creator_items[c.items[0].creator as usize];
        assert!(same.len() >= 2);
        assert!(dist2(same[0], same[1]) < 1.0, "{}", dist2(same[0], same[1]));
        let other = (1..c.items.len() as u32)
            .find(|&i| c.items[i as usize].creator != c.items[0].creator)
            .unwrap();
        assert!(dist2(0, other) > 2.0, "{}", dist2(0, other));
        // Off, nothing is drawn or stored.
        s.catalog.taste_dimensions = 0;
        assert!(crate::catalog::Catalog::generate(&s, 0).taste.offsets.is_empty());
    }
}
