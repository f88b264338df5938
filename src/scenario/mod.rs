//! Scenario files: the typed, validated description of one experiment.
//!
//! A scenario is read once at the boundary ([`load`]), every key gets its default, and
//! [`Scenario::validate`] checks every range. The model core receives a valid `Scenario`
//! and never re-checks it. Every key is documented in `docs/scenarios.md`.

mod boost;
mod check;
mod load;
mod policy;
mod safety;
mod sections;
mod taste;

pub use boost::{BoostConfig, BoostMode, CoordinatedConfig, TargetConfig};
pub use check::Invalid;
pub use load::{
    ScenarioError, load, load_str, locate_line, replaced_defaults_note, writes_no_arms, writes_topics,
};
pub use policy::{
    Arm, BlendComponent, BlendConfig, CalibratedConfig, ChronologicalConfig, CollaborativeConfig,
    DiversifiedConfig, EngagementConfig, OracleConfig, PolicyConfig, PopularityConfig, RandomConfig,
    SwitchConfig,
};
pub use safety::{BotConfig, BotRule, DayConfig, ProtectionsConfig, in_hours};

use serde::{Deserialize, Serialize};

/// One experiment: a catalog, a population, the viewer and feed model, metrics, and the arms.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Scenario {
    pub scenario: Meta,
    pub catalog: CatalogConfig,
    pub population: PopulationConfig,
    pub viewer: ViewerConfig,
    pub recommender: RecommenderConfig,
    pub feed: FeedConfig,
    pub metrics: MetricsConfig,
    /// The item set that `boosted_share` measures in every arm, and the default target of
    /// every boost.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<TargetConfig>,
    /// When in the day viewers use the app; see [`Scenario::day_model`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub day: Option<DayConfig>,
    pub arms: Vec<Arm>,
    /// Scripted audit accounts added to the population.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub bots: Vec<BotConfig>,
}

impl Default for Scenario {
    fn default() -> Self {
        Scenario {
            scenario: Meta::default(),
            catalog: CatalogConfig::default(),
            population: PopulationConfig::default(),
            viewer: ViewerConfig::default(),
            recommender: RecommenderConfig::default(),
            feed: FeedConfig::default(),
            metrics: MetricsConfig::default(),
            target: None,
            day: None,
            arms: vec![
                Arm {
                    name: "engagement".into(),
                    policy: PolicyConfig::Engagement(EngagementConfig::default()),
                    switch: None,
                    boosts: Vec::new(),
                    coordinated: None,
                    protections: None,
                },
                Arm {
                    name: "random".into(),
                    policy: PolicyConfig::Random(RandomConfig {}),
                    switch: None,
                    boosts: Vec::new(),
                    coordinated: None,
                    protections: None,
                },
            ],
            bots: Vec::new(),
        }
    }
}

impl Scenario {
    /// True when the scenario uses what minors, protections and audits need: a `[day]` table,
    /// `[arms.protections]`, `[[bots]]` or vulnerable viewers. Then time of day is simulated
    /// and results have the age, vulnerability and bot cohorts and the day columns; without
    /// them a scenario runs and writes exactly as before these features existed.
    pub fn safety_features(&self) -> bool {
        self.day.is_some()
            || !self.bots.is_empty()
            || self.arms.iter().any(|a| a.protections.is_some())
            || self.population.vulnerable_minor_share > 0.0
            || self.population.vulnerable_adult_share > 0.0
    }

    /// The time-of-day model: the `[day]` table, or its defaults when the scenario uses the
    /// features of [`Scenario::safety_features`]; none otherwise.
    pub fn day_model(&self) -> Option<DayConfig> {
        match &self.day {
            Some(d) => Some(d.clone()),
            None => self.safety_features().then(DayConfig::default),
        }
    }

    /// Items uploaded during the run: `catalog.arrivals_per_step` for `feed.max_steps` steps.
    pub fn n_arrivals(&self) -> u64 {
        (self.catalog.arrivals_per_step * f64::from(self.feed.max_steps)).floor() as u64
    }

    /// Number of audit bots, after the population's viewers.
    pub fn n_bots(&self) -> u64 {
        self.bots.iter().map(|b| u64::from(b.count)).sum()
    }

    /// Index of the topic named `name`.
    pub fn topic_index(&self, name: &str) -> Option<usize> {
        self.catalog.topics.iter().position(|t| t.name == name)
    }

