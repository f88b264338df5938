//! `plot RUN_DIR`: draw the charts and report of an existing results directory.

use super::{Failure, PlotArgs};
use rabbithole::plot::{self, PlotError};
use std::time::Instant;

pub(crate) fn plot(args: PlotArgs) -> Result<(), Failure> {
    let started = Instant::now();
    let exports = plot::Exports {
        png: args.png,
        pdf: args.pdf,
    };
    let written = plot::plot_dir(&args.run_dir, exports).map_err(failure)?;
    if !args.quiet {
        let charts = written.iter().filter(|f| f.ends_with(".svg")).count();
        let formats: Vec<&str> = [(true, "SVG"), (args.png, "PNG"), (args.pdf, "PDF")]
            .iter()
            .filter(|(on, _)| *on)
            .map(|(_, f)| *f)
            .collect();
        println!(
            "{} charts ({}) and {} in {} ({:.2} s)",
            charts,
            formats.join(", "),
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
