//! The memory a run will need, estimated from the scenario alone (nothing is allocated), and
//! the memory the machine has, so that a run that cannot fit is refused before it starts.
//!
//! The estimate adds what a run holds at its peak, each part counted from the sizes of the
//! structures that hold it: the process itself, one arm's viewers with the population and the
//! reduction's per-viewer columns, the catalog with every arrival and the platform's per-item
//! statistics, and the result rows of every arm and replicate, held as structs, as CSV text,
//! and parsed again by the charts, the impression log's buffer, and the state of the arms
//! that run beside the first ([`arms_at_once`]). How many steps the runs
//! take is an outcome of the feed (viewers stop when boredom ends their last session), so
//! [`estimate`] takes every run to last `feed.max_steps` steps, an upper bound, cheap and sure,
//! and [`predict`] runs a small pilot of the scenario ([`predict::pilot`]) to predict the
//! steps, which is what `validate` prints and what the guard compares when the bound does not
//! fit; [`estimate_for_rows`] is the estimate for a known number of rows.
//! `tests/integration/memory.rs` checks the prediction before a run against its measured peak.

mod predict;

pub use predict::{
    NoPilot, PILOT_ITEMS, PILOT_STEPS, PILOT_VIEWERS, PILOT_WORK, PROBE_STEPS, Pilot, most_work, pilot,
    tail_growth, warmup_steps,
};

use crate::engine::{
    BYTES_PER_VIEWER_FIXED, Impression, QUANTILE_BYTES_PER_MEMBER, TERMS_BYTES_PER_VIEWER, TimeRow, UserRow,
    Warmed,
};
use crate::metrics::Metric;
use crate::scenario::Scenario;

/// Bytes a run will need, by part.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Estimate {
    /// The process before it allocates anything for the scenario (code, libraries, stacks).
    pub process: u64,
    /// The viewers' state and the population, for one arm (more arms at once: `arms_beside`).
    pub viewers: u64,
    /// The catalog, arrivals included, and the platform's per-item statistics.
    pub catalog: u64,
    /// The timeseries and per-user rows, as structs, as CSV text and as the charts read them.
    pub rows: u64,
    /// The impression log (`run --log impressions`), as rows and as Parquet; 0 without it.
    pub log: u64,
    /// The state of the arms that run beside the first ([`arms_at_once`]); 0 when the arms run
    /// one after another.
    pub arms_beside: u64,
}

impl Estimate {
    /// All parts together.
    pub fn total(&self) -> u64 {
        self.process + self.viewers + self.catalog + self.rows + self.log + self.arms_beside
    }

    /// The estimate when `n` arms of `scenario` run side by side (`n` - 1 more arms' state).
    pub fn with_arms_at_once(self, scenario: &Scenario, n: usize) -> Estimate {
        Estimate {
            arms_beside: (n.max(1) as u64 - 1).saturating_mul(arm_bytes(scenario)),
            ..self
        }
    }

    /// The estimate with the impression log of `log`.
    pub fn with_impression_log(self, log: LogSize) -> Estimate {
        Estimate {
            log: log.bytes(),
            ..self
        }
    }

    /// The estimate without the result rows: what a run needs however few steps it takes.
    pub fn without_rows(self) -> Estimate {
        Estimate { rows: 0, ..self }
    }
}

/// Bytes of Parquet per impression: 32 bounds the 22 to 27 measured on the quick-start and
/// ampliganda scenarios (most columns are dictionary or run-length encoded).
const PARQUET_BYTES_PER_IMPRESSION: u64 = 32;

/// Rows of a Parquet row group: the arrow writer's default, which the log keeps (its file is
/// the same bytes as before it was written as the run went).
const ROW_GROUP_ROWS: u64 = 1024 * 1024;

/// Bytes of the encoder's state per row of the row group being encoded, beyond its encoded
/// pages (dictionary indices not yet run-length encoded): fitted to the peaks of the quick
/// start with the log, one replicate (0.4 M rows) and five (1.5 M rows, a full row group).
const ENCODER_BYTES_PER_ROW: u64 = 8;