    /// Index of the arm that ratios such as `amplification_ratio` are taken against.
    pub fn baseline_index(&self) -> usize {
        match &self.scenario.baseline {
            Some(name) => self.arms.iter().position(|a| &a.name == name).unwrap_or(0),
            None => 0,
        }
    }

    /// Number of topics, K.
    pub fn n_topics(&self) -> usize {
        self.catalog.topics.len()
    }
}

/// `[scenario]`: name, seed and replicates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Meta {
    /// Name of the scenario; also the default results directory `results/<name>/`.
    pub name: String,
    /// Free text shown in reports.
    pub description: String,
    /// Master seed: every random stream derives from it.
    pub seed: u64,
    /// Independent replicates (a new catalog and population each).
    pub replicates: u32,
    /// Arm that ratios are taken against; the first arm when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baseline: Option<String>,
}

impl Default for Meta {
    fn default() -> Self {
        Meta {
            name: "scenario".into(),
            description: String::new(),
            seed: 1,
            replicates: 5,
            baseline: None,
        }
    }
}

/// `[catalog]`: topics, creators and items.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CatalogConfig {
    /// Items present at the start.
    pub items: u32,
    /// Creators; each has a home topic and a group.
    pub creators: u32,
    /// New uploads per step (one step is one impression for every viewer).
    pub arrivals_per_step: f64,
    /// Median item duration, seconds (log-normal).
    pub duration_median_seconds: f64,
    /// Log-scale spread of the duration.
    pub duration_sigma: f64,
    /// Shortest item, seconds.
    pub duration_min_seconds: f64,
    /// Longest item, seconds.
    pub duration_max_seconds: f64,
    /// Beta(a, b) of item quality in [0, 1]: a.
    pub quality_alpha: f64,
    /// Beta(a, b) of item quality in [0, 1]: b.
    pub quality_beta: f64,
    /// Standard deviation of an item's stance around its creator's stance.
    pub stance_noise: f64,
    /// Probability that an item's topic is redrawn from the topic shares instead of being its
    /// creator's home topic (it may land on the home topic again); half of the items that land
    /// elsewhere go to a creator of that topic.
    pub off_topic_share: f64,
    /// The K topics.
    pub topics: Vec<TopicConfig>,
    /// Creator groups (for exposure fairness).
    pub groups: Vec<GroupConfig>,
    /// D, the dimensions of the latent taste space (`docs/model.md` §2b); 0 turns item-level
    /// taste off.
    pub taste_dimensions: u32,
    /// Standard deviation of a creator's taste offset from its topic's centre, per dimension.
    pub creator_taste_spread: f64,
    /// Standard deviation of an item's taste offset from its creator's, per dimension.
    pub item_taste_spread: f64,
    /// Probability that an arriving item is the first upload of a new creator.
    pub new_creator_share: f64,
    /// Exponent s of creators' popularity weights w_c = U^(-s) (Zipf-like; 0: all alike),
    /// which weigh the initial follows (`population.initial_follows`).
    pub creator_popularity_exponent: f64,
}

impl Default for CatalogConfig {
    fn default() -> Self {
        let topic = |name: &str, share, sensitive, educational| TopicConfig {
            name: name.into(),
            share,
            sensitive,
            educational,
            stance_mean: 0.0,
            stance_spread: 0.3,
            stance_bearing: false,
        };
        CatalogConfig {
            items: 5000,
            creators: 500,
            arrivals_per_step: 2.0,
            // Calibrated to KuaiRec's play durations (docs/calibration.md).
            duration_median_seconds: 9.59,
            duration_sigma: 0.333,
            duration_min_seconds: 3.0,
            duration_max_seconds: 180.0,
            quality_alpha: 2.0,
            quality_beta: 2.0,
            stance_noise: 0.15,
            off_topic_share: 0.1,
            creator_popularity_exponent: 0.78,
            topics: vec![
                topic("comedy", 0.2, false, false),
                topic("music", 0.15, false, false),
                topic("sports", 0.12, false, false),
                topic("food", 0.1, false, false),
                topic("gaming", 0.12, false, false),
                TopicConfig {
                    stance_spread: 0.6,
                    stance_bearing: true,
                    ..topic("politics", 0.1, false, false)
                },
                topic("science", 0.08, false, true),
                topic("mental_health", 0.06, true, false),
                topic("fitness", 0.07, false, false),
            ],
            groups: vec![
                GroupConfig {
                    name: "majority".into(),
                    share: 0.8,
                },
                GroupConfig {
                    name: "minority".into(),
                    share: 0.2,
                },
            ],
            taste_dimensions: 16,
            creator_taste_spread: 1.0,
            item_taste_spread: 0.5,
            new_creator_share: 0.0,
        }
    }
}

