//! The metrics of `timeseries.csv` and `summary.csv`, each declared once: its column name,
//! unit, how it is reduced over a cohort's viewers and what `summary.csv` does with it, which
//! scenarios write it, the report's label and its definition.
//!
//! Everything that names a metric reads this table: the engine's reduction (one value per
//! [`Metric`] in a [`crate::engine::TimeRow`]), the CSV writers, `merge`'s recomputation of
//! `summary.csv`, the report's labels, and `docs/model.md` §10, whose metric table is rendered
//! from it ([`markdown_table`]) and checked by a test. Adding a metric is one entry here and
//! one arm in the reducer's `match`, which the compiler asks for.

/// How a metric's values are measured (and the report writes them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// A share in [0, 1] (the report writes a percentage).
    Share,
    /// Minutes.
    Minutes,
    /// A unitless index.
    Index,
    /// A ratio to the baseline arm.
    Ratio,
    /// A count of events per unit (sessions per day, impressions per session).
    Count,
}

impl Unit {
    /// The unit as the documentation names it.
    pub fn name(self) -> &'static str {
        match self {
            Unit::Share => "share",
            Unit::Minutes => "minutes",
            Unit::Index => "index",
            Unit::Ratio => "ratio",
            Unit::Count => "count",
        }
    }
}

/// How a metric is reduced over a cohort's viewers into a row of one (arm, replicate, step).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Reduction {
    /// The mean over the cohort's viewers.
    Mean,
    /// The share of the cohort's viewers for whom it holds.
    ShareOfViewers,
    /// The mean over the viewers whose window of W impressions is full (empty before any is).
    FullWindowMean,
    /// This quantile over the viewers whose window is full (empty before any is).
    FullWindowQuantile(f64),
    /// The largest value over the viewers whose window is full (empty before any is).
    FullWindowMax,
    /// The median over the viewers it is defined for (empty when none is).
    Median,
    /// A ratio of sums over the cohort's impressions (empty when there are none).
    Pooled,
    /// The standard deviation over the cohort's viewers (population form, 1/n).
    Dispersion,
    /// Set after every arm ran, against the baseline arm's row.
    Baseline,
    /// Platform-wide: the same in every cohort's row.
    Platform,
}

impl Reduction {
    /// The reduction as the documentation describes it.
    pub fn describe(self) -> String {
        match self {
            Reduction::Mean => "mean over viewers".into(),
            Reduction::ShareOfViewers => "share of viewers".into(),
            Reduction::FullWindowMean => "mean over viewers with a full window".into(),
            Reduction::FullWindowQuantile(p) => {
                format!("{:.0}th percentile over viewers with a full window", 100.0 * p)
            }
            Reduction::FullWindowMax => "largest over viewers with a full window".into(),
            Reduction::Median => "median over the viewers it is defined for".into(),
            Reduction::Pooled => "pooled over the cohort's impressions".into(),
            Reduction::Dispersion => "standard deviation over viewers".into(),
            Reduction::Baseline => "against the baseline arm".into(),
            Reduction::Platform => "platform-wide, the same in every cohort".into(),
        }
    }
}

/// What `summary.csv` does with a metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Summary {
    /// `<metric>_mean`, `_lo`, `_hi`: the mean over replicates of the final rows, with its
    /// 95 % interval.
    MeanInterval,
    /// Left out (not a headline metric).
    Omitted,
}

/// Which scenarios' files have a metric's column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Condition {
    /// Every scenario's.
    Always,
    /// Scenarios that use the safety features (protections, audit bots, vulnerable viewers or a
    /// `[day]` table; `docs/model.md` §8c).
    SafetyFeatures,
    /// Every scenario's, one column per creator group, `<g>` being the group's name.
    PerGroup,
}

impl Condition {
    /// The condition as the documentation states it.
    pub fn describe(self) -> &'static str {
        match self {
            Condition::Always => "always",
            Condition::SafetyFeatures => "with the safety features (§8c-8d)",
            Condition::PerGroup => "always, per creator group",
        }
    }
}

/// One metric's definition.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MetricDef {
    /// The column name; for a per-group metric, with `<g>` where the group's name goes.
    pub name: &'static str,
    pub unit: Unit,
    pub reduce: Reduction,
    pub summary: Summary,
    pub when: Condition,
    /// What the report calls it (`<g>` as in `name`).
    pub label: &'static str,
    /// Its definition, as `docs/model.md` §10 gives it.
    pub doc: &'static str,
}

impl MetricDef {
    /// The definition's group-name placeholder in `name` and `label`.
    pub const GROUP: &'static str = "<g>";

