//! The parameters file of `sensitivity` (TOML): the free parameters, each a scenario key with a
//! plausible range and where the range comes from, and how many evaluations each method
//! spends. Parsed like `calibrate`'s targets file (`parse_str` is IO-free; every refusal names
//! the file, the key, the rule and what is allowed) and applied like `--set` through
//! [`crate::calibrate::Parameter`].

use crate::calibrate::targets::{CheckedFile, from_str_checked, read_checked};
use crate::calibrate::{Parameter, TargetsError};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// How much each method spends (`[sensitivity]`, every key optional).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// Morris trajectories r (each costs k + 1 simulations for k parameters); 0: no screening.
    pub trajectories: usize,
    /// Levels p of the Morris grid (even).
    pub levels: usize,
    /// Base samples N of the Saltelli design (each costs m + 2 simulations for m parameters);
    /// 0: no Sobol indices.
    pub samples: usize,
    /// Parameters given Sobol indices: the `top` of the screening, unless listed by name.
    pub top: usize,
    /// Bootstrap resamples of every interval.
    pub bootstrap: usize,
    /// Scenario overrides (`KEY=VALUE`, as `--set`) for every evaluation.
    pub set: Vec<String>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            trajectories: 10,
            levels: 4,
            samples: 64,
            top: 4,
            bootstrap: 1000,
            set: Vec::new(),
        }
    }
}

/// One free parameter: a scenario key, its plausible range and the range's source.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Range {
    pub key: String,
    pub min: f64,
    pub max: f64,
    /// Round to a whole number before applying (a count).
    #[serde(default)]
    pub integer: bool,
    /// Where the range comes from (docs/model.md, a study) or "assumption" and why.
    pub source: String,
}

impl Range {
    /// The range as `calibrate` applies it.
    pub fn parameter(&self) -> Parameter {
        Parameter {
            key: self.key.clone(),
            min: self.min,
            max: self.max,
            start: None,
            integer: self.integer,
        }
    }
}

/// A parsed, checked parameters file.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Parameters {
    #[serde(default)]
    pub sensitivity: Settings,
    #[serde(rename = "parameter", default)]
    pub ranges: Vec<Range>,
}

/// Reads and checks the parameters file at `path`.
pub fn parse(path: &Path) -> Result<Parameters, TargetsError> {
    read_checked(path)
}

/// Parses and checks `text` (named `path` in messages).
pub fn parse_str(text: &str, path: &Path) -> Result<Parameters, TargetsError> {
    from_str_checked(text, path)
}

impl CheckedFile for Parameters {
    fn check_file(&self) -> Result<(), (String, String)> {
        self.check()
    }
}

impl Parameters {
    /// The rules serde cannot state, on the file and on settings overridden from the command
    /// line; a refusal is (key, rule and what is allowed).
    pub fn check(&self) -> Result<(), (String, String)> {
        let s = &self.sensitivity;
        if s.levels < 2 || !s.levels.is_multiple_of(2) {
            return Err((
                "sensitivity.levels".into(),
                format!("must be even and at least 2, got {}", s.levels),
            ));
        }
        if s.trajectories == 1 {
            return Err((
                "sensitivity.trajectories".into(),
                "must be 0 (no screening) or at least 2, got 1".into(),
            ));
        }
        if s.samples == 1 || s.samples > super::sobol::MAX_SAMPLES {
            return Err((
                "sensitivity.samples".into(),
                format!(
                    "must be 0 (no Sobol indices) or 2 to {}, got {}",
                    super::sobol::MAX_SAMPLES,
                    s.samples
                ),
            ));
        }
        if s.top == 0 || s.top > super::sobol::MAX_FACTORS {
            return Err((
                "sensitivity.top".into(),
                format!("must be 1 to {}, got {}", super::sobol::MAX_FACTORS, s.top),
            ));
        }
        if self.ranges.is_empty() {
            return Err(("parameter".into(), "needs at least one [[parameter]]".into()));
        }
        for (i, p) in self.ranges.iter().enumerate() {
            let key = |field: &str| format!("parameter[{i}].{field}");
            if !(p.min.is_finite() && p.max.is_finite() && p.min < p.max) {
                return Err((
                    key("max"),
                    format!(
                        "{}: the range must be finite with min < max, got [{}, {}]",
                        p.key, p.min, p.max
                    ),
                ));
            }
            if p.source.trim().is_empty() {
                return Err((
                    key("source"),
                    format!(
                        "{}: must say where the range comes from, or \"assumption\" and why",
                        p.key
                    ),
                ));
            }
            if self.ranges[..i].iter().any(|q| q.key == p.key) {
                return Err((key("key"), format!("{} is already a parameter", p.key)));
            }
        }
        Ok(())
    }

    /// The indices of the parameters named in `keys`, or the unknown key and what is allowed.
    pub fn indices(&self, keys: &[String]) -> Result<Vec<usize>, String> {
        keys.iter()
            .map(|k| {
                self.ranges.iter().position(|p| &p.key == k).ok_or_else(|| {
                    let names: Vec<&str> = self.ranges.iter().map(|p| p.key.as_str()).collect();
                    format!(
                        "{k} is not a parameter of the file; allowed: {}",
                        names.join(", ")
                    )
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "[sensitivity]\ntrajectories = 4\n[[parameter]]\nkey = \"viewer.taste_weight\"\nmin = 0.0\nmax = 2.0\nsource = \"assumption\"\n";

    fn error(text: &str) -> String {
        parse_str(text, Path::new("p.toml")).unwrap_err().to_string()
    }

    #[test]
    fn a_good_file_parses_with_defaults() {
        let p = parse_str(GOOD, Path::new("p.toml")).unwrap();
        assert_eq!(p.sensitivity.trajectories, 4);
        assert_eq!(p.sensitivity.levels, 4);
        assert_eq!(p.ranges[0].parameter().set(1.5), "viewer.taste_weight=1.5");
    }

    #[test]
    fn errors_name_the_file_the_key_and_what_is_allowed() {
        let e = error(&GOOD.replace("max = 2.0", "max = 0.0"));
        assert!(
            e.starts_with("p.toml: parameter[0].max: viewer.taste_weight: the range"),
            "{e}"
        );
        let e = error(
            &GOOD
                .replace("levels", "x")
                .replace("trajectories = 4", "levels = 3"),
        );
        assert!(e.contains("sensitivity.levels: must be even"), "{e}");
        let e = error(&GOOD.replace("source = \"assumption\"", "source = \" \""));
        assert!(e.contains("parameter[0].source"), "{e}");
        let e = error(&GOOD.replace("min = 0.0", "min = 0.0\nmode = 1"));
        assert!(e.contains("unknown field `mode`"), "{e}");
        let p = parse_str(GOOD, Path::new("p.toml")).unwrap();
        let e = p.indices(&["viewer.x".into()]).unwrap_err();
        assert!(e.contains("allowed: viewer.taste_weight"), "{e}");
    }
}
