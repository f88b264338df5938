//! An existing following: the creators each viewer follows when the run starts.
//!
//! Most people arrive on a platform with a following (contacts, years of use). With
//! `population.initial_follows` = N > 0, every viewer u starts with N distinct creators drawn
//! without replacement with probability proportional to θ_u,h_c · w_c: the viewer's interest in
//! the creator's home topic times the creator's popularity weight w_c = U_c^(-s), s =
//! `catalog.creator_popularity_exponent` (a Pareto weight of tail index 1/s, so creators ranked
//! by weight follow Zipf's law with exponent s; follower counts are heavy-tailed, Kwak et al.
//! 2010). Both draws come from streams of their own (`Purpose::Popularity` per creator,
//! `Purpose::Follows` per viewer), so nothing else shifts and every arm starts alike.
//! `docs/model.md` §3c writes the rule out.

use crate::catalog::Catalog;
use crate::population::Population;
use crate::rng::{Purpose, Rng, once, stream};
use crate::scenario::Scenario;
use rand::RngExt;
use rayon::prelude::*;

/// Rejected draws (an already-followed creator) allowed per follow before the exact
/// sequential draw over the remaining creators takes over.
const REJECTIONS_PER_FOLLOW: usize = 64;

/// Each creator's popularity weight w_c = U_c^(-s) ≥ 1, U_c ∈ (0, 1] drawn once per replicate.
pub fn popularity(seed: u64, replicate: u32, creators: usize, exponent: f64) -> Vec<f64> {
    (0..creators)
        .map(|c| {
            if exponent == 0.0 {
                return 1.0;
            }
            let u = 1.0 - once(seed, replicate, c as u64, Purpose::Popularity);
            u.powf(-exponent)
        })
        .collect()
}

/// The creators by home topic with cumulative popularity weights, for drawing a creator of a
/// topic in O(log C).
#[derive(Debug, Clone)]
pub struct CreatorTable {
    /// Per topic, its creators.
    creators: Vec<Vec<u32>>,
    /// Per topic, the running sums of its creators' weights.
    cumulative: Vec<Vec<f64>>,
    /// Each creator's weight.
    weight: Vec<f64>,
    /// Each creator's home topic.
    home: Vec<u16>,
}

impl CreatorTable {
    /// The table for creators with home topics `home` and popularity weights `weight`.
    pub fn new(home: &[u16], weight: Vec<f64>, k: usize) -> CreatorTable {
        let mut creators = vec![Vec::new(); k];
        let mut cumulative: Vec<Vec<f64>> = vec![Vec::new(); k];
        for (c, &t) in home.iter().enumerate() {
            let t = t as usize;
            let before = cumulative[t].last().copied().unwrap_or(0.0);
            creators[t].push(c as u32);
            cumulative[t].push(before + weight[c]);
        }
        CreatorTable {
            creators,
            cumulative,
            weight,
            home: home.to_vec(),
        }
    }

    /// W_t: the total weight of topic t's creators.
    pub fn topic_weight(&self, t: usize) -> f64 {
        self.cumulative[t].last().copied().unwrap_or(0.0)
    }

    /// The probability that a single draw for a viewer with interests θ picks creator `c`:
    /// θ_h w_c / Σ_t θ_t W_t (the first follow's distribution).
    pub fn probability(&self, interests: &[f32], c: usize) -> f64 {
        let total: f64 = (0..interests.len())
            .map(|t| f64::from(interests[t]) * self.topic_weight(t))
            .sum();
        f64::from(interests[self.home[c] as usize]) * self.weight[c] / total
    }

    /// Draws `out.len()` distinct creators for a viewer with interests θ, each with
    /// probability ∝ θ_h w_c among those not yet drawn. A topic is drawn by θ_t W_t, then a
    /// creator of it by w_c; a creator already drawn is drawn again (rejection keeps the
    /// conditional law exact). After too many rejections the remaining creators are weighed
    /// one by one, which also covers viewers whose interest is on too few creators.
    pub fn draw(&self, interests: &[f32], rng: &mut Rng, out: &mut [u32]) {
        let masses: Vec<f64> = (0..interests.len())
            .map(|t| f64::from(interests[t]) * self.topic_weight(t))
            .collect();
        let total: f64 = masses.iter().sum();
        let mut rejections = 0;
        let mut n = 0;
        while n < out.len() {
            let pick = if total > 0.0 && rejections < REJECTIONS_PER_FOLLOW * out.len() {
                let t = pick_index(&masses, total, rng.random::<f64>());
                let cum = &self.cumulative[t];
                let u = rng.random::<f64>() * cum[cum.len() - 1];
                let j = cum.partition_point(|&x| x <= u).min(cum.len() - 1);
                self.creators[t][j]
            } else {
                self.exact(interests, &out[..n], rng.random::<f64>())
            };
            if out[..n].contains(&pick) {
                rejections += 1;
            } else {
                out[n] = pick;
                n += 1;
            }
        }
    }

