//! Creators who appear during a run (`docs/model.md` §2b): with probability
//! `catalog.new_creator_share` an arriving item is the first upload of a new creator, whose
//! home topic, group and stance are drawn as for the creators present at the start; later
//! arrivals come from a new creator as often as new creators are among all creators.
//!
//! The catalog's own draws are made first, as without new creators, and the new creators come
//! from a stream of their own (purpose `NewCreators`), so the initial catalog and each item's
//! quality, duration and upload step are those of a run without them; being part of the
//! catalog, they are the same in every arm.

use crate::catalog::{EDUCATIONAL, Item, SENSITIVE, clamp_stance, normal, pick};
use crate::rng::{Purpose, stream};
use crate::scenario::Scenario;
use rand::RngExt;

/// Most creators in all: the recommender packs a creator's index in 24 bits. Past it, no new
/// creator appears.
pub const MAX_CREATORS: usize = (1 << 24) - 1;

/// The creators' home topics, groups and stances, present and new, in index order.
pub struct Creators<'a> {
    pub topic: &'a mut Vec<u16>,
    pub group: &'a mut Vec<u8>,
    pub stance: &'a mut Vec<f64>,
}

/// Gives some of the `arrivals` (the items uploaded during the run, in upload order) to new
/// creators, appended to `creators`. Nothing is drawn when the share is 0.
pub fn add(scenario: &Scenario, replicate: u32, creators: Creators, arrivals: &mut [Item]) {
    let cfg = &scenario.catalog;
    if cfg.new_creator_share == 0.0 {
        return;
    }
    let topic_weights: Vec<f64> = cfg.topics.iter().map(|t| t.share).collect();
    let group_weights: Vec<f64> = cfg.groups.iter().map(|g| g.share).collect();
    let mut rng = stream(scenario.scenario.seed, replicate, 0, Purpose::NewCreators, 0);
    let first_new = creators.topic.len();
    for item in arrivals.iter_mut() {
        let total = creators.topic.len();
        let creator = if rng.random_bool(cfg.new_creator_share) && total < MAX_CREATORS {
            // A new creator, drawn in the order of §2: home topic, group, stance.
            let home = pick(&mut rng, &topic_weights);
            let t = &cfg.topics[home];
            creators.topic.push(home as u16);
            creators.group.push(pick(&mut rng, &group_weights) as u8);
            creators
                .stance
                .push(clamp_stance(normal(&mut rng, t.stance_mean, t.stance_spread)));
            total
        } else if total > first_new && rng.random_bool((total - first_new) as f64 / total as f64) {
            // An earlier new creator uploads again, so every creator is equally likely.
            rng.random_range(first_new..total)
        } else {
            continue;
        };
        let topic = creators.topic[creator] as usize;
        let t = &cfg.topics[topic];
        item.creator = creator as u32;
        item.topic = topic as u16;
        item.group = creators.group[creator];
        item.flags = if t.sensitive { SENSITIVE } else { 0 } | if t.educational { EDUCATIONAL } else { 0 };
        item.stance = clamp_stance(creators.stance[creator] + normal(&mut rng, 0.0, cfg.stance_noise)) as f32;
    }
}

#[cfg(test)]
mod tests {
    use crate::catalog::Catalog;
    use crate::scenario::Scenario;

    fn scenario(share: f64) -> Scenario {
        let mut s = Scenario::default();
        s.catalog.items = 1000;
        s.catalog.creators = 100;
        s.catalog.arrivals_per_step = 2.0;
        s.feed.max_steps = 1000;
        s.catalog.new_creator_share = share;
        s
    }

    #[test]
    fn new_creators_join_and_upload_again() {
        let (old, new) = (
            Catalog::generate(&scenario(0.0), 0),
            Catalog::generate(&scenario(0.05), 0),
        );
        // The initial catalog and every item's quality, duration and upload step are unchanged.
        assert_eq!(old.items[..1000], new.items[..1000]);
        for (a, b) in old.items.iter().zip(&new.items) {
            assert_eq!(
                (a.quality, a.duration, a.upload_step),
                (b.quality, b.duration, b.upload_step)
            );
        }
        // About 5 % of the 2000 arrivals are a new creator's first upload.
        let n_new = new.creator_topic.len() - 100;
        assert!((60..=140).contains(&n_new), "{n_new}");
        assert_eq!(new.creator_group.len(), new.creator_topic.len());
        assert_eq!(new.creator_items.len(), new.creator_topic.len());
        // New creators upload again: their items outnumber them.
        let by_new: usize = new.creator_items[100..].iter().map(Vec::len).sum();
        assert!(by_new > n_new + 50, "{by_new} items by {n_new} new creators");
        for c in 100..new.creator_topic.len() {
            let first = new.creator_items[c][0] as usize;
            assert!(first >= 1000, "a new creator's first item is an arrival");
            for &i in &new.creator_items[c] {
                let it = &new.items[i as usize];
                assert_eq!(it.topic, new.creator_topic[c]);
                assert_eq!(it.group, new.creator_group[c]);
            }
        }
    }
}
