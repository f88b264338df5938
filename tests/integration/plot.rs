//! Charts and the report: what `run` draws by default and `plot RUN_DIR` redraws. Each SVG is
//! parsed as XML and must name the arms and its axes; `report.html` must be well-formed, run
//! no script and link only to files of the run directory; and a real headless browser
//! (Debian's `chromium`) must paint it as more than a blank page.

use crate::{ENGAGEMENT_AND_RANDOM, Workspace, rabbithole};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// A scenario that runs in a fraction of a second, with two creator groups of its own (so the
/// group chart applies) and the default topics (one of them sensitive), with `[day]` (so the
/// safety features, and the sensitive chart, apply).
fn scenario() -> String {
    format!(
        r#"[scenario]
name = "plotted"
description = "Charts & a report <for> a tiny run."
seed = 3
replicates = 2

[population]
users = 150

[catalog]
items = 600
creators = 60

[[catalog.groups]]
name = "alpha"
share = 0.7

[[catalog.groups]]
name = "beta"
share = 0.3

[feed]
minutes = 10

[day]
{ENGAGEMENT_AND_RANDOM}"#
    )
}

/// The charts every run of [`scenario`] has, with a phrase each must show.
const CHARTS: [(&str, &str); 5] = [
    ("feed-narrowing.svg", "feed entropy"),
    ("rabbit-hole.svg", "viewers in a rabbit hole (%)"),
    ("tradeoff.svg", "minutes watched per viewer"),
    ("sensitive.svg", "impressions that are sensitive (%)"),
    ("group-exposure.svg", "creator group"),
];

fn run_tiny(ws: &Workspace, args: &[&str]) -> PathBuf {
    let file = ws.write("plotted.toml", &scenario());
    ws.run_ok(&file, "out", args)
}

/// Every text node of an XML document, in order.
fn texts(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let doc = parse(&text, path);
    doc.descendants()
        .filter(|n| n.is_text())
        .filter_map(|n| n.text())
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
        .collect()
}

fn parse<'a>(text: &'a str, path: &Path) -> roxmltree::Document<'a> {
    let options = roxmltree::ParsingOptions {
        allow_dtd: true,
        ..Default::default()
    };
    roxmltree::Document::parse_with_options(text, options)
        .unwrap_or_else(|e| panic!("{} is not well-formed XML: {e}", path.display()))
}

/// Runs `rabbithole plot DIR --quiet` and expects success.
pub(crate) fn plot_ok(dir: &Path) {
    rabbithole()
        .arg("plot")
        .arg(dir)
        .arg("--quiet")
        .assert()
        .success();
}

/// Every file name in `dir` (not below it), sorted.
pub(crate) fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn run_draws_charts_that_name_the_arms_and_the_axes() {
    let ws = Workspace::empty();
    let out = run_tiny(&ws, &[]);
    for (chart, phrase) in CHARTS {
        let path = out.join(chart);
        assert!(
            path.exists(),
            "{chart} missing; the run wrote {:?}",
            names_in(&out)
        );
        let texts = texts(&path);
        let all = texts.join("\n");
        for needle in ["engagement", "random", "plotted", phrase] {
            assert!(all.contains(needle), "{chart} does not show {needle:?}:\n{all}");
        }
        let root = std::fs::read_to_string(&path).unwrap();
        assert!(root.contains("<svg"), "{chart} is not an SVG");
    }
    // Lines over minutes of use have that axis.
    for chart in ["feed-narrowing.svg", "rabbit-hole.svg"] {
        let all = texts(&out.join(chart)).join("\n");
        assert!(
            all.contains("minutes of use (mean over viewers)"),
            "{chart}:\n{all}"
        );
    }
    // No boost in the scenario: no boost chart; no file is left half written.
    assert!(!out.join("boosted.svg").exists());
    assert!(
        names_in(&out).iter().all(|n| !n.starts_with('.')),
        "{:?}",
        names_in(&out)
    );
}