/// Bytes of the arrow arrays of a record batch per row: the strings' offsets and text (three
/// columns of about 8 bytes), nine numbers of 4 or 8 bytes, the validity of `stance`.
const ARROW_BYTES_PER_ROW: u64 = 100;

/// The size of the impression log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogSize {
    /// Impressions: at most ([`LogSize::of`]) or predicted ([`LogSize::predicted`]).
    pub impressions: u64,
    /// Viewers (audit bots included): one step's rows are gathered before they are handed on.
    pub viewers: u64,
}

impl LogSize {
    /// Impressions at most for `replicates` replicates of `scenario`: every viewer of every
    /// arm and replicate shown an item at every step (`feed.max_steps`, or fewer when
    /// `feed.minutes` at `viewer.swipe_seconds` per impression allows fewer).
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
            viewers,
        }
    }

    /// Impressions as the pilot predicts them: its impressions per viewer of each arm, times
    /// the viewers and replicates.
    pub fn predicted(scenario: &Scenario, replicates: u32, pilot: &Pilot) -> LogSize {
        let viewers = u64::from(scenario.population.users) + scenario.n_bots();
        let per_replicate: f64 = pilot.impressions.iter().sum::<f64>() * viewers as f64;
        LogSize {
            impressions: (per_replicate * f64::from(replicates)).round() as u64,
            viewers,
        }
    }

    /// Bytes in memory: the log is written as the run goes, so what it holds is bounded by its
    /// buffers, not by the log: the rows gathered before they are handed on (a batch and one
    /// step's), the batch being encoded as rows and as arrow arrays, and the row group being
    /// encoded (its pages, until the row group is written to the file).
    pub fn bytes(&self) -> u64 {
        let batch = crate::engine::FLUSH_ROWS as u64;
        let gathered = self.impressions.min(2 * batch + self.viewers);
        let encoded = self.impressions.min(ROW_GROUP_ROWS);
        gathered * std::mem::size_of::<Impression>() as u64
            + self.impressions.min(batch) * ARROW_BYTES_PER_ROW
            + encoded * (PARQUET_BYTES_PER_IMPRESSION + ENCODER_BYTES_PER_ROW)
    }

    /// Bytes of the file at most.
    pub fn file_bytes(&self) -> u64 {
        self.impressions.saturating_mul(PARQUET_BYTES_PER_IMPRESSION)
    }
}

/// What a run writes besides `timeseries.csv`, as far as it changes the memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Outputs {
    /// `users.csv` (`--per-user`).
    pub per_user: bool,
    /// The charts and report (not `--no-plot`).
    pub charts: bool,
}

/// Resident bytes of the process before the scenario is sized: measured as the peak of a run
/// of one viewer, one item and one step (5.6 to 6.3 MiB with 1 to 4 threads).
const PROCESS_BYTES: u64 = 6 << 20;

/// Bytes per item: the catalog entry, its places in the per-topic and per-creator lists, and
/// what each arm keeps ([`ARM_BYTES_PER_ITEM`]).
const BYTES_PER_ITEM: u64 = std::mem::size_of::<crate::catalog::Item>() as u64 + 4 + 4 + ARM_BYTES_PER_ITEM;

/// Bytes per item of an arm's run: the platform's statistics and ranking record, the trending
/// key and sorted impression counts, and the counts of the last `metrics.recent_steps` steps,
/// sorted too.
const ARM_BYTES_PER_ITEM: u64 =
    4 + 8 + 1 + 4 + std::mem::size_of::<crate::recommender::Ranked>() as u64 + 8 + 4 + 4 + 4;

/// Columns of `users.csv` at most (with a taste space).
const USERS_CSV_COLUMNS: u64 = 31;

/// Bytes of CSV text per value written: six decimals and a comma, fewer for counts and empty
/// cells (measured: 8.0 per value in the quick start's `timeseries.csv`).
const CSV_BYTES_PER_VALUE: u64 = 8;

/// Bytes per value of `timeseries.csv` parsed for the charts (`csv::StringRecord`: the text,
/// the field ends and the record; measured: 25 per value, 900 per 36-column row).
const PLOT_BYTES_PER_VALUE: u64 = 25;

