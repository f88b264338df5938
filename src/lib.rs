//! rabbithole: an agent-based simulator of recommendation-algorithm rabbit holes.
//!
//! The pipeline: a [`scenario`] is read and validated once; each replicate draws a
//! [`catalog`] and a [`population`]; the [`engine`] runs every arm (a [`recommender`] policy)
//! on the same people with the same random numbers ([`rng`]), each [`viewer`] responding to
//! one item per step; [`metrics`] turn their state into rows that [`output`] writes, and
//! [`plot`] draws them as charts and a report.

pub mod boost;
pub mod catalog;
pub mod engine;
pub mod explain;
pub mod merge;
pub mod metrics;
pub mod output;
pub mod plot;
pub mod population;
pub mod recommender;
pub mod rng;
pub mod scenario;
pub mod shard;
pub mod sweep;
pub mod viewer;
