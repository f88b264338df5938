//! `explain` as text for a person: every line wrapped to a width, the viewer's cohorts, what
//! the platform believes about the viewer (at the start, at each new day and every few
//! steps) beside what the viewer really likes, day boundaries marked, and a glossary of the
//! words used at the end.

use super::{Row, glossary};
use crate::engine::ViewerSnapshot;
use std::fmt::Write as _;

/// How the text is laid out and what it names.
#[derive(Debug, Clone)]
pub struct TextOptions<'a> {
    /// The first line: what is explained (scenario, arm, viewer, replicate).
    pub title: String,
    /// The longest line, in characters.
    pub width: usize,
    /// Besides the start and each new day, show the platform's beliefs every this many steps
    /// (0: only at the start and at each new day).
    pub beliefs_every: u32,
    /// Topic names, by index.
    pub topics: &'a [String],
    /// The viewer's id.
    pub viewer: u32,
    /// Impressions asked for: fewer rows mean the viewer stopped using the app.
    pub steps: u32,
}

/// Topics named in each line of beliefs.
const TOP: usize = 5;

/// Spaces before a row's second line and before the continuation of a wrapped line.
const INDENT: usize = 6;

/// The explanation as text for a terminal, no line longer than `options.width` characters.
pub fn to_text(rows: &[Row], options: &TextOptions) -> String {
    let width = options.width;
    let mut out = String::new();
    let mut say = |text: &str, indent: usize| out.push_str(&wrap(text, width, indent));
    say(&options.title, INDENT);
    if let Some(first) = rows.first() {
        say(&flags(options.viewer, &first.viewer), INDENT);
    }
    say("(the words used are explained at the end)", INDENT);
    say("", 0);
    say(
        &format!(
            "{:>5} {:>7} {:<13} {:>7} {:<14} {:<10} {:<11} {:>5} {:>5} {:>7}",
            "step", "minute", "policy", "item", "topic", "group", "source", "rank", "base", "watched"
        ),
        INDENT,
    );
    say(
        &format!("{:INDENT$}score = parts; candidates; what the viewer did", ""),
        INDENT,
    );
    let mut previous: Option<&Row> = None;
    for r in rows {
        let new_day = previous.is_none_or(|p| p.viewer.day != r.viewer.day);
        let every = options.beliefs_every;
        let checkpoint = every > 0 && previous.is_some_and(|p| p.step / every != r.step / every);
        if new_day {
            let day = r.viewer.day;
            // A day without use (the viewer did not come back) is named, not skipped silently.
            let missed = match previous {
                Some(p) if day > p.viewer.day + 1 => match day - p.viewer.day - 1 {
                    1 => format!("(no use on day {}) ", day - 1),
                    _ => format!("(no use on days {} to {}) ", p.viewer.day + 1, day - 1),
                },
                _ => String::new(),
            };
            let marker = format!("--- day {day} begins, at minute {:.2} {missed}", r.minute);
            say(&format!("{marker:-<width$}"), INDENT);
        }
        if new_day || checkpoint {
            let (believes, likes) = beliefs(r.step, &r.viewer, options.topics);
            say(&believes, INDENT);
            say(&likes, INDENT);
        }
        say(&first_line(r), INDENT);
        say(&second_line(r), INDENT);
        previous = Some(r);
    }
    if rows.len() < options.steps as usize {
        say(
            &format!(
                "(the viewer stopped using the app after {})",
                crate::output::count(rows.len() as u64, "impression")
            ),
            INDENT,
        );
    }
    say("", 0);
    say("What the words mean:", INDENT);
    for (term, meaning) in glossary::terms(rows) {
        say(&format!("  {term}: {meaning}"), INDENT);
    }
    out
}

/// The viewer's cohorts, each named with yes or no.
fn flags(viewer: u32, v: &ViewerSnapshot) -> String {
    let yes = |b: bool| if b { "yes" } else { "no" };
    format!(
        "viewer {viewer}: minor {}, vulnerable {}, audit bot {}, switcher {}, coordinated {}",
        yes(v.minor),
        yes(v.vulnerable),
        yes(v.bot),
        yes(v.switcher),
        yes(v.coordinated)
    )
}

/// What the platform believes at `step` (its profile's highest topics) and what the viewer
/// really likes (their highest true interests), one line each.
fn beliefs(step: u32, v: &ViewerSnapshot, topics: &[String]) -> (String, String) {
    (
        format!(
            "At step {step} the platform believes: {}",
            top(&v.estimate, topics)
        ),
        format!(
            "At step {step} the viewer really likes: {}",
            top(&v.interests, topics)
        ),
    )
}

/// The [`TOP`] highest `values` with their topic names, highest first (ties by topic order).
fn top(values: &[f32], topics: &[String]) -> String {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| values[b].total_cmp(&values[a]).then(a.cmp(&b)));
    let named: Vec<String> = order
        .iter()
        .take(TOP)
        .map(|&t| format!("{} {:.2}", topics[t], values[t]))
        .collect();
    named.join(", ")
}

/// A row's columns, under the header.
fn first_line(r: &Row) -> String {
    let rank = |x: Option<usize>| x.map_or_else(|| "-".to_string(), |x| x.to_string());
    format!(
        "{:>5} {:>7.2} {:<13} {:>7} {:<14} {:<10} {:<11} {:>5} {:>5} {:>6.0}%",
        r.step,
        r.minute,
        if r.switched {
            format!("{}*", r.policy)
        } else {
            r.policy.to_string()
        },
        r.item,
        r.topic,
        r.group,
        r.source,
        rank(r.rank),
        rank(r.base_rank),
        100.0 * r.watch_fraction
    )
}

