//! Charts and the report of a run directory: SVG charts drawn with plotters from
//! `timeseries.csv` and `summary.csv`, and `report.html`, one page with the headline table,
//! every chart and the run's provenance from `manifest.json`.
//!
//! Everything is drawn from the files' bytes ([`render`], pure), so `plot` works on any run
//! directory, a merged one included, and `run` can draw into its temporary directory before
//! the run directory appears. A chart is drawn only when the columns it needs exist and say
//! something (boosted exposure needs `boosted_share`, group exposure two creator groups) and
//! the scenario is about it (`story.rs`: sensitive content with the safety features, creator
//! groups with groups or boosts of the scenario's own); the chart carrying its point leads.
//! [`plot_dir`] is the one function that touches files: it reads a run directory and writes
//! each chart beside the CSV files through a temporary name and a rename, never changing them.

mod bars;
mod boost;
pub mod data;
pub mod export;
mod labels;
mod lines;
mod report;
mod story;
mod style;
pub mod sweep;
pub mod tradeoff;

pub use data::Run;
// For the charts and page of `calibrate`, drawn in the same fonts and ink.
pub use report::esc;
use std::io;
use std::path::{Path, PathBuf};
pub use style::{INK, MUTED, bold, font};
// For the tornado charts of `sensitivity`, framed like the run's charts.
pub use style::{Area, DRAW, Frame, Swatch, colour, render_with, tick};

/// Why a run directory could not be plotted.
#[derive(Debug, thiserror::Error)]
pub enum PlotError {
    #[error("{path}: not a results directory (it has no {file})")]
    NotARunDir { path: PathBuf, file: &'static str },
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: io::Error },
    #[error("{file}: {message}")]
    Csv { file: String, message: String },
    #[error("{file} has no column {column:?}, which the charts need")]
    MissingColumn { file: String, column: String },
    #[error("manifest.json is not valid JSON: {0}")]
    Manifest(String),
    #[error("the directory's manifest: {0}")]
    Style(String),
    #[error("cannot write {path}: {source}")]
    Write { path: PathBuf, source: io::Error },
    #[error("{file}: {source}")]
    Export {
        file: String,
        source: export::ExportError,
    },
}

impl PlotError {
    /// Whether the error is in what was given (a directory or its files) rather than in
    /// writing the charts.
    pub fn is_bad_input(&self) -> bool {
        !matches!(self, PlotError::Write { .. } | PlotError::Export { .. })
    }
}

