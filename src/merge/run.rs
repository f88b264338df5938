//! Merging the shards of one run: rows regrouped by replicate, `summary.csv` recomputed
//! from the final rows as written and `bot_summary.csv` from the merged `bots.csv`.

use super::check::{differences, shard_problems};
use super::{MergeContext, MergeError, Merged, Problem, merged_manifest, name, read, read_json, shard_of};
use crate::engine::{self, RunOptions};
use crate::output::{self, TIMESERIES_KEYS, WrittenFinal};
use crate::scenario::Scenario;
use crate::shard::ShardRecord;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// One shard of a run: the directory `run --shard` wrote.
#[derive(Debug, Clone)]
pub struct RunPart {
    pub dir: PathBuf,
    pub manifest: Value,
    pub timeseries: Vec<u8>,
    pub users: Option<Vec<u8>>,
    /// `bots.csv`, in a run with audit bots.
    pub bots: Option<Vec<u8>>,
}

impl RunPart {
    /// Reads the run directory `dir`.
    pub fn read(dir: &Path) -> Result<RunPart, MergeError> {
        let optional = |file: &str| {
            let path = dir.join(file);
            path.is_file().then(|| read(&path)).transpose()
        };
        let manifest_path = dir.join("manifest.json");
        let manifest = read_json(&manifest_path)?;
        let malformed = |message: String| MergeError::Malformed {
            path: manifest_path.clone(),
            message,
        };
        if manifest
            .get("timeseries")
            .is_some_and(|form| form != "replicates")
        {
            return Err(malformed(
                "timeseries.csv holds means over replicates (--timeseries mean), which cannot be merged; run the shards with the default --timeseries replicates".into(),
            ));
        }
        let style = output::style_of_manifest(&manifest).map_err(malformed)?;
        // The parts are read in the standard style, whichever they were written in.
        let standard = |file: &str, bytes: Vec<u8>| {
            output::to_standard(&bytes, style).map_err(|e| MergeError::Malformed {
                path: dir.join(file),
                message: format!("not a {} CSV file: {e}", style.name()),
            })
        };
        let timeseries = standard("timeseries.csv", read(&dir.join("timeseries.csv"))?)?;
        let users = optional("users.csv")?
            .map(|b| standard("users.csv", b))
            .transpose()?;
        let bots = optional("bots.csv")?
            .map(|b| standard("bots.csv", b))
            .transpose()?;
        Ok(RunPart {
            dir: dir.to_path_buf(),
            manifest,
            timeseries,
            users,
            bots,
        })
    }

    fn name(&self) -> String {
        name(&self.dir)
    }
}

/// Merges the shards of one run. `whole`: the parts must be shards 1..=N of N (for a
/// sweep's point, only the replicates are checked, since a point need not be in every shard).
pub fn merge_runs(parts: &[RunPart], context: &MergeContext, whole: bool) -> Result<Merged, MergeError> {
    let shards = shards(parts, whole)?;
    let first = &parts[0];
    let manifest_path = first.dir.join("manifest.json");
    let scenario: Scenario =
        serde_json::from_value(first.manifest["scenario"].clone()).map_err(|e| MergeError::Malformed {
            path: manifest_path.clone(),
            message: format!("scenario: {e}"),
        })?;
    let of = if whole {
        "the run".to_string()
    } else {
        point_name(&first.dir)
    };
    check_replicates(parts, &shards, scenario.scenario.replicates, &of)?;

    let timeseries: Vec<(PathBuf, &[u8], &[u32])> = parts
        .iter()
        .zip(&shards)
        .map(|(p, s)| {
            (
                p.dir.join("timeseries.csv"),
                p.timeseries.as_slice(),
                s.replicates.as_slice(),
            )
        })
        .collect();
    let (header, rows) = by_replicate(&timeseries)?;
    let (summary, comparison) = summary(&scenario, &header, &rows, &manifest_path)?;
    let mut files = vec![
        ("timeseries.csv".to_string(), write_csv(&header, &rows)),
        ("summary.csv".to_string(), summary),
        ("comparison.csv".to_string(), comparison),
    ];
    let notes = optional_files(parts, &shards, &mut files)?;
    // `bot_summary.csv` from the merged `bots.csv`, as a run computes it from its own.
    if let Some((_, bots)) = files.iter().find(|(n, _)| n == "bots.csv") {
        let summary = output::bot_summary_csv(&scenario, bots).map_err(|message| MergeError::Malformed {
            path: first.dir.join("bots.csv"),
            message,
        })?;
        files.push(("bot_summary.csv".to_string(), summary));
    }
    let mut names: Vec<String> = files.iter().map(|(n, _)| n.clone()).collect();
    names.push("manifest.json".into());
    let part_manifests: Vec<(&Path, &Value)> = parts.iter().map(|p| (p.dir.as_path(), &p.manifest)).collect();
    let (manifest, csv_style) = merged_manifest(&part_manifests, context, names);
    files.push(("manifest.json".to_string(), output::json_file(&manifest)));
    Ok(Merged {
        files,
        notes,
        csv_style,
    })
}

