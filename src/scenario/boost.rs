//! `[target]`, `[[arms.boosts]]` and `[arms.coordinated]`: the ampliganda mechanisms. A target
//! is a set of items; a boost quietly changes how its items rank; coordinated accounts push it
//! through the signals the ranking reads.

use serde::{Deserialize, Serialize};

/// A set of items, chosen by topic, stance, creator group and aligned creators. An item is in
/// the set when it meets every condition given.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TargetConfig {
    /// Topic names; any topic when empty.
    pub topics: Vec<String>,
    /// Lowest item stance, -1..1.
    pub stance_min: f64,
    /// Highest item stance, -1..1.
    pub stance_max: f64,
    /// Creator group names; any group when empty.
    pub groups: Vec<String>,
    /// Share of creators marked as aligned; when above 0, only aligned creators' items count.
    pub aligned_share: f64,
}

impl TargetConfig {
    /// Every item.
    pub fn everything() -> TargetConfig {
        TargetConfig {
            topics: Vec::new(),
            stance_min: -1.0,
            stance_max: 1.0,
            groups: Vec::new(),
            aligned_share: 0.0,
        }
    }
}

/// How a boost changes the ranking of its target's items.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BoostMode {
    /// The score is multiplied by `strength` (below 1 pushes the target down).
    Multiplier,
    /// `strength` is added to the score, in the policy's score units (negative pushes down).
    Additive,
    /// A share `strength` of impressions is a target item, whatever the ranking.
    Slots,
    /// Target items are no longer recommended once they have `strength` impressions.
    ReachCap,
}

/// `[[arms.boosts]]`: one boost of an arm.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BoostConfig {
    /// Name, for `explain` and the manifest.
    #[serde(default = "default_boost_name")]
    pub name: String,
    /// How the ranking changes.
    pub mode: BoostMode,
    /// Factor, amount, share or view cap, by mode.
    pub strength: f64,
    /// The items boosted; the scenario's `[target]` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<TargetConfig>,
    /// Minutes of a viewer's use after which the boost starts.
    #[serde(default)]
    pub start_minute: f64,
    /// Minutes over which it grows from nothing to full strength.
    #[serde(default)]
    pub ramp_minutes: f64,
    /// Acts only on items by creators the viewer follows ("trusted sources").
    #[serde(default)]
    pub trusted_only: bool,
    /// Shown by `explain`; a hidden boost appears only in the simulator's own records.
    #[serde(default)]
    pub disclosed: bool,
}

fn default_boost_name() -> String {
    "boost".into()
}

/// `[arms.coordinated]`: a share of accounts that watch target items to the end and like them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CoordinatedConfig {
    /// Share of viewers who are coordinated accounts (the same viewers in every arm with the
    /// same share).
    pub share: f64,
}
