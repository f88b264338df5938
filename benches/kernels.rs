//! Kernel benchmarks: the pieces of one viewer-step, on one thread.
//!
//! - `ranking/exhaustive/{1k,10k,100k}`: `engagement` choosing among every item of a catalog
//!   of that many items (`feed.retrieval = "exhaustive"`, the ranking kernel over topic
//!   blocks), for a viewer with a learned profile, eight followed creators and a full
//!   no-repeat window. Throughput in candidates (catalog items) per second.
//! - `ranking/retrieved/{1k,10k,100k}`: `engagement` drawing that many candidates from the
//!   viewer's strongest topics (`feed.topic_candidates`) and scoring each one: retrieval and
//!   the per-candidate scoring loop.
//! - `viewer/respond_update_measure`: one viewer's response to an item (the Beta draw, like,
//!   follow), the update of the viewer (time, satiation, boredom, drift, stance), the profile's
//!   update and the window metrics the engine computes after every impression.
//!
//! Catalogs are `scenarios/bench_trecs.toml`'s (20 topics) at the given size; the profile,
//! completion rates, follows and window are fixed by a seeded stream, so every iteration does
//! the same work. Outside `cargo bench` each benchmark's body runs once as a smoke check.

use criterion::{Criterion, Throughput};
use rabbithole::boost::BoostView;
use rabbithole::catalog::{Catalog, ItemIdx};
use rabbithole::metrics;
use rabbithole::population::Population;
use rabbithole::recommender::kernel::TopicBlocks;
use rabbithole::recommender::{
    Allow, FactorView, Policy, Ranked, Scratch, Shared, ViewerView, build, profile,
};
use rabbithole::rng::{Purpose, stream};
use rabbithole::scenario::{self, EngagementConfig, PolicyConfig, Scenario};
use rabbithole::viewer::{self, ViewerParams, ViewerState};
use rand::RngExt;
use std::hint::black_box;
use std::path::PathBuf;