/// `[[catalog.topics]]`: one topic.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TopicConfig {
    /// Topic name, used in results.
    pub name: String,
    /// Relative weight of the topic among creators and items (normalised over topics).
    #[serde(default = "one")]
    pub share: f64,
    /// Items of this topic are sensitive (eating disorders, self-harm, depression).
    #[serde(default)]
    pub sensitive: bool,
    /// Items of this topic are educational.
    #[serde(default)]
    pub educational: bool,
    /// Mean creator stance on this topic, -1..1.
    #[serde(default)]
    pub stance_mean: f64,
    /// Standard deviation of creator stance on this topic.
    #[serde(default = "default_stance_spread")]
    pub stance_spread: f64,
    /// Items of this topic take a side: viewers' agreement with their stance shapes the
    /// response and the platform learns it (`docs/model.md` §2, §4c).
    #[serde(default)]
    pub stance_bearing: bool,
}

fn one() -> f64 {
    1.0
}

fn default_stance_spread() -> f64 {
    0.3
}

/// `[[catalog.groups]]`: one creator group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupConfig {
    /// Group name, used in `group_exposure_<name>` columns.
    pub name: String,
    /// Relative weight of the group among creators (normalised over groups).
    #[serde(default = "one")]
    pub share: f64,
}

/// `[population]`: who the viewers are.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PopulationConfig {
    /// Number of viewers.
    pub users: u32,
    /// Share of viewers who are minors.
    pub minor_share: f64,
    /// Dirichlet concentration per topic (times K times the topic's share): small makes
    /// viewers specialised, large makes them broad.
    pub interest_concentration: f64,
    /// Mean initial stance, -1..1.
    pub stance_mean: f64,
    /// Standard deviation of initial stance (clamped to -1..1).
    pub stance_sd: f64,
    /// Mean susceptibility to drift (gamma-distributed, multiplies drift and stance rates).
    pub susceptibility_mean: f64,
    /// Gamma shape of susceptibility: large makes viewers alike.
    pub susceptibility_shape: f64,
    /// Bounded-confidence radius: items whose stance differs more do not move a viewer's stance.
    pub confidence_bound: f64,
    /// Median daily time budget, minutes (log-normal).
    pub budget_median_minutes: f64,
    /// Log-scale spread of the daily budget.
    pub budget_sigma: f64,
    /// Share of minors who are vulnerable to sensitive content.
    pub vulnerable_minor_share: f64,
    /// Share of adults who are vulnerable to sensitive content.
    pub vulnerable_adult_share: f64,
    /// Standard deviation of a viewer's initial taste vector, per dimension (§3b).
    pub taste_spread: f64,
    /// Creators each viewer follows at the start (0: none, a fresh account).
    pub initial_follows: u32,
    /// Minutes of prior use under the warm-up feed before measurement begins (0: none).
    pub warmup_minutes: f64,
    /// Habit strength (0..1) at the start: 0 a new user, 1 a fully habitual one.
    pub initial_habit: f64,
}

impl Default for PopulationConfig {
    fn default() -> Self {
        PopulationConfig {
            users: 2000,
            minor_share: 0.25,
            interest_concentration: 0.5,
            stance_mean: 0.0,
            stance_sd: 0.4,
            susceptibility_mean: 1.0,
            susceptibility_shape: 4.0,
            confidence_bound: 0.4,
            // Calibrated to daily minutes of use (docs/calibration.md).
            budget_median_minutes: 160.0,
            budget_sigma: 0.6,
            vulnerable_minor_share: 0.0,
            vulnerable_adult_share: 0.0,
            taste_spread: 1.0,
            initial_follows: 16,
            warmup_minutes: 0.0,
            initial_habit: 0.5,
        }
    }
}