    /// The column of this metric for creator group `group` (its name for a scalar metric).
    pub fn column(&self, group: &str) -> String {
        self.name.replace(Self::GROUP, group)
    }

    /// The group named by `column` if it is this per-group metric's column; `Some("")` for
    /// this scalar metric's own column.
    pub fn group_of<'c>(&self, column: &'c str) -> Option<&'c str> {
        match self.name.split_once(Self::GROUP) {
            None => (column == self.name).then_some(""),
            Some((prefix, suffix)) => column
                .strip_prefix(prefix)?
                .strip_suffix(suffix)
                .filter(|g| !g.is_empty()),
        }
    }
}

/// Declares the scalar metrics once: the [`Metric`] enum (column order) and [`METRICS`].
macro_rules! metrics {
    ($(
        $variant:ident {
            name: $name:literal,
            unit: $unit:ident,
            reduce: $reduce:ident $(($p:literal))?,
            summary: $summary:ident,
            when: $when:ident,
            label: $label:literal,
            doc: $doc:literal $(,)?
        }
    )*) => {
        /// A metric with one value per row of `timeseries.csv`, in column order.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Metric {
            $(#[doc = $doc] $variant,)*
        }

        impl Metric {
            /// How many there are.
            pub const COUNT: usize = [$($name),*].len();
            /// Every metric, in column order.
            pub const ALL: [Metric; Metric::COUNT] = [$(Metric::$variant),*];
        }

        /// The definitions of [`Metric`]s, indexed by them.
        pub const METRICS: [MetricDef; Metric::COUNT] = [$(MetricDef {
            name: $name,
            unit: Unit::$unit,
            reduce: Reduction::$reduce $(($p))?,
            summary: Summary::$summary,
            when: Condition::$when,
            label: $label,
            doc: $doc,
        }),*];
    };
}