/// `scenarios/bench_trecs.toml` with `overrides` (`KEY=VALUE`).
fn scenario(overrides: &[String]) -> Scenario {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scenarios/bench_trecs.toml");
    scenario::load(&path, overrides).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A catalog of `items` items and the platform's state over it at step 0, with a viewer who
/// has watched for a while.
struct Ranking {
    scenario: Scenario,
    catalog: Catalog,
    topic_visible: Vec<u32>,
    ranked: Vec<Ranked>,
    zeros_f32: Vec<f32>,
    zeros_u32: Vec<u32>,
    blocks: Option<TopicBlocks>,
    profile: Vec<f32>,
    counts: Vec<f32>,
    recent: Vec<ItemIdx>,
    window_topics: Vec<u16>,
    follows: Vec<u32>,
}

impl Ranking {
    fn new(items: u32, exhaustive: bool) -> Ranking {
        let mut overrides = vec![
            format!("catalog.items={items}"),
            format!("catalog.creators={}", (items / 10).max(10)),
        ];
        if !exhaustive {
            overrides.extend([
                "feed.retrieval=candidates".to_string(),
                format!("feed.topic_candidates={items}"),
                "feed.trending_candidates=0".to_string(),
                "feed.explore_candidates=0".to_string(),
            ]);
        }
        let scenario = scenario(&overrides);
        let catalog = Catalog::generate(&scenario, 0);
        let k = catalog.n_topics();
        let topic_visible: Vec<u32> = (0..k).map(|t| catalog.visible_in_topic(t, 0) as u32).collect();
        let mut rng = stream(7, 0, 0, Purpose::Population, 0);
        // Completion rates spread around 0.3, as after some hours of a run.
        let completion: Vec<f32> = (0..catalog.items.len())
            .map(|_| 0.15 + 0.3 * rng.random::<f32>())
            .collect();
        let ranked = Ranked::all(&catalog, &completion, 0.3);
        // A profile leaning to three topics, the rest near the prior.
        let profile: Vec<f32> = (0..k)
            .map(|t| match t {
                0 => 0.75,
                1 => 0.6,
                2 => 0.5,
                _ => 0.25 + 0.1 * rng.random::<f32>(),
            })
            .collect();
        let n = catalog.visible(0);
        let recent: Vec<ItemIdx> = (0..scenario.feed.no_repeat)
            .map(|_| rng.random_range(0..n) as ItemIdx)
            .collect();
        let window_topics = recent.iter().map(|&i| catalog.items[i as usize].topic).collect();
        let follows: Vec<u32> = (0..8)
            .map(|_| rng.random_range(0..catalog.creator_items.len()) as u32)
            .collect();
        let mut blocks = exhaustive.then(|| TopicBlocks::new(&catalog));
        if let Some(b) = &mut blocks {
            b.rebuild(&catalog, &topic_visible, &ranked);
        }
        Ranking {
            zeros_f32: vec![0.0; catalog.items.len()],
            zeros_u32: vec![0; catalog.items.len()],
            counts: vec![10.0; k],
            scenario,
            catalog,
            topic_visible,
            ranked,
            blocks,
            profile,
            recent,
            window_topics,
            follows,
        }
    }

    /// Runs `f` with the platform's and the viewer's views.
    fn with<R>(&self, f: impl FnOnce(&Shared, &ViewerView) -> R) -> R {
        let shared = Shared {
            catalog: &self.catalog,
            step: 0,
            n_visible: self.catalog.visible(0),
            topic_visible: &self.topic_visible,
            ranked: &self.ranked,
            trend: &self.zeros_f32,
            impressions: &self.zeros_u32,
            trending: &[],
            config: &self.scenario.recommender,
            feed: &self.scenario.feed,
            blocks: self.blocks.as_ref(),
            factors: None,
        };
        let viewer = ViewerView {
            profile: &self.profile,
            counts: &self.counts,
            recent: [&self.recent, &[]],
            window_topics: [&self.window_topics, &[]],
            follows: &self.follows,
            follow_filter: rabbithole::recommender::FollowFilter::ALL,
            boosts: BoostView::NONE,
            allow: Allow::ANY,
            stance: 0.0,
            agreement: 0.0,
            factors: FactorView::NONE,
            latent: None,
        };
        f(&shared, &viewer)
    }
}

/// `engagement` without exploration, so every call ranks.
fn engagement() -> Box<dyn Policy> {
    build(&PolicyConfig::Engagement(EngagementConfig { exploration: 0.0 }))
}

/// One viewer with the quick start's parameters, its per-topic vectors and an item to show.
struct OneViewer {
    params: ViewerParams,
    config: scenario::RecommenderConfig,
    state: ViewerState,
    interests: Vec<f32>,
    initial: Vec<f32>,
    satiation: Vec<f32>,
    estimate: Vec<f32>,
    counts: Vec<f32>,
    follows: Vec<u32>,
    topics: Vec<u16>,
    catalog: Catalog,
    window: usize,
    threshold: f64,
    entropy: metrics::EntropyTable,
}

impl OneViewer {
    fn new() -> OneViewer {
        let scenario = scenario(&[]);
        let catalog = Catalog::generate(&scenario, 0);
        let population = Population::generate(&scenario, 0);
        let k = catalog.n_topics();
        let interests = population.interests[..k].to_vec();
        OneViewer {
            params: ViewerParams::new(&scenario.viewer, k, scenario.feed.days),
            config: scenario.recommender.clone(),
            state: ViewerState::new(&population.people[0]),
            initial: interests.clone(),
            interests,
            satiation: vec![0.1; k],
            estimate: vec![0.4; k],
            counts: vec![5.0; k],
            follows: vec![u32::MAX; scenario.viewer.max_follows as usize],
            topics: (0..scenario.metrics.window as u16)
                .map(|t| t % k as u16)
                .collect(),
            window: scenario.metrics.window as usize,
            threshold: scenario.metrics.rabbit_hole_threshold,
            entropy: metrics::EntropyTable::new(scenario.metrics.window, catalog.n_topics()),
            catalog,
        }
    }

    /// One impression of item `i`: response, updates and the window metrics.
    fn step(&mut self, i: usize, rng: &mut rabbithole::rng::Rng) -> metrics::ViewerMetrics {
        let item = &self.catalog.items[i];
        let k = self.interests.len();
        let r = viewer::respond(
            &self.params,
            &self.interests,
            &self.satiation,
            false,
            false,
            0.0,
            item,
            rng,
        );
        viewer::update(
            &self.params,
            &mut self.state,
            &mut self.interests,
            &mut self.satiation,
            &mut self.follows,
            item,
            &r,
        );
        let signal = profile::signal(&self.config, &r);
        profile::observe(
            &self.config,
            &mut self.estimate,
            &mut self.counts,
            item.topic as usize,
            signal,
        );
        let slot = self.state.impressions as usize % self.window;
        self.topics[slot] = item.topic;
        let mut topic_counts = [0u32; 32];
        for &t in &self.topics {
            topic_counts[t as usize] += 1;
        }
        let n = self.window as u32;
        let top = metrics::top_topic_share(&topic_counts[..k], n);
        let mut believed = [0f32; 32];
        profile::estimated_interests(&self.estimate, &mut believed[..k]);
        metrics::ViewerMetrics {
            feed_entropy: self.entropy.entropy(&topic_counts[..k], n) as f32,
            top_topic_share: top as f32,
            in_rabbit_hole: top >= self.threshold,
            interest_drift: metrics::total_variation(&self.interests, &self.initial) as f32,
            profile_error: metrics::total_variation(&believed[..k], &self.interests) as f32,
            window_sensitive: 0.0,
            stance_distance: f32::NAN,
            shown_popularity: 0,
        }
    }
}

const SIZES: &[(u32, &str)] = &[(1_000, "1k"), (10_000, "10k"), (100_000, "100k")];

fn main() {
    let policy = engagement();
    if !std::env::args().any(|a| a == "--bench") {
        for exhaustive in [true, false] {
            let r = Ranking::new(1_000, exhaustive);
            let mut scratch = Scratch::default();
            let mut rng = stream(1, 0, 0, Purpose::Recommend, 0);
            r.with(|s, v| policy.recommend(s, v, &mut rng, &mut scratch, None));
        }
        let mut v = OneViewer::new();
        let mut rng = stream(1, 0, 0, Purpose::Response, 0);
        assert!(v.step(0, &mut rng).feed_entropy >= 0.0);
        println!("kernel benches: smoke check passed (timings run under `cargo bench` only)");
        return;
    }
    let mut c = Criterion::default().configure_from_args();
    for (exhaustive, name) in [(true, "ranking/exhaustive"), (false, "ranking/retrieved")] {
        let mut group = c.benchmark_group(name);
        for &(items, label) in SIZES {
            let r = Ranking::new(items, exhaustive);
            let mut scratch = Scratch::default();
            let mut rng = stream(1, 0, 0, Purpose::Recommend, 0);
            group.throughput(Throughput::Elements(u64::from(items)));
            group.bench_function(label, |b| {
                b.iter(|| r.with(|s, v| black_box(policy.recommend(s, v, &mut rng, &mut scratch, None))))
            });
        }
        group.finish();
    }
    let mut group = c.benchmark_group("viewer");
    let mut v = OneViewer::new();
    let mut rng = stream(1, 0, 0, Purpose::Response, 0);
    let n_items = v.catalog.items.len();
    let mut i = 0;
    group.throughput(Throughput::Elements(1));
    group.bench_function("respond_update_measure", |b| {
        b.iter(|| {
            i = (i + 7) % n_items;
            black_box(v.step(i, &mut rng))
        })
    });
    group.finish();
    c.final_summary();
}
