//! Data for analysts (issue 17): CSV files in the European spreadsheet style (`--csv-style eu`)
//! read back by `plot` and `merge`, `timeseries.csv` averaged over replicates
//! (`--timeseries mean`) checked against means computed here from the per-replicate file, and
//! charts exported as PNG and PDF with the bundled font.

use crate::plot::names_in;
use crate::{ENGAGEMENT_AND_RANDOM, Workspace, rabbithole, tiny_scenario};
use rabbithole::output::{CsvStyle, to_standard};
use std::collections::BTreeMap;
use std::path::Path;

/// The tiny scenario with a `[day]` table (so the safety cohorts, `minors` and `adults`, are
/// there) and three replicates, run with `args`.
fn run(ws: &Workspace, out: &str, args: &[&str]) -> std::path::PathBuf {
    let text =
        tiny_scenario(&format!("[day]\n{ENGAGEMENT_AND_RANDOM}")).replace("replicates = 2", "replicates = 3");
    let file = ws.write("tiny.toml", &text);
    ws.run_ok(&file, out, args)
}

fn read(dir: &Path, file: &str) -> Vec<u8> {
    std::fs::read(dir.join(file)).unwrap_or_else(|e| panic!("{}/{file}: {e}", dir.display()))
}

fn manifest(dir: &Path, file: &str) -> serde_json::Value {
    serde_json::from_slice(&read(dir, file)).unwrap()
}

/// The CSV files of `dir`, sorted.
fn csv_files(dir: &Path) -> Vec<String> {
    names_in(dir)
        .into_iter()
        .filter(|n| n.ends_with(".csv"))
        .collect()
}

/// `rabbithole ARGS` expecting exit 2; returns stderr.
fn refused(args: &[&std::ffi::OsStr]) -> String {
    let out = rabbithole().args(args).assert().code(2).get_output().clone();
    String::from_utf8(out.stderr).unwrap()
}

#[test]
fn eu_style_files_hold_the_same_numbers_and_plot_reads_them() {
    let ws = Workspace::empty();
    let standard = run(&ws, "standard", &["--per-user"]);
    let eu = run(&ws, "eu", &["--per-user", "--csv-style", "eu"]);
    assert_eq!(csv_files(&standard), csv_files(&eu));
    assert!(manifest(&standard, "manifest.json").get("csv_style").is_none());
    assert_eq!(manifest(&eu, "manifest.json")["csv_style"], "eu");
    for file in csv_files(&eu) {
        let bytes = read(&eu, &file);
        let text = String::from_utf8(bytes.clone()).unwrap();
        let header = text.lines().next().unwrap();
        assert!(header.contains(';') && !header.contains(','), "{file}: {header}");
        assert_eq!(
            to_standard(&bytes, CsvStyle::Eu).unwrap(),
            read(&standard, &file),
            "{file} read back differs"
        );
    }
    // A cell by hand: the first row's mean minutes, "." for "," and fields split on ";".
    let cell = |dir: &Path, sep: char| -> String {
        let text = String::from_utf8(read(dir, "summary.csv")).unwrap();
        let mut lines = text.lines();
        let header: Vec<&str> = lines.next().unwrap().split(sep).collect();
        let row: Vec<&str> = lines.next().unwrap().split(sep).collect();
        row[header.iter().position(|h| *h == "mean_minutes_mean").unwrap()].to_string()
    };
    let (s, e) = (cell(&standard, ','), cell(&eu, ';'));
    assert!(s.contains('.') && e == s.replace('.', ","), "{s} {e}");
    // The charts drawn from either are the same; plot redraws them from the EU files.
    for dir in [&standard, &eu] {
        rabbithole()
            .arg("plot")
            .arg(dir)
            .arg("--quiet")
            .assert()
            .success();
    }
    for chart in names_in(&standard).iter().filter(|n| n.ends_with(".svg")) {
        assert_eq!(read(&standard, chart), read(&eu, chart), "{chart}");
    }
}

