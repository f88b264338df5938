//! `plot RUN_DIR`: draw the charts and report of an existing results directory.

use super::{Failure, PlotArgs};
use rabbithole::plot::{self, PlotError};
use std::time::Instant;

pub(crate) fn plot(args: PlotArgs) -> Result<(), Failure> {
    let started = Instant::now();
    let written = plot::plot_dir(&args.run_dir).map_err(failure)?;
    if !args.quiet {
        println!(
            "{} charts and {} in {} ({:.2} s)",
            written.len().saturating_sub(1),
            plot::REPORT,
            args.run_dir.display(),
            started.elapsed().as_secs_f64()
        );
    }
    Ok(())
}

/// Maps a plotting error to its exit status: bad input 2, a failed write 1.
pub(crate) fn failure(e: PlotError) -> Failure {
    if e.is_bad_input() {
        Failure::Input(e.to_string())
    } else {
        Failure::Run(e.to_string())
    }
}
