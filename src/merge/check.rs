//! The checks that parts make one whole: the same scenario and program, every shard once.

use super::Problem;
use serde_json::Value;

/// The first dotted key at which `a` and `b` differ, if any.
fn first_difference(a: &Value, b: &Value) -> Option<String> {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let keys = x.keys().chain(y.keys().filter(|k| !x.contains_key(*k)));
            keys.map(|k| (k, x.get(k), y.get(k)))
                .find_map(|(k, u, v)| match (u, v) {
                    (Some(u), Some(v)) => first_difference(u, v).map(|d| join(k, &d)),
                    _ => Some(k.clone()),
                })
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => x
            .iter()
            .zip(y)
            .enumerate()
            .find_map(|(i, (u, v))| first_difference(u, v).map(|d| join(&i.to_string(), &d))),
        _ => (a != b).then(String::new),
    }
}

fn join(key: &str, rest: &str) -> String {
    if rest.is_empty() {
        key.to_string()
    } else {
        format!("{key}.{rest}")
    }
}

/// Problems of `manifests` (name, manifest) that do not agree with the first at `keys`.
pub(super) fn differences(manifests: &[(String, &Value)], keys: &[&str]) -> Vec<Problem> {
    let Some((first, reference)) = manifests.first() else {
        return Vec::new();
    };
    let pick = |m: &Value| Value::Object(keys.iter().map(|k| (k.to_string(), m[*k].clone())).collect());
    let reference = pick(reference);
    manifests[1..]
        .iter()
        .filter_map(|(part, m)| {
            first_difference(&reference, &pick(m)).map(|key| Problem::Different {
                part: part.clone(),
                first: first.clone(),
                key,
            })
        })
        .collect()
}

/// Problems with the shard indices of `shards` (part name, index, count): each of 1..=N once.
pub(super) fn shard_problems(shards: &[(String, u32, u32)]) -> Vec<Problem> {
    let Some((first, _, count)) = shards.first() else {
        return Vec::new();
    };
    let mut problems = Vec::new();
    for (part, _, n) in shards {
        if n != count {
            problems.push(Problem::Different {
                part: part.clone(),
                first: first.clone(),
                key: format!("shard count ({n} against {count})"),
            });
        }
    }
    if !problems.is_empty() {
        return problems;
    }
    for index in 1..=*count {
        let parts: Vec<String> = shards
            .iter()
            .filter(|(_, i, _)| *i == index)
            .map(|(p, _, _)| p.clone())
            .collect();
        match parts.len() {
            0 => problems.push(Problem::MissingShard { index, count: *count }),
            1 => {}
            _ => problems.push(Problem::DuplicateShard {
                index,
                count: *count,
                parts,
            }),
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn first_difference_names_the_dotted_key() {
        let a = json!({"scenario": {"seed": 1, "name": "x"}, "arms": [{"name": "a"}, {"name": "b"}]});
        assert_eq!(first_difference(&a, &a), None);
        let b = json!({"scenario": {"seed": 2, "name": "x"}, "arms": [{"name": "a"}, {"name": "b"}]});
        assert_eq!(first_difference(&a, &b).as_deref(), Some("scenario.seed"));
        let c = json!({"scenario": {"seed": 1, "name": "x"}, "arms": [{"name": "a"}, {"name": "c"}]});
        assert_eq!(first_difference(&a, &c).as_deref(), Some("arms.1.name"));
        let d = json!({"scenario": {"seed": 1, "name": "x"}, "arms": [{"name": "a"}]});
        assert_eq!(first_difference(&a, &d).as_deref(), Some("arms"));
        let e = json!({"scenario": {"seed": 1}, "arms": [{"name": "a"}, {"name": "b"}]});
        assert_eq!(first_difference(&a, &e).as_deref(), Some("scenario.name"));
    }

    fn check(shards: &[(&str, u32, u32)], expected: &[&str]) {
        let shards: Vec<(String, u32, u32)> = shards.iter().map(|&(p, i, n)| (p.to_string(), i, n)).collect();
        let problems: Vec<String> = shard_problems(&shards).iter().map(ToString::to_string).collect();
        assert_eq!(problems, expected);
    }

    #[test]
    fn every_shard_must_be_given_once() {
        check(&[("a", 1, 2), ("b", 2, 2)], &[]);
        check(&[("b", 2, 2)], &["shard 1/2 is missing"]);
        check(
            &[("a", 1, 2), ("b", 2, 2), ("c", 2, 2)],
            &["shard 2/2 is given more than once: b, c"],
        );
        check(
            &[("a", 1, 2), ("b", 2, 3)],
            &["b is not a part of the same run as a: they differ at shard count (3 against 2)"],
        );
    }
}
