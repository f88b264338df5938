//! The audit bots' files: `bots.csv`, one row per (arm, replicate, bot), and
//! `bot_summary.csv`, one row per (arm, bot group), a group being one `[[bots]]` table.
//!
//! `bot_summary.csv` is computed from the bytes of `bots.csv`, by a run and by `merge` alike,
//! so that merged shards give the same bytes as the unsharded run.

use super::{mean_interval_cells, num, to_bytes};
use crate::engine::Results;
use crate::metrics;
use crate::scenario::{BotConfig, BotRule, Scenario};
use std::collections::BTreeMap;

/// `bots.csv`: one row per (arm, replicate, audit bot); empty without bots.
pub fn bots_csv(results: &Results) -> Vec<u8> {
    to_bytes(|w| {
        w.write_record([
            "arm",
            "replicate",
            "bot",
            "name",
            "rule",
            "minutes",
            "impressions",
            "minutes_to_narrow",
            "topic_share",
            "impressions_to_follow_switch",
            "minutes_to_follow_switch",
        ])?;
        for b in &results.bot_rows {
            w.write_record([
                results.arm_names[b.arm].clone(),
                b.replicate.to_string(),
                b.bot.to_string(),
                b.name.clone(),
                b.rule.to_string(),
                num(b.minutes),
                b.impressions.to_string(),
                num(b.minutes_to_narrow),
                num(b.topic_share),
                b.impressions_to_follow_switch
                    .map_or(String::new(), |n| n.to_string()),
                num(b.minutes_to_follow_switch),
            ])?;
        }
        Ok(())
    })
}

/// The metrics of `bot_summary.csv`, in column order, each as `_mean`, `_lo` and `_hi`:
/// per replicate a share of the group's bots or a median over those it applies to, then the
/// mean and 95 % interval over replicates. The last three are for `linger_switch` only.
const BOT_SUMMARY_METRICS: [&str; 5] = [
    "narrowed_share",
    "minutes_to_narrow",
    "followed_switch_share",
    "impressions_to_follow_switch",
    "minutes_to_follow_switch",
];

/// The columns of `bot_summary.csv` before the metrics.
const BOT_SUMMARY_KEYS: [&str; 9] = [
    "arm",
    "policy",
    "name",
    "rule",
    "topics",
    "switch_topic",
    "switch_minute",
    "bots",
    "replicates",
];

/// One bot's values in `bots.csv`, as written (NaN where empty).
struct Written {
    minutes_to_narrow: f64,
    impressions_to_follow_switch: f64,
    minutes_to_follow_switch: f64,
}

/// The rows of `bots.csv` by (arm, group) and replicate, replicates ascending.
type Grouped = BTreeMap<(usize, usize), BTreeMap<u64, Vec<Written>>>;

/// `bot_summary.csv` from `bots_csv`, the bytes of `bots.csv`: one row per (arm, `[[bots]]`
/// table), arms and tables in scenario order. Errs, naming the row, when `bots_csv` is not a
/// `bots.csv` of `scenario`.
pub fn bot_summary_csv(scenario: &Scenario, bots_csv: &[u8]) -> Result<Vec<u8>, String> {
    let grouped = read_bots(scenario, bots_csv)?;
    Ok(to_bytes(|w| {
        let mut header: Vec<String> = BOT_SUMMARY_KEYS.iter().map(|k| k.to_string()).collect();
        for m in BOT_SUMMARY_METRICS {
            header.extend([format!("{m}_mean"), format!("{m}_lo"), format!("{m}_hi")]);
        }
        w.write_record(&header)?;
        for (&(arm, group), replicates) in &grouped {
            let config = &scenario.bots[group];
            let switching = config.rule == BotRule::LingerSwitch;
            let mut rec = vec![
                scenario.arms[arm].name.clone(),
                scenario.arms[arm].policy.kind().to_string(),
                config.name.clone(),
                config.rule.name().to_string(),
                topics(config),
                config.switch_topic.clone().unwrap_or_default(),
                if switching {
                    num(config.switch_minute)
                } else {
                    String::new()
                },
                config.count.to_string(),
                replicates.len().to_string(),
            ];
            let per_replicate: Vec<[f64; 5]> = replicates
                .values()
                .map(|bots| replicate_values(bots, switching))
                .collect();
            for (m, name) in BOT_SUMMARY_METRICS.iter().enumerate() {
                let values: Vec<f64> = per_replicate.iter().map(|v| v[m]).collect();
                rec.extend(mean_interval_cells(&values, name.ends_with("_share")));
            }
            w.write_record(&rec)?;
        }
        Ok(())
    }))
}

