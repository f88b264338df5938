//! Tests of `engagement`: the score equation on hand-computed inputs (docs/model.md §8), the
//! exploration draw, the fallback when the best candidate was seen recently, and a property
//! test that the fast path picks what [`pick_best`] picks under candidate retrieval.

use super::{Engagement, factors, predicted_seconds, score_candidates};
use crate::boost::BoostView;
use crate::catalog::{Catalog, Item, ItemIdx, STANCE_BEARING};
use crate::recommender::fixture::Platform;
use crate::recommender::{
    Allow, FactorView, Policy, Scratch, Shared, Source, Trace, ViewerView, no_factors, pick_best,
    random_visible, retrieval,
};
use crate::rng::{Purpose, Rng, stream};
use crate::scenario::{EngagementConfig, Retrieval, Scenario};
use proptest::prelude::*;
use rand::RngExt;

/// An item of `creator` in `topic`, `duration` seconds long, present from the start.
fn item(creator: u32, topic: u16, duration: f32) -> Item {
    Item {
        creator,
        topic,
        group: 0,
        flags: 0,
        quality: 0.5,
        duration,
        stance: 0.0,
        upload_step: -1,
    }
}

/// Four items in two topics by three creators; creator 1 made items 1 and 3.
fn catalog() -> Catalog {
    let items = vec![
        item(0, 0, 30.0),
        item(1, 0, 60.0),
        item(2, 1, 20.0),
        item(1, 1, 100.0),
    ];
    Catalog {
        topic_names: vec!["a".into(), "b".into()],
        group_names: vec!["g".into()],
        creator_group: vec![0; 3],
        creator_topic: vec![0, 0, 1],
        topic_items: vec![vec![0, 1], vec![2, 3]],
        creator_items: vec![vec![0], vec![1, 3], vec![2]],
        n_initial: items.len(),
        items,
        taste: Default::default(),
    }
}

/// Completion rates whose ratios to the mean 0.5 are exact: 1, 0.5, 1.5 and 0.25.
const COMPLETION: [f32; 4] = [0.5, 0.25, 0.75, 0.125];

/// The hand-built catalog with the platform's state at step 0: [`COMPLETION`], follow bonus
/// φ = 1.5, exhaustive retrieval (the candidates are items 0 to 3 in order), without or with
/// the kernel's blocks. Calls `check` with it.
fn with_platform(kernel: bool, check: impl FnOnce(&Shared)) {
    let mut scenario = Scenario::default();
    scenario.recommender.follow_bonus = 1.5;
    scenario.feed.retrieval = Retrieval::Exhaustive;
    let platform = Platform::new(scenario, catalog(), 0, &COMPLETION, 0.5, kernel);
    assert_eq!(
        (platform.n_visible(), &platform.topic_visible[..]),
        (4, &[2, 2][..])
    );
    check(&platform.shared());
}

/// A viewer with estimates 0.5 and 0.8 for the two topics who follows creator 1 and saw
/// `recent` last.
fn viewer<'a>(follows: &'a [u32], recent: &'a [ItemIdx]) -> ViewerView<'a> {
    ViewerView {
        profile: &[0.5, 0.8],
        counts: &[4.0, 4.0],
        recent: [recent, &[]],
        window_topics: [&[], &[]],
        follows,
        follow_filter: crate::recommender::FollowFilter::of(follows),
        boosts: BoostView::NONE,
        allow: Allow::ANY,
        stance: 0.0,
        agreement: 0.0,
        factors: FactorView::NONE,
        latent: None,
    }
}

/// Asserts that `actual` is `expected` up to f32 rounding.
fn check(what: &str, actual: f32, expected: f32) {
    assert!(
        (actual - expected).abs() <= 1e-5 * expected.abs().max(1.0),
        "{what}: {actual}, expected {expected}"
    );
}

