//! `calibrate`: fit a scenario's free parameters to published usage figures by the method of
//! simulated moments. A targets file ([`targets`]) lists the moments (a figure, its
//! uncertainty, the simulated [`stats::Statistic`] it is compared with and its source) and the
//! free parameters (scenario keys and ranges); [`fit`] searches the ranges with CMA-ES, each
//! generation's vectors simulated in parallel on common random numbers; [`report`] turns the
//! result into the files of the calibration directory. No IO here: the binary reads the files
//! and writes the directory.

pub mod fit;
pub mod report;
pub mod stats;
pub mod targets;

pub use fit::{Calibration, Evaluation, Generation, Problem};
pub use stats::Statistic;
pub use targets::{Moment, Parameter, Settings, Targets, TargetsError};