/// The topics a group's bots watch (or, for `random`, the one measured), joined by `;`.
fn topics(config: &BotConfig) -> String {
    match config.rule {
        BotRule::Replay => config.topics.join(";"),
        _ => config.topic.clone().unwrap_or_default(),
    }
}

/// One replicate's values of [`BOT_SUMMARY_METRICS`] for one group's bots: the share whose
/// feed narrowed and their median minutes; for a switching group, the share whose feed
/// followed the switch and their median impressions and minutes (NaN otherwise or for none).
fn replicate_values(bots: &[Written], switching: bool) -> [f64; 5] {
    let share_and_median = |of: fn(&Written) -> f64| {
        let mut values: Vec<f64> = bots.iter().map(of).filter(|v| !v.is_nan()).collect();
        let share = values.len() as f64 / bots.len() as f64;
        let median = metrics::quantile_unsorted(&mut values, 0.5).unwrap_or(f64::NAN);
        (share, median)
    };
    let (narrowed, minutes) = share_and_median(|b| b.minutes_to_narrow);
    if !switching {
        return [narrowed, minutes, f64::NAN, f64::NAN, f64::NAN];
    }
    let (followed, impressions) = share_and_median(|b| b.impressions_to_follow_switch);
    let (_, follow_minutes) = share_and_median(|b| b.minutes_to_follow_switch);
    [narrowed, minutes, followed, impressions, follow_minutes]
}