#[test]
fn a_style_plot_does_not_know_is_refused() {
    let ws = Workspace::empty();
    let dir = run(&ws, "out", &["--no-plot", "--replicates", "1"]);
    let mut m = manifest(&dir, "manifest.json");
    m["csv_style"] = "us".into();
    std::fs::write(dir.join("manifest.json"), serde_json::to_vec(&m).unwrap()).unwrap();
    let err = refused(&["plot".as_ref(), dir.as_os_str()]);
    assert!(
        err.contains("csv_style \"us\"") && err.contains("standard or eu"),
        "{err}"
    );
}

#[test]
fn merge_reads_eu_shards_and_writes_either_style() {
    let ws = Workspace::empty();
    let whole = run(&ws, "whole", &["--no-plot"]);
    let a = run(&ws, "a", &["--no-plot", "--shard", "1/2", "--csv-style", "eu"]);
    let b = run(&ws, "b", &["--no-plot", "--shard", "2/2"]);
    let merge = |out: &str, style: &[&str]| {
        let out = ws.path(out);
        rabbithole()
            .args(["merge", "--quiet", "--no-plot", "--out"])
            .arg(&out)
            .arg(&a)
            .arg(&b)
            .args(style)
            .assert()
            .success();
        out
    };
    // The parts' style by default: the first part's (EU), and standard when asked.
    let eu = merge("merged-eu", &[]);
    let standard = merge("merged", &["--csv-style", "standard"]);
    assert_eq!(manifest(&eu, "manifest.json")["csv_style"], "eu");
    assert!(manifest(&standard, "manifest.json").get("csv_style").is_none());
    for file in ["timeseries.csv", "summary.csv", "comparison.csv"] {
        assert_eq!(read(&standard, file), read(&whole, file), "{file}");
        assert_eq!(
            to_standard(&read(&eu, file), CsvStyle::Eu).unwrap(),
            read(&whole, file),
            "{file}"
        );
    }
}

#[test]
fn an_eu_sweep_is_plotted() {
    let ws = Workspace::empty();
    let file = ws.write("tiny.toml", &tiny_scenario(ENGAGEMENT_AND_RANDOM));
    let out = ws.path("sweep");
    rabbithole()
        .arg("sweep")
        .arg(&file)
        .args([
            "--grid",
            "population.users=50,80",
            "--quiet",
            "--csv-style",
            "eu",
            "--out",
        ])
        .arg(&out)
        .assert()
        .success();
    assert_eq!(manifest(&out, "sweep.json")["csv_style"], "eu");
    let csv = String::from_utf8(read(&out, "sweep.csv")).unwrap();
    assert!(csv.lines().next().unwrap().starts_with("point;"), "{csv}");
    rabbithole()
        .arg("plot")
        .arg(&out)
        .arg("--quiet")
        .assert()
        .success();
    assert!(
        names_in(&out)
            .iter()
            .any(|n| n.starts_with("sweep-") && n.ends_with(".svg"))
    );
}

/// `timeseries.csv` parsed: header and rows of cells.
fn table(bytes: &[u8]) -> (Vec<String>, Vec<Vec<String>>) {
    let mut r = csv::Reader::from_reader(bytes);
    let header = r.headers().unwrap().iter().map(str::to_string).collect();
    let rows = r
        .records()
        .map(|rec| rec.unwrap().iter().map(str::to_string).collect())
        .collect();
    (header, rows)
}

/// An (arm, cohort)'s per-replicate timeseries rows: replicate -> step -> row.
type Replicates<'a> = BTreeMap<String, BTreeMap<u32, &'a Vec<String>>>;