/// A chart kind: its file name and the function that draws it when it applies.
type ChartKind = (&'static str, fn(&Run) -> Option<String>);

/// Every chart, in the order the report shows them unless the scenario's point puts one
/// first ([`story::lead`]).
const CHARTS: [ChartKind; 7] = [
    ("feed-narrowing.svg", lines::feed_narrowing),
    ("rabbit-hole.svg", lines::rabbit_hole),
    ("tradeoff.svg", tradeoff::tradeoff),
    ("boosted.svg", boost::boosted),
    ("bots.svg", story::bots_chart),
    ("sensitive.svg", bars::sensitive),
    ("group-exposure.svg", bars::group_exposure),
];

/// The report's file name.
pub const REPORT: &str = "report.html";

/// The charts that apply to `run` and the report, as (file name, bytes).
pub fn render(run: &Run) -> Vec<(&'static str, Vec<u8>)> {
    let mut charts: Vec<(&'static str, String)> = CHARTS
        .iter()
        .filter_map(|(file, draw)| draw(run).map(|svg| (*file, svg)))
        .collect();
    // The chart that carries the scenario's point first, the others in their order.
    charts.sort_by_key(|(file, _)| {
        story::lead(run)
            .iter()
            .position(|l| l == file)
            .unwrap_or(usize::MAX)
    });
    let shown: Vec<report::Chart<'_>> = charts
        .iter()
        .map(|(file, svg)| report::Chart { file, svg })
        .collect();
    let report = report::html(run, &shown);
    let mut files: Vec<(&'static str, Vec<u8>)> =
        charts.into_iter().map(|(f, svg)| (f, svg.into_bytes())).collect();
    files.push((REPORT, report));
    files
}

/// The charts and report of a run held in memory as (file name, bytes), the way `run` holds
/// them before writing: `timeseries.csv` and `summary.csv` are needed, `manifest.json` is used
/// when present; `fallback_name` names the scenario without one.
pub fn render_files(
    files: &[(&str, Vec<u8>)],
    fallback_name: &str,
) -> Result<Vec<(&'static str, Vec<u8>)>, PlotError> {
    let find = |name: &str| files.iter().find(|(n, _)| *n == name).map(|(_, b)| b.as_slice());
    let need = |name: &'static str| {
        find(name).ok_or(PlotError::NotARunDir {
            path: PathBuf::from("."),
            file: name,
        })
    };
    let mut run = Run::parse(
        need("timeseries.csv")?,
        need("summary.csv")?,
        find("manifest.json"),
        fallback_name,
    )?;
    story::read_extras(&mut run, find("comparison.csv"), find("bot_summary.csv"))?;
    Ok(render(&run))
}

/// The charts and report of a sweep directory from its `sweep.csv` and `sweep.json`, as
/// (file name, bytes); `fallback_name` names the scenario without `sweep.json`.
pub fn render_sweep(
    sweep_csv: &[u8],
    sweep_json: Option<&[u8]>,
    fallback_name: &str,
) -> Result<Vec<(String, Vec<u8>)>, PlotError> {
    Ok(sweep::render(&sweep::Sweep::parse(
        sweep_csv,
        sweep_json,
        fallback_name,
    )?))
}

/// The formats charts are written in besides SVG.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Exports {
    /// Each chart also as `<chart>.png` ([`export::png`]).
    pub png: bool,
    /// Each chart also as `<chart>.pdf` ([`export::pdf`]).
    pub pdf: bool,
}

/// An SVG chart's bytes to another format's ([`export::png`], [`export::pdf`]).
type Converter = fn(&[u8]) -> Result<Vec<u8>, export::ExportError>;

/// `files` with, after each SVG chart, its PNG and PDF as `exports` asks.
fn exported(files: Vec<(String, Vec<u8>)>, exports: Exports) -> Result<Vec<(String, Vec<u8>)>, PlotError> {
    let mut out = Vec::with_capacity(files.len());
    for (file, bytes) in files {
        if let Some(stem) = file.strip_suffix(".svg") {
            let formats: [(bool, &str, Converter); 2] = [
                (exports.png, "png", export::png),
                (exports.pdf, "pdf", export::pdf),
            ];
            for (_, ext, convert) in formats.into_iter().filter(|f| f.0) {
                let exported = convert(&bytes).map_err(|source| PlotError::Export {
                    file: file.clone(),
                    source,
                })?;
                out.push((format!("{stem}.{ext}"), exported));
            }
        }
        out.push((file, bytes));
    }
    Ok(out)
}

/// Reads the run directory `dir` (or a sweep directory, one with `sweep.csv` and no
/// `timeseries.csv`), draws its charts and report (and each chart's PNG and PDF as `exports`
/// asks), and writes them into it, each through a temporary file renamed into place. Returns
/// the names written.
pub fn plot_dir(dir: &Path, exports: Exports) -> Result<Vec<String>, PlotError> {
    let read = |file: &'static str, required: bool| -> Result<Option<Vec<u8>>, PlotError> {
        let path = dir.join(file);
        match std::fs::read(&path) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == io::ErrorKind::NotFound && !required => Ok(None),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Err(PlotError::NotARunDir {
                path: dir.to_path_buf(),
                file,
            }),
            Err(source) => Err(PlotError::Read { path, source }),
        }
    };
    if !dir.is_dir() {
        return Err(PlotError::NotARunDir {
            path: dir.to_path_buf(),
            file: "timeseries.csv",
        });
    }
    let fallback = std::fs::canonicalize(dir)
        .ok()
        .and_then(|d| d.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "run".to_string());
    let sweep_csv = read("sweep.csv", false)?;
    let files: Vec<(String, Vec<u8>)> = match (sweep_csv, dir.join("timeseries.csv").exists()) {
        (Some(csv), false) => {
            let json = read("sweep.json", false)?;
            let csv = standard("sweep.csv", &csv, json.as_deref())?;
            render_sweep(&csv, json.as_deref(), &fallback)?
        }
        _ => plot_run(&fallback, read)?
            .into_iter()
            .map(|(f, b)| (f.to_string(), b))
            .collect(),
    };
    let files = exported(files, exports)?;
    for (file, bytes) in &files {
        write_atomically(&dir.join(file), bytes).map_err(|source| PlotError::Write {
            path: dir.join(file),
            source,
        })?;
    }
    Ok(files.into_iter().map(|(f, _)| f).collect())
}

/// The charts and report of a run directory whose files `read` reads.
fn plot_run(
    fallback: &str,
    read: impl Fn(&'static str, bool) -> Result<Option<Vec<u8>>, PlotError>,
) -> Result<Vec<(&'static str, Vec<u8>)>, PlotError> {
    let manifest = read("manifest.json", false)?;
    let csv = |file: &'static str, required: bool| -> Result<Option<Vec<u8>>, PlotError> {
        read(file, required)?
            .map(|bytes| standard(file, &bytes, manifest.as_deref()))
            .transpose()
    };
    let timeseries = csv("timeseries.csv", true)?.unwrap_or_default();
    let summary = csv("summary.csv", true)?.unwrap_or_default();
    let mut run = Run::parse(&timeseries, &summary, manifest.as_deref(), fallback)?;
    let comparison = csv("comparison.csv", false)?;
    let bots = csv("bot_summary.csv", false)?;
    story::read_extras(&mut run, comparison.as_deref(), bots.as_deref())?;
    Ok(render(&run))
}

/// The CSV file `file` of a directory whose manifest (`manifest.json` or `sweep.json`) is
/// `manifest`, in the standard style the charts read, whichever style it was written in.
fn standard(file: &str, bytes: &[u8], manifest: Option<&[u8]>) -> Result<Vec<u8>, PlotError> {
    let style = match manifest {
        Some(m) => {
            let json: serde_json::Value =
                serde_json::from_slice(m).map_err(|e| PlotError::Manifest(e.to_string()))?;
            crate::output::style_of_manifest(&json).map_err(PlotError::Style)?
        }
        None => crate::output::CsvStyle::Standard,
    };
    crate::output::to_standard(bytes, style).map_err(|e| PlotError::Csv {
        file: file.to_string(),
        message: format!("not a {} CSV file: {e}", style.name()),
    })
}

/// Writes `bytes` to `path` through a temporary file in the same directory, renamed into
/// place, so a reader sees the old file or the new one, never half of one.
fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "no file name"))?
        .to_string_lossy();
    let tmp = path.with_file_name(format!(".{name}.tmp-{}", std::process::id()));
    let result = std::fs::write(&tmp, bytes).and_then(|()| std::fs::rename(&tmp, path));
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}
