//! `[[arms]]` and their policies: the closed set of recommender designs a scenario can run.

use super::{BoostConfig, CoordinatedConfig, ProtectionsConfig};
use serde::{Deserialize, Serialize};

/// `[[arms]]`: one recommender design run on the shared population.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Arm {
    /// Arm name, used in results.
    pub name: String,
    /// The ranking policy (the default every viewer starts with).
    pub policy: PolicyConfig,
    /// Lets a share of viewers switch to another recommender during the run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub switch: Option<SwitchConfig>,
    /// Hidden or open boosts of target items.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub boosts: Vec<BoostConfig>,
    /// Coordinated accounts that push target items.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub coordinated: Option<CoordinatedConfig>,
    /// Limits on the feed: sensitive cap, limits for minors, explicit feedback, reset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protections: Option<ProtectionsConfig>,
}

impl Arm {
    /// One line for a person: the name, the policy as written inline, and what else the arm
    /// has (`engagement: policy = { kind = "engagement", exploration = 0.05 }`).
    pub fn describe(&self) -> String {
        let mut also = Vec::new();
        if let Some(s) = &self.switch {
            also.push(format!("switch to {}", s.policy.kind()));
        }
        match self.boosts.len() {
            0 => {}
            1 => also.push("1 boost".into()),
            n => also.push(format!("{n} boosts")),
        }
        if self.coordinated.is_some() {
            also.push("coordinated accounts".into());
        }
        if self.protections.is_some() {
            also.push("protections".into());
        }
        let mut line = format!("{}: policy = {}", self.name, self.policy.inline());
        if !also.is_empty() {
            line.push_str(&format!("; with {}", also.join(", ")));
        }
        line
    }
}

/// `value` as inline TOML, with `kind` first in every table (toml sorts keys by name) so that
/// a policy reads as people write it.
fn inline(value: &toml::Value) -> String {
    match value {
        toml::Value::Table(t) => {
            let keys = t
                .keys()
                .filter(|k| *k == "kind")
                .chain(t.keys().filter(|k| *k != "kind"));
            let pairs: Vec<String> = keys.map(|k| format!("{k} = {}", inline(&t[k]))).collect();
            format!("{{ {} }}", pairs.join(", "))
        }
        toml::Value::Array(a) => {
            let items: Vec<String> = a.iter().map(inline).collect();
            format!("[{}]", items.join(", "))
        }
        other => other.to_string(),
    }
}

/// `[arms.switch]`: a share of viewers leaves the default for another recommender.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SwitchConfig {
    /// Share of viewers who switch (the same viewers in every arm with the same share).
    pub share: f64,
    /// Minutes of use after which they switch.
    #[serde(default)]
    pub at_minute: f64,
    /// The recommender they switch to.
    pub policy: PolicyConfig,
}

/// The ranking policy of an arm.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum PolicyConfig {
    /// Maximise predicted watch time, learned online.
    Engagement(EngagementConfig),
    /// Uniformly random visible items.
    Random(RandomConfig),
    /// Newest first, from followed creators and fresh uploads; reads no profile.
    Chronological(ChronologicalConfig),
    /// Trending now, the same for everyone; reads no profile.
    Popularity(PopularityConfig),
    /// The engagement ranking re-ranked for topic diversity.
    Diversified(DiversifiedConfig),
    /// The engagement ranking re-ranked so the feed's topic mix matches the viewer's
    /// estimated long-term interests.
    Calibrated(CalibratedConfig),
    /// A viewer-chosen mix of other policies.
    Blend(BlendConfig),
    /// Predicted watch time from viewer and item factors learned online from everyone's
    /// behaviour (matrix factorisation).
    Collaborative(CollaborativeConfig),
    /// A benchmark, not a platform: ranks by each viewer's true expected watch time, read from
    /// the viewer's latent state.
    Oracle(OracleConfig),
}

impl PolicyConfig {
    /// The `kind` as written in scenario files.
    pub fn kind(&self) -> &'static str {
        match self {
            PolicyConfig::Engagement(_) => "engagement",
            PolicyConfig::Random(_) => "random",
            PolicyConfig::Chronological(_) => "chronological",
            PolicyConfig::Popularity(_) => "popularity",
            PolicyConfig::Diversified(_) => "diversified",
            PolicyConfig::Calibrated(_) => "calibrated",
            PolicyConfig::Blend(_) => "blend",
            PolicyConfig::Collaborative(_) => "collaborative",
            PolicyConfig::Oracle(_) => "oracle",
        }
    }

    /// The policy as a scenario file writes it inline: `{ kind = "engagement", exploration =
    /// 0.05 }`, every key with its resolved value.
    pub fn inline(&self) -> String {
        inline(&toml::Value::try_from(self).expect("a policy always serialises"))
    }

    /// The trending half-life this policy asks for, if any (a `popularity` with `half_life`,
    /// also inside a blend).
    pub fn trending_half_life(&self) -> Option<f64> {
        match self {
            PolicyConfig::Popularity(p) => p.half_life,
            PolicyConfig::Blend(b) => b.components.iter().find_map(|c| c.policy.trending_half_life()),
            _ => None,
        }
    }
}

/// Parameters of the `engagement` policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EngagementConfig {
    /// Probability that an impression is a uniformly random item instead of the top-ranked one.
    pub exploration: f64,
}