/// Each part's shard record, once the parts are checked to be shards of one run by one
/// program (and, when `whole`, shards 1..=N of N).
fn shards(parts: &[RunPart], whole: bool) -> Result<Vec<ShardRecord>, MergeError> {
    let mut shards = Vec::with_capacity(parts.len());
    let mut problems = Vec::new();
    for part in parts {
        match shard_of::<ShardRecord>(&part.manifest, &part.dir.join("manifest.json"))? {
            Some(shard) => shards.push(shard),
            None => problems.push(Problem::NotAShard { part: part.name() }),
        }
    }
    let manifests: Vec<(String, &Value)> = parts.iter().map(|p| (p.name(), &p.manifest)).collect();
    problems.extend(differences(
        &manifests,
        &["program", "version", "git_commit", "scenario"],
    ));
    if problems.is_empty() && whole {
        let indices: Vec<(String, u32, u32)> = parts
            .iter()
            .zip(&shards)
            .map(|(p, s)| (p.name(), s.index, s.count))
            .collect();
        problems.extend(shard_problems(&indices));
    }
    if problems.is_empty() {
        Ok(shards)
    } else {
        Err(MergeError::Parts { problems })
    }
}

/// Checks that every one of the `replicates` is in exactly one part; `of` names the run.
fn check_replicates(
    parts: &[RunPart],
    shards: &[ShardRecord],
    replicates: u32,
    of: &str,
) -> Result<(), MergeError> {
    let mut problems = Vec::new();
    for replicate in 0..replicates {
        let owners: Vec<String> = parts
            .iter()
            .zip(shards)
            .filter(|(_, s)| s.replicates.contains(&replicate))
            .map(|(p, _)| p.name())
            .collect();
        match owners.len() {
            0 => problems.push(Problem::MissingReplicate {
                of: of.to_string(),
                replicate,
            }),
            1 => {}
            _ => problems.push(Problem::DuplicateReplicate {
                of: of.to_string(),
                replicate,
                parts: owners,
            }),
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(MergeError::Parts { problems })
    }
}

/// Appends the merged `users.csv` and `bots.csv` to `files` when every part has them; returns
/// a note for each that only some parts have (and is left out).
fn optional_files(
    parts: &[RunPart],
    shards: &[ShardRecord],
    files: &mut Vec<(String, Vec<u8>)>,
) -> Result<Vec<String>, MergeError> {
    let mut notes = Vec::new();
    for (file, of) in [
        (
            "users.csv",
            (|p| p.users.as_deref()) as fn(&RunPart) -> Option<&[u8]>,
        ),
        ("bots.csv", |p| p.bots.as_deref()),
    ] {
        let with: Vec<&RunPart> = parts.iter().filter(|p| of(p).is_some()).collect();
        if with.len() == parts.len() {
            let csvs: Vec<(PathBuf, &[u8], &[u32])> = parts
                .iter()
                .zip(shards)
                .filter_map(|(p, s)| Some((p.dir.join(file), of(p)?, s.replicates.as_slice())))
                .collect();
            let (header, rows) = by_replicate(&csvs)?;
            files.push((file.to_string(), write_csv(&header, &rows)));
        } else if !with.is_empty() {
            let names: Vec<String> = with.iter().map(|p| p.name()).collect();
            notes.push(format!(
                "{file} left out: only {} of the {} parts have it ({})",
                names.len(),
                parts.len(),
                names.join(", ")
            ));
        }
    }
    Ok(notes)
}

/// The name of the sweep point whose directory is `dir`.
fn point_name(dir: &Path) -> String {
    dir.file_name()
        .map_or_else(|| name(dir), |n| n.to_string_lossy().into_owned())
}

/// CSV rows of all parts in ascending replicate order, each replicate's rows in the order
/// its part wrote them; checks that every part holds rows of its replicates and no others.
fn by_replicate(
    parts: &[(PathBuf, &[u8], &[u32])],
) -> Result<(csv::StringRecord, Vec<csv::StringRecord>), MergeError> {
    let mut header: Option<csv::StringRecord> = None;
    let mut rows: BTreeMap<u32, Vec<csv::StringRecord>> = BTreeMap::new();
    for (path, bytes, replicates) in parts {
        let malformed = |message: String| MergeError::Malformed {
            path: path.clone(),
            message,
        };
        let mut reader = csv::Reader::from_reader(*bytes);
        let this = reader.headers().map_err(|e| malformed(e.to_string()))?.clone();
        match &header {
            Some(h) if *h != this => {
                return Err(malformed(format!(
                    "its columns differ from those of {}",
                    parts[0].0.display()
                )));
            }
            Some(_) => {}
            None => header = Some(this.clone()),
        }
        let col = this
            .iter()
            .position(|h| h == "replicate")
            .ok_or_else(|| malformed("no replicate column".into()))?;
        let mut seen = Vec::new();
        for record in reader.records() {
            let record = record.map_err(|e| malformed(e.to_string()))?;
            let replicate: u32 = record[col]
                .parse()
                .map_err(|_| malformed(format!("replicate {:?} is not a number", &record[col])))?;
            if !replicates.contains(&replicate) {
                return Err(malformed(format!(
                    "holds rows of replicate {replicate}, which its manifest does not list"
                )));
            }
            if !seen.contains(&replicate) {
                seen.push(replicate);
            }
            rows.entry(replicate).or_default().push(record);
        }
        if let Some(r) = replicates.iter().find(|r| !seen.contains(r)) {
            return Err(malformed(format!(
                "holds no rows of replicate {r}, which its manifest lists"
            )));
        }
    }
    let header = header.unwrap_or_default();
    Ok((header, rows.into_values().flatten().collect()))
}

fn write_csv(header: &csv::StringRecord, rows: &[csv::StringRecord]) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(header).expect("writing CSV to memory cannot fail");
    for r in rows {
        w.write_record(r).expect("writing CSV to memory cannot fail");
    }
    w.into_inner().expect("flushing to memory cannot fail")
}

