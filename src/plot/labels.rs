//! How the report names and formats each metric of `summary.csv`: the label and unit its
//! definition gives (`metrics::columns`). Metrics the table does not know (a run written by
//! another version) are shown by their column name with three significant digits.

pub use crate::metrics::columns::Unit;
use crate::metrics::columns::{self, MetricDef};

/// The label and unit of `metric` (a `summary.csv` metric name without `_mean`); no unit for a
/// metric the table does not know.
pub fn describe(metric: &str) -> (String, Option<Unit>) {
    match columns::find(metric) {
        Some((def, group)) => (def.label.replace(MetricDef::GROUP, group), Some(def.unit)),
        None => (metric.to_string(), None),
    }
}

/// `x` written in `unit`, without the unit's sign for shares (the caller adds " %").
pub fn number(x: f64, unit: Option<Unit>) -> String {
    let Some(unit) = unit else {
        return significant(x, 3);
    };
    match unit {
        Unit::Share => {
            let pct = 100.0 * x;
            if pct != 0.0 && pct.abs() < 1.0 {
                format!("{pct:.2}")
            } else {
                format!("{pct:.1}")
            }
        }
        Unit::Minutes => format!("{x:.1}"),
        Unit::Index => format!("{x:.3}"),
        Unit::Ratio | Unit::Count => format!("{x:.2}"),
    }
}

/// The unit's suffix after a mean (" %", " min" or nothing).
pub fn suffix(unit: Option<Unit>) -> &'static str {
    match unit {
        Some(Unit::Share) => "\u{a0}%",
        Some(Unit::Minutes) => "\u{a0}min",
        Some(Unit::Index | Unit::Ratio | Unit::Count) | None => "",
    }
}

/// A metric's label with its unit: "(%)" for a share, "(min)" for minutes.
pub fn with_unit(label: &str, unit: Option<Unit>) -> String {
    match unit {
        Some(Unit::Share) => format!("{label} (%)"),
        Some(Unit::Minutes) => format!("{label} (min)"),
        Some(Unit::Index | Unit::Ratio | Unit::Count) | None => label.to_string(),
    }
}

/// An interval as `lo–hi`, or `lo to hi` when a sign would make the dash ambiguous.
pub fn interval(lo: f64, hi: f64, unit: Option<Unit>) -> String {
    let (lo_text, hi_text) = (number(lo, unit), number(hi, unit));
    if lo < 0.0 || hi < 0.0 {
        format!("{lo_text} to {hi_text}")
    } else {
        format!("{lo_text}\u{2013}{hi_text}")
    }
}

/// `x` with `digits` significant digits.
fn significant(x: f64, digits: i32) -> String {
    if x == 0.0 || !x.is_finite() {
        return format!("{x}");
    }
    let magnitude = x.abs().log10().floor() as i32;
    let decimals = (digits - 1 - magnitude).max(0) as usize;
    format!("{x:.decimals$}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(x: f64, unit: Option<Unit>, expected: &str) {
        assert_eq!(number(x, unit), expected, "{x} as {unit:?}");
    }

    #[test]
    fn numbers_are_written_in_their_unit() {
        check(0.755, Some(Unit::Share), "75.5");
        check(0.0024, Some(Unit::Share), "0.24");
        check(0.0, Some(Unit::Share), "0.0");
        check(69.86, Some(Unit::Minutes), "69.9");
        check(0.36726, Some(Unit::Index), "0.367");
        check(2.345, Some(Unit::Ratio), "2.35");
        check(1234.5, None, "1234");
        check(0.012345, None, "0.0123");
    }

    #[test]
    fn groups_and_unknown_metrics_are_named() {
        assert_eq!(describe("group_exposure_minority").1, Some(Unit::Share));
        assert!(describe("group_exposure_minority").0.contains("minority"));
        assert_eq!(describe("new_metric"), ("new_metric".to_string(), None));
        assert_eq!(describe("night_share").1, Some(Unit::Share));
    }
}