metrics! {
    Active {
        name: "active", unit: Share, reduce: ShareOfViewers, summary: Omitted, when: Always,
        label: "viewers still scrolling",
        doc: "viewers who still have minutes of use left",
    }
    MeanMinutes {
        name: "mean_minutes", unit: Minutes, reduce: Mean, summary: MeanInterval, when: Always,
        label: "minutes of use",
        doc: "minutes of use (watching plus swiping)",
    }
    WatchMinutes {
        name: "watch_minutes", unit: Minutes, reduce: Mean, summary: MeanInterval, when: Always,
        label: "minutes watched (the engagement objective)",
        doc: "cumulative minutes watched (the engagement objective)",
    }
    FeedEntropy {
        name: "feed_entropy", unit: Index, reduce: FullWindowMean, summary: MeanInterval,
        when: Always,
        label: "feed entropy (1 = even over all topics, 0 = one topic)",
        doc: "−Σ_k p_k ln p_k / ln K over the topic shares p_k of the last W impressions \
              (1 = even over all K topics, 0 = one topic)",
    }
    FeedEntropyP10 {
        name: "feed_entropy_p10", unit: Index, reduce: FullWindowQuantile(0.1),
        summary: Omitted, when: Always,
        label: "feed entropy, 10th percentile over viewers",
        doc: "`feed_entropy` at the 10th percentile of the viewers: how narrow the narrowest \
              feeds are (quantiles interpolate between order statistics, Hyndman and Fan \
              type 7)",
    }
    FeedEntropyP50 {
        name: "feed_entropy_p50", unit: Index, reduce: FullWindowQuantile(0.5),
        summary: Omitted, when: Always,
        label: "feed entropy, median over viewers",
        doc: "`feed_entropy` of the median viewer",
    }
    FeedEntropyP90 {
        name: "feed_entropy_p90", unit: Index, reduce: FullWindowQuantile(0.9),
        summary: Omitted, when: Always,
        label: "feed entropy, 90th percentile over viewers",
        doc: "`feed_entropy` at the 90th percentile of the viewers: how broad the broadest feeds are",
    }
    TopTopicShare {
        name: "top_topic_share", unit: Share, reduce: FullWindowMean, summary: MeanInterval,
        when: Always,
        label: "share of the feed from its top topic",
        doc: "max_k p_k over the last W impressions",
    }
    InRabbitHole {
        name: "in_rabbit_hole", unit: Share, reduce: ShareOfViewers, summary: MeanInterval,
        when: Always,
        label: "viewers in a rabbit hole at the end",
        doc: "viewers with a full window and `top_topic_share` ≥ θ_RH",
    }
    RabbitHoleEver {
        name: "rabbit_hole_ever", unit: Share, reduce: ShareOfViewers, summary: MeanInterval,
        when: Always,
        label: "viewers ever in a rabbit hole",
        doc: "viewers who have been in a rabbit hole at some step so far",
    }
    MinutesToRabbitHole {
        name: "minutes_to_rabbit_hole", unit: Minutes, reduce: Median, summary: MeanInterval,
        when: Always,
        label: "median minutes of use until the first rabbit hole",
        doc: "per viewer, minutes of use at the first step in a rabbit hole; rows give the \
              median over viewers who got there",
    }
    InterestDrift {
        name: "interest_drift", unit: Index, reduce: Mean, summary: MeanInterval, when: Always,
        label: "drift of interests from the start (0 to 1)",
        doc: "½ Σ_k abs(θ_u,k − θ⁰_u,k): total-variation distance from the initial interests",
    }
    ProfileError {
        name: "profile_error", unit: Index, reduce: Mean, summary: MeanInterval, when: Always,
        label: "error of the platform's estimate of interests (0 to 1)",
        doc: "½ Σ_k abs(θ̂_u,k − θ_u,k): total-variation distance of the estimated from the \
              current interests",
    }
    SensitiveShare {
        name: "sensitive_share", unit: Share, reduce: Mean, summary: MeanInterval, when: Always,
        label: "impressions that are sensitive",
        doc: "sensitive impressions / impressions, per viewer since the start",
    }
    StanceShift {
        name: "stance_shift", unit: Index, reduce: Mean, summary: MeanInterval, when: Always,
        label: "mean change of stance (on -1 to 1)",
        doc: "x_u − x⁰_u, the change of stance since the start",
    }
    StanceMoved {
        name: "stance_moved", unit: Share, reduce: ShareOfViewers, summary: MeanInterval,
        when: Always,
        label: "viewers whose stance moved past the threshold",
        doc: "viewers with abs(x_u − x⁰_u) > `metrics.stance_threshold` [0.1]",
    }
    BoostedShare {
        name: "boosted_share", unit: Share, reduce: Mean, summary: MeanInterval, when: Always,
        label: "impressions from the boosted set",
        doc: "per viewer, impressions of `[target]` items / impressions; measured in every \
              arm, boosted or not (0 without a `[target]`)",
    }
    BoostedReach {
        name: "boosted_reach", unit: Share, reduce: ShareOfViewers, summary: MeanInterval,
        when: Always,
        label: "viewers shown the boosted set",
        doc: "reach of the `[target]` set: viewers shown at least one of its items so far \
              (0 without a `[target]`)",
    }
    BoostedTrustedShare {
        name: "boosted_trusted_share", unit: Share, reduce: Pooled, summary: MeanInterval,
        when: Always,
        label: "boosted impressions from creators the viewer follows",
        doc: "of all target impressions in the cohort, the share whose creator the viewer \
              followed at the time (empty without target impressions)",
    }
    AmplificationRatio {
        name: "amplification_ratio", unit: Ratio, reduce: Baseline, summary: MeanInterval,
        when: Always,
        label: "amplification of the boosted set (x baseline)",
        doc: "an arm's `boosted_share` over the baseline arm's (`scenario.baseline`), same \
              replicate and cohort (`all` if the baseline lacks it), at the same step or the \
              baseline's last step once it ended (Huszár et al. 2022: exposure under treatment \
              over exposure under control); empty when the baseline's is 0",
    }
    AmplificationRatioReach {
        name: "amplification_ratio_reach", unit: Ratio, reduce: Baseline, summary: MeanInterval,
        when: Always,
        label: "amplification of the boosted set by reach (x baseline)",
        doc: "an arm's `boosted_reach` over the baseline arm's, paired as `amplification_ratio`: \
              the share of an audience reached under treatment over the share reached under \
              control, as Huszár et al. (2022) compute amplification; empty when the \
              baseline's is 0",
    }
    Coverage {
        name: "coverage", unit: Share, reduce: Platform, summary: MeanInterval, when: Always,
        label: "catalog items shown at least once",
        doc: "share of visible items shown at least once (to anyone)",
    }
    CoverageRecent {
        name: "coverage_recent", unit: Share, reduce: Platform, summary: MeanInterval,
        when: Always,
        label: "catalog items shown in the last R steps",
        doc: "share of visible items shown at least once (to anyone) in the last R steps, this \
              one included (R = `metrics.recent_steps` [20])",
    }
    ExposureGini {
        name: "exposure_gini", unit: Index, reduce: Platform, summary: MeanInterval,
        when: Always,
        label: "concentration of impressions over items (Gini)",
        doc: "Gini coefficient Σᵢ (2i − n − 1) N₍ᵢ₎ / (n Σ N) of impressions over the n visible \
              items sorted ascending",
    }
    ExposureGiniRecent {
        name: "exposure_gini_recent", unit: Index, reduce: Platform, summary: MeanInterval,
        when: Always,
        label: "concentration of the last R steps' impressions over items (Gini)",
        doc: "`exposure_gini` of the impressions of the last R steps only: how concentrated \
              what is shown now is, where `exposure_gini` keeps the whole run's history",
    }
    ShownPopularity {
        name: "shown_popularity", unit: Index, reduce: Pooled, summary: Omitted, when: Always,
        label: "popularity of what is shown (1 = the average item)",
        doc: "mean of N_i / N̄ over the cohort's impressions at this step, N_i the item's \
              impressions before the step and N̄ the mean over visible items (warm-up \
              included): above 1, the feed shows items more popular than the average, the \
              popularity bias of Abdollahpouri et al. (2019) and Mansoury et al. (2020); \
              empty before anything was shown",
    }
    WatchMinutesPerDay {
        name: "watch_minutes_per_day", unit: Minutes, reduce: Mean, summary: MeanInterval,
        when: SafetyFeatures,
        label: "minutes watched per day",
        doc: "per viewer, minutes watched / calendar days reached (days left unused included, §5c)",
    }
    NightShare {
        name: "night_share", unit: Share, reduce: Mean, summary: MeanInterval,
        when: SafetyFeatures,
        label: "impressions at night",
        doc: "per viewer, the share of their impressions that started at night (§8c)",
    }
    SensitiveWindowMax {
        name: "sensitive_window_max", unit: Share, reduce: FullWindowMax, summary: MeanInterval,
        when: SafetyFeatures,
        label: "most sensitive items in any viewer's window",
        doc: "the share of sensitive items in a viewer's full window of W at this step: what \
              a sensitive cap bounds",
    }
    SessionsPerDay {
        name: "sessions_per_day", unit: Count, reduce: Mean, summary: MeanInterval,
        when: Always,
        label: "sessions per day of use",
        doc: "per viewer, sessions started / days of use so far (a day's first session \
              included; §5c)",
    }
    ImpressionsPerSession {
        name: "impressions_per_session", unit: Count, reduce: Mean, summary: MeanInterval,
        when: Always,
        label: "impressions per session",
        doc: "per viewer, impressions / sessions started so far (the session under way \
              included)",
    }
    ActiveDayShare {
        name: "active_day_share", unit: Share, reduce: Mean, summary: MeanInterval,
        when: Always,
        label: "days of the run the app was used",
        doc: "per viewer, days of use / calendar days reached so far (1 unless \
              `viewer.day_return_probability` < 1 lets days pass unused, §5c)",
    }
    HabitStrength {
        name: "habit", unit: Index, reduce: Mean, summary: MeanInterval, when: Always,
        label: "habit strength (0 to 1)",
        doc: "h_u, the habit strength built by days of use (§5c); updated when a day ends",
    }
    StanceDistanceShown {
        name: "stance_distance_shown", unit: Index, reduce: Pooled, summary: Omitted,
        when: Always,
        label: "stance distance of what is shown (0 to 2)",
        doc: "mean of abs(x_i − x_u) over the cohort's impressions of stance-bearing items \
              (§2) at this step, x_u the viewer's stance before the impression: how far from \
              their own stance what viewers are shown is (empty without such impressions)",
    }
    StancePolarisation {
        name: "stance_polarisation", unit: Index, reduce: Dispersion, summary: MeanInterval,
        when: Always,
        label: "polarisation: standard deviation of stances",
        doc: "√(mean of x_u² − (mean of x_u)²) over the cohort's viewers: polarisation as the \
              dispersion of opinion (DiMaggio, Evans and Bryson 1996)",
    }
}

