//! The targets file of `calibrate` (TOML): the moments to match, each with its value,
//! uncertainty, statistic and source, and the free parameters with their ranges. Parsed in
//! two stages (`parse_str` is IO-free): serde reads the shape, [`Targets::check`] the rules,
//! and every refusal names the file, the key, the rule and what is allowed.

use super::stats::Statistic;
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// A targets file that cannot be used: exit status 2.
#[derive(Debug, thiserror::Error)]
pub enum TargetsError {
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("{path}: {key}: {message}")]
    Invalid {
        path: PathBuf,
        key: String,
        message: String,
    },
}

/// How the search runs (`[calibration]`, every key optional).
#[derive(Debug, Clone, PartialEq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// The arm whose viewers are compared with the targets [default: the scenario's first].
    pub arm: Option<String>,
    /// The optimiser's seed [default: the scenario's `scenario.seed`].
    pub seed: Option<u64>,
    /// Most simulations the search runs, the final one at the best point not counted.
    pub max_evaluations: usize,
    /// Parameter vectors per generation (CMA-ES λ) [default: 4 + ⌊3 ln n⌋].
    pub population: Option<usize>,
    /// The initial step size, as a share of each parameter's range.
    pub step: f64,
    /// Converged when the search distribution's spread in every parameter, and its recent
    /// movement, is below this share of the parameter's range (CMA-ES `tol_x`).
    pub tol_x: f64,
    /// Converged when the best objective of each generation has changed by less than this
    /// over the optimiser's history window (CMA-ES `tol_fun_hist` and `tol_fun`).
    pub tol_fun: f64,
    /// Scenario overrides (`KEY=VALUE`, as `--set`) for every evaluation, e.g. a smaller
    /// population for speed.
    pub set: Vec<String>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            arm: None,
            seed: None,
            max_evaluations: 200,
            population: None,
            step: 0.3,
            tol_x: 0.01,
            tol_fun: 0.05,
            set: Vec::new(),
        }
    }
}

/// One moment: a published figure and the simulated statistic it is compared with.
#[derive(Debug, Clone, PartialEq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Moment {
    /// A name for the fit table [default: the statistic's].
    #[serde(default)]
    pub name: Option<String>,
    /// The statistic's name (`calibrate::stats`).
    pub statistic: String,
    /// The arm whose run the statistic is computed from [default: `calibration.arm`]: a
    /// figure observed under another exposure than the platform's feed (say, items shown
    /// regardless of taste) is compared with the arm that shows items that way.
    #[serde(default)]
    pub arm: Option<String>,
    pub value: f64,
    /// The standard error or tolerance: the standardised error is (simulated − value) / this.
    pub uncertainty: f64,
    /// Where the figure comes from (cited in the fit table).
    pub source: String,
    /// Whether the moment enters the objective; a figure the model cannot express is listed
    /// with `fit = false` and a `note` rather than left out.
    #[serde(default = "yes")]
    pub fit: bool,
    #[serde(default)]
    pub note: Option<String>,
}

fn yes() -> bool {
    true
}

/// One free parameter: a scenario key and its range.
#[derive(Debug, Clone, PartialEq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Parameter {
    /// A scenario key by its dotted path, applied like `--set`.
    pub key: String,
    pub min: f64,
    pub max: f64,
    /// Where the search starts [default: the middle of the range].
    #[serde(default)]
    pub start: Option<f64>,
    /// Round to a whole number before applying (a count).
    #[serde(default)]
    pub integer: bool,
}

impl Parameter {
    /// The value at `u` ∈ [0, 1] of the range (clamped), rounded when `integer`.
    pub fn at(&self, u: f64) -> f64 {
        let x = self.min + u.clamp(0.0, 1.0) * (self.max - self.min);
        if self.integer { x.round() } else { x }
    }

    /// Where `x` lies in the range, in [0, 1].
    pub fn unit(&self, x: f64) -> f64 {
        ((x - self.min) / (self.max - self.min)).clamp(0.0, 1.0)
    }

    /// The override that sets this parameter to `x`.
    pub fn set(&self, x: f64) -> String {
        format!("{}={}", self.key, x)
    }
}

/// A parsed, checked targets file.
#[derive(Debug, Clone, PartialEq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Targets {
    #[serde(default)]
    pub calibration: Settings,
    #[serde(rename = "moment", default)]
    pub moments: Vec<Moment>,
    #[serde(rename = "parameter", default)]
    pub parameters: Vec<Parameter>,
}

