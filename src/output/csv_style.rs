//! The CSV styles result files are written in: `standard` (comma-separated, "." decimals, what
//! every function of this module's parent writes) and `eu` (semicolon-separated, "," decimals,
//! for spreadsheets set to a European locale, which read "0.5" as text and split on ";").
//!
//! Files are always made in the standard style and restyled last ([`restyle`]), so every
//! number, summary and chart is computed from the same bytes whichever style is asked for;
//! readers turn a file back into the standard style first ([`to_standard`]), the manifest
//! saying which style its directory's files are in ([`style_of_manifest`]). Only a field that
//! is a decimal number (`-?[0-9]+\.[0-9]+`) changes its point to a comma; integers, empty cells
//! and text are left as they are, and the `csv` crate quotes a text field that holds ";".

use serde::{Deserialize, Serialize};

/// How a results directory's CSV files separate fields and write decimals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CsvStyle {
    /// Comma-separated, "." decimal point (the default).
    #[default]
    Standard,
    /// Semicolon-separated, "," decimal comma, no thousands separators.
    Eu,
}

impl CsvStyle {
    /// Whether this is the default style (which manifests leave unsaid, so that default
    /// outputs stay as they were).
    pub fn is_standard(&self) -> bool {
        *self == CsvStyle::Standard
    }

    /// The field separator.
    fn delimiter(self) -> u8 {
        match self {
            CsvStyle::Standard => b',',
            CsvStyle::Eu => b';',
        }
    }

    /// The decimal separator.
    fn decimal(self) -> char {
        match self {
            CsvStyle::Standard => '.',
            CsvStyle::Eu => ',',
        }
    }

    /// The name written in manifests and given to `--csv-style`.
    pub fn name(self) -> &'static str {
        match self {
            CsvStyle::Standard => "standard",
            CsvStyle::Eu => "eu",
        }
    }
}

/// Whether `field` is a decimal number written with `decimal`: an optional minus, digits, the
/// separator, digits.
fn is_decimal(field: &str, decimal: char) -> bool {
    let digits = field.strip_prefix('-').unwrap_or(field);
    let Some((whole, fraction)) = digits.split_once(decimal) else {
        return false;
    };
    let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    all_digits(whole) && all_digits(fraction)
}

/// `bytes`, a CSV file in style `from`, rewritten in style `to`: the separator changed and
/// every decimal number's separator with it. Empty input stays empty.
fn convert(bytes: &[u8], from: CsvStyle, to: CsvStyle) -> csv::Result<Vec<u8>> {
    if from == to || bytes.is_empty() {
        return Ok(bytes.to_vec());
    }
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(from.delimiter())
        .from_reader(bytes);
    let mut writer = csv::WriterBuilder::new()
        .flexible(true)
        .delimiter(to.delimiter())
        .from_writer(Vec::with_capacity(bytes.len()));
    let (point, comma) = (from.decimal(), to.decimal());
    let mut out: Vec<String> = Vec::new();
    for record in reader.records() {
        let record = record?;
        out.clear();
        out.extend(record.iter().map(|f| {
            if is_decimal(f, point) {
                f.replace(point, &comma.to_string())
            } else {
                f.to_string()
            }
        }));
        writer.write_record(&out)?;
    }
    writer
        .into_inner()
        .map_err(|e| csv::Error::from(std::io::Error::other(e.to_string())))
}

/// A standard-style CSV file (as the writers make it) in `style`.
pub fn to_style(bytes: &[u8], style: CsvStyle) -> Vec<u8> {
    convert(bytes, CsvStyle::Standard, style).expect("the writers' CSV files parse")
}

/// A CSV file written in `style`, in the standard style the readers parse.
pub fn to_standard(bytes: &[u8], style: CsvStyle) -> csv::Result<Vec<u8>> {
    convert(bytes, style, CsvStyle::Standard)
}

/// Every `.csv` file among `files` (name, bytes), standard as written, restyled to `style`.
pub fn restyle<N: AsRef<str>>(files: &mut [(N, Vec<u8>)], style: CsvStyle) {
    if style.is_standard() {
        return;
    }
    for (name, bytes) in files.iter_mut() {
        if name.as_ref().ends_with(".csv") {
            *bytes = to_style(bytes, style);
        }
    }
}

/// The CSV style a manifest (`manifest.json` or `sweep.json`, as JSON) records: its
/// `csv_style`, standard when absent (every directory written before the key existed). An
/// unknown style is refused, naming the styles this version reads.
pub fn style_of_manifest(manifest: &serde_json::Value) -> Result<CsvStyle, String> {
    match manifest.get("csv_style") {
        None | Some(serde_json::Value::Null) => Ok(CsvStyle::Standard),
        Some(v) => serde_json::from_value(v.clone())
            .map_err(|_| format!("csv_style {v} is not a style this version reads (standard or eu)")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const STANDARD: &str =
        "arm,cohort,users,x_mean,x_lo\nopen;boost,all,12,0.500000,-1.250000\n\"a,b\",minors,3,,10.000000\n";
    const EU: &str =
        "arm;cohort;users;x_mean;x_lo\n\"open;boost\";all;12;0,500000;-1,250000\na,b;minors;3;;10,000000\n";

    #[test]
    fn decimals_take_a_comma_and_fields_a_semicolon() {
        assert_eq!(
            String::from_utf8(to_style(STANDARD.as_bytes(), CsvStyle::Eu)).unwrap(),
            EU
        );
    }

    #[test]
    fn the_eu_style_reads_back_byte_for_byte() {
        let back = to_standard(EU.as_bytes(), CsvStyle::Eu).unwrap();
        assert_eq!(String::from_utf8(back).unwrap(), STANDARD);
        assert_eq!(
            to_standard(STANDARD.as_bytes(), CsvStyle::Standard).unwrap(),
            STANDARD.as_bytes()
        );
        assert!(to_style(b"", CsvStyle::Eu).is_empty());
    }

    #[test]
    fn only_decimal_numbers_change() {
        assert!(is_decimal("0.5", '.') && is_decimal("-12.000001", '.'));
        for text in ["12", "", ".5", "5.", "1e-5", "v1.2.3", "a.b", "-", "1.5x"] {
            assert!(!is_decimal(text, '.'), "{text}");
        }
    }

    #[test]
    fn manifests_name_their_style() {
        let m = |s: &str| serde_json::from_str::<serde_json::Value>(s).unwrap();
        assert_eq!(style_of_manifest(&m("{}")), Ok(CsvStyle::Standard));
        assert_eq!(style_of_manifest(&m(r#"{"csv_style":"eu"}"#)), Ok(CsvStyle::Eu));
        let err = style_of_manifest(&m(r#"{"csv_style":"us"}"#)).unwrap_err();
        assert!(err.contains("\"us\"") && err.contains("standard or eu"), "{err}");
    }
}