#[test]
fn report_is_well_formed_runs_no_script_and_links_only_into_the_run_directory() {
    let ws = Workspace::empty();
    let out = run_tiny(&ws, &[]);
    let path = out.join("report.html");
    let text = std::fs::read_to_string(&path).unwrap();
    let doc = parse(&text, &path);
    let mut links = Vec::new();
    for node in doc.descendants().filter(|n| n.is_element()) {
        let tag = node.tag_name().name();
        assert!(
            !matches!(tag, "script" | "iframe" | "object" | "embed" | "link"),
            "report.html has a <{tag}>"
        );
        for attr in node.attributes() {
            assert!(
                !attr.name().starts_with("on"),
                "report.html has an {} handler",
                attr.name()
            );
            if matches!(attr.name(), "href" | "src") {
                links.push(attr.value().to_string());
            }
        }
    }
    assert!(!links.is_empty(), "report.html links to no file");
    for link in &links {
        let plain = !link.contains('/') && !link.contains(':') && !link.contains("..");
        assert!(plain, "report.html links outside the run directory: {link}");
        assert!(
            out.join(link).exists(),
            "report.html links to {link}, which is not in the run"
        );
    }
    let all = texts(&path).join("\n");
    for needle in [
        "plotted",
        "Charts & a report <for> a tiny run.",
        "engagement",
        "random",
        "feed_entropy",
        "watch_minutes",
        "seed",
        "command line",
        "version",
        "Feed narrowing over minutes of use",
    ] {
        assert!(all.contains(needle), "report.html does not show {needle:?}");
    }
    // Every chart is in the page.
    let svgs = doc.descendants().filter(|n| n.tag_name().name() == "svg").count();
    assert_eq!(svgs, CHARTS.len(), "charts inline in report.html");
}

#[test]
fn plot_redraws_a_run_without_touching_its_data_files() {
    let ws = Workspace::empty();
    let out = run_tiny(&ws, &["--no-plot"]);
    let data = ["comparison.csv", "manifest.json", "summary.csv", "timeseries.csv"];
    assert_eq!(names_in(&out), data, "--no-plot wrote more than the data files");
    let before: Vec<Vec<u8>> = data.iter().map(|f| std::fs::read(out.join(f)).unwrap()).collect();

    plot_ok(&out);
    for (file, bytes) in data.iter().zip(&before) {
        assert!(
            std::fs::read(out.join(file)).unwrap() == *bytes,
            "plot changed {file}"
        );
    }
    let names = names_in(&out);
    for (chart, _) in CHARTS {
        assert!(
            names.iter().any(|n| n == chart),
            "plot did not write {chart}: {names:?}"
        );
    }
    assert!(names.iter().any(|n| n == "report.html"));
    assert!(
        names.iter().all(|n| !n.starts_with('.')),
        "temporary files left: {names:?}"
    );

    // Drawing again gives the same charts: they depend only on the files.
    let first = std::fs::read(out.join("feed-narrowing.svg")).unwrap();
    plot_ok(&out);
    assert!(std::fs::read(out.join("feed-narrowing.svg")).unwrap() == first);
}

#[test]
fn plot_refuses_a_directory_that_is_not_a_run() {
    let ws = Workspace::empty();
    let dir = ws.path("empty");
    std::fs::create_dir(&dir).unwrap();
    let assert = rabbithole().arg("plot").arg(&dir).assert().code(2);
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    assert!(
        stderr.contains("timeseries.csv") && stderr.contains("empty"),
        "{stderr}"
    );
    assert_eq!(
        names_in(&dir),
        Vec::<String>::new(),
        "plot wrote into a non-run directory"
    );
    rabbithole().arg("plot").arg(ws.path("missing")).assert().code(2);
}