/// f̂ = min(1, m · c/c̄ · (φ if followed)), score = f̂ · d, by hand:
/// item 0: 0.5 · 1 = 0.5, × 30 s = 15; item 1 (followed): 0.5 · 0.5 · 1.5 = 0.375, × 60 = 22.5;
/// item 2: 0.8 · 1.5 = 1.2, capped at 1, × 20 = 20; item 3 (followed): 0.8 · 0.25 · 1.5 = 0.3,
/// × 100 = 30. Without the follow, items 1 and 3 score 15 and 20.
#[test]
fn predicted_watch_seconds_by_hand() {
    with_platform(false, |shared| {
        let followed = viewer(&[1], &[]);
        for (item, seconds) in [(0, 15.0), (1, 22.5), (2, 20.0), (3, 30.0)] {
            check(
                &format!("item {item}"),
                predicted_seconds(shared, &followed, item),
                seconds,
            );
        }
        let unfollowed = viewer(&[], &[]);
        check(
            "item 1 unfollowed",
            predicted_seconds(shared, &unfollowed, 1),
            15.0,
        );
        check(
            "item 3 unfollowed",
            predicted_seconds(shared, &unfollowed, 3),
            20.0,
        );
        // The factors explain discloses, in FACTOR_NAMES order, multiply up to the score.
        let f = factors(shared, &followed, 1);
        for (name, (actual, expected)) in super::FACTOR_NAMES
            .iter()
            .zip(f.iter().zip([0.5, 0.5, 1.5, 0.375, 60.0]))
        {
            check(name, *actual, expected);
        }
        check("capped factor", factors(shared, &followed, 2)[3], 1.0);
    });
}

/// The learned stance's factor, by hand: item 2 (topic b) made stance-bearing at stance 0.5,
/// a viewer learned at -0.5 with weight β_u = 1: factor e^(-1) on 0.8 · 1.5 = 1.2, so
/// min(1, 1.2/e) × 20 s = 20 × 0.4415 = 8.83 s; items of other topics are unchanged, and
/// `explain`'s sixth factor is the agreement factor.
#[test]
fn the_learned_stance_scales_stance_bearing_items() {
    let mut catalog = catalog();
    catalog.items[2].flags = STANCE_BEARING;
    catalog.items[2].stance = 0.5;
    let mut scenario = Scenario::default();
    scenario.recommender.follow_bonus = 1.5;
    let platform = Platform::new(scenario, catalog, 0, &COMPLETION, 0.5, false);
    let shared = platform.shared();
    let agreeing = ViewerView {
        stance: -0.5,
        agreement: 1.0,
        ..viewer(&[1], &[])
    };
    let e = (-1.0f32).exp();
    check("item 2", predicted_seconds(&shared, &agreeing, 2), 1.2 * e * 20.0);
    check("item 0", predicted_seconds(&shared, &agreeing, 0), 15.0);
    check("factor", factors(&shared, &agreeing, 2)[5], e);
    check("no factor", factors(&shared, &agreeing, 0)[5], 1.0);
    // Nothing learned (β_u = 0): the score of today.
    let blind = ViewerView {
        stance: -0.5,
        ..viewer(&[1], &[])
    };
    check("item 2 blind", predicted_seconds(&shared, &blind, 2), 20.0);
}

/// The re-rankers' base scores: every candidate's seconds, and their maximum for normalising
/// (1 when no score is positive).
#[test]
fn candidates_are_scored_with_their_maximum() {
    with_platform(false, |shared| {
        let candidates: Vec<(ItemIdx, Source)> = [2, 0, 3].map(|i| (i, Source::Topic)).to_vec();
        let mut scores = vec![7.0; 9];
        let max = score_candidates(shared, &viewer(&[1], &[]), &candidates, &mut scores);
        check("max", max, 30.0);
        assert_eq!(scores.len(), 3);
        for (s, expected) in scores.iter().zip([20.0, 15.0, 30.0]) {
            check("score", *s, expected);
        }
        let nothing = ViewerView {
            profile: &[0.0, -0.2],
            ..viewer(&[1], &[])
        };
        assert_eq!(score_candidates(shared, &nothing, &candidates, &mut scores), 1.0);
    });
}