#[test]
fn the_averaged_timeseries_holds_the_means_over_replicates() {
    let ws = Workspace::empty();
    let per = run(&ws, "per", &["--no-plot"]);
    let mean = run(&ws, "mean", &["--timeseries", "mean-interval"]);
    assert_eq!(manifest(&mean, "manifest.json")["timeseries"], "mean-interval");
    // Without the intervals: the same means, no `_lo`, `_hi`.
    let bare = run(&ws, "bare", &["--no-plot", "--timeseries", "mean"]);
    assert_eq!(manifest(&bare, "manifest.json")["timeseries"], "mean");
    assert!(manifest(&per, "manifest.json").get("timeseries").is_none());
    // summary.csv does not depend on the form.
    assert_eq!(read(&per, "summary.csv"), read(&mean, "summary.csv"));
    let (ph, prow) = table(&read(&per, "timeseries.csv"));
    let (mh, mrow) = table(&read(&mean, "timeseries.csv"));
    let (bh, brow) = table(&read(&bare, "timeseries.csv"));
    assert_eq!(bh.len() * 3 - 2 * rabbithole::output::MEAN_KEYS.len(), mh.len());
    for (b, m) in brow.iter().zip(&mrow) {
        let picked: Vec<&String> = bh
            .iter()
            .map(|h| &m[mh.iter().position(|x| x == h).unwrap()])
            .collect();
        assert_eq!(b.iter().collect::<Vec<_>>(), picked);
    }
    assert_eq!(brow.len(), mrow.len());
    let pc = |n: &str| ph.iter().position(|h| h == n).unwrap();
    let mc = |n: &str| mh.iter().position(|h| h == n).unwrap();
    // By hand: (arm, cohort) -> replicate -> step -> row; a replicate that has ended counts
    // with its last row.
    let mut by: BTreeMap<(String, String), Replicates> = BTreeMap::new();
    for r in &prow {
        by.entry((r[pc("arm")].clone(), r[pc("cohort")].clone()))
            .or_default()
            .entry(r[pc("replicate")].clone())
            .or_default()
            .insert(r[pc("step")].parse().unwrap(), r);
    }
    let mut checked = 0;
    for m in &mrow {
        let reps = &by[&(m[mc("arm")].clone(), m[mc("cohort")].clone())];
        let step: u32 = m[mc("step")].parse().unwrap();
        let rows: Vec<&Vec<String>> = reps
            .values()
            .filter_map(|steps| steps.range(..=step).next_back().map(|(_, r)| *r))
            .collect();
        assert_eq!(m[mc("replicates")], rows.len().to_string());
        for column in ["mean_minutes", "watch_minutes", "feed_entropy", "in_rabbit_hole"] {
            let values: Vec<f64> = rows.iter().filter_map(|r| r[pc(column)].parse().ok()).collect();
            let cell = &m[mc(column)];
            if values.is_empty() {
                assert_eq!(cell, "", "{column} at step {step}");
                continue;
            }
            let mean = values.iter().sum::<f64>() / values.len() as f64;
            let got: f64 = cell.parse().unwrap();
            assert!(
                (got - mean).abs() <= 5e-7,
                "{column} at step {step}: {got} != {mean}"
            );
            checked += 1;
            // Student-t with three values: mean ± 4.303 s / √3 (watch minutes is no share).
            if column == "watch_minutes" && values.len() == 3 {
                let sd = (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / 2.0).sqrt();
                let lo: f64 = m[mc("watch_minutes_lo")].parse().unwrap();
                let hi: f64 = m[mc("watch_minutes_hi")].parse().unwrap();
                let half = 4.303 * sd / 3f64.sqrt();
                assert!(
                    (lo - (mean - half)).abs() < 1e-5 && (hi - (mean + half)).abs() < 1e-5,
                    "{lo} {hi}"
                );
            }
        }
    }
    assert!(checked > 1000, "only {checked} cells checked");
    // Every (arm, cohort, step) of the per-replicate file has its row.
    let steps = |rows: &[Vec<String>], c: &dyn Fn(&str) -> usize| {
        let mut keys: Vec<(String, String, String)> = rows
            .iter()
            .map(|r| (r[c("arm")].clone(), r[c("cohort")].clone(), r[c("step")].clone()))
            .collect();
        keys.sort();
        keys.dedup();
        keys
    };
    assert_eq!(steps(&prow, &pc), steps(&mrow, &mc));
    // The charts draw from it: a rabbit-hole chart with its bands exists.
    assert!(names_in(&mean).contains(&"rabbit-hole.svg".to_string()));
}

