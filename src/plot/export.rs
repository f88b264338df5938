//! The SVG charts exported as PNG (resvg, tiny-skia) and PDF (svg2pdf), for slides and print.
//!
//! Text is set in DejaVu Sans, bundled under `assets/fonts/` (its licence beside it) and the
//! only font the renderers know: the charts name it first in their `font-family`
//! ([`super::style::FAMILY`]), so a chart exports the same on every machine, whatever fonts it
//! has. The PNG is a pure function of the SVG's bytes; the PDF holds the same objects every
//! time, but svg2pdf 0.13 writes a page's resource dictionary in hash-map order, so its bytes
//! can differ from one export to the next.

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
