//! What every chart shares: the page size, fonts, the colour of each arm (Okabe-Ito, safe for
//! colour-blind readers, the same arm the same colour in every chart), and the frame around a
//! chart: a title, the scenario's name, a legend above the plot and a note below it.
//!
//! Text is laid out with an estimate of its width (plotters without system fonts); the
//! estimate errs wide so labels do not collide in a browser's sans-serif.

use super::data::Run;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// Chart size in pixels.
pub const WIDTH: u32 = 960;
pub const HEIGHT: u32 = 580;

/// A drawing area of a chart.
pub type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;

/// Okabe and Ito's palette, in the order arms take it; yellow, hard to see on white, last and
/// darkened (from #F0E442) so lines and labels in it can be read.
const PALETTE: [RGBColor; 8] = [
    RGBColor(0x00, 0x72, 0xB2), // blue
    RGBColor(0xD5, 0x5E, 0x00), // vermillion
    RGBColor(0x00, 0x9E, 0x73), // bluish green
    RGBColor(0xCC, 0x79, 0xA7), // reddish purple
    RGBColor(0xE6, 0x9F, 0x00), // orange
    RGBColor(0x56, 0xB4, 0xE9), // sky blue
    RGBColor(0x00, 0x00, 0x00), // black
    RGBColor(0xC9, 0xB5, 0x00), // yellow, darkened
];

/// Text and reference lines.
pub const INK: RGBColor = RGBColor(0x22, 0x22, 0x22);
/// Secondary text (scenario line, notes).
pub const MUTED: RGBColor = RGBColor(0x55, 0x55, 0x55);
/// Grid lines.
const GRID: RGBColor = RGBColor(0xE4, 0xE4, 0xE4);
/// The catalog's share in the group chart.
pub const CATALOG: RGBColor = RGBColor(0x66, 0x66, 0x66);

/// The colour of `arm`: its place among the run's arms, so the same in every chart.
pub fn arm_colour(run: &Run, arm: &str) -> RGBColor {
    colour(run.arms.iter().position(|a| a == arm).unwrap_or(0))
}

/// The colour of the arm at place `idx` among a run's arms.
pub fn colour(idx: usize) -> RGBColor {
    PALETTE[idx % PALETTE.len()]
}

/// The charts' `font-family`: the font bundled for PNG and PDF export (`export.rs`) first,
/// so that it is what those renderers use, then the browser's sans-serif.
pub const FAMILY: &str = "DejaVu Sans, sans-serif";

/// A sans-serif font of `px` CSS pixels (plotters writes font-size as size / 1.24).
pub fn font(px: f64) -> TextStyle<'static> {
    TextStyle::from((FAMILY, px * 1.24).into_font()).color(&INK)
}

/// A bold sans-serif font of `px` CSS pixels.
pub fn bold(px: f64) -> TextStyle<'static> {
    TextStyle::from((FAMILY, px * 1.24, FontStyle::Bold).into_font()).color(&INK)
}

/// The estimated width in pixels of `text` at `px`: generous for a browser's sans-serif.
pub fn text_width(text: &str, px: f64) -> i32 {
    (text.chars().count() as f64 * px * 0.6).ceil() as i32
}

/// What a legend entry shows before its label.
#[derive(Debug, Clone, Copy)]
pub enum Swatch {
    Line(RGBColor),
    Dashed(RGBColor),
    Block(RGBColor),
    /// A line with the marker of the arm at place `usize` ([`marker`]).
    Marked(RGBColor, usize),
    /// A line dashed in pattern `usize` ([`dash`]).
    Pattern(RGBColor, usize),
}

/// The head and foot of a chart.
pub struct Frame<'a> {
    pub title: &'a str,
    /// Legend entries, left to right, wrapping when the row is full.
    pub legend: Vec<(Swatch, String)>,
    /// A sentence or two under the chart: what a line or a bar is an average of.
    pub note: String,
}

/// The legend entries of the run's arms, in the run's order.
pub fn arm_legend(run: &Run, arms: &[String]) -> Vec<(Swatch, String)> {
    arms.iter()
        .map(|a| {
            let idx = run.arms.iter().position(|x| x == a).unwrap_or(0);
            (Swatch::Marked(colour(idx), idx), a.clone())
        })
        .collect()
}

/// Draws `frame` around `body` and returns the SVG document.
pub fn render(run: &Run, frame: &Frame<'_>, body: impl FnOnce(&Area<'_>)) -> String {
    render_with(&scenario_line(run), frame, body)
}