/// `group_exposure_<g>`: a creator group's share of all impressions.
pub const GROUP_EXPOSURE: MetricDef = MetricDef {
    name: "group_exposure_<g>",
    unit: Unit::Share,
    reduce: Reduction::Platform,
    summary: Summary::MeanInterval,
    when: Condition::PerGroup,
    label: "impressions from creator group <g>",
    doc: "group g's share of all impressions so far",
};

/// `group_catalog_share_<g>`: a creator group's share of the visible catalog.
pub const GROUP_CATALOG_SHARE: MetricDef = MetricDef {
    name: "group_catalog_share_<g>",
    unit: Unit::Share,
    reduce: Reduction::Platform,
    summary: Summary::MeanInterval,
    when: Condition::PerGroup,
    label: "catalog items from creator group <g>",
    doc: "group g's share of visible items",
};

/// `group_reach_<g>`: the share of a cohort's viewers shown a creator group's items.
pub const GROUP_REACH: MetricDef = MetricDef {
    name: "group_reach_<g>",
    unit: Unit::Share,
    reduce: Reduction::ShareOfViewers,
    summary: Summary::MeanInterval,
    when: Condition::PerGroup,
    label: "viewers shown creator group <g>",
    doc: "reach of group g: viewers shown at least one of its items so far",
};