/// Bytes the allocator takes for a heap block of `bytes` (glibc: an 8-byte header, 16-byte
/// granules, 32 bytes at least); none for an empty vector.
fn heap_block(bytes: u64) -> u64 {
    if bytes == 0 {
        0
    } else {
        ((bytes + 8).div_ceil(16) * 16).max(32)
    }
}

/// Bytes of one viewer's state in an arm's run (the platform's window of recent impressions
/// included: one item per step of `metrics.recent_steps`), and of its place in the population;
/// with a warm-up (`population.warmup_minutes`), the warmed state every arm starts from
/// ([`Warmed`]: the viewer's scalars, interests, profile, taste and follows, not a second arm).
pub fn bytes_per_viewer(scenario: &Scenario) -> u64 {
    let k = scenario.n_topics() as u64;
    let dims = u64::from(scenario.catalog.taste_dimensions);
    let follow_cap = u64::from(scenario.viewer.max_follows);
    let warmed = if scenario.population.warmup_minutes > 0.0 {
        Warmed::bytes_per_viewer(k as usize, dims as usize, follow_cap as usize) as u64
    } else {
        0
    };
    arm_bytes_per_viewer(scenario)
        + warmed
        + std::mem::size_of::<crate::population::Person>() as u64
        + (k + dims) * 4
}

/// Bytes of one viewer's state in an arm's run and in its reduction: what each arm that runs
/// at the same time holds again.
fn arm_bytes_per_viewer(scenario: &Scenario) -> u64 {
    let k = scenario.n_topics() as u64;
    let dims = u64::from(scenario.catalog.taste_dimensions);
    let history = u64::from(scenario.metrics.window.max(1)).max(u64::from(scenario.feed.no_repeat));
    let follow_cap = u64::from(scenario.viewer.max_follows);
    let state = BYTES_PER_VIEWER_FIXED as u64
        + (5 * k + crate::taste::block_len(dims as usize) as u64) * 4
        + (history + follow_cap) * 4
        + history * 2
        + u64::from(scenario.metrics.recent_steps) * 4
        + factor_bytes(scenario).0;
    // The reduction's columns, and the quantiles' buffers of every cohort a viewer is in.
    let memberships = cohorts_by_arm(scenario).map(|c| 1 + c / 2).max().unwrap_or(1);
    let reduce = TERMS_BYTES_PER_VIEWER as u64 + memberships * QUANTILE_BYTES_PER_MEMBER as u64;
    state + reduce
}

/// Bytes of one arm's run: its viewers' state and the platform's per-item statistics (the
/// catalog and the population are shared by the arms).
pub fn arm_bytes(scenario: &Scenario) -> u64 {
    let viewers = u64::from(scenario.population.users) + scenario.n_bots();
    let items = u64::from(scenario.catalog.items) + scenario.n_arrivals();
    viewers
        .saturating_mul(arm_bytes_per_viewer(scenario))
        .saturating_add(items.saturating_mul(ARM_BYTES_PER_ITEM + factor_bytes(scenario).1))
}

/// How many arms of a replicate run side by side ([`crate::engine::RunOptions::arms_at_once`]):
/// as many as there are threads and arms, fewer when the run estimated at `estimate` (one arm
/// at a time) would then need more than the `available` memory (as many as fit, at least
/// one); with no figure for the memory available, as many as there are threads and arms.
pub fn arms_at_once(
    scenario: &Scenario,
    threads: usize,
    estimate: Estimate,
    available: Option<u64>,
) -> usize {
    let most = threads.min(scenario.arms.len()).max(1);
    match available {
        None => most,
        Some(bytes) => (1..=most)
            .rev()
            .find(|&n| estimate.with_arms_at_once(scenario, n).total() <= bytes)
            .unwrap_or(1),
    }
}

