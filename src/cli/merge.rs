//! `merge`: the shard directories of a run, a sweep or a sensitivity study combined into the unsharded result.
//! Every part is checked before anything is written; any problem is bad input (exit 2).

use super::claim::Claim;
use super::run::{charts, write_dir};
use super::{Failure, MergeArgs};
use rabbithole::merge::{self, MergeContext};
use std::time::SystemTime;

pub(crate) fn merge(args: MergeArgs) -> Result<(), Failure> {
    if let Some(part) = args.parts.iter().find(|p| same_dir(p, &args.out)) {
        return Err(Failure::Input(format!(
            "--out {} is one of the parts ({}); choose another directory",
            args.out.display(),
            part.display()
        )));
    }
    if args.parts.first().is_some_and(|p| super::sensitivity::is_part(p)) {
        return super::sensitivity::merge(args);
    }
    let claim = Claim::take(&args.out, args.force, args.remove_stale)?;
    let context = MergeContext {
        command_line: std::env::args().collect(),
        start_time: humantime::format_rfc3339_seconds(SystemTime::now()).to_string(),
        csv_style: args.csv_style.map(Into::into),
    };
    let merged = merge::merge_dirs(&args.parts, &context)
        .map_err(|e| Failure::Input(format!("merge: {e}\nnothing was written")))?;
    let mut files = merged.files;
    if !args.no_plot {
        files = with_charts(files)?;
    }
    // The charts are drawn from the standard files; the CSV files are restyled last.
    rabbithole::output::restyle(&mut files, merged.csv_style);
    write_dir(&claim, files, args.force)?;
    for note in merged.notes {
        eprintln!("note: {note}");
    }
    if !args.quiet {
        println!("merged {} parts into {}", args.parts.len(), args.out.display());
    }
    Ok(())
}

/// `files` with the charts and report of every run directory among them (the merged run, or
/// each point of a merged sweep) added beside its CSV files, and a merged sweep's own charts
/// and report, as `run` and `sweep` draw them.
fn with_charts(files: Vec<(String, Vec<u8>)>) -> Result<Vec<(String, Vec<u8>)>, Failure> {
    let mut dirs: Vec<String> = Vec::new();
    for (name, _) in &files {
        let (dir, file) = name.rsplit_once('/').unwrap_or(("", name));
        if file == "timeseries.csv" && !dirs.iter().any(|d| d == dir) {
            dirs.push(dir.to_string());
        }
    }
    let mut drawn = Vec::new();
    for dir in dirs {
        let prefix = if dir.is_empty() {
            String::new()
        } else {
            format!("{dir}/")
        };
        let run_files: Vec<(&str, Vec<u8>)> = files
            .iter()
            .filter_map(|(name, bytes)| {
                let file = name.strip_prefix(&prefix)?;
                (!file.contains('/')).then(|| (file, bytes.clone()))
            })
            .collect();
        for (file, bytes) in charts(&run_files, "merged")? {
            drawn.push((format!("{prefix}{file}"), bytes));
        }
    }
    // A merged sweep's own charts, from its sweep.csv, as `sweep` draws them.
    if let Some((_, csv)) = files.iter().find(|(n, _)| n == "sweep.csv") {
        let json = files
            .iter()
            .find(|(n, _)| n == "sweep.json")
            .map(|(_, b)| b.as_slice());
        let charts = rabbithole::plot::render_sweep(csv, json, "merged")
            .map_err(|e| Failure::Run(format!("cannot draw the sweep's charts: {e}")))?;
        drawn.extend(charts);
    }
    Ok(files.into_iter().chain(drawn).collect())
}

/// True if `a` and `b` name the same existing directory.
fn same_dir(a: &std::path::Path, b: &std::path::Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}
