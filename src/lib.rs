//! rabbithole: an agent-based simulator of recommendation-algorithm rabbit holes.
//!
//! The pipeline: a [`scenario`] is read and validated once; each replicate draws a
//! [`catalog`] and a [`population`]; the [`engine`] runs every arm (a [`recommender`] policy)
//! on the same people with the same random numbers ([`rng`]), each [`viewer`] responding to
//! one item per step; [`metrics`] turn their state into rows that [`output`] writes, and
//! [`plot`] draws them as charts and a report.

// The modules in pipeline order (blank lines keep rustfmt from sorting them).

// Read and validated once, at the boundary; the random streams every stage draws from.
pub mod scenario;

pub mod rng;

// What a replicate draws once: the items and the people.
pub mod catalog;
pub mod population;

// The latent taste space of items, creators and viewers, and creators who join during a run.
pub mod taste;

pub mod new_creators;

// Who a viewer follows before the run starts.
pub mod following;

// The platform's side of a step: ranking, then what boosts add to it.
pub mod recommender;

// Cache hints for the hot loop.
mod cache;

pub mod boost;

// The viewer's side of a step: response and update.
pub mod viewer;

pub mod agreement;
pub mod habit;

// The step loop over replicates, arms and steps.
pub mod engine;

// From the viewers' state to rows, files and charts.
pub mod metrics;
pub mod output;
pub mod plot;

// One viewer's recommendations, disclosed.
pub mod explain;

// Many runs: a grid of scenarios, a run split into shards, and the shards' merge.
pub mod sweep;

pub mod shard;

/// The memory a run will need and the memory the machine has.
pub mod memory;
pub mod merge;

pub mod calibrate;
pub mod sensitivity;