/// Each arm's cohorts, as the engine forms them: all viewers, switchers and stayers,
/// coordinated and organic, and with the safety features minors and adults (when there are
/// both), vulnerable viewers and bots (when there are any).
fn cohorts_by_arm(scenario: &Scenario) -> impl Iterator<Item = u64> + '_ {
    let p = &scenario.population;
    let safety = if scenario.safety_features() {
        let ages = if p.minor_share > 0.0 && p.minor_share < 1.0 {
            2
        } else {
            0
        };
        let vulnerable = p.vulnerable_adult_share > 0.0 || p.vulnerable_minor_share > 0.0;
        ages + u64::from(vulnerable) + u64::from(scenario.n_bots() > 0)
    } else {
        0
    };
    scenario.arms.iter().map(move |arm| {
        1 + 2 * u64::from(arm.switch.is_some()) + 2 * u64::from(arm.coordinated.is_some()) + safety
    })
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

/// Rows of `timeseries.csv` for `replicates` replicates when every run lasts `feed.max_steps`
/// steps: at most what a run writes.
pub fn time_rows(scenario: &Scenario, replicates: u32) -> u64 {
    let steps = vec![scenario.feed.max_steps; scenario.arms.len()];
    time_rows_for_steps(scenario, replicates, &steps)
}

/// Rows of `timeseries.csv` for `replicates` replicates when a run of arm a lasts `steps[a]`
/// steps: one row per cohort at every `metrics.every`-th step and at the last.
pub fn time_rows_for_steps(scenario: &Scenario, replicates: u32, steps: &[u32]) -> u64 {
    let every = u64::from(scenario.metrics.every);
    let per_replicate: u64 = cohorts_by_arm(scenario)
        .zip(steps)
        .map(|(cohorts, &steps)| {
            let steps = u64::from(steps.max(1));
            cohorts * (steps.div_ceil(every) + u64::from((steps - 1) % every != 0))
        })
        .sum();
    u64::from(replicates) * per_replicate
}

/// The estimate for `replicates` replicates of `scenario`, every run taking `feed.max_steps`
/// steps: an upper bound, without the impression log.
pub fn estimate(scenario: &Scenario, replicates: u32, outputs: Outputs) -> Estimate {
    estimate_for_rows(scenario, replicates, outputs, time_rows(scenario, replicates))
}

/// The estimate for `replicates` replicates of `scenario` with the steps and impressions the
/// pilot predicts ([`pilot`]; the bound where it cannot tell), the impression log's buffer
/// included when `log`.
pub fn predict(scenario: &Scenario, replicates: u32, outputs: Outputs, log: bool) -> Estimate {
    let pilot = pilot(scenario);
    let (rows, log_size) = match &pilot {
        Ok(p) => (
            time_rows_for_steps(scenario, replicates, &p.steps),
            LogSize::predicted(scenario, replicates, p),
        ),
        Err(_) => (time_rows(scenario, replicates), LogSize::of(scenario, replicates)),
    };
    let estimate = estimate_for_rows(scenario, replicates, outputs, rows);
    if log {
        estimate.with_impression_log(log_size)
    } else {
        estimate
    }
}