impl Default for EngagementConfig {
    fn default() -> Self {
        EngagementConfig { exploration: 0.05 }
    }
}

/// Parameters of the `random` policy: none, and any key given is refused.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RandomConfig {}

/// Parameters of the `chronological` policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ChronologicalConfig {
    /// Items by followed creators uploaded within this many steps come before fresh uploads
    /// by others.
    pub following_window: u32,
}

impl Default for ChronologicalConfig {
    fn default() -> Self {
        ChronologicalConfig {
            following_window: 100,
        }
    }
}

/// Parameters of the `popularity` policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PopularityConfig {
    /// Probability of a uniformly random item (fresh content reaching the feed) instead of a
    /// trending one.
    pub exploration: f64,
    /// Half-life of the trending counter in this arm, steps; `recommender.trending_half_life`
    /// when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub half_life: Option<f64>,
}

impl Default for PopularityConfig {
    fn default() -> Self {
        PopularityConfig {
            exploration: 0.05,
            half_life: None,
        }
    }
}

/// Parameters of the `diversified` policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DiversifiedConfig {
    /// Probability of a uniformly random item instead of the ranking.
    pub exploration: f64,
    /// λ of maximal marginal relevance: 0 = the engagement ranking, 1 = diversity only.
    pub diversity: f64,
    /// Most share of the feed window one topic may take; no cap when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub topic_cap: Option<f64>,
}

impl Default for DiversifiedConfig {
    fn default() -> Self {
        DiversifiedConfig {
            exploration: 0.05,
            diversity: 0.5,
            topic_cap: None,
        }
    }
}

/// Parameters of the `calibrated` policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CalibratedConfig {
    /// Probability of a uniformly random item instead of the ranking.
    pub exploration: f64,
    /// λ of Steck's calibration: 0 = the engagement ranking, 1 = calibration only.
    pub weight: f64,
}

impl Default for CalibratedConfig {
    fn default() -> Self {
        CalibratedConfig {
            exploration: 0.05,
            weight: 0.5,
        }
    }
}

impl PolicyConfig {
    /// The collaborative configuration this policy uses, if any (a `collaborative`, also
    /// inside a blend): an arm learns factors when one of its policies asks for them.
    pub fn collaborative(&self) -> Option<&CollaborativeConfig> {
        match self {
            PolicyConfig::Collaborative(c) => Some(c),
            PolicyConfig::Blend(b) => b.components.iter().find_map(|c| c.policy.collaborative()),
            _ => None,
        }
    }
}

/// Parameters of the `collaborative` policy (`docs/model.md` §8f).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CollaborativeConfig {
    /// Probability that an impression is a uniformly random item instead of the top-ranked one.
    pub exploration: f64,
    /// F: dimensions of the viewer and item factors.
    pub dimensions: u32,
    /// η: the step size of the stochastic gradient updates.
    pub learning_rate: f64,
    /// λ: the L2 regularisation of factors and biases.
    pub regularization: f64,
    /// Standard deviation of the initial factors, per dimension.
    pub init_scale: f64,
    /// b: the retrieval index has 2^b cells (random hyperplanes over the item factors).
    pub cell_bits: u32,
    /// Cells whose mean item scores highest for the viewer, from which candidates are drawn.
    pub probe: u32,
}

impl Default for CollaborativeConfig {
    fn default() -> Self {
        CollaborativeConfig {
            exploration: 0.05,
            dimensions: 16,
            learning_rate: 0.1,
            regularization: 0.02,
            init_scale: 0.1,
            cell_bits: 6,
            probe: 3,
        }
    }
}

/// Parameters of the `oracle` benchmark.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OracleConfig {
    /// Probability of a uniformly random item instead of the ranking (0: none).
    pub exploration: f64,
}

impl Default for OracleConfig {
    fn default() -> Self {
        OracleConfig { exploration: 0.0 }
    }
}

/// Parameters of the `blend` policy.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BlendConfig {
    /// The policies mixed, each with a weight.
    pub components: Vec<BlendComponent>,
}

/// `[[arms.policy.components]]`: one policy of a blend.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BlendComponent {
    /// Relative weight: the share of impressions this policy ranks (normalised).
    pub weight: f64,
    /// The policy (not itself a blend).
    pub policy: PolicyConfig,
}

#[cfg(test)]
mod tests {
    use crate::scenario::{Scenario, load_str};
    use std::path::Path;

    #[test]
    fn arms_describe_their_policy_as_written() {
        let lines: Vec<String> = Scenario::default().arms.iter().map(|a| a.describe()).collect();
        assert_eq!(
            lines,
            [
                r#"engagement: policy = { kind = "engagement", exploration = 0.05 }"#,
                r#"random: policy = { kind = "random" }"#,
            ]
        );
        let text = r#"
[[arms]]
name = "mix"
policy = { kind = "blend", components = [{ weight = 1.0, policy = { kind = "random" } }] }
switch = { share = 0.5, policy = { kind = "chronological" } }
protections = { sensitive_cap = 0.1 }
"#;
        let arm = &load_str(text, Path::new("s.toml"), &[]).unwrap().arms[0];
        assert_eq!(
            arm.describe(),
            r#"mix: policy = { kind = "blend", components = [{ policy = { kind = "random" }, weight = 1.0 }] }; with switch to chronological, protections"#
        );
    }
}
