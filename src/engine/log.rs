//! The impression log (`run --log impressions`): one row per impression.
//!
//! A viewer's step writes what the log needs beyond the platform's [`Outcome`] into the
//! viewer's own [`Detail`] slot, so the parallel pass takes no lock and shares nothing; after
//! the step, [`ImpressionLog::collect`] reads the slots in viewer order, so the rows, and the
//! file, are the same for any thread count. An arm that does not log has no slots, and its
//! step writes none.
//!
//! The rows are not kept for the whole run: once [`FLUSH_ROWS`] have gathered, they go to the
//! run's [`ImpressionSink`] (the Parquet writer of `run --log impressions` encodes them into
//! the file as the run goes), so the log's memory is bounded by that buffer, not by the run.

use super::platform::{NONE, Outcome};
use crate::catalog::Catalog;
use crate::recommender::Source;

/// What the log needs of a viewer's impression beyond its [`Outcome`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Detail {
    /// Seconds of use when the impression started.
    pub clock: f32,
    /// Share of the item watched, and seconds watched.
    pub fraction: f32,
    pub seconds: f32,
    /// Where the item came from.
    pub source: Source,
    pub followed: bool,
    pub skipped: bool,
}

impl Detail {
    /// A slot not yet written.
    const EMPTY: Detail = Detail {
        clock: 0.0,
        fraction: 0.0,
        seconds: 0.0,
        source: Source::Catalog,
        followed: false,
        skipped: false,
    };
}

/// One row of the impression log.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Impression {
    pub arm: u16,
    pub replicate: u32,
    pub user: u32,
    pub step: u32,
    /// Seconds of use when the impression started.
    pub clock: f32,
    pub item: u32,
    pub topic: u16,
    pub creator: u32,
    /// The item's stance, for an item of a stance-bearing topic.
    pub stance: Option<f32>,
    pub source: Source,
    /// Share of the item watched.
    pub fraction: f32,
    /// Seconds watched, and the item's duration in seconds.
    pub seconds: f32,
    pub duration: f32,
    pub liked: bool,
    pub followed: bool,
    pub skipped: bool,
}

/// Rows gathered before they are handed to the sink: at most this many plus one step's.
pub const FLUSH_ROWS: usize = 64 * 1024;

/// Where a run's impressions go, in (replicate, arm, step, viewer) order, a batch at a time.
pub trait ImpressionSink {
    /// Takes the rows of `rows`, leaving it empty.
    fn take(&mut self, rows: &mut Vec<Impression>);
}

/// A sink that keeps every row (the library's `Results::impressions`).
impl ImpressionSink for Vec<Impression> {
    fn take(&mut self, rows: &mut Vec<Impression>) {
        self.append(rows);
    }
}

/// One arm's log: the viewers' slots, the rows not yet handed over, and where they go.
pub(super) struct ImpressionLog<'s> {
    /// One per viewer, written by its step.
    pub details: Vec<Detail>,
    rows: Vec<Impression>,
    sink: &'s mut dyn ImpressionSink,
}

impl<'s> ImpressionLog<'s> {
    /// A log of `viewers` viewers, without rows, handing its rows to `sink`.
    pub fn new(viewers: usize, sink: &'s mut dyn ImpressionSink) -> ImpressionLog<'s> {
        ImpressionLog {
            details: vec![Detail::EMPTY; viewers],
            rows: Vec::new(),
            sink,
        }
    }

    /// Hands the rows gathered so far to the sink.
    pub fn flush(&mut self) {
        if !self.rows.is_empty() {
            self.sink.take(&mut self.rows);
        }
    }

    /// Appends a row for every viewer shown an item at `step`, in viewer order.
    pub fn collect(
        &mut self,
        arm: usize,
        replicate: u32,
        step: u32,
        outcomes: &[Outcome],
        catalog: &Catalog,
    ) {
        for (user, (o, d)) in outcomes.iter().zip(&self.details).enumerate() {
            if o.item == NONE {
                continue;
            }
            let item = &catalog.items[o.item as usize];
            self.rows.push(Impression {
                arm: arm as u16,
                replicate,
                user: user as u32,
                step,
                clock: d.clock,
                item: o.item,
                topic: item.topic,
                creator: item.creator,
                stance: item.stance_bearing().then_some(item.stance),
                source: d.source,
                fraction: d.fraction,
                seconds: d.seconds,
                duration: item.duration,
                liked: o.liked,
                followed: d.followed,
                skipped: d.skipped,
            });
        }
        if self.rows.len() >= FLUSH_ROWS {
            self.flush();
        }
    }
}