/// Reads `bots.csv` and groups its rows by (arm, `[[bots]]` table) and replicate.
fn read_bots(scenario: &Scenario, bytes: &[u8]) -> Result<Grouped, String> {
    let mut reader = csv::Reader::from_reader(bytes);
    let header = reader.headers().map_err(|e| e.to_string())?.clone();
    let col = |name: &str| {
        header
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| format!("no {name} column"))
    };
    let [arm, replicate, bot, narrow, impressions, follow] = [
        "arm",
        "replicate",
        "bot",
        "minutes_to_narrow",
        "impressions_to_follow_switch",
        "minutes_to_follow_switch",
    ]
    .map(col);
    let (arm, replicate, bot) = (arm?, replicate?, bot?);
    let (narrow, impressions, follow) = (narrow?, impressions?, follow?);
    // A bot's id is its viewer id, as in `users.csv`: the bots follow the viewers, each
    // table's after the last one's.
    let first = u64::from(scenario.population.users);
    let ends: Vec<u64> = scenario
        .bots
        .iter()
        .scan(first, |end, b| {
            *end += u64::from(b.count);
            Some(*end)
        })
        .collect();
    let mut grouped = Grouped::new();
    for (line, record) in reader.records().enumerate() {
        let record = record.map_err(|e| e.to_string())?;
        let at = |message: String| format!("row {}: {message}", line + 1);
        let number = |c: usize| -> Result<f64, String> {
            match &record[c] {
                "" => Ok(f64::NAN),
                text => text
                    .parse()
                    .map_err(|_| at(format!("{} {text:?} is not a number", &header[c]))),
            }
        };
        let arm_idx = scenario
            .arms
            .iter()
            .position(|a| a.name == record[arm])
            .ok_or_else(|| at(format!("arm {:?} is not in the scenario", &record[arm])))?;
        let count = |c: usize| {
            record[c]
                .parse::<u64>()
                .map_err(|_| at(format!("{} {:?} is not a count", &header[c], &record[c])))
        };
        let (r, b) = (count(replicate)?, count(bot)?);
        let group = ends
            .iter()
            .position(|&end| b < end)
            .filter(|_| b >= first)
            .ok_or_else(|| at(format!("bot {b} is not in the scenario")))?;
        grouped
            .entry((arm_idx, group))
            .or_default()
            .entry(r)
            .or_default()
            .push(Written {
                minutes_to_narrow: number(narrow)?,
                impressions_to_follow_switch: number(impressions)?,
                minutes_to_follow_switch: number(follow)?,
            });
    }
    Ok(grouped)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(name: &str, rule: BotRule, count: u32) -> BotConfig {
        BotConfig {
            name: name.into(),
            rule,
            count,
            topic: Some("gaming".into()),
            switch_topic: (rule == BotRule::LingerSwitch).then(|| "food".into()),
            switch_minute: if rule == BotRule::LingerSwitch { 20.0 } else { 0.0 },
            topics: Vec::new(),
            minutes: 60.0,
            minor: false,
            narrow_share: 0.8,
        }
    }

    /// Hand-computed: per replicate the share that narrowed and the median of their minutes
    /// (replicate 0: 1 of 2 at 10; replicate 1: 12 and 14, median 13), then the mean and
    /// mean ± 12.706 s / √2 over the two replicates (the shares' intervals Wilson's with the
    /// effective sample size, `metrics::interval`: 0.5 and 1 give n* = 3); a value in one
    /// replicate has no interval. Bots are numbered from `population.users` (2000).
    #[test]
    fn bot_summary_is_shares_and_medians_per_replicate_averaged_over_replicates() {
        let s = Scenario {
            bots: vec![
                table("a", BotRule::Linger, 2),
                table("s", BotRule::LingerSwitch, 1),
            ],
            ..Scenario::default()
        };
        let bots = "\
arm,replicate,bot,name,rule,minutes,impressions,minutes_to_narrow,topic_share,impressions_to_follow_switch,minutes_to_follow_switch
engagement,0,2000,a,linger,60.000000,100,10.000000,0.9,,
engagement,0,2001,a,linger,60.000000,100,,0.5,,
engagement,0,2002,s,linger_switch,60.000000,100,5.000000,0.9,30,8.000000
engagement,1,2000,a,linger,60.000000,100,12.000000,0.9,,
engagement,1,2001,a,linger,60.000000,100,14.000000,0.9,,
engagement,1,2002,s,linger_switch,60.000000,100,7.000000,0.9,,
";
        let summary = String::from_utf8(bot_summary_csv(&s, bots.as_bytes()).unwrap()).unwrap();
        let lines: Vec<&str> = summary.lines().collect();
        assert_eq!(
            lines[1..],
            [
                "engagement,engagement,a,linger,gaming,,,2,2,0.750000,0.010274,0.998848,11.500000,-7.559000,30.559000,,,,,,,,,",
                "engagement,engagement,s,linger_switch,gaming,food,20.000000,1,2,1.000000,1.000000,1.000000,6.000000,-6.706000,18.706000,0.500000,0.001541,0.998459,30.000000,,,8.000000,,",
            ]
        );
    }

    #[test]
    fn a_bot_beyond_the_scenario_is_refused_by_row() {
        let s = Scenario {
            bots: vec![table("a", BotRule::Linger, 1)],
            ..Scenario::default()
        };
        let bots = "arm,replicate,bot,minutes_to_narrow,impressions_to_follow_switch,minutes_to_follow_switch\n\
                    engagement,0,2000,,,\nengagement,0,2001,,,\n";
        let err = bot_summary_csv(&s, bots.as_bytes()).unwrap_err();
        assert_eq!(err, "row 2: bot 2001 is not in the scenario");
        // Ids below the first bot's are viewers', not bots'.
        let bots = "arm,replicate,bot,minutes_to_narrow,impressions_to_follow_switch,minutes_to_follow_switch\n\
                    engagement,0,0,,,\n";
        let err = bot_summary_csv(&s, bots.as_bytes()).unwrap_err();
        assert_eq!(err, "row 1: bot 0 is not in the scenario");
    }
}
