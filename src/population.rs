//! The population: viewers' latent interests, stance, age group, susceptibility and budget.
//!
//! Each viewer is drawn from its own stream (seed, replicate, viewer id), so a viewer is the
//! same whatever the number of viewers after it, and every arm starts from the same people.

use crate::rng::{Purpose, once, stream};
use crate::scenario::Scenario;
use rand::RngExt;
use rand_distr::multi::{Dirichlet, MultiDistribution};
use rand_distr::{Distribution, Gamma, LogNormal, Normal};
use rayon::prelude::*;

/// What a viewer is at the start, apart from interests.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Person {
    /// Stance on the perspective axis, -1..1.
    pub stance: f32,
    /// Multiplies drift and stance rates.
    pub susceptibility: f32,
    /// Bounded-confidence radius of stance updates.
    pub confidence: f32,
    /// Daily time budget, seconds.
    pub budget_seconds: f32,
    /// Under 18.
    pub minor: bool,
    /// Lingers on sensitive content and drifts faster towards it.
    pub vulnerable: bool,
    /// A scripted audit account (`[[bots]]`), after the population's viewers.
    pub bot: bool,
}

#[cfg(test)]
impl Person {
    /// For tests: an adult with stance `stance`, susceptibility 1, confidence bound 0.4 and no
    /// budget to speak of, neither vulnerable nor a bot.
    pub fn adult(stance: f32) -> Person {
        Person {
            stance,
            susceptibility: 1.0,
            confidence: 0.4,
            budget_seconds: 1e9,
            minor: false,
            vulnerable: false,
            bot: false,
        }
    }
}

/// All viewers of one replicate.
#[derive(Debug, Clone)]
pub struct Population {
    /// One per viewer, then one per audit bot.
    pub people: Vec<Person>,
    /// Latent interests, K per viewer (row-major), each row on the simplex.
    pub interests: Vec<f32>,
    /// K.
    pub n_topics: usize,
    /// Initial latent tastes, D per viewer (row-major; audit bots' are 0), empty when taste is
    /// off (`docs/model.md` §3b).
    pub taste: Vec<f32>,
}

impl Population {
    /// Draws the population of `replicate`.
    pub fn generate(scenario: &Scenario, replicate: u32) -> Population {
        let cfg = &scenario.population;
        let k = scenario.n_topics();
        let shares = crate::catalog::scaled_weights(scenario.catalog.topics.iter().map(|t| t.share));
        let total_share: f64 = shares.iter().sum();
        let alpha: Vec<f64> = shares
            .iter()
            .map(|share| (cfg.interest_concentration * k as f64 * share / total_share).max(1e-3))
            .collect();
        let dirichlet = Dirichlet::new(&alpha).expect("validated concentration");
        let stance = Normal::new(cfg.stance_mean, cfg.stance_sd).expect("validated stance");
        let shape = cfg.susceptibility_shape;
        // A mean of 0 is the limit where every viewer's susceptibility is 0 (no gamma has it).
        let susceptibility = (cfg.susceptibility_mean > 0.0)
            .then(|| Gamma::new(shape, cfg.susceptibility_mean / shape).expect("validated susceptibility"));
        let budget = LogNormal::new((cfg.budget_median_minutes * 60.0).ln(), cfg.budget_sigma)
            .expect("validated budget");

        let n = cfg.users as usize;
        let mut people = Vec::with_capacity(n);
        let mut interests = vec![0f32; n * k];
        // Each viewer draws from a stream of its own, so viewers are drawn in parallel.
        interests
            .par_chunks_mut(k)
            .enumerate()
            .map_init(
                || vec![0f64; k],
                |draw, (id, row)| {
                    let mut rng = stream(
                        scenario.scenario.seed,
                        replicate,
                        id as u64,
                        Purpose::Population,
                        0,
                    );
                    dirichlet.sample_to_slice(&mut rng, draw);
                    let sum: f64 = draw.iter().sum();
                    for (x, d) in row.iter_mut().zip(draw.iter()) {
                        *x = if sum > 0.0 {
                            (d / sum) as f32
                        } else {
                            1.0 / k as f32
                        };
                    }
                    Person {
                        stance: stance.sample(&mut rng).clamp(-1.0, 1.0) as f32,
                        susceptibility: susceptibility.as_ref().map_or(0.0, |g| g.sample(&mut rng) as f32),
                        confidence: cfg.confidence_bound as f32,
                        budget_seconds: budget.sample(&mut rng) as f32,
                        minor: rng.random_bool(cfg.minor_share),
                        vulnerable: false,
                        bot: false,
                    }
                },
            )
            .collect_into_vec(&mut people);
        // Vulnerability comes from a stream of its own, so the draws above stay as they were.
        let vulnerable = [cfg.vulnerable_adult_share, cfg.vulnerable_minor_share];
        if vulnerable.iter().any(|&s| s > 0.0) {
            for (id, person) in people.iter_mut().enumerate() {
                person.vulnerable = once(scenario.scenario.seed, replicate, id as u64, Purpose::Vulnerable)
                    < vulnerable[usize::from(person.minor)];
            }
        }
        // Tastes come from a stream of their own, so the draws above stay as they were.
        let bots: usize = scenario.bots.iter().map(|b| b.count as usize).sum();
        let taste = crate::taste::population_taste(scenario, replicate, n, bots);
        // Audit bots follow the viewers; they draw nothing and do not drift.
        for bot in &scenario.bots {
            for _ in 0..bot.count {
                people.push(Person {
                    stance: 0.0,
                    susceptibility: 0.0,
                    confidence: 0.0,
                    budget_seconds: f32::INFINITY,
                    minor: bot.minor,
                    vulnerable: false,
                    bot: true,
                });
                interests.extend(std::iter::repeat_n(1.0 / k as f32, k));
            }
        }
        Population {
            people,
            interests,
            n_topics: k,
            taste,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interests_are_on_the_simplex() {
        let mut s = Scenario::default();
        s.population.users = 500;
        let p = Population::generate(&s, 0);
        assert_eq!(p.people.len(), 500);
        for row in p.interests.chunks_exact(p.n_topics) {
            let sum: f32 = row.iter().sum();
            assert!((sum - 1.0).abs() < 1e-4, "{sum}");
            assert!(row.iter().all(|&x| x >= 0.0));
        }
        let minors = p.people.iter().filter(|x| x.minor).count();
        assert!((75..=175).contains(&minors), "{minors}");
    }

    #[test]
    fn concentration_makes_viewers_specialised_or_broad() {
        let top_mean = |conc: f64| {
            let mut s = Scenario::default();
            s.population.users = 400;
            s.population.interest_concentration = conc;
            let p = Population::generate(&s, 0);
            p.interests
                .chunks_exact(p.n_topics)
                .map(|r| r.iter().cloned().fold(0f32, f32::max))
                .sum::<f32>()
                / 400.0
        };
        assert!(top_mean(0.1) > top_mean(10.0) + 0.3);
    }

    #[test]
    fn a_viewer_does_not_depend_on_population_size() {
        let mut s = Scenario::default();
        s.population.users = 10;
        let small = Population::generate(&s, 1);
        s.population.users = 20;
        let large = Population::generate(&s, 1);
        assert_eq!(small.people[..], large.people[..10]);
        assert_eq!(small.interests[..], large.interests[..small.interests.len()]);
    }
}
