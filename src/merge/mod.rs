//! `merge`: the shards of a run (`run --shard`) or of a sweep (`sweep --shard`) put back
//! together into exactly what the unsharded command writes.
//!
//! Rows of `timeseries.csv` and `users.csv` are regrouped by replicate, in ascending order
//! as an unsharded run writes them, and copied as they are. `summary.csv` is recomputed from
//! the final rows as written, the way a run computes it
//! ([`crate::output::summary_from_written`]), `bot_summary.csv` from the merged `bots.csv`
//! ([`crate::output::bot_summary_csv`]), and `sweep.csv` from the merged summaries
//! ([`crate::sweep::sweep_csv`]), so the CSV files are byte-identical to the unsharded ones.
//! Only the provenance differs: the manifests list the parts.
//!
//! Before anything is merged every part is checked: all from the same scenario and program,
//! every shard and every replicate present exactly once. Problems are reported together, by
//! part name. Reading is the only IO here; the caller writes the result.

mod check;
mod run;
mod sweep;

pub use run::{RunPart, merge_runs};
pub use sweep::{SweepPart, merge_sweeps};

use crate::output::CsvStyle;
use serde_json::{Map, Value, json};
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use thiserror::Error;

/// Why parts could not be merged.
#[derive(Debug, Error)]
pub enum MergeError {
    /// A file of a part could not be read.
    #[error("{}: cannot read: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// A file of a part is not what `run --shard` or `sweep --shard` writes.
    #[error("{}: {message}", path.display())]
    Malformed { path: PathBuf, message: String },
    /// The parts do not make one whole.
    #[error("the parts do not make one whole:\n  {}", problems.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n  "))]
    Parts { problems: Vec<Problem> },
}

/// One reason why the parts given do not make one whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// A part's manifest records no shard: it is a whole run or sweep.
    NotAShard { part: String },
    /// Run and sweep directories were given together.
    MixedKinds { run: String, sweep: String },
    /// A part differs from the first at `key` (of its manifest).
    Different {
        part: String,
        first: String,
        key: String,
    },
    /// No part holds the point `point` of a sweep.
    MissingPoint { point: String },
    /// Shard `index` of `count` is among no part.
    MissingShard { index: u32, count: u32 },
    /// Shard `index` of `count` is given more than once.
    DuplicateShard {
        index: u32,
        count: u32,
        parts: Vec<String>,
    },
    /// No part ran `replicate` (of the run or point `of`).
    MissingReplicate { of: String, replicate: u32 },
    /// More than one part ran `replicate`.
    DuplicateReplicate {
        of: String,
        replicate: u32,
        parts: Vec<String>,
    },
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::NotAShard { part } => {
                write!(f, "{part} is not a shard (its manifest records no --shard)")
            }
            Problem::MixedKinds { run, sweep } => {
                write!(
                    f,
                    "{run} is a run and {sweep} a sweep; merge the shards of one run or one sweep"
                )
            }
            Problem::Different { part, first, key } => write!(
                f,
                "{part} is not a part of the same run as {first}: they differ at {key}"
            ),
            Problem::MissingPoint { point } => write!(f, "no part holds the point {point}"),
            Problem::MissingShard { index, count } => write!(f, "shard {index}/{count} is missing"),
            Problem::DuplicateShard { index, count, parts } => {
                write!(
                    f,
                    "shard {index}/{count} is given more than once: {}",
                    parts.join(", ")
                )
            }
            Problem::MissingReplicate { of, replicate } => {
                write!(f, "replicate {replicate} of {of} is in no part")
            }
            Problem::DuplicateReplicate { of, replicate, parts } => write!(
                f,
                "replicate {replicate} of {of} is in more than one part: {}",
                parts.join(", ")
            ),
        }
    }
}

/// Who merged and when, for the merged manifest.
#[derive(Debug, Clone)]
pub struct MergeContext {
    pub command_line: Vec<String>,
    pub start_time: String,
    /// The style of the merged CSV files; None: the first part's.
    pub csv_style: Option<CsvStyle>,
}

/// The merged directory: files by name (those of a sweep's points under their directory),
/// and notes for the user (a file left out).
#[derive(Debug, Clone)]
pub struct Merged {
    /// The files, CSV files in the standard style (the caller restyles them to `csv_style`).
    pub files: Vec<(String, Vec<u8>)>,
    pub notes: Vec<String>,
    /// The style the merged manifests record, which the CSV files are to be written in.
    pub csv_style: CsvStyle,
}