/// A row's score as a sum of its parts, the candidates ranked and what the viewer did.
fn second_line(r: &Row) -> String {
    let score = if r.explored {
        "exploration: a random item, not ranked".to_string()
    } else {
        let parts: Vec<String> = r.parts.iter().map(|(n, v)| format!("{n} {v:.3}")).collect();
        let score = match r.score {
            Some(s) if !parts.is_empty() => format!("score {s:.3} = {}", parts.join(" + ")),
            _ => "score -".to_string(),
        };
        format!(
            "{score}; {}",
            crate::output::count(r.candidates as u64, "candidate")
        )
    };
    let did: Vec<&str> = [
        (r.skipped, "skipped"),
        (r.liked, "liked"),
        (r.followed, "followed"),
        (r.trusted, "trusted creator"),
    ]
    .iter()
    .filter(|(on, _)| *on)
    .map(|(_, what)| *what)
    .collect();
    let did = if did.is_empty() {
        String::new()
    } else {
        format!("; {}", did.join(", "))
    };
    format!("{:INDENT$}{score}{did}", "")
}

/// `text` as lines of at most `width` characters (at least 1), each ending in a newline:
/// cut at the last space that lets a line fit (a word longer than a line is cut where it
/// must), lines after the first indented by `indent` spaces (less when `width` leaves no
/// room). Spaces inside a line that fits are kept, so columns stay aligned; spaces at a cut
/// and at the end of a line are dropped.
pub fn wrap(text: &str, width: usize, indent: usize) -> String {
    let width = width.max(1);
    let indent = indent.min(width / 2);
    let mut out = String::new();
    let mut rest: Vec<char> = text.trim_end().chars().collect();
    let mut prefix = 0;
    loop {
        let room = width - prefix;
        if rest.len() <= room {
            push_line(&mut out, prefix, &rest);
            return out;
        }
        // rest[i] is a space: rest[..i] fits on this line.
        let cut = (1..=room).rev().find(|&i| rest[i] == ' ');
        let (line, next) = rest.split_at(cut.unwrap_or(room));
        push_line(&mut out, prefix, line);
        let skip = next.iter().take_while(|c| **c == ' ').count();
        rest = next[skip..].to_vec();
        prefix = indent;
        if rest.is_empty() {
            return out;
        }
    }
}

fn push_line(out: &mut String, prefix: usize, line: &[char]) {
    let line: String = line.iter().collect();
    let _ = writeln!(out, "{:prefix$}{}", "", line.trim_end());
}

#[cfg(test)]
mod tests {
    use super::{TextOptions, to_text, top, wrap};
    use crate::explain::tests::row;

    #[test]
    fn wrap_cuts_at_spaces_and_indents() {
        assert_eq!(wrap("aaa bbb ccc", 7, 2), "aaa bbb\n  ccc\n");
        assert_eq!(wrap("aaa bbb ccc", 8, 2), "aaa bbb\n  ccc\n");
        assert_eq!(wrap("aaa bbb ccc", 6, 2), "aaa\n  bbb\n  ccc\n");
        // A line that fits keeps its inner spaces; trailing ones go.
        assert_eq!(wrap("a    b  ", 10, 2), "a    b\n");
        // A word longer than a line is cut where it must.
        assert_eq!(wrap("abcdefgh", 4, 1), "abcd\n efg\n h\n");
        // Characters, not bytes: "é" is one.
        assert_eq!(wrap("éé éé", 2, 0), "éé\néé\n");
        assert_eq!(wrap("", 10, 2), "\n");
    }

    #[test]
    fn top_names_the_highest_first_ties_in_topic_order() {
        let names: Vec<String> = ["a", "b", "c", "d", "e", "f"].map(String::from).to_vec();
        assert_eq!(
            top(&[0.1, 0.5, 0.1, 0.2, 0.0, 0.05], &names),
            "b 0.50, d 0.20, a 0.10, c 0.10, f 0.05"
        );
    }

    #[test]
    fn no_line_exceeds_the_width_and_terms_are_explained() {
        let topics: Vec<String> = ["news", "comedy"].map(String::from).to_vec();
        let mut second = row(&["f"], &["relevance"]);
        second.step = 4;
        second.viewer.day = 2;
        let rows = [row(&["f"], &["relevance"]), second];
        for width in [40, 60, 100] {
            let options = TextOptions {
                title: "s.toml: arm a (engagement), viewer 3, replicate 0: 2 impressions".into(),
                width,
                beliefs_every: 0,
                topics: &topics,
                viewer: 3,
                steps: 2,
            };
            let text = to_text(&rows, &options);
            for line in text.lines() {
                assert!(line.chars().count() <= width, "{width}: {line:?}");
            }
            assert!(text.contains("--- day 2 begins, at minute 1.50"), "{text}");
            if width == 100 {
                // Wrapped lines joined again.
                let text = text.replace("\n      ", " ");
                let flags = "viewer 3: minor no, vulnerable no, audit bot no, switcher no, coordinated no";
                assert!(text.contains(flags), "{text}");
                assert!(text.contains("  relevance: predicted watch seconds"), "{text}");
                let beliefs = "At step 4 the platform believes: news 0.50, comedy 0.25\n\
                               At step 4 the viewer really likes: news 0.75, comedy 0.25\n";
                assert!(text.contains(beliefs), "{text}");
            }
        }
    }
}