/// The recommendation with `exploration` for `viewer`, through the fast path (no trace) and
/// through `pick_best` (with a trace), from the same random numbers; both must agree.
fn recommend(shared: &Shared, viewer: &ViewerView, exploration: f64, key: u64) -> (ItemIdx, Source) {
    let policy = Engagement::new(&EngagementConfig { exploration });
    let rng = stream(3, 0, key, Purpose::Recommend, 0);
    let fast = policy.recommend(shared, viewer, &mut rng.clone(), &mut Scratch::default(), None);
    let mut trace = Trace::default();
    let traced = policy.recommend(
        shared,
        viewer,
        &mut rng.clone(),
        &mut Scratch::default(),
        Some(&mut trace),
    );
    assert_eq!(fast, traced, "fast path and pick_best differ");
    if trace.explored {
        assert_eq!(fast.1, Source::Exploration);
    }
    fast
}

/// The best candidate not seen recently: item 3, then item 1 when 3 was seen, then item 2
/// when both were (ties aside, the order of the hand-computed scores); with the kernel too.
#[test]
fn the_best_unseen_candidate_wins() {
    for kernel in [false, true] {
        with_platform(kernel, |shared| {
            for (recent, best) in [(&[][..], 3), (&[3][..], 1), (&[1, 3][..], 2), (&[3, 2, 1][..], 0)] {
                let chosen = recommend(shared, &viewer(&[1], recent), 0.0, 1);
                assert_eq!(
                    chosen,
                    (best, Source::Catalog),
                    "kernel {kernel}, recent {recent:?}"
                );
            }
            // Unfollowed, items 2 and 3 tie at 20 s: the earlier candidate wins.
            assert_eq!(recommend(shared, &viewer(&[], &[]), 0.0, 1).0, 2);
        });
    }
}

/// With every candidate seen recently the ranking has nothing to offer, and the impression is
/// a uniformly random item (`random_visible`, from the numbers after the exploration draw).
#[test]
fn every_candidate_seen_falls_back_to_a_random_item() {
    with_platform(false, |shared| {
        let seen = viewer(&[1], &[0, 1, 2, 3]);
        for key in 0..20 {
            let mut rng = stream(3, 0, key, Purpose::Recommend, 0);
            assert!(!rng.random_bool(0.0));
            let expected = random_visible(shared, &seen, &mut rng);
            assert_eq!(
                recommend(shared, &seen, 0.0, key),
                (expected, Source::Exploration)
            );
        }
    });
}

/// With probability `exploration` the impression is a random item, marked as exploration and
/// drawn by `random_visible` after the draw; otherwise the ranking's best.
#[test]
fn exploration_draws_a_random_item_at_its_rate() {
    with_platform(false, |shared| {
        let v = viewer(&[1], &[]);
        for key in 0..20 {
            let mut rng = stream(3, 0, key, Purpose::Recommend, 0);
            assert!(rng.random_bool(1.0));
            let expected = random_visible(shared, &v, &mut rng);
            assert_eq!(recommend(shared, &v, 1.0, key), (expected, Source::Exploration));
        }
        let n = 4000;
        let explored = (0..n)
            .filter(|&key| recommend(shared, &v, 0.25, key).1 == Source::Exploration)
            .count();
        // 0.25 ± 4.5 standard deviations (0.0068 each).
        assert!(
            (explored as f64 / n as f64 - 0.25).abs() < 0.031,
            "{explored} of {n}"
        );
    });
}