/// The estimate when the runs write `time_rows` rows of `timeseries.csv` in all.
pub fn estimate_for_rows(scenario: &Scenario, replicates: u32, outputs: Outputs, time_rows: u64) -> Estimate {
    let viewers = u64::from(scenario.population.users) + scenario.n_bots();
    let items = u64::from(scenario.catalog.items) + scenario.n_arrivals();
    let groups = scenario.catalog.groups.len() as u64;
    // Per group: exposure, catalog share, reach and amplification by reach.
    let columns = 5 + Metric::COUNT as u64 + 4 * groups;
    let per_value = CSV_BYTES_PER_VALUE + if outputs.charts { PLOT_BYTES_PER_VALUE } else { 0 };
    let row = std::mem::size_of::<TimeRow>() as u64 + 4 * heap_block(groups * 8) + columns * per_value;
    let user_rows = if outputs.per_user {
        u64::from(replicates) * scenario.arms.len() as u64 * viewers
    } else {
        0
    };
    let user_row = std::mem::size_of::<UserRow>() as u64 + USERS_CSV_COLUMNS * CSV_BYTES_PER_VALUE;
    Estimate {
        process: PROCESS_BYTES,
        viewers: viewers.saturating_mul(bytes_per_viewer(scenario)),
        // With a taste space, each item's offset: D floats.
        // With a collaborative arm, each item's factors and their index.
        catalog: items.saturating_mul(
            BYTES_PER_ITEM + 4 * u64::from(scenario.catalog.taste_dimensions) + factor_bytes(scenario).1,
        ),
        rows: time_rows
            .saturating_mul(row)
            .saturating_add(user_rows.saturating_mul(user_row)),
        log: 0,
        arms_beside: 0,
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

/// The peak resident memory of this process so far (`VmHWM`), where Linux reports it. Not
/// `getrusage`: its maximum also counts the parent's memory at the moment it started us.
pub fn peak() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
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
        let plain = Outputs::default();
        let base = estimate(&s, 1, plain);
        let mut more = s.clone();
        more.population.users *= 2;
        assert_eq!(estimate(&more, 1, plain).viewers, 2 * base.viewers);
        let mut steps = s.clone();
        steps.feed.max_steps *= 2;
        assert_eq!(estimate(&steps, 1, plain).rows, 2 * base.rows);
        assert_eq!(estimate(&s, 3, plain).rows, 3 * base.rows);
        let per_user = Outputs {
            per_user: true,
            ..plain
        };
        assert!(estimate(&s, 1, per_user).rows > base.rows);
    }

    /// Arms side by side: as many as threads and arms allow, fewer when memory does not.
    #[test]
    fn arms_run_side_by_side_as_far_as_threads_arms_and_memory_allow() {
        let s = Scenario::default();
        let arms = s.arms.len();
        assert!(arms >= 2, "the default scenario has {arms} arms");
        let one = estimate(&s, 1, Outputs::default());
        let arm = arm_bytes(&s);
        assert!(arm > 0 && arm < one.viewers + one.catalog);
        assert_eq!(one.with_arms_at_once(&s, 1), one);
        assert_eq!(one.with_arms_at_once(&s, 3).total(), one.total() + 2 * arm);
        assert_eq!(arms_at_once(&s, 1, one, None), 1);
        assert_eq!(arms_at_once(&s, 64, one, None), arms);
        assert_eq!(arms_at_once(&s, 2, one, Some(u64::MAX)), 2);
        // Room for one arm and a byte short of a second: one at a time.
        assert_eq!(arms_at_once(&s, 2, one, Some(one.total() + arm - 1)), 1);
        assert_eq!(arms_at_once(&s, 2, one, Some(one.total() + arm)), 2);
        // Not even one arm fits (the guard was told to ignore it): one at a time.
        assert_eq!(arms_at_once(&s, 2, one, Some(1)), 1);
    }

    /// The warm-up keeps the scalars it changed (stance, learned stance and its weight, habit,
    /// follow counts: 20 B), 3 K + D floats and the follow slots for the arms to start from,
    /// not a second arm: with the defaults (K = 9, D = 16, 16 follow slots) 20 + 172 + 64
    /// bytes, and the whole stays within 1 KiB beyond the feed window.
    #[test]
    fn a_warm_up_keeps_less_than_a_second_arm() {
        let s = Scenario::default();
        let mut warm = s.clone();
        warm.population.warmup_minutes = 120.0;
        let extra = bytes_per_viewer(&warm) - bytes_per_viewer(&s);
        assert_eq!(extra, 20 + (3 * 9 + 16) * 4 + 16 * 4);
        // The feed window: W = 20 recent items (u32) and their topics (u16).
        let window = 20 * (4 + 2);
        assert!(
            bytes_per_viewer(&warm) - window <= 1024,
            "{}",
            bytes_per_viewer(&warm)
        );
    }

    /// A run reports at steps 0, every, 2 every, ... and at its last step.
    #[test]
    fn report_steps_count_the_last_step_once() {
        let mut s = Scenario::default();
        s.arms.truncate(1);
        let rows = |steps: u32, every: u32| {
            let mut s = s.clone();
            s.feed.max_steps = steps;
            s.metrics.every = every;
            time_rows(&s, 1)
        };
        assert_eq!(rows(1, 1), 1);
        assert_eq!(rows(10, 1), 10);
        // Steps 0, 5 and the last, 9.
        assert_eq!(rows(10, 5), 3);
        // Steps 0, 5, 10: the last is a multiple.
        assert_eq!(rows(11, 5), 3);
        assert_eq!(rows(3, 100), 2);
    }
}
