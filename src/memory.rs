//! The memory a run will need, estimated from the scenario alone (nothing is allocated), and
//! the memory the machine has, so that a run that cannot fit is refused before it starts.
//!
//! The estimate is an upper bound on what grows with the scenario: the viewers' state and the
//! population of one arm's run, the catalog with every arrival, and the result rows of every
//! arm and replicate, held as structs and again as CSV text while the files are written. It
//! takes every viewer to run `feed.max_steps` steps, so runs that end earlier need less.

use crate::engine::{BYTES_PER_VIEWER_FIXED, Impression, TimeRow, UserRow};
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
    /// The impression log (`run --log impressions`), as rows and as Parquet; 0 without it.
    pub log: u64,
}

impl Estimate {
    /// All parts together.
    pub fn total(&self) -> u64 {
        self.viewers + self.catalog + self.rows + self.log
    }

    /// The estimate with the impression log of `replicates` replicates of `scenario`.
    pub fn with_impression_log(self, scenario: &Scenario, replicates: u32) -> Estimate {
        Estimate {
            log: LogSize::of(scenario, replicates).bytes(),
            ..self
        }
    }
}

/// Bytes of Parquet per impression, twice over: 32 bounds the 22 to 27 measured on the
/// quick-start and ampliganda scenarios (most columns are dictionary or run-length encoded),
/// and the bytes are held once as the file and once while a row group is encoded.
const PARQUET_BYTES_PER_IMPRESSION: u64 = 2 * 32;

/// The size of the impression log, bounded from the scenario alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogSize {
    /// Impressions at most: every viewer of every arm and replicate shown an item at every
    /// step (`feed.max_steps`, or fewer when `feed.minutes` at `viewer.swipe_seconds` per
    /// impression allows fewer).
    pub impressions: u64,
}

impl LogSize {
    /// The bound for `replicates` replicates of `scenario`.
    pub fn of(scenario: &Scenario, replicates: u32) -> LogSize {
        let viewers = u64::from(scenario.population.users) + scenario.n_bots();
        let runs = u64::from(replicates) * scenario.arms.len() as u64;
        let steps = u64::from(scenario.feed.max_steps);
        let per_viewer = match scenario.feed.minutes {
            // Each impression takes at least the swipe; the one that crosses the cap counts.
            Some(m) if scenario.viewer.swipe_seconds > 0.0 => {
                steps.min((m * 60.0 / scenario.viewer.swipe_seconds).ceil() as u64 + 1)
            }
            _ => steps,
        };
        LogSize {
            impressions: runs.saturating_mul(viewers).saturating_mul(per_viewer),
        }
    }

    /// Bytes in memory at most: the rows, and the file they are encoded into.
    pub fn bytes(&self) -> u64 {
        let per_row = std::mem::size_of::<Impression>() as u64 + PARQUET_BYTES_PER_IMPRESSION;
        self.impressions.saturating_mul(per_row)
    }

    /// Bytes of the file at most.
    pub fn file_bytes(&self) -> u64 {
        self.impressions.saturating_mul(PARQUET_BYTES_PER_IMPRESSION / 2)
    }
}

/// Bytes per item: the catalog entry, its places in the per-topic and per-creator lists, the
/// platform's statistics and ranking record, the trending key and sorted impression counts,
/// and the counts of the last `metrics.recent_steps` steps, sorted too.
const BYTES_PER_ITEM: u64 = std::mem::size_of::<crate::catalog::Item>() as u64
    + 4
    + 4
    + 4
    + 8
    + 1
    + 4
    + std::mem::size_of::<crate::recommender::Ranked>() as u64
    + 8
    + 4
    + 4
    + 4;

/// Columns of `users.csv` at most (with a taste space).
const USERS_CSV_COLUMNS: u64 = 31;

/// Bytes of CSV text per value written (six decimals, a sign, a comma).
const CSV_BYTES_PER_VALUE: u64 = 10;

/// Bytes of one viewer's state in an arm's run (the platform's window of recent impressions
/// included: one item per step of `metrics.recent_steps`), and of its place in the population;
/// with a warm-up (`population.warmup_minutes`), the warmed state every arm starts from is a
/// second copy.
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
        + u64::from(scenario.metrics.recent_steps) * 4;
    copies * state + std::mem::size_of::<crate::population::Person>() as u64 + (k + dims) * 4
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
        + 4 * groups * 8
        + (5 + Metric::COUNT as u64 + 4 * groups) * CSV_BYTES_PER_VALUE;
    let time_rows = runs * cohorts(scenario) * u64::from(scenario.feed.max_steps);
    let user_rows = if per_user { runs * viewers } else { 0 };
    let user_row = std::mem::size_of::<UserRow>() as u64 + USERS_CSV_COLUMNS * CSV_BYTES_PER_VALUE;
    Estimate {
        viewers: viewers.saturating_mul(bytes_per_viewer(scenario)),
        // With a taste space, each item's offset: D floats.
        catalog: items.saturating_mul(BYTES_PER_ITEM + 4 * u64::from(scenario.catalog.taste_dimensions)),
        rows: time_rows
            .saturating_mul(row)
            .saturating_add(user_rows.saturating_mul(user_row)),
        log: 0,
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