/// A run directory written by hand, with the columns other features add: a boost, an
/// amplification ratio and a second cohort; and no manifest.
#[test]
fn charts_follow_the_columns_the_files_have() {
    let ws = Workspace::empty();
    let dir = ws.path("handmade");
    std::fs::create_dir(&dir).unwrap();
    let mut ts = String::from(
        "arm,replicate,cohort,step,viewers,mean_minutes,feed_entropy,sensitive_share,boosted_share,amplification_ratio\n",
    );
    for (arm, boost) in [("boosted", 0.3), ("plain", 0.1)] {
        for rep in 0..2 {
            for cohort in ["all", "minors"] {
                for step in 0..30 {
                    let minutes = 0.5 * f64::from(step);
                    ts.push_str(&format!(
                        "{arm},{rep},{cohort},{step},10,{minutes},0.5,0.02,{boost},{}\n",
                        boost / 0.1
                    ));
                }
            }
        }
    }
    std::fs::write(dir.join("timeseries.csv"), ts).unwrap();
    let mut summary = String::from("arm,cohort,policy,users,replicates");
    for m in [
        "feed_entropy",
        "watch_minutes",
        "sensitive_share",
        "boosted_share",
        "amplification_ratio",
        // Written only with the safety features, under which the sensitive chart applies.
        "night_share",
    ] {
        summary.push_str(&format!(",{m}_mean,{m}_lo,{m}_hi"));
    }
    summary.push('\n');
    for (arm, boost) in [("boosted", 0.3), ("plain", 0.1)] {
        for cohort in ["all", "minors"] {
            summary.push_str(&format!(
                "{arm},{cohort},engagement,10,2,0.5,0.4,0.6,12,11,13,0.02,0.01,0.03,{boost},{},{},{},{},{},0.1,0.05,0.15\n",
                boost - 0.05,
                boost + 0.05,
                boost / 0.1,
                boost / 0.1 - 0.2,
                boost / 0.1 + 0.2
            ));
        }
    }
    std::fs::write(dir.join("summary.csv"), summary).unwrap();

    plot_ok(&dir);
    let names = names_in(&dir);
    for file in [
        "feed-narrowing.svg",
        "tradeoff.svg",
        "boosted.svg",
        "sensitive.svg",
        "report.html",
    ] {
        assert!(names.iter().any(|n| n == file), "{file} missing: {names:?}");
    }
    // No in_rabbit_hole column, one creator group at most: those charts do not apply.
    for file in ["rabbit-hole.svg", "group-exposure.svg"] {
        assert!(
            !names.iter().any(|n| n == file),
            "{file} drawn without its columns"
        );
    }
    let boosted = texts(&dir.join("boosted.svg")).join("\n");
    for needle in ["boosted", "plain", "amplification ratio", "handmade"] {
        assert!(
            boosted.contains(needle),
            "boosted.svg does not show {needle:?}:\n{boosted}"
        );
    }
    let sensitive = texts(&dir.join("sensitive.svg")).join("\n");
    for needle in ["all viewers", "minors", "cohort"] {
        assert!(
            sensitive.contains(needle),
            "sensitive.svg does not show {needle:?}:\n{sensitive}"
        );
    }
    let report = texts(&dir.join("report.html")).join("\n");
    assert!(report.contains("no manifest.json"), "{report}");
}

/// The browser, if installed.
fn chromium() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| ["chromium", "chromium-browser"].map(|name| dir.join(name)))
        .find(|p| p.is_file())
}

#[test]
fn a_headless_browser_paints_the_report() {
    let Some(browser) = browser_or_skip() else {
        return;
    };
    let ws = Workspace::empty();
    let out = run_tiny(&ws, &[]);
    assert_painted(&screenshot(&browser, &ws, &out.join("report.html"), "report"));
}

/// The browser, or `None` after saying why the test is skipped (never on CI, which installs
/// it).
fn browser_or_skip() -> Option<PathBuf> {
    let browser = chromium();
    if browser.is_none() {
        if std::env::var_os("CI").is_some() {
            panic!("chromium is not installed; .ci/run installs it");
        }
        eprintln!("skipped: chromium is not installed (apt-get install chromium)");
    }
    browser
}

/// Opens `report` in headless `browser` and returns the path of its screenshot.
fn screenshot(browser: &Path, ws: &Workspace, report: &Path, name: &str) -> PathBuf {
    let png = ws.path(&format!("{name}.png"));
    let profile = ws.path(&format!("chromium-profile-{name}"));
    let report = std::fs::canonicalize(report).unwrap();
    let mut child = std::process::Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--hide-scrollbars",
            "--window-size=1200,2400",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("--screenshot={}", png.display()))
        .arg(format!("file://{}", report.display()))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("starting chromium");
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        if child.try_wait().expect("waiting for chromium").is_some() {
            break;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("chromium did not finish within 90 s");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        png.exists(),
        "chromium wrote no screenshot of {}",
        report.display()
    );
    png
}