/// A TOML input file with rules serde cannot state: a targets file, or `sensitivity`'s
/// parameters file.
pub trait CheckedFile: serde::de::DeserializeOwned {
    /// The rules serde cannot state; a refusal is (key, rule and what is allowed).
    fn check_file(&self) -> Result<(), (String, String)>;
}

/// Reads and checks the file at `path`.
pub fn read_checked<T: CheckedFile>(path: &Path) -> Result<T, TargetsError> {
    let text = std::fs::read_to_string(path).map_err(|source| TargetsError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    from_str_checked(&text, path)
}

/// Parses and checks `text` (named `path` in messages).
pub fn from_str_checked<T: CheckedFile>(text: &str, path: &Path) -> Result<T, TargetsError> {
    let parsed: T = toml::from_str(text).map_err(|e| TargetsError::Parse {
        path: path.to_path_buf(),
        message: e.to_string().trim_end().to_string(),
    })?;
    parsed
        .check_file()
        .map_err(|(key, message)| TargetsError::Invalid {
            path: path.to_path_buf(),
            key,
            message,
        })?;
    Ok(parsed)
}

/// Reads and checks the targets file at `path`.
pub fn parse(path: &Path) -> Result<Targets, TargetsError> {
    read_checked(path)
}

/// Parses and checks `text` (named `path` in messages).
pub fn parse_str(text: &str, path: &Path) -> Result<Targets, TargetsError> {
    from_str_checked(text, path)
}

impl CheckedFile for Targets {
    fn check_file(&self) -> Result<(), (String, String)> {
        self.check()
    }
}

impl Targets {
    /// The rules serde cannot state; a refusal is (key, rule and what is allowed).
    fn check(&self) -> Result<(), (String, String)> {
        let c = &self.calibration;
        if c.max_evaluations < 2 {
            return Err((
                "calibration.max_evaluations".into(),
                format!("must be at least 2, got {}", c.max_evaluations),
            ));
        }
        if let Some(p) = c.population
            && p < 2
        {
            return Err((
                "calibration.population".into(),
                format!("must be at least 2, got {p}"),
            ));
        }
        if !(c.step > 0.0 && c.step <= 1.0) {
            return Err((
                "calibration.step".into(),
                format!("must be in (0, 1], got {}", c.step),
            ));
        }
        for (key, x) in [("calibration.tol_x", c.tol_x), ("calibration.tol_fun", c.tol_fun)] {
            if !(x.is_finite() && x > 0.0) {
                return Err((key.into(), format!("must be a finite number > 0, got {x}")));
            }
        }
        if !self.moments.iter().any(|m| m.fit) {
            return Err((
                "moment".into(),
                "needs at least one [[moment]] with fit = true".into(),
            ));
        }
        for (i, m) in self.moments.iter().enumerate() {
            let key = |field: &str| format!("moment[{i}].{field}");
            if Statistic::from_name(&m.statistic).is_none() {
                return Err((
                    key("statistic"),
                    format!(
                        "unknown statistic {:?}; allowed: {}",
                        m.statistic,
                        Statistic::names().join(", ")
                    ),
                ));
            }
            if !m.value.is_finite() {
                return Err((key("value"), format!("must be a finite number, got {}", m.value)));
            }
            if !(m.uncertainty.is_finite() && m.uncertainty > 0.0) {
                return Err((
                    key("uncertainty"),
                    format!("must be a positive number, got {}", m.uncertainty),
                ));
            }
            if m.source.trim().is_empty() {
                return Err((key("source"), "must name where the figure comes from".into()));
            }
        }
        if self.parameters.is_empty() {
            return Err((
                "parameter".into(),
                "needs at least one [[parameter]] to fit".into(),
            ));
        }
        for (i, p) in self.parameters.iter().enumerate() {
            let key = |field: &str| format!("parameter[{i}].{field}");
            if !(p.min.is_finite() && p.max.is_finite() && p.min < p.max) {
                return Err((
                    key("max"),
                    format!(
                        "the range must be finite with min < max, got [{}, {}]",
                        p.min, p.max
                    ),
                ));
            }
            if let Some(s) = p.start
                && !(p.min..=p.max).contains(&s)
            {
                return Err((
                    key("start"),
                    format!("must be in [{}, {}], got {s}", p.min, p.max),
                ));
            }
            if self.parameters[..i].iter().any(|q| q.key == p.key) {
                return Err((key("key"), format!("{} is already a parameter", p.key)));
            }
        }
        Ok(())
    }

    /// Holds the free parameter `key` at `value` (rounded when `integer`): it leaves the
    /// search, and the returned override sets it in every simulation. Refused (the rule, for a
    /// message) when `key` is not a free parameter, when it is the last one, or when `value` is
    /// not a finite number.
    pub fn fix(&mut self, key: &str, value: f64) -> Result<String, String> {
        let Some(i) = self.parameters.iter().position(|p| p.key == key) else {
            let keys: Vec<&str> = self.parameters.iter().map(|p| p.key.as_str()).collect();
            return Err(format!(
                "{key} is not a free parameter of the targets file (or is fixed twice); allowed: {}",
                keys.join(", ")
            ));
        };
        if !value.is_finite() {
            return Err(format!("{key}: the value must be a finite number, got {value}"));
        }
        if self.parameters.len() == 1 {
            return Err(format!(
                "{key} is the last free parameter; a search needs at least one"
            ));
        }
        let p = self.parameters.remove(i);
        Ok(p.set(if p.integer { value.round() } else { value }))
    }

    /// The name of moment `m` in the fit table.
    pub fn name(m: &Moment) -> &str {
        m.name.as_deref().unwrap_or(&m.statistic)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
[calibration]
max_evaluations = 10
[[moment]]
statistic = "watch_ratio_median"
value = 0.7
uncertainty = 0.05
source = "test"
[[parameter]]
key = "viewer.baseline_logit"
min = -2.0
max = 1.0
"#;

    fn error(text: &str) -> String {
        parse_str(text, Path::new("t.toml")).unwrap_err().to_string()
    }

    #[test]
    fn a_good_file_parses_with_defaults() {
        let t = parse_str(GOOD, Path::new("t.toml")).unwrap();
        assert_eq!(t.calibration.step, 0.3);
        assert_eq!((t.calibration.tol_x, t.calibration.tol_fun), (0.01, 0.05));
        assert!(t.moments[0].fit);
        assert_eq!(t.parameters[0].at(0.5), -0.5);
        assert_eq!(t.parameters[0].set(0.25), "viewer.baseline_logit=0.25");
    }

    #[test]
    fn a_fixed_parameter_leaves_the_search_with_its_override() {
        let two = format!(
            "{GOOD}[[parameter]]\nkey = \"population.initial_follows\"\nmin = 0\nmax = 16\ninteger = true\n"
        );
        let mut t = parse_str(&two, Path::new("t.toml")).unwrap();
        assert_eq!(
            t.fix("population.initial_follows", 6.6),
            Ok("population.initial_follows=7".to_string())
        );
        assert_eq!(t.parameters.len(), 1);
        assert_eq!(t.parameters[0].key, "viewer.baseline_logit");
        let twice = t.fix("population.initial_follows", 3.0).unwrap_err();
        assert!(twice.contains("allowed: viewer.baseline_logit"), "{twice}");
        let last = t.fix("viewer.baseline_logit", 0.1).unwrap_err();
        assert!(last.contains("last free parameter"), "{last}");
        let mut t = parse_str(&two, Path::new("t.toml")).unwrap();
        assert!(
            t.fix("viewer.baseline_logit", f64::NAN)
                .unwrap_err()
                .contains("finite")
        );
        assert_eq!(
            t.fix("viewer.baseline_logit", -0.25),
            Ok("viewer.baseline_logit=-0.25".into())
        );
        assert_eq!(t.parameters[0].key, "population.initial_follows");
    }

    #[test]
    fn errors_name_the_file_the_key_and_what_is_allowed() {
        let e = error(&GOOD.replace("watch_ratio_median", "watch_ratio_mode"));
        assert!(
            e.starts_with("t.toml: moment[0].statistic: unknown statistic"),
            "{e}"
        );
        assert!(e.contains("allowed: watch_ratio_mean"), "{e}");
        let e = error(&GOOD.replace("uncertainty = 0.05", "uncertainty = 0"));
        assert!(
            e.contains("moment[0].uncertainty: must be a positive number"),
            "{e}"
        );
        let e = error(&GOOD.replace("max = 1.0", "max = -3.0"));
        assert!(
            e.contains("parameter[0].max: the range must be finite with min < max"),
            "{e}"
        );
        let e = error(&GOOD.replace("max_evaluations = 10", "max_evaluations = 10\ntol_x = inf"));
        assert!(
            e.starts_with("t.toml: calibration.tol_x: must be a finite number > 0, got inf"),
            "{e}"
        );
        let e = error(&GOOD.replace("max_evaluations = 10", "max_evaluations = 10\ntol_fun = 0.0"));
        assert!(
            e.contains("calibration.tol_fun: must be a finite number > 0, got 0"),
            "{e}"
        );
        let e = error(&GOOD.replace("value = 0.7", "value = 0.7\nwieght = 2"));
        assert!(e.contains("unknown field `wieght`"), "{e}");
    }
}
