//! Merging the shards of one sweep: each point as a run, then `sweep.csv` and `sweep.json`.

use super::check::{differences, shard_problems};
use super::run::{RunPart, merge_runs};
use super::{MergeContext, MergeError, Merged, Problem, merged_manifest, name, read_json, shard_of};
use crate::output;
use crate::sweep::{self, PointRecord, SweepShardRecord};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// One shard of a sweep: the directory `sweep --shard` wrote, with the point directories
/// it holds.
#[derive(Debug, Clone)]
pub struct SweepPart {
    pub dir: PathBuf,
    pub manifest: Value,
    /// Per point of the grid, its directory in this part if the shard ran any of it.
    pub points: Vec<Option<RunPart>>,
}

impl SweepPart {
    /// Reads the sweep directory `dir` and the point directories it holds.
    pub fn read(dir: &Path) -> Result<SweepPart, MergeError> {
        let path = dir.join("sweep.json");
        let manifest = read_json(&path)?;
        let points = point_records(&manifest, &path)?
            .iter()
            .map(|p| {
                let point_dir = dir.join(&p.dir);
                point_dir.is_dir().then(|| RunPart::read(&point_dir)).transpose()
            })
            .collect::<Result<_, _>>()?;
        Ok(SweepPart {
            dir: dir.to_path_buf(),
            manifest,
            points,
        })
    }
}

fn point_records(manifest: &Value, path: &Path) -> Result<Vec<PointRecord>, MergeError> {
    serde_json::from_value(manifest["points"].clone()).map_err(|e| MergeError::Malformed {
        path: path.to_path_buf(),
        message: format!("points: {e}"),
    })
}

/// Merges the shards of one sweep: every point's run directory, `sweep.csv` and `sweep.json`.
pub fn merge_sweeps(parts: &[SweepPart], context: &MergeContext) -> Result<Merged, MergeError> {
    let mut problems = Vec::new();
    let mut indices = Vec::new();
    for part in parts {
        match shard_of::<SweepShardRecord>(&part.manifest, &part.dir.join("sweep.json"))? {
            Some(s) => indices.push((name(&part.dir), s.index, s.count)),
            None => problems.push(Problem::NotAShard {
                part: name(&part.dir),
            }),
        }
    }
    let manifests: Vec<(String, &Value)> = parts.iter().map(|p| (name(&p.dir), &p.manifest)).collect();
    problems.extend(differences(
        &manifests,
        &["program", "version", "git_commit", "scenario", "grid", "points"],
    ));
    if problems.is_empty() {
        problems.extend(shard_problems(&indices));
    }
    if !problems.is_empty() {
        return Err(MergeError::Parts { problems });
    }
    let sweep_path = parts[0].dir.join("sweep.json");
    let points = point_records(&parts[0].manifest, &sweep_path)?;
    let keys: Vec<String> = serde_json::from_value::<Vec<sweep::Axis>>(parts[0].manifest["grid"].clone())
        .map_err(|e| MergeError::Malformed {
            path: sweep_path.clone(),
            message: format!("grid: {e}"),
        })?
        .into_iter()
        .map(|a| a.key)
        .collect();

    let mut files = Vec::new();
    let mut notes = Vec::new();
    let mut summaries = Vec::with_capacity(points.len());
    for (p, point) in points.iter().enumerate() {
        let point_parts: Vec<RunPart> = parts.iter().filter_map(|s| s.points[p].clone()).collect();
        if point_parts.is_empty() {
            problems.push(Problem::MissingPoint {
                point: point.dir.clone(),
            });
            continue;
        }
        match merge_runs(&point_parts, context, false) {
            Ok(merged) => {
                notes.extend(merged.notes.into_iter().map(|n| format!("{}: {n}", point.dir)));
                for (file, bytes) in merged.files {
                    if file == "summary.csv" {
                        summaries.push(bytes.clone());
                    }
                    files.push((format!("{}/{file}", point.dir), bytes));
                }
            }
            Err(MergeError::Parts { problems: more }) => problems.extend(more),
            Err(e) => return Err(e),
        }
    }
    if !problems.is_empty() {
        return Err(MergeError::Parts { problems });
    }
    let table: Vec<(&PointRecord, &[u8])> = points.iter().zip(summaries.iter().map(Vec::as_slice)).collect();
    let csv = sweep::sweep_csv(&keys, &table).map_err(|e| MergeError::Malformed {
        path: parts[0].dir.clone(),
        message: format!("a summary.csv: {e}"),
    })?;
    files.push(("sweep.csv".to_string(), csv));
    let mut names = vec!["sweep.csv".to_string(), "sweep.json".to_string()];
    names.extend(points.iter().map(|p| format!("{}/", p.dir)));
    let part_manifests: Vec<(&Path, &Value)> = parts.iter().map(|p| (p.dir.as_path(), &p.manifest)).collect();
    let (manifest, csv_style) = merged_manifest(&part_manifests, context, names);
    files.push(("sweep.json".to_string(), output::json_file(&manifest)));
    Ok(Merged {
        files,
        notes,
        csv_style,
    })
}