/// `[viewer]`: how a viewer responds to an item and changes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ViewerConfig {
    /// Intercept of the expected watch fraction (logit scale).
    pub baseline_logit: f64,
    /// Weight of ln(K * interest in the item's topic).
    pub interest_weight: f64,
    /// Weight of (quality - 0.5).
    pub quality_weight: f64,
    /// Weight of the viewer's satiation with the item's topic.
    pub satiation_weight: f64,
    /// Added when the viewer follows the item's creator.
    pub trust_weight: f64,
    /// Weight of ln(duration / reference duration), subtracted.
    pub duration_weight: f64,
    /// Reference duration, seconds.
    pub duration_reference_seconds: f64,
    /// Concentration of the Beta distribution of the watch fraction around its mean.
    pub watch_concentration: f64,
    /// A watch fraction below this is a skip.
    pub skip_below: f64,
    /// Probability of a like at a full watch (scales with the fraction squared).
    pub like_rate: f64,
    /// Probability of following the creator at a full watch (scales with the fraction squared).
    pub follow_rate: f64,
    /// Most creators a viewer follows; a new follow replaces the oldest.
    pub max_follows: u32,
    /// Satiation added to the watched topic per unit of watch fraction.
    pub satiation_gain: f64,
    /// Share of satiation kept per impression (1 = satiation never wears off).
    pub satiation_decay: f64,
    /// Factor applied to satiation at a session break.
    pub session_recovery: f64,
    /// Weight of the past in boredom, an exponential moving average of skips.
    pub boredom_decay: f64,
    /// Boredom (0..1, the recent share of skips) at which the viewer leaves the session.
    pub boredom_threshold: f64,
    /// Probability that a viewer who left a session comes back the same day.
    pub return_probability: f64,
    /// Interest drift per impression towards the watched topic, per unit of watch fraction.
    pub drift_rate: f64,
    /// Stance step towards a watched item within the confidence bound.
    pub stance_rate: f64,
    /// Factor on the stance step when the creator is followed.
    pub trust_stance_multiplier: f64,
    /// Seconds spent per impression on swiping and loading, on top of watching.
    pub swipe_seconds: f64,
    /// Added to the logit of a vulnerable viewer's watch fraction on sensitive items
    /// (lingering), not to what they would like.
    pub sensitive_linger: f64,
    /// Factor on a vulnerable viewer's interest drift towards sensitive topics.
    pub sensitive_drift: f64,
    /// Added to the logit behind a vulnerable viewer's likes and follows of sensitive items:
    /// below 0, they approve of less than they watch.
    pub sensitive_approval: f64,
    /// β_M: weight of the within-topic taste match in the watch logit (§4b); 0 is the topic
    /// model alone.
    pub taste_weight: f64,
    /// λ_T: taste drift per impression towards the watched item, per unit of watch fraction.
    pub taste_drift_rate: f64,
    /// Added to the logit of coming back (same day, next day) per unit of habit above 0.5.
    pub habit_return_weight: f64,
    /// Added to the logit of coming back per unit of today's mean watch fraction above that of
    /// an average item.
    pub satisfaction_return_weight: f64,
    /// Probability of using the app on a later day, for a viewer of middling habit and
    /// satisfaction (1 = every day).
    pub day_return_probability: f64,
    /// Share of the gap to full habit closed by a day of use.
    pub habit_gain: f64,
    /// Share of habit lost on a day without use.
    pub habit_decay: f64,
    /// Agreement (selective exposure): logit subtracted per unit of distance between a
    /// stance-bearing item's stance and the viewer's; 0 turns it off.
    pub agreement_weight: f64,
}

impl Default for ViewerConfig {
    fn default() -> Self {
        ViewerConfig {
            // Calibrated to watch ratios and daily use (docs/calibration.md), as are
            // duration_weight, watch_concentration, boredom_threshold and return_probability.
            baseline_logit: -0.0969,
            interest_weight: 1.0,
            quality_weight: 2.0,
            satiation_weight: 1.0,
            trust_weight: 0.7,
            duration_weight: 1.65,
            duration_reference_seconds: 18.0,
            watch_concentration: 1.73,
            skip_below: 0.15,
            like_rate: 0.2,
            follow_rate: 0.03,
            max_follows: 16,
            satiation_gain: 0.15,
            satiation_decay: 0.95,
            session_recovery: 0.5,
            boredom_decay: 0.8,
            boredom_threshold: 0.320,
            return_probability: 0.888,
            drift_rate: 0.01,
            stance_rate: 0.05,
            trust_stance_multiplier: 2.0,
            swipe_seconds: 1.0,
            sensitive_linger: 1.0,
            sensitive_drift: 3.0,
            sensitive_approval: -1.0,
            taste_weight: 1.0,
            taste_drift_rate: 0.01,
            habit_return_weight: 2.0,
            satisfaction_return_weight: 4.0,
            day_return_probability: 0.75,
            habit_gain: 0.044,
            habit_decay: 0.044,
            agreement_weight: 0.4,
        }
    }
}