/// Predicted watch seconds from docs/model.md §8, written from the catalog's items (not the
/// packed records ranking reads), in the same order of operations so the bits agree.
fn model_seconds(s: &Shared, v: &ViewerView, completion: &[f32], mean: f32, item: ItemIdx) -> f32 {
    let it = &s.catalog.items[item as usize];
    let ratio = completion[item as usize] / mean.max(1e-3);
    let trust = if v.follows.contains(&it.creator) {
        s.config.follow_bonus as f32
    } else {
        1.0
    };
    // The agreement factor of §8, exp(−β_u · |x_i − x̂_u|) on stance-bearing items.
    let agree = if v.agreement > 0.0 && it.flags & STANCE_BEARING != 0 {
        (-v.agreement * (it.stance - v.stance).abs()).exp()
    } else {
        1.0
    };
    (v.profile[it.topic as usize] * ratio * trust * agree).min(1.0) * it.duration
}

/// What the model chooses, drawn from `rng`: the exploration draw, retrieval, then
/// `pick_best` over the model's scores, or a random item when nothing is left.
fn model_choice(
    s: &Shared,
    v: &ViewerView,
    completion: &[f32],
    mean: f32,
    exploration: f64,
    rng: &mut Rng,
) -> (ItemIdx, Source) {
    let mut scratch = Scratch::default();
    if rng.random_bool(exploration) {
        return (random_visible(s, v, rng), Source::Exploration);
    }
    retrieval::retrieve(s, v, rng, &mut scratch);
    pick_best(&scratch.candidates, v, None, no_factors, |_, item| {
        let x = model_seconds(s, v, completion, mean, item);
        (x, [x, 0.0, 0.0, 0.0], x)
    })
    .unwrap_or_else(|| (random_visible(s, v, rng), Source::Exploration))
}

/// The scenario of [`fast_path_picks_what_pick_best_picks`]: `catalog` items and creators,
/// arriving at 4 a step for 30 steps, the follow bonus, the candidate counts (topic, top
/// topics, trending, explore) and exhaustive retrieval or not.
fn property_scenario(
    seed: u64,
    (items, creators): (u32, u32),
    bonus: f64,
    counts: (u32, u32, u32, u32),
    exhaustive: bool,
) -> Scenario {
    let mut scenario = Scenario::default();
    scenario.scenario.seed = seed;
    scenario.catalog.items = items;
    scenario.catalog.creators = creators;
    scenario.catalog.arrivals_per_step = 4.0;
    scenario.feed.max_steps = 30;
    scenario.recommender.follow_bonus = bonus;
    (scenario.feed.topic_candidates, scenario.feed.top_topics) = (counts.0, counts.1);
    (
        scenario.feed.trending_candidates,
        scenario.feed.explore_candidates,
    ) = (counts.2, counts.3);
    if exhaustive {
        scenario.feed.retrieval = Retrieval::Exhaustive;
    }
    scenario
}

