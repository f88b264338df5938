//! Splitting the work of a run or a sweep into N parts (shards) that can run on different
//! machines, and the record a shard leaves in its manifest so that `merge` can put the parts
//! back together.
//!
//! Work units are numbered in a fixed order: replicates for `run`; (point, replicate) pairs,
//! point by point, for `sweep`. Unit `u` belongs to shard `(u mod N) + 1`. A unit computes the
//! same wherever it runs, because every random stream is keyed by the seed and the replicate
//! (see [`crate::rng`]), never by the shard or by what else runs on the machine.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use thiserror::Error;

/// Shard `index` of `count` (1-based: 1 ≤ index ≤ count).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    index: u32,
    count: u32,
}

/// Why a `--shard` argument was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("expected I/N with 1 <= I <= N (shard I of N), e.g. 2/8; got {given:?}")]
pub struct ShardError {
    given: String,
}

impl Shard {
    /// Shard `index` of `count`, if 1 ≤ index ≤ count.
    pub fn new(index: u32, count: u32) -> Option<Shard> {
        (1..=count).contains(&index).then_some(Shard { index, count })
    }

    /// The shard's number, from 1.
    pub fn index(self) -> u32 {
        self.index
    }

    /// How many shards the work is split into.
    pub fn count(self) -> u32 {
        self.count
    }

    /// True if work unit `unit` (numbered from 0) belongs to this shard.
    pub fn owns(self, unit: u64) -> bool {
        unit % u64::from(self.count) == u64::from(self.index - 1)
    }

    /// This shard's units of `units`, numbered in the order given.
    pub fn select<T>(self, units: impl IntoIterator<Item = T>) -> Vec<T> {
        units
            .into_iter()
            .enumerate()
            .filter(|(u, _)| self.owns(*u as u64))
            .map(|(_, unit)| unit)
            .collect()
    }
}

impl FromStr for Shard {
    type Err = ShardError;

    fn from_str(s: &str) -> Result<Shard, ShardError> {
        let refuse = || ShardError { given: s.to_string() };
        let (i, n) = s.split_once('/').ok_or_else(refuse)?;
        let (i, n) = (
            i.trim().parse().map_err(|_| refuse())?,
            n.trim().parse().map_err(|_| refuse())?,
        );
        Shard::new(i, n).ok_or_else(refuse)
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// What a shard's `manifest.json` records under `shard`: which shard it is and which
/// replicates it ran, so that `merge` can check that every part is there once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardRecord {
    /// The shard's number, from 1.
    pub index: u32,
    /// How many shards the work was split into.
    pub count: u32,
    /// The replicates this shard ran, ascending.
    pub replicates: Vec<u32>,
}

impl ShardRecord {
    /// The record of `shard`, which ran `replicates`.
    pub fn new(shard: Shard, replicates: Vec<u32>) -> ShardRecord {
        ShardRecord {
            index: shard.index,
            count: shard.count,
            replicates,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str, expected: Option<(u32, u32)>) {
        let parsed = text.parse::<Shard>().ok().map(|s| (s.index(), s.count()));
        assert_eq!(parsed, expected, "{text}");
    }

    #[test]
    fn shards_parse_as_i_of_n() {
        check("1/1", Some((1, 1)));
        check("2/8", Some((2, 8)));
        check(" 3 / 3 ", Some((3, 3)));
        check("0/3", None);
        check("4/3", None);
        check("1/0", None);
        check("3", None);
        check("a/3", None);
        check("-1/3", None);
    }

    #[test]
    fn every_unit_belongs_to_exactly_one_shard() {
        let units: Vec<u32> = (0..10).collect();
        let parts: Vec<Vec<u32>> = (1..=3)
            .map(|i| Shard::new(i, 3).unwrap().select(units.clone()))
            .collect();
        assert_eq!(parts[0], [0, 3, 6, 9]);
        assert_eq!(parts[1], [1, 4, 7]);
        assert_eq!(parts[2], [2, 5, 8]);
    }

    #[test]
    fn error_shows_what_was_given() {
        let msg = "5/2".parse::<Shard>().unwrap_err().to_string();
        assert!(msg.contains("\"5/2\"") && msg.contains("I/N"), "{msg}");
    }
}