/// `[recommender]`: what every platform learns from behaviour, whatever policy ranks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RecommenderConfig {
    /// Prior estimate of a viewer's watch signal on a topic never shown (the signal is the watch
    /// fraction plus like and follow credits, less the skip penalty).
    pub profile_prior: f64,
    /// Pseudo-count of the prior in the per-topic estimate.
    pub profile_prior_weight: f64,
    /// Smallest learning rate of the per-topic estimate (keeps it tracking drift).
    pub learning_rate_min: f64,
    /// Added to the observed signal for a like.
    pub like_weight: f64,
    /// Added to the observed signal for a follow.
    pub follow_weight: f64,
    /// Subtracted from the observed signal for a skip.
    pub skip_penalty: f64,
    /// Pseudo-impressions of the global mean in an item's completion estimate.
    pub item_prior_weight: f64,
    /// Factor on predicted watch fraction for items by followed creators.
    pub follow_bonus: f64,
    /// Half-life of the trending counter, steps.
    pub trending_half_life: f64,
    /// Size of the trending list that retrieval draws from.
    pub trending_pool: u32,
    /// Weight of the learned stance in predicted watch fractions: stance-bearing items are
    /// scaled by exp(-weight × |stance - learned stance|); 0 turns it off (and the learning).
    pub agreement_weight: f64,
}

impl Default for RecommenderConfig {
    fn default() -> Self {
        RecommenderConfig {
            profile_prior: 0.3,
            profile_prior_weight: 1.0,
            learning_rate_min: 0.1,
            like_weight: 0.3,
            follow_weight: 0.3,
            skip_penalty: 0.1,
            item_prior_weight: 5.0,
            follow_bonus: 1.2,
            trending_half_life: 10.0,
            trending_pool: 200,
            agreement_weight: 0.4,
        }
    }
}

/// `[feed]`: how long viewers scroll and how candidates are retrieved.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FeedConfig {
    /// Days simulated per viewer; each day the viewer uses the app until the daily budget is
    /// spent or they do not come back after a session.
    pub days: u32,
    /// Cap on minutes of use per viewer over the run (watching plus swiping); none by default.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub minutes: Option<f64>,
    /// Most impressions per viewer, whatever the minutes.
    pub max_steps: u32,
    /// The recommender does not show again an item among the viewer's last this many
    /// impressions (0: repeats allowed).
    pub no_repeat: u32,
    /// Candidates drawn from the viewer's strongest estimated topics per impression.
    pub topic_candidates: u32,
    /// How many of the strongest estimated topics candidates come from (at most K are used).
    pub top_topics: u32,
    /// Candidates drawn from the trending list.
    pub trending_candidates: u32,
    /// Candidates drawn uniformly from the catalog (exploration in retrieval).
    pub explore_candidates: u32,
    /// `candidates`: rank a few dozen retrieved candidates (topic, trending, explore);
    /// `exhaustive`: rank every visible item, so retrieval cannot bias a result.
    pub retrieval: Retrieval,
}

/// How ranking policies get their candidates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Retrieval {
    /// Candidates from the strongest topics, trending and the whole catalog.
    Candidates,
    /// Every visible item.
    Exhaustive,
}

impl Default for FeedConfig {
    fn default() -> Self {
        FeedConfig {
            days: 1,
            minutes: None,
            max_steps: 20_000,
            no_repeat: 20,
            topic_candidates: 30,
            top_topics: 3,
            trending_candidates: 10,
            explore_candidates: 10,
            retrieval: Retrieval::Candidates,
        }
    }
}

/// `[metrics]`: windows and thresholds of the metrics.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MetricsConfig {
    /// W: the window of last impressions that feed metrics look at.
    pub window: u32,
    /// `top_topic_share` at or above which a viewer is in a rabbit hole.
    pub rabbit_hole_threshold: f64,
    /// Write a timeseries row every this many steps (the last step is always written).
    pub every: u32,
    /// A viewer whose stance moved more than this counts in `stance_moved`.
    pub stance_threshold: f64,
    /// R: the window of last steps that `coverage_recent` and `exposure_gini_recent` measure.
    pub recent_steps: u32,
}

impl Default for MetricsConfig {
    fn default() -> Self {
        MetricsConfig {
            window: 20,
            rabbit_hole_threshold: 0.8,
            every: 1,
            stance_threshold: 0.1,
            recent_steps: 20,
        }
    }
}
