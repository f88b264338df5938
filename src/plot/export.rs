//! The SVG charts exported as PNG (resvg, tiny-skia) and PDF (svg2pdf), for slides and print.
//!
//! Text is set in DejaVu Sans, bundled under `assets/fonts/` (its licence beside it) and the
//! only font the renderers know: the charts name it first in their `font-family`
//! ([`super::style::FAMILY`]), so a chart exports the same on every machine, whatever fonts it
//! has. Both are pure functions of the SVG's bytes: the PDF too, through the copy of svg2pdf
//! 0.13 in `vendor/svg2pdf`, patched to write its fonts and resource dictionaries in a fixed
//! order rather than a hash map's, which changed the bytes from one export to the next
//! (`vendor/svg2pdf/PATCHED.md`).

use resvg::{tiny_skia, usvg};
use std::sync::{Arc, OnceLock};

/// DejaVu Sans and DejaVu Sans Bold (Bitstream Vera licence with DejaVu's public-domain
/// changes: `assets/fonts/LICENSE-DejaVu.txt`).
const FONTS: [&[u8]; 2] = [
    include_bytes!("../../assets/fonts/DejaVuSans.ttf"),
    include_bytes!("../../assets/fonts/DejaVuSans-Bold.ttf"),
];

/// The family the bundled fonts are, which every generic family resolves to.
pub const BUNDLED_FAMILY: &str = "DejaVu Sans";

/// Pixels of PNG per SVG pixel: twice the chart's size, sharp on slides and high-density
/// screens.
pub const PNG_SCALE: f32 = 2.0;

/// Why a chart could not be exported.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("the chart is not an SVG the renderer reads: {0}")]
    Svg(String),
    #[error("cannot render the chart: {0}")]
    Render(String),
}

/// The font database holding only the bundled fonts, built once.
fn fonts() -> Arc<usvg::fontdb::Database> {
    static DB: OnceLock<Arc<usvg::fontdb::Database>> = OnceLock::new();
    DB.get_or_init(|| {
        let mut db = usvg::fontdb::Database::new();
        for font in FONTS {
            db.load_font_data(font.to_vec());
        }
        db.set_sans_serif_family(BUNDLED_FAMILY);
        db.set_serif_family(BUNDLED_FAMILY);
        db.set_monospace_family(BUNDLED_FAMILY);
        Arc::new(db)
    })
    .clone()
}

/// `svg` parsed with the bundled fonts only.
fn tree(svg: &[u8]) -> Result<usvg::Tree, ExportError> {
    let options = usvg::Options {
        font_family: BUNDLED_FAMILY.to_string(),
        fontdb: fonts(),
        ..usvg::Options::default()
    };
    usvg::Tree::from_data(svg, &options).map_err(|e| ExportError::Svg(e.to_string()))
}

/// The chart `svg` as a PNG of [`PNG_SCALE`] times its size, on white.
pub fn png(svg: &[u8]) -> Result<Vec<u8>, ExportError> {
    let tree = tree(svg)?;
    let size = tree
        .size()
        .to_int_size()
        .scale_by(PNG_SCALE)
        .ok_or_else(|| ExportError::Render("the chart has no size".into()))?;
    let mut pixmap = tiny_skia::Pixmap::new(size.width(), size.height())
        .ok_or_else(|| ExportError::Render(format!("{}x{} pixels", size.width(), size.height())))?;
    pixmap.fill(tiny_skia::Color::WHITE);
    let scale = tiny_skia::Transform::from_scale(PNG_SCALE, PNG_SCALE);
    resvg::render(&tree, scale, &mut pixmap.as_mut());
    pixmap
        .encode_png()
        .map_err(|e| ExportError::Render(e.to_string()))
}

/// The chart `svg` as a one-page PDF of its size, text embedded as the bundled font (subset).
pub fn pdf(svg: &[u8]) -> Result<Vec<u8>, ExportError> {
    let tree = tree(svg)?;
    svg2pdf::to_pdf(
        &tree,
        svg2pdf::ConversionOptions::default(),
        svg2pdf::PageOptions::default(),
    )
    .map_err(|e| ExportError::Render(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Regular and bold text and three opacities: two fonts and three graphics states, the
    /// objects unpatched svg2pdf wrote in a hash map's order.
    const SVG: &str = r##"<svg xmlns="http://www.w3.org/2000/svg" width="200" height="100">
        <rect x="10" y="10" width="50" height="50" fill="#0072B2" opacity="0.2"/>
        <rect x="30" y="30" width="50" height="50" fill="#D55E00" fill-opacity="0.5"/>
        <rect x="50" y="50" width="50" height="40" fill="#009E73" opacity="0.7"/>
        <text x="100" y="30" font-family="DejaVu Sans" font-weight="bold">Bold</text>
        <text x="100" y="60" font-family="DejaVu Sans">Regular</text>
        <text x="100" y="90" font-family="sans-serif" font-size="9">generic 0,25</text>
    </svg>"##;

    #[test]
    fn exports_are_the_same_bytes_every_time() {
        let first = pdf(SVG.as_bytes()).unwrap();
        assert!(first.starts_with(b"%PDF-"));
        let has = |needle: &[u8]| first.windows(needle.len()).any(|w| w == needle);
        assert!(has(b"DejaVuSans-Bold") && has(b"/MediaBox [0 0 200 100]"));
        // Each export builds its hash maps with new random keys: with two fonts and three
        // states, twelve exports in a fixed order by chance is (1/2 * 1/6)^11 unlikely.
        for _ in 0..12 {
            assert!(pdf(SVG.as_bytes()).unwrap() == first, "the PDF's bytes changed");
        }
        let image = png(SVG.as_bytes()).unwrap();
        assert!(image.starts_with(b"\x89PNG\r\n\x1a\n"));
        assert!(png(SVG.as_bytes()).unwrap() == image);
    }
}