    /// One draw among the creators not in `taken`, by θ_h w_c (by w_c alone when the viewer
    /// has no interest left in any of them), from the uniform number `u`.
    fn exact(&self, interests: &[f32], taken: &[u32], u: f64) -> u32 {
        let weight = |c: usize, by_interest: bool| {
            if taken.contains(&(c as u32)) {
                0.0
            } else if by_interest {
                f64::from(interests[self.home[c] as usize]) * self.weight[c]
            } else {
                self.weight[c]
            }
        };
        let total = |by: bool| (0..self.weight.len()).map(|c| weight(c, by)).sum::<f64>();
        let by_interest = total(true) > 0.0;
        let weights: Vec<f64> = (0..self.weight.len()).map(|c| weight(c, by_interest)).collect();
        pick_index(&weights, weights.iter().sum(), u) as u32
    }
}

/// The index i with Σ_{j<i} w_j ≤ u·total < Σ_{j≤i} w_j, skipping zero weights.
fn pick_index(weights: &[f64], total: f64, u: f64) -> usize {
    let mut left = u * total;
    let mut last = 0;
    for (i, &w) in weights.iter().enumerate() {
        if w > 0.0 {
            if left < w {
                return i;
            }
            left -= w;
            last = i;
        }
    }
    last
}

/// Every viewer's initial follows, `population.initial_follows` per viewer (row-major, in draw
/// order: the first drawn is the oldest). Audit bots, after the viewers, follow no one.
pub fn initial_follows(
    scenario: &Scenario,
    catalog: &Catalog,
    population: &Population,
    replicate: u32,
) -> Vec<u32> {
    let n_follow = scenario.population.initial_follows as usize;
    let viewers = population.people.iter().filter(|p| !p.bot).count();
    let mut out = vec![0u32; viewers * n_follow];
    if n_follow == 0 {
        return out;
    }
    let seed = scenario.scenario.seed;
    let weight = popularity(
        seed,
        replicate,
        catalog.creator_topic.len(),
        scenario.catalog.creator_popularity_exponent,
    );
    let k = population.n_topics;
    let table = CreatorTable::new(&catalog.creator_topic, weight, k);
    out.par_chunks_mut(n_follow).enumerate().for_each(|(u, row)| {
        let mut rng = stream(seed, replicate, u as u64, Purpose::Follows, 0);
        table.draw(&population.interests[u * k..(u + 1) * k], &mut rng, row);
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn popularity_weights_are_powers_of_their_uniforms() {
        let w = popularity(5, 0, 3, 0.8);
        for (c, &x) in w.iter().enumerate() {
            let u = 1.0 - once(5, 0, c as u64, Purpose::Popularity);
            assert!((x - u.powf(-0.8)).abs() < 1e-12 && x >= 1.0);
        }
        assert_eq!(popularity(5, 0, 3, 0.0), vec![1.0; 3]);
    }

    #[test]
    fn popularity_ranks_follow_zipf() {
        // With s = 0.5 the weight of rank r among C is ≈ (C / r)^0.5: the 10th of 10,000
        // creators weighs about 10 times the 1000th, and the median weighs about √2.
        let mut w = popularity(1, 0, 10_000, 0.5);
        w.sort_by(|a, b| b.total_cmp(a));
        let median = w[5000];
        assert!((median - 2f64.sqrt()).abs() < 0.05, "{median}");
        let ratio = w[9] / w[999];
        assert!((6.0..16.0).contains(&ratio), "{ratio}");
    }

    /// Three creators: two of topic 0 (weights 1 and 3), one of topic 1 (weight 4).
    fn tiny() -> CreatorTable {
        CreatorTable::new(&[0, 0, 1], vec![1.0, 3.0, 4.0], 2)
    }

    #[test]
    fn first_follow_probabilities_by_hand() {
        // θ = (0.75, 0.25): masses 0.75·4 = 3 and 0.25·4 = 1, total 4.
        let t = tiny();
        let theta = [0.75, 0.25];
        let p: Vec<f64> = (0..3).map(|c| t.probability(&theta, c)).collect();
        for (got, want) in p.iter().zip([0.75 / 4.0, 2.25 / 4.0, 1.0 / 4.0]) {
            assert!((got - want).abs() < 1e-12, "{p:?}");
        }
        // The draw agrees: 40,000 single follows, each frequency within 1.5 %.
        let mut counts = [0usize; 3];
        for i in 0..40_000 {
            let mut rng = stream(9, 0, i, Purpose::Follows, 0);
            let mut one = [0u32];
            t.draw(&theta, &mut rng, &mut one);
            counts[one[0] as usize] += 1;
        }
        for (c, &n) in counts.iter().enumerate() {
            assert!((n as f64 / 40_000.0 - p[c]).abs() < 0.015, "{counts:?}");
        }
    }

    #[test]
    fn second_follow_is_drawn_from_the_rest() {
        // Creator 1 first has probability 2.25/4; the rest then weigh 0.75·1 = 0.75 and
        // 0.25·4 = 1, so the pair (1, 2) has probability (2.25/4)·(1/1.75) = 0.3214.
        let t = tiny();
        let theta = [0.75, 0.25];
        let mut pairs = 0;
        for i in 0..40_000 {
            let mut rng = stream(9, 1, i, Purpose::Follows, 0);
            let mut two = [0u32; 2];
            t.draw(&theta, &mut rng, &mut two);
            assert_ne!(two[0], two[1]);
            pairs += usize::from(two == [1, 2]);
        }
        let want = (2.25 / 4.0) * (1.0 / 1.75);
        assert!((pairs as f64 / 40_000.0 - want).abs() < 0.015, "{pairs}");
    }

    #[test]
    fn every_creator_when_all_are_asked_for() {
        // No interest in topic 1: its creator is still drawn once topic 0's are taken.
        let t = tiny();
        let mut rng = stream(1, 0, 0, Purpose::Follows, 0);
        let mut all = [0u32; 3];
        t.draw(&[1.0, 0.0], &mut rng, &mut all);
        let mut sorted = all;
        sorted.sort_unstable();
        assert_eq!(sorted, [0, 1, 2]);
        assert_eq!(all[2], 2, "the creator without interest comes last");
    }

    #[test]
    fn viewers_follow_mostly_their_strongest_topic() {
        // Specialised viewers (a = 0.1): the top topic holds most of θ, so most of the 8 follows
        // come from its creators, far above the topic's share of creators.
        let mut s = Scenario::default();
        s.population.users = 300;
        s.population.interest_concentration = 0.1;
        s.population.initial_follows = 8;
        s.catalog.creator_popularity_exponent = 0.78;
        let catalog = Catalog::generate(&s, 0);
        let population = Population::generate(&s, 0);
        let follows = initial_follows(&s, &catalog, &population, 0);
        let k = population.n_topics;
        let (mut in_top, mut by_share) = (0.0, 0.0);
        for (u, row) in follows.chunks_exact(8).enumerate() {
            let theta = &population.interests[u * k..(u + 1) * k];
            let top = (0..k).fold(0, |b, t| if theta[t] > theta[b] { t } else { b });
            let n_top = catalog
                .creator_topic
                .iter()
                .filter(|&&h| h as usize == top)
                .count();
            by_share += n_top as f64 / catalog.creator_topic.len() as f64;
            in_top += row
                .iter()
                .filter(|&&c| catalog.creator_topic[c as usize] as usize == top)
                .count() as f64
                / 8.0;
            let mut distinct = row.to_vec();
            distinct.sort_unstable();
            distinct.dedup();
            assert_eq!(distinct.len(), 8);
        }
        let (in_top, by_share) = (in_top / 300.0, by_share / 300.0);
        assert!(in_top > 0.6 && in_top > 3.0 * by_share, "{in_top} vs {by_share}");
    }

    #[test]
    fn pick_index_by_hand() {
        assert_eq!(pick_index(&[1.0, 0.0, 3.0], 4.0, 0.2), 0);
        assert_eq!(pick_index(&[1.0, 0.0, 3.0], 4.0, 0.25), 2);
        assert_eq!(pick_index(&[1.0, 0.0, 3.0], 4.0, 0.999), 2);
    }
}