#[test]
fn averaged_timeseries_are_not_sharded_or_merged() {
    let ws = Workspace::empty();
    let text = tiny_scenario(ENGAGEMENT_AND_RANDOM);
    let file = ws.write("tiny.toml", &text);
    let out = ws.path("x");
    let err = refused(&[
        "run".as_ref(),
        file.as_os_str(),
        "--shard".as_ref(),
        "1/2".as_ref(),
        "--timeseries".as_ref(),
        "mean".as_ref(),
        "--out".as_ref(),
        out.as_os_str(),
    ]);
    assert!(err.contains("--timeseries mean with --shard"), "{err}");
    assert!(!out.exists());
    // A part that says it holds means (as if written by hand) is refused by merge.
    let a = ws.run_ok(&file, "a", &["--no-plot", "--shard", "1/2"]);
    let b = ws.run_ok(&file, "b", &["--no-plot", "--shard", "2/2"]);
    let mut m = manifest(&a, "manifest.json");
    m["timeseries"] = "mean".into();
    std::fs::write(a.join("manifest.json"), serde_json::to_vec(&m).unwrap()).unwrap();
    let merged = ws.path("merged");
    let err = refused(&[
        "merge".as_ref(),
        a.as_os_str(),
        b.as_os_str(),
        "--out".as_ref(),
        merged.as_os_str(),
    ]);
    assert!(err.contains("cannot be merged"), "{err}");
}

/// The PNG's size and pixels (RGBA or RGB, 8 bits).
fn decode(bytes: &[u8]) -> (u32, u32, usize, Vec<u8>) {
    let mut reader = png::Decoder::new(std::io::Cursor::new(bytes))
        .read_info()
        .unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    buf.truncate(info.buffer_size());
    (info.width, info.height, info.color_type.samples(), buf)
}

#[test]
fn charts_export_as_png_and_pdf_with_the_bundled_font() {
    let ws = Workspace::empty();
    let dir = run(&ws, "out", &["--replicates", "2"]);
    let plot = || {
        rabbithole()
            .args(["plot", "--png", "--pdf", "--quiet"])
            .arg(&dir)
            .assert()
            .success();
        (read(&dir, "rabbit-hole.png"), read(&dir, "rabbit-hole.pdf"))
    };
    let (png, pdf) = plot();
    // Every chart has both.
    for svg in names_in(&dir).iter().filter_map(|n| n.strip_suffix(".svg")) {
        assert!(
            dir.join(format!("{svg}.png")).is_file() && dir.join(format!("{svg}.pdf")).is_file(),
            "{svg}"
        );
    }
    let svg = String::from_utf8(read(&dir, "rabbit-hole.svg")).unwrap();
    assert!(svg.contains("font-family=\"DejaVu Sans, sans-serif\""));
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "no PNG signature");
    let (w, h, channels, pixels) = decode(&png);
    assert_eq!((w, h), (1920, 1160), "twice the SVG's 960 x 580");
    let dark = |x0: u32, x1: u32, y0: u32, y1: u32| {
        let mut n = 0;
        for y in y0..y1 {
            for x in x0..x1 {
                let p = &pixels[((y * w + x) as usize) * channels..][..3];
                n += usize::from(p.iter().all(|&c| c < 100));
            }
        }
        n
    };
    // The title, top left, holds nothing but text: set in the bundled font, it is there.
    let title = dark(32, 900, 20, 70);
    assert!(title > 2000, "no title text ({title} dark pixels)");
    let ink = pixels
        .chunks_exact(channels)
        .filter(|p| p[..3].iter().any(|&c| c < 235))
        .count();
    assert!(
        ink * 100 > (w * h) as usize * 2,
        "the chart looks blank: {ink} pixels"
    );
    assert!(pdf.starts_with(b"%PDF-"));
    let has = |needle: &[u8]| pdf.windows(needle.len()).any(|win| win == needle);
    assert!(
        has(b"DejaVuSans") && has(b"DejaVuSans-Bold") && has(b"/FontFile2"),
        "the PDF does not embed DejaVu Sans and its bold"
    );
    // One page of the chart's size: a CSS pixel is a point.
    assert!(has(b"/MediaBox [0 0 960 580]"), "not a 960 x 580 page");
    // The same chart gives the same bytes again, the PDF too (vendor/svg2pdf/PATCHED.md),
    // from another process, whose hash maps have other keys.
    let (png2, pdf2) = plot();
    assert!(png2 == png, "the PNG differs from one export to the next");
    assert!(pdf2 == pdf, "the PDF differs from one export to the next");
}