/// `group_amplification_reach_<g>`: a group's reach over the baseline arm's.
pub const GROUP_AMPLIFICATION_REACH: MetricDef = MetricDef {
    name: "group_amplification_reach_<g>",
    unit: Unit::Ratio,
    reduce: Reduction::Baseline,
    summary: Summary::MeanInterval,
    when: Condition::PerGroup,
    label: "amplification of creator group <g> by reach (x baseline)",
    doc: "an arm's `group_reach_<g>` over the baseline arm's, paired as `amplification_ratio` \
          (Huszár et al. 2022); empty when the baseline's is 0",
};

/// The per-group metrics, one column per creator group after the scalar metrics (in this
/// order, each over all groups).
pub const GROUP_METRICS: [MetricDef; 4] = [
    GROUP_EXPOSURE,
    GROUP_CATALOG_SHARE,
    GROUP_REACH,
    GROUP_AMPLIFICATION_REACH,
];

impl Metric {
    /// The metric's definition.
    pub fn def(self) -> &'static MetricDef {
        &METRICS[self as usize]
    }

    /// The metric's column name.
    pub fn name(self) -> &'static str {
        self.def().name
    }

    /// The metrics a run's files have, in column order: `safety` if the scenario uses the
    /// safety features (`Scenario::safety_features`).
    pub fn written(safety: bool) -> impl Iterator<Item = Metric> {
        Metric::ALL.into_iter().filter(move |m| match m.def().when {
            Condition::Always | Condition::PerGroup => true,
            Condition::SafetyFeatures => safety,
        })
    }
}

/// Every definition: the scalar metrics, then the per-group ones.
pub fn all() -> impl Iterator<Item = &'static MetricDef> {
    METRICS.iter().chain(&GROUP_METRICS)
}

/// The definition of the metric whose column is `column` and the creator group it is for
/// (empty for a scalar metric); `None` for a column that is not a metric.
pub fn find(column: &str) -> Option<(&'static MetricDef, &str)> {
    all().find_map(|d| d.group_of(column).map(|g| (d, g)))
}

/// The metric table of `docs/model.md` §10, rendered from the definitions.
pub fn markdown_table() -> String {
    let mut out = String::from(
        "| metric | unit | over a cohort's viewers | `summary.csv` | written | definition |\n\
         | --- | --- | --- | --- | --- | --- |\n",
    );
    for d in all() {
        let summary = match d.summary {
            Summary::MeanInterval => "mean, 95 % interval",
            Summary::Omitted => "left out",
        };
        out.push_str(&format!(
            "| `{}` | {} | {} | {} | {} | {} |\n",
            d.name,
            d.unit.name(),
            d.reduce.describe(),
            summary,
            d.when.describe(),
            d.doc
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_enum_indexes_its_definitions() {
        for (i, m) in Metric::ALL.into_iter().enumerate() {
            assert_eq!(m as usize, i);
            assert_eq!(m.def(), &METRICS[i]);
        }
        let mut names: Vec<&str> = all().map(|d| d.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(
            names.len(),
            METRICS.len() + GROUP_METRICS.len(),
            "names are unique"
        );
    }

    #[test]
    fn columns_find_their_metric_and_group() {
        assert_eq!(find("feed_entropy"), Some((Metric::FeedEntropy.def(), "")));
        assert_eq!(
            find("group_exposure_minority"),
            Some((&GROUP_EXPOSURE, "minority"))
        );
        assert_eq!(
            find("group_catalog_share_a_b"),
            Some((&GROUP_CATALOG_SHARE, "a_b"))
        );
        assert_eq!(find("group_exposure_"), None);
        assert_eq!(find("feed_entropy_p"), None);
        assert_eq!(find("arm"), None);
        assert_eq!(GROUP_EXPOSURE.column("x"), "group_exposure_x");
    }

    #[test]
    fn minors_columns_are_written_only_with_safety() {
        let names = |safety| Metric::written(safety).map(Metric::name).collect::<Vec<_>>();
        assert!(!names(false).contains(&"night_share"));
        assert!(names(true).contains(&"night_share"));
        assert_eq!(names(true).len(), Metric::COUNT);
    }
}
