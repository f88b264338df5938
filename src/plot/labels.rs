//! How the report names and formats each metric of `summary.csv`: a plain-language label and
//! a unit. Metrics the report does not know (columns added later) are shown by their column
//! name with three significant digits.

/// How a metric's values are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// A share in [0, 1], written as a percentage.
    Share,
    /// Minutes.
    Minutes,
    /// A unitless index, three decimals.
    Index,
    /// A ratio (x baseline), two decimals.
    Ratio,
    /// Unknown: three significant digits.
    Plain,
}

/// The label and unit of `metric` (a `summary.csv` metric name without `_mean`).
pub fn describe(metric: &str) -> (String, Unit) {
    if let Some(g) = metric.strip_prefix("group_exposure_") {
        return (format!("impressions from creator group {g}"), Unit::Share);
    }
    if let Some(g) = metric.strip_prefix("group_catalog_share_") {
        return (format!("catalog items from creator group {g}"), Unit::Share);
    }
    let (label, unit) = match metric {
        "mean_minutes" => ("minutes of use", Unit::Minutes),
        "watch_minutes" => ("minutes watched (the engagement objective)", Unit::Minutes),
        "feed_entropy" => (
            "feed entropy (1 = even over all topics, 0 = one topic)",
            Unit::Index,
        ),
        "top_topic_share" => ("share of the feed from its top topic", Unit::Share),
        "in_rabbit_hole" => ("viewers in a rabbit hole at the end", Unit::Share),
        "rabbit_hole_ever" => ("viewers ever in a rabbit hole", Unit::Share),
        "minutes_to_rabbit_hole" => ("median minutes of use until the first rabbit hole", Unit::Minutes),
        "interest_drift" => ("drift of interests from the start (0 to 1)", Unit::Index),
        "profile_error" => (
            "error of the platform's estimate of interests (0 to 1)",
            Unit::Index,
        ),
        "sensitive_share" => ("impressions that are sensitive", Unit::Share),
        "stance_shift" => ("mean change of stance (on -1 to 1)", Unit::Index),
        "coverage" => ("catalog items shown at least once", Unit::Share),
        "exposure_gini" => ("concentration of impressions over items (Gini)", Unit::Index),
        "boosted_share" => ("impressions from the boosted set", Unit::Share),
        "amplification_ratio" => ("amplification of the boosted set (x baseline)", Unit::Ratio),
        _ => return (metric.to_string(), Unit::Plain),
    };
    (label.to_string(), unit)
}

/// `x` written in `unit`, without the unit's sign for shares (the caller adds " %").
pub fn number(x: f64, unit: Unit) -> String {
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
        Unit::Ratio => format!("{x:.2}"),
        Unit::Plain => significant(x, 3),
    }
}

/// The unit's suffix after a mean (" %", " min" or nothing).
pub fn suffix(unit: Unit) -> &'static str {
    match unit {
        Unit::Share => "\u{a0}%",
        Unit::Minutes => "\u{a0}min",
        Unit::Index | Unit::Ratio | Unit::Plain => "",
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

    fn check(x: f64, unit: Unit, expected: &str) {
        assert_eq!(number(x, unit), expected, "{x} as {unit:?}");
    }

    #[test]
    fn numbers_are_written_in_their_unit() {
        check(0.755, Unit::Share, "75.5");
        check(0.0024, Unit::Share, "0.24");
        check(0.0, Unit::Share, "0.0");
        check(69.86, Unit::Minutes, "69.9");
        check(0.36726, Unit::Index, "0.367");
        check(2.345, Unit::Ratio, "2.35");
        check(1234.5, Unit::Plain, "1234");
        check(0.012345, Unit::Plain, "0.0123");
    }

    #[test]
    fn groups_and_unknown_metrics_are_named() {
        assert_eq!(describe("group_exposure_minority").1, Unit::Share);
        assert!(describe("group_exposure_minority").0.contains("minority"));
        assert_eq!(describe("new_metric"), ("new_metric".to_string(), Unit::Plain));
    }
}