/// Merges the run or sweep shard directories `dirs`.
pub fn merge_dirs(dirs: &[PathBuf], context: &MergeContext) -> Result<Merged, MergeError> {
    let sweeps: Vec<bool> = dirs.iter().map(|d| d.join("sweep.json").is_file()).collect();
    if let (Some(s), Some(r)) = (sweeps.iter().position(|&s| s), sweeps.iter().position(|&s| !s)) {
        return Err(MergeError::Parts {
            problems: vec![Problem::MixedKinds {
                run: name(&dirs[r]),
                sweep: name(&dirs[s]),
            }],
        });
    }
    if sweeps.first() == Some(&true) {
        let parts = dirs
            .iter()
            .map(|d| SweepPart::read(d))
            .collect::<Result<Vec<_>, _>>()?;
        merge_sweeps(&parts, context)
    } else {
        let parts = dirs
            .iter()
            .map(|d| RunPart::read(d))
            .collect::<Result<Vec<_>, _>>()?;
        merge_runs(&parts, context, true)
    }
}

pub(super) fn name(dir: &Path) -> String {
    dir.display().to_string()
}

pub(super) fn read(path: &Path) -> Result<Vec<u8>, MergeError> {
    std::fs::read(path).map_err(|source| MergeError::Read {
        path: path.to_path_buf(),
        source,
    })
}

pub(super) fn read_json(path: &Path) -> Result<Value, MergeError> {
    serde_json::from_slice(&read(path)?).map_err(|e| MergeError::Malformed {
        path: path.to_path_buf(),
        message: format!("not JSON: {e}"),
    })
}

/// The `shard` record of a part's manifest, if it has one.
pub(super) fn shard_of<T: serde::de::DeserializeOwned>(
    manifest: &Value,
    path: &Path,
) -> Result<Option<T>, MergeError> {
    match manifest.get("shard") {
        None | Some(Value::Null) => Ok(None),
        Some(v) => serde_json::from_value(v.clone())
            .map(Some)
            .map_err(|e| MergeError::Malformed {
                path: path.to_path_buf(),
                message: format!("shard: {e}"),
            }),
    }
}

/// The merged manifest: the first part's, without its shard, with the parts listed (their
/// shard, replicates and provenance), the merge's own command line and start time, the
/// parts' wall time and viewer-steps added up, `files`, and the CSV style of the merge (the
/// context's, else the first part's), which is returned with it.
pub(super) fn merged_manifest(
    parts: &[(&Path, &Value)],
    context: &MergeContext,
    files: Vec<String>,
) -> (Value, CsvStyle) {
    let mut merged: Map<String, Value> = parts[0].1.as_object().cloned().unwrap_or_default();
    merged.remove("shard");
    // The parts' styles were checked when they were read.
    let style = context
        .csv_style
        .unwrap_or_else(|| crate::output::style_of_manifest(parts[0].1).unwrap_or_default());
    merged.remove("csv_style");
    if !style.is_standard() {
        merged.insert("csv_style".into(), json!(style));
    }
    let sum = |key: &str| parts.iter().filter_map(|(_, m)| m[key].as_f64()).sum::<f64>();
    let (wall, steps) = (sum("wall_seconds"), sum("viewer_steps"));
    merged.insert("command_line".into(), json!(context.command_line));
    merged.insert("start_time".into(), json!(context.start_time));
    merged.insert("wall_seconds".into(), json!(wall));
    if merged.contains_key("viewer_steps") {
        merged.insert("viewer_steps".into(), json!(steps as u64));
        merged.insert("viewer_steps_per_second".into(), json!(steps / wall.max(1e-9)));
    }
    merged.insert("files".into(), json!(files));
    let mut listed: Vec<(&Path, &Value)> = parts.to_vec();
    listed.sort_by_key(|(_, m)| m["shard"]["index"].as_u64());
    let records: Vec<Value> = listed
        .iter()
        .map(|(dir, m)| {
            let mut record = Map::new();
            record.insert("dir".into(), json!(name(dir)));
            for key in [
                "shard",
                "start_time",
                "wall_seconds",
                "threads",
                "viewer_steps",
                "command_line",
            ] {
                if let Some(v) = m.get(key) {
                    record.insert(key.into(), v.clone());
                }
            }
            Value::Object(record)
        })
        .collect();
    merged.insert("parts".into(), Value::Array(records));
    (Value::Object(merged), style)
}
