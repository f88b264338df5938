//! Mutations of the shipped scenarios (lines deleted, duplicated or cut; numbers made extreme;
//! values of the wrong type): every one is run tiny, and must exit 0 or 2, never panic (101)
//! or abort. A few dozen cases run in `cargo test`; `RABBITHOLE_FUZZ_CASES=10000 cargo test
//! --release fuzz -- --nocapture` runs more (docs/scenarios.md).

use crate::{Workspace, rabbithole};

/// A small deterministic generator (SplitMix64): the cases are the same on every run.
struct Mix(u64);

impl Mix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Values that stress a key: extremes, non-numbers and wrong types.
const EXTREMES: [&str; 14] = [
    "0",
    "-1",
    "1e308",
    "-1e308",
    "1e-308",
    "nan",
    "inf",
    "9223372036854775807",
    "4294967296",
    "\"x\"",
    "true",
    "[]",
    "{}",
    "0.5",
];

/// One mutation of `text`.
fn mutate(text: &str, mix: &mut Mix) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    for _ in 0..1 + mix.below(3) {
        let i = mix.below(lines.len());
        match mix.below(4) {
            0 => {
                lines.remove(i);
            }
            1 => lines.insert(i, lines[i].clone()),
            2 => {
                let cut = mix.below(lines[i].len() + 1);
                let cut = (0..=cut)
                    .rev()
                    .find(|&c| lines[i].is_char_boundary(c))
                    .unwrap_or(0);
                lines[i].truncate(cut);
            }
            _ => {
                if let Some((key, _)) = lines[i].split_once('=') {
                    lines[i] = format!("{key}= {}", EXTREMES[mix.below(EXTREMES.len())]);
                }
            }
        }
        if lines.is_empty() {
            break;
        }
    }
    lines.join("\n")
}

#[test]
fn mutated_scenarios_run_or_are_refused_never_panic() {
    let cases: usize = std::env::var("RABBITHOLE_FUZZ_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(24);
    let shipped: Vec<String> = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios"))
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .collect();
    let ws = Workspace::empty();
    let mut mix = Mix(18);
    let mut statuses = [0usize; 2];
    for case in 0..cases {
        let text = mutate(&shipped[case % shipped.len()], &mut mix);
        let scenario = ws.write("case.toml", &text);
        let out = ws.path("out");
        let output = rabbithole()
            .arg("run")
            .arg(&scenario)
            .args([
                "--quiet",
                "--no-plot",
                "--force",
                "--users",
                "5",
                "--replicates",
                "1",
            ])
            .args(["--set", "feed.max_steps=30", "--threads", "1", "--out"])
            .arg(&out)
            .output()
            .unwrap();
        let code = output.status.code();
        assert!(
            matches!(code, Some(0 | 2)),
            "case {case}: status {code:?}\n{}\n--- scenario:\n{text}",
            String::from_utf8_lossy(&output.stderr)
        );
        statuses[usize::from(code == Some(2))] += 1;
    }
    println!("{cases} cases: {} ran, {} refused", statuses[0], statuses[1]);
}