/// The screenshot `png` is not blank: some ink, and the first arm's colour from a chart.
fn assert_painted(png: &Path) {
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(png).unwrap()));
    let mut reader = decoder.read_info().expect("a PNG");
    let mut buf = vec![0; reader.output_buffer_size().expect("a sized frame")];
    let info = reader.next_frame(&mut buf).expect("a frame");
    assert_eq!(info.bit_depth, png::BitDepth::Eight);
    let channels = info.color_type.samples();
    assert!(channels >= 3, "unexpected colour type {:?}", info.color_type);
    let pixels = &buf[..info.buffer_size()];
    let (mut ink, mut arm_blue, mut total) = (0usize, 0usize, 0usize);
    for px in pixels.chunks_exact(channels) {
        total += 1;
        let (r, g, b) = (i32::from(px[0]), i32::from(px[1]), i32::from(px[2]));
        if r < 235 || g < 235 || b < 235 {
            ink += 1;
        }
        // The first arm's colour (Okabe-Ito blue, #0072B2), as lines and bars draw it.
        if r < 40 && (g - 0x72).abs() < 40 && (b - 0xB2).abs() < 40 {
            arm_blue += 1;
        }
    }
    assert!(
        ink * 100 > total * 2,
        "{}: the page looks blank: {ink} of {total} pixels are not white",
        png.display()
    );
    assert!(
        arm_blue > 300,
        "{}: no chart colour on the page ({arm_blue} pixels)",
        png.display()
    );
}

/// Every shipped scenario, run tiny (40 viewers, 2 replicates): no two labels of its
/// trade-off chart overlap each other or a point with its whiskers (boxes from the chart's
/// own layout), and, when chromium is installed, its report is painted, not blank.
#[test]
fn every_shipped_scenario_s_report_is_legible() {
    let ws = Workspace::empty();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut scenarios: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    scenarios.sort();
    assert!(scenarios.len() >= 6, "{scenarios:?}");
    let browser = browser_or_skip();
    for scenario in &scenarios {
        let name = scenario.file_stem().unwrap().to_string_lossy().into_owned();
        let out = ws.run_ok(
            scenario,
            &name,
            &["--users", "40", "--set", "scenario.replicates=2"],
        );
        let read = |f: &str| std::fs::read(out.join(f)).unwrap();
        let run = rabbithole::plot::Run::parse(
            &read("timeseries.csv"),
            &read("summary.csv"),
            Some(&read("manifest.json")),
            &name,
        )
        .unwrap();
        let layout = rabbithole::plot::tradeoff::layout(&run);
        assert_eq!(layout.labels.len(), run.arms.len(), "{name}: an arm has no point");
        let labels: Vec<_> = layout
            .labels
            .iter()
            .map(|l| l.unwrap_or_else(|| panic!("{name}: a label found no place")))
            .collect();
        for (i, a) in labels.iter().enumerate() {
            for (j, b) in labels.iter().enumerate().skip(i + 1) {
                assert!(!a.overlaps(b), "{name}: labels of arms {i} and {j} overlap");
            }
            for (j, p) in layout.points.iter().enumerate() {
                assert!(!a.overlaps(p), "{name}: label {i} covers point {j}");
            }
        }
        // Each box holds its label as drawn: bold 14 px in DejaVu Sans, the charts' first font
        // (the PNG's and PDF's only one), measured by the renderer, not estimated.
        for (arm, label) in run.arms.iter().zip(&labels) {
            let ink = rabbithole::plot::export::text_width(arm, 14.0, true);
            let (width, height) = (label.x1 - label.x0, label.y1 - label.y0);
            assert!(
                f64::from(width) >= ink && height >= 14,
                "{name}: {} reaches {ink:.1} px, its label's box is {width} px",
                arm
            );
        }
        if let Some(browser) = &browser {
            assert_painted(&screenshot(browser, &ws, &out.join("report.html"), &name));
        }
    }
}