/// Draws `frame` around `body` with `subtitle` under the title and returns the SVG document.
pub fn render_with(subtitle: &str, frame: &Frame<'_>, body: impl FnOnce(&Area<'_>)) -> String {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE).expect(DRAW);
        let left = 16;
        draw_text(&root, frame.title, (left, 12), &bold(20.0));
        draw_text(&root, subtitle, (left, 40), &font(14.0).color(&MUTED));
        let legend_bottom = draw_legend(&root, &frame.legend, left, 66);
        let note_lines = wrap(&frame.note, 12.0, WIDTH as i32 - 2 * left);
        let foot = 10 + 17 * note_lines.len() as i32;
        for (i, line) in note_lines.iter().enumerate() {
            let y = HEIGHT as i32 - foot + 4 + 17 * i as i32;
            draw_text(&root, line, (left, y), &font(12.0).color(&MUTED));
        }
        let (_, rest) = root.split_vertically(legend_bottom + 6);
        let (plot, _) = rest.split_vertically(HEIGHT as i32 - foot - legend_bottom - 6);
        body(&plot);
        root.present().expect(DRAW);
    }
    svg
}

/// The line under every title: the scenario and what the averages are over.
fn scenario_line(run: &Run) -> String {
    let mut line = format!("scenario {}", run.name);
    if run.replicates > 0 {
        line.push_str(&format!(
            " \u{b7} {} replicate{}",
            run.replicates,
            if run.replicates == 1 { "" } else { "s" }
        ));
    }
    if let Some(users) = run.users() {
        let noun = if users == 1 { "viewer" } else { "viewers" };
        line.push_str(&format!(" of {} {noun}", thousands(users)));
    }
    line
}

/// `12345` as `12,345`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Draws the legend from (`x`, `y`), wrapping at the chart's width; returns the y below it.
fn draw_legend(root: &Area<'_>, entries: &[(Swatch, String)], x0: i32, y0: i32) -> i32 {
    if entries.is_empty() {
        return y0;
    }
    let px = 14.0;
    let row_height = 22;
    let (mut x, mut y) = (x0, y0);
    for (swatch, label) in entries {
        let width = 28 + text_width(label, px) + 22;
        if x > x0 && x + width > WIDTH as i32 - x0 {
            x = x0;
            y += row_height;
        }
        let mid = y + 8;
        match *swatch {
            Swatch::Line(c) => {
                let line = PathElement::new(vec![(x, mid), (x + 22, mid)], c.stroke_width(3));
                root.draw(&line).expect(DRAW);
            }
            Swatch::Dashed(c) => {
                for dash in 0..3 {
                    let start = x + dash * 9;
                    let line = PathElement::new(vec![(start, mid), (start + 5, mid)], c.stroke_width(3));
                    root.draw(&line).expect(DRAW);
                }
            }
            Swatch::Marked(c, idx) => {
                let line = PathElement::new(vec![(x, mid), (x + 22, mid)], c.stroke_width(3));
                root.draw(&line).expect(DRAW);
                marker(root, (x + 11, mid), idx, c);
            }
            Swatch::Pattern(c, idx) => {
                let (on, off) = dash(idx);
                let mut start = x;
                while start < x + 22 {
                    let end = (start + on as i32).min(x + 22);
                    let line = PathElement::new(vec![(start, mid), (end, mid)], c.stroke_width(2));
                    root.draw(&line).expect(DRAW);
                    start += (on + off) as i32;
                }
            }
            Swatch::Block(c) => {
                let block = Rectangle::new([(x + 3, mid - 7), (x + 19, mid + 7)], c.filled());
                root.draw(&block).expect(DRAW);
            }
        }
        draw_text(root, label, (x + 28, y), &font(px));
        x += width;
    }
    y + row_height
}

