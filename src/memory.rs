//! The memory a run will need, estimated from the scenario alone (nothing is allocated), and
//! the memory the machine has, so that a run that cannot fit is refused before it starts.
//!
//! The estimate is an upper bound on what grows with the scenario: the viewers' state and the
//! population of one arm's run, the catalog with every arrival, and the result rows of every
//! arm and replicate, held as structs and again as CSV text while the files are written. It
//! takes every viewer to run `feed.max_steps` steps, so runs that end earlier need less.

use crate::engine::{BYTES_PER_VIEWER_FIXED, TimeRow, UserRow};
use crate::metrics::Metric;
use crate::scenario::Scenario;

/// Bytes a run will need at most, by part.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Estimate {
    /// The viewers' state and the population (one arm runs at a time).
    pub viewers: u64,
    /// The catalog, arrivals included, and the platform's per-item statistics.
    pub catalog: u64,
    /// The timeseries and per-user rows, as structs and as CSV text.
    pub rows: u64,
}

impl Estimate {
    /// All parts together.
    pub fn total(&self) -> u64 {
        self.viewers + self.catalog + self.rows
    }
}

/// Bytes per item: the catalog entry, its places in the per-topic and per-creator lists, the
/// platform's statistics and ranking record, the trending key and sorted impression counts.
const BYTES_PER_ITEM: u64 = std::mem::size_of::<crate::catalog::Item>() as u64
    + 4
    + 4
    + 4
    + 8
    + 1
    + 4
    + std::mem::size_of::<crate::recommender::Ranked>() as u64
    + 8
    + 4;

/// Columns of `users.csv` at most (with a taste space).
const USERS_CSV_COLUMNS: u64 = 31;

/// Bytes of CSV text per value written (six decimals, a sign, a comma).
const CSV_BYTES_PER_VALUE: u64 = 10;

/// Bytes of one viewer's state in an arm's run, and of its place in the population; with a
/// warm-up (`population.warmup_minutes`), the warmed state every arm starts from is a second
/// copy.
pub fn bytes_per_viewer(scenario: &Scenario) -> u64 {
    let k = scenario.n_topics() as u64;
    let dims = u64::from(scenario.catalog.taste_dimensions);
    let copies = if scenario.population.warmup_minutes > 0.0 {
        2
    } else {
        1
    };
    let history = u64::from(scenario.metrics.window.max(1)).max(u64::from(scenario.feed.no_repeat));
    let follow_cap = u64::from(scenario.viewer.max_follows);
    let state = BYTES_PER_VIEWER_FIXED as u64
        + (5 * k + crate::taste::block_len(dims as usize) as u64) * 4
        + (history + follow_cap) * 4
        + history * 2
        + factor_bytes(scenario).0;
    copies * state + std::mem::size_of::<crate::population::Person>() as u64 + (k + dims) * 4
}

/// Bytes per viewer and per item of the largest collaborative model an arm learns
/// (`docs/model.md` §8f; 0 without one): a viewer's F factors and bias, its signal, item and
/// place in the step's grouping; an item's F factors and bias, its cell, its start in the
/// grouping and its place in the index.
fn factor_bytes(scenario: &Scenario) -> (u64, u64) {
    let f = scenario
        .arms
        .iter()
        .flat_map(|a| [Some(&a.policy), a.switch.as_ref().map(|s| &s.policy)])
        .flatten()
        .filter_map(|p| p.collaborative())
        .map(|c| u64::from(c.dimensions))
        .max();
    f.map_or((0, 0), |f| (4 * f + 16, 4 * f + 14))
}

/// Cohorts a row set can have: all viewers, minors and adults, and the cohorts of the features
/// the scenario uses.
fn cohorts(scenario: &Scenario) -> u64 {
    let mut n = 3;
    if scenario.arms.iter().any(|a| a.switch.is_some()) {
        n += 2;
    }
    if scenario.arms.iter().any(|a| a.coordinated.is_some()) {
        n += 2;
    }
    if scenario.population.vulnerable_adult_share > 0.0 || scenario.population.vulnerable_minor_share > 0.0 {
        n += 1;
    }
    if scenario.n_bots() > 0 {
        n += 1;
    }
    n
}

/// The estimate for `replicates` replicates of `scenario` (`per_user`: with `users.csv`).
pub fn estimate(scenario: &Scenario, replicates: u32, per_user: bool) -> Estimate {
    let viewers = u64::from(scenario.population.users) + scenario.n_bots();
    let items = u64::from(scenario.catalog.items) + scenario.n_arrivals();
    let runs = u64::from(replicates) * scenario.arms.len() as u64;
    let groups = scenario.catalog.groups.len() as u64;
    let row = std::mem::size_of::<TimeRow>() as u64
        + 2 * groups * 8
        + (5 + Metric::COUNT as u64 + 2 * groups) * CSV_BYTES_PER_VALUE;
    let time_rows = runs * cohorts(scenario) * u64::from(scenario.feed.max_steps);
    let user_rows = if per_user { runs * viewers } else { 0 };
    let user_row = std::mem::size_of::<UserRow>() as u64 + USERS_CSV_COLUMNS * CSV_BYTES_PER_VALUE;
    Estimate {
        viewers: viewers.saturating_mul(bytes_per_viewer(scenario)),
        // With a taste space, each item's offset: D floats.
        // With a collaborative arm, each item's factors and their index.
        catalog: items.saturating_mul(
            BYTES_PER_ITEM + 4 * u64::from(scenario.catalog.taste_dimensions) + factor_bytes(scenario).1,
        ),
        rows: time_rows
            .saturating_mul(row)
            .saturating_add(user_rows.saturating_mul(user_row)),
    }
}

/// The memory this process may still use, in bytes: the kernel's `MemAvailable`, or less when
/// a cgroup (v2) limit leaves less. None where neither can be read.
pub fn available() -> Option<u64> {
    let meminfo = std::fs::read_to_string("/proc/meminfo").ok().and_then(|text| {
        let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
        let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kib * 1024)
    });
    let read = |name: &str| -> Option<u64> {
        std::fs::read_to_string(format!("/sys/fs/cgroup/{name}"))
            .ok()?
            .trim()
            .parse()
            .ok()
    };
    let cgroup = read("memory.max").map(|max| max.saturating_sub(read("memory.current").unwrap_or(0)));
    match (meminfo, cgroup) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// Bytes as MiB for messages.
pub fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_estimate_grows_with_each_dimension() {
        let s = Scenario::default();
        let base = estimate(&s, 1, false);
        let mut more = s.clone();
        more.population.users *= 2;
        assert_eq!(estimate(&more, 1, false).viewers, 2 * base.viewers);
        let mut steps = s.clone();
        steps.feed.max_steps *= 2;
        assert_eq!(estimate(&steps, 1, false).rows, 2 * base.rows);
        assert_eq!(estimate(&s, 3, false).rows, 3 * base.rows);
        assert!(estimate(&s, 1, true).rows > base.rows);
    }
}