/// Sorts `items` by `seconds`, highest first and lowest item on ties, once each.
fn best_first(items: &mut Vec<ItemIdx>, seconds: impl Fn(ItemIdx) -> f32) {
    items.sort_by(|&a, &b| seconds(b).total_cmp(&seconds(a)).then(a.cmp(&b)));
    items.dedup();
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// The engine's path (no trace: the fast path) and the traced path both pick what the
    /// model picks from the same random numbers, item and source, under candidate retrieval
    /// (and sometimes exhaustive), whatever the profile, follows, no-repeat window, catalog,
    /// step and trending list. Coarse durations, rates and estimates make ties common, and
    /// the best candidates are often among the recent items.
    #[test]
    fn fast_path_picks_what_pick_best_picks(
        seed in 0u64..1_000_000,
        step in 0u32..30,
        items in 100u32..400,
        creators in 3u32..30,
        completion in proptest::collection::vec(0u8..5, 400),
        mean in prop_oneof![1 => Just(0.0f32), 4 => 0.05f32..0.6],
        profile in proptest::collection::vec(prop_oneof![Just(0.0f32), Just(0.5f32), Just(1.0f32), -0.2f32..1.5], 9),
        follows in proptest::collection::vec(0u32..30, 0..8),
        follow_candidates in proptest::collection::vec(0usize..100, 0..3),
        bonus in prop_oneof![Just(1.0f64), 0.5f64..4.0],
        counts in (0u32..12, 1u32..5, 0u32..6, 0u32..6),
        trending in proptest::collection::vec(0u32..400, 0..30),
        seen_best in 0usize..4,
        recent in proptest::collection::vec(0u32..400, 0..12),
        exploration in prop_oneof![Just(0.0f64), Just(0.3f64)],
        exhaustive in proptest::bool::weighted(0.2),
        stance in -1.0f32..1.0,
        agreement in prop_oneof![Just(0.0f32), 0.0f32..4.0],
    ) {
        let scenario = property_scenario(seed, (items, creators), bonus, counts, exhaustive);
        let mut catalog = Catalog::generate(&scenario, 0);
        for item in &mut catalog.items {
            item.duration = (item.duration / 20.0).ceil() * 20.0;
        }
        let mut completion: Vec<f32> = completion.iter().map(|&c| f32::from(c) / 8.0).collect();
        completion.resize(catalog.items.len(), 0.25);
        let mut platform = Platform::new(scenario, catalog, step, &completion, mean, exhaustive);
        let n_visible = platform.n_visible();
        platform.trending = trending.into_iter().filter(|&i| (i as usize) < n_visible).collect();
        let shared = platform.shared();
        let rng = stream(seed, 0, 7, Purpose::Recommend, u64::from(step));
        // The candidates the policy is about to retrieve (retrieval reads neither the follows
        // nor the no-repeat window): the viewer follows a few random creators and those of a
        // few candidates, and has seen a few random items and the `seen_best` best candidates.
        let blank = ViewerView {
            profile: &profile,
            counts: &[2.0; 9],
            recent: [&[], &[]],
            window_topics: [&[], &[]],
            follows: &[],
            follow_filter: crate::recommender::FollowFilter::ALL,
            boosts: BoostView::NONE,
            allow: Allow::ANY,
            stance,
            agreement,
            factors: FactorView::NONE,
            latent: None,
        };
        let mut ahead = rng.clone();
        let mut scratch = Scratch::default();
        let _ = ahead.random_bool(exploration);
        retrieval::retrieve(&shared, &blank, &mut ahead, &mut scratch);
        let candidates = &scratch.candidates;
        let follows: Vec<u32> = follows
            .into_iter()
            .map(|c| c % creators)
            .chain(follow_candidates.iter().filter_map(|&c| {
                let &(item, _) = candidates.get(c % candidates.len().max(1))?;
                Some(platform.catalog.items[item as usize].creator)
            }))
            .collect();
        let blank = ViewerView { follows: &follows, ..blank };
        let mut best: Vec<ItemIdx> = scratch.candidates.iter().map(|c| c.0).collect();
        best_first(&mut best, |item| model_seconds(&shared, &blank, &completion, mean, item));
        best.truncate(seen_best);
        let recent: Vec<ItemIdx> = recent.into_iter().filter(|&i| (i as usize) < n_visible).collect();
        let viewer = ViewerView {
            recent: [&best, &recent],
            ..blank
        };

        let expected = model_choice(&shared, &viewer, &completion, mean, exploration, &mut rng.clone());
        let policy = Engagement::new(&EngagementConfig { exploration });
        // The fast path, twice: with the buffers that retrieval above and then a call left.
        let fast = policy.recommend(&shared, &viewer, &mut rng.clone(), &mut scratch, None);
        prop_assert_eq!(fast, expected);
        let again = policy.recommend(&shared, &viewer, &mut rng.clone(), &mut scratch, None);
        prop_assert_eq!(again, expected);
        let mut trace = Trace::default();
        let traced = policy.recommend(&shared, &viewer, &mut rng.clone(), &mut scratch, Some(&mut trace));
        prop_assert_eq!(traced, expected);
    }
}