/// Draws at `at` the marker of the arm at place `idx`: a circle, a square, a triangle or a
/// diamond in turn, so lines that coincide still show every arm.
pub fn marker<CT>(area: &DrawingArea<SVGBackend<'_>, CT>, at: CT::From, idx: usize, colour: RGBColor)
where
    CT: plotters::coord::CoordTranslate,
    CT::From: Clone + 'static,
{
    let style = colour.filled();
    let outline = WHITE.stroke_width(1);
    let drawn = match idx % 4 {
        0 => area
            .draw(&(EmptyElement::at(at) + Circle::new((0, 0), 5, style) + Circle::new((0, 0), 5, outline))),
        1 => area.draw(&(EmptyElement::at(at) + Rectangle::new([(-4, -4), (4, 4)], style))),
        2 => area.draw(&(EmptyElement::at(at) + Polygon::new(vec![(0, -6), (5, 4), (-5, 4)], style))),
        _ => area.draw(&(EmptyElement::at(at) + Polygon::new(vec![(0, -6), (6, 0), (0, 6), (-6, 0)], style))),
    };
    drawn.expect(DRAW);
}

/// The dash pattern `idx` as (pixels drawn, pixels left out): 0 is a solid line, then
/// ever longer dashes.
pub fn dash(idx: usize) -> (u32, u32) {
    match idx {
        0 => (1, 0),
        i => (2 + 4 * i as u32, 4),
    }
}

/// Draws `text` with its top-left corner at `pos`.
pub fn draw_text(area: &Area<'_>, text: &str, pos: (i32, i32), style: &TextStyle<'_>) {
    let style = style.pos(Pos::new(HPos::Left, VPos::Top));
    area.draw(&Text::new(text.to_string(), pos, style)).expect(DRAW);
}

/// Draws `text` centred horizontally on `pos`, its top at `pos`'s y.
pub fn draw_centred(area: &Area<'_>, text: &str, pos: (i32, i32), style: &TextStyle<'_>) {
    let style = style.pos(Pos::new(HPos::Center, VPos::Top));
    area.draw(&Text::new(text.to_string(), pos, style)).expect(DRAW);
}

/// Splits `text` into lines no wider than `width` pixels at `px`.
fn wrap(text: &str, px: f64, width: i32) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        let candidate = if line.is_empty() {
            word.to_string()
        } else {
            format!("{line} {word}")
        };
        if !line.is_empty() && text_width(&candidate, px) > width {
            lines.push(std::mem::replace(&mut line, word.to_string()));
        } else {
            line = candidate;
        }
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// The message of every drawing expectation: drawing into a string cannot fail.
pub const DRAW: &str = "drawing an SVG into memory cannot fail";

/// A cartesian chart in `area` with the house axes: names with units, light grid, fonts.
pub fn axes<'a, 'b>(
    area: &'a Area<'b>,
    x: std::ops::Range<f64>,
    y: std::ops::Range<f64>,
    x_desc: &str,
    y_desc: &str,
    y_format: &dyn Fn(&f64) -> String,
) -> Chart<'a, 'b> {
    axes_x(area, x, y, (x_desc, &tick, 10), y_desc, y_format)
}

/// A chart of the house style over two `f64` ranges.
pub type Chart<'a, 'b> = ChartContext<
    'a,
    SVGBackend<'b>,
    Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
>;

/// The x axis of [`axes_x`]: its name, its tick labels and about how many ticks it has.
pub type XAxis<'a> = (&'a str, &'a dyn Fn(&f64) -> String, usize);

/// [`axes`] with the x axis's tick labels and count given (a swept key's values).
pub fn axes_x<'a, 'b>(
    area: &'a Area<'b>,
    x: std::ops::Range<f64>,
    y: std::ops::Range<f64>,
    (x_desc, x_format, x_labels): XAxis<'_>,
    y_desc: &str,
    y_format: &dyn Fn(&f64) -> String,
) -> Chart<'a, 'b> {
    let mut chart = ChartBuilder::on(area)
        .margin_left(12)
        .margin_right(28)
        .margin_top(10)
        .margin_bottom(4)
        .x_label_area_size(52)
        .y_label_area_size(74)
        .build_cartesian_2d(x, y)
        .expect(DRAW);
    chart
        .configure_mesh()
        .x_desc(x_desc)
        .y_desc(y_desc)
        .axis_desc_style(font(14.0))
        .label_style(font(12.0))
        .y_label_formatter(y_format)
        .x_label_formatter(x_format)
        .x_labels(x_labels)
        .y_labels(6)
        .light_line_style(WHITE)
        .bold_line_style(GRID)
        .axis_style(MUTED)
        .draw()
        .expect(DRAW);
    chart
}

/// A tick label: at most two decimals, no trailing zeros (`10`, `0.2`, `2.5`).
pub fn tick(v: &f64) -> String {
    let text = format!("{v:.2}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if text == "-0" {
        "0".to_string()
    } else {
        text.to_string()
    }
}

/// A percentage tick label.
pub fn percent(v: &f64) -> String {
    format!("{}\u{a0}%", tick(v))
}

/// An axis range from 0 that shows `max` with some room, never empty.
pub fn upper(max: f64) -> f64 {
    if max.is_finite() && max > 0.0 {
        max * 1.08
    } else {
        1.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_are_grouped() {
        assert_eq!(thousands(7), "7");
        assert_eq!(thousands(2000), "2,000");
        assert_eq!(thousands(1234567), "1,234,567");
    }

    #[test]
    fn ticks_drop_trailing_zeros() {
        assert_eq!(tick(&10.0), "10");
        assert_eq!(tick(&0.2), "0.2");
        assert_eq!(tick(&2.5), "2.5");
        assert_eq!(tick(&0.0), "0");
        assert_eq!(tick(&-0.0001), "0");
    }

    #[test]
    fn notes_wrap_at_the_width() {
        let lines = wrap("one two three four five six", 10.0, 60);
        assert!(lines.len() > 1);
        assert_eq!(lines.join(" "), "one two three four five six");
        assert!(wrap("", 10.0, 60).is_empty());
    }
}