/// `summary.csv` and `comparison.csv` from merged `timeseries.csv` rows: the last step of
/// each (replicate, arm) is its final state, as in a run.
fn summary(
    scenario: &Scenario,
    header: &csv::StringRecord,
    rows: &[csv::StringRecord],
    manifest: &Path,
) -> Result<(Vec<u8>, Vec<u8>), MergeError> {
    let malformed = |message: String| MergeError::Malformed {
        path: manifest.with_file_name("timeseries.csv"),
        message,
    };
    // The arms' names and policies as a run labels them, from a run of no replicates.
    let labels = engine::run(
        scenario,
        &RunOptions {
            replicates: Some(Vec::new()),
            ..RunOptions::default()
        },
        &|_| {},
    );
    let col = |name: &str| {
        header
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| malformed(format!("no {name} column")))
    };
    let [arm, replicate, cohort, step, viewers] = TIMESERIES_KEYS.map(col);
    let (arm, replicate, cohort, step, viewers) = (arm?, replicate?, cohort?, step?, viewers?);
    let value_cols: Vec<usize> = (0..header.len())
        .filter(|c| !TIMESERIES_KEYS.contains(&&header[*c]))
        .collect();
    let columns: Vec<String> = value_cols.iter().map(|&c| header[c].to_string()).collect();
    let number = |text: &str| -> Result<f64, MergeError> {
        if text.is_empty() {
            Ok(f64::NAN)
        } else {
            text.parse()
                .map_err(|_| malformed(format!("{text:?} is not a number")))
        }
    };
    let mut finals = Vec::new();
    let mut start = 0;
    while start < rows.len() {
        let key = |r: &csv::StringRecord| (r[replicate].to_string(), r[arm].to_string());
        let end = start
            + rows[start..]
                .iter()
                .take_while(|r| key(r) == key(&rows[start]))
                .count();
        let block = &rows[start..end];
        let last = &block[block.len() - 1][step];
        let arm_idx = labels
            .arm_names
            .iter()
            .position(|a| a == &block[0][arm])
            .ok_or_else(|| malformed(format!("arm {:?} is not in the scenario", &block[0][arm])))?;
        for r in block.iter().filter(|r| &r[step] == last) {
            finals.push(WrittenFinal {
                arm: arm_idx,
                replicate: r[replicate]
                    .parse()
                    .map_err(|_| malformed(format!("replicate {:?} is not a count", &r[replicate])))?,
                cohort: r[cohort].to_string(),
                viewers: r[viewers]
                    .parse()
                    .map_err(|_| malformed(format!("viewers {:?} is not a count", &r[viewers])))?,
                values: value_cols
                    .iter()
                    .map(|&c| number(&r[c]))
                    .collect::<Result<_, _>>()?,
            });
        }
        start = end;
    }
    Ok((
        output::summary_from_written(&labels.arm_names, &labels.policies, &columns, &finals),
        output::comparison_from_written(&labels.arm_names, scenario.baseline_index(), &columns, &finals),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manifest_scenario_reads_back_as_the_scenario() {
        let scenario = Scenario::default();
        let value = serde_json::to_value(&scenario).unwrap();
        assert_eq!(serde_json::from_value::<Scenario>(value).unwrap(), scenario);
    }
}
