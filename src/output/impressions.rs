//! `impressions.parquet` (`run --log impressions`): one row per impression, in Parquet through
//! arrow-rs, so pandas, polars, R and DuckDB read it directly. The columns are named after
//! public interaction logs where one has the quantity (KuaiRand's `user_id`, `video_id`,
//! `author_id`, `time_ms`, `play_time_ms`, `duration_ms`, `is_like`, `is_follow`; KuaiRec's
//! `watch_ratio`) and documented in `docs/model.md` §10.

use crate::engine::{Impression, Results};
use arrow_array::{ArrayRef, BooleanArray, Float32Array, Int64Array, RecordBatch, StringArray, UInt32Array};
use arrow_schema::{DataType, Field, Schema};
use parquet::arrow::ArrowWriter;
use parquet::file::properties::WriterProperties;
use std::sync::Arc;

/// Rows per record batch: the arrays of one batch are what encoding holds beside the rows.
const BATCH_ROWS: usize = 64 * 1024;

/// The columns, in file order: name, type, nullable.
pub const COLUMNS: [(&str, DataType, bool); 16] = [
    ("arm", DataType::Utf8, false),
    ("replicate", DataType::UInt32, false),
    ("user_id", DataType::UInt32, false),
    ("step", DataType::UInt32, false),
    ("time_ms", DataType::Int64, false),
    ("video_id", DataType::UInt32, false),
    ("topic", DataType::Utf8, false),
    ("author_id", DataType::UInt32, false),
    ("stance", DataType::Float32, true),
    ("source", DataType::Utf8, false),
    ("watch_ratio", DataType::Float32, false),
    ("play_time_ms", DataType::Int64, false),
    ("duration_ms", DataType::Int64, false),
    ("is_like", DataType::Boolean, false),
    ("is_follow", DataType::Boolean, false),
    ("is_skip", DataType::Boolean, false),
];

/// Seconds as whole milliseconds.
fn ms(seconds: f32) -> i64 {
    (f64::from(seconds) * 1000.0).round() as i64
}

/// `impressions.parquet`: the run's impression log, uncompressed (each codec would add a
/// dependency; dictionary and run-length encoding already shrink the repeated columns).
pub fn impressions_parquet(results: &Results) -> Vec<u8> {
    let fields: Vec<Field> = COLUMNS
        .iter()
        .map(|(name, ty, nullable)| Field::new(*name, ty.clone(), *nullable))
        .collect();
    let schema = Arc::new(Schema::new(fields));
    let props = WriterProperties::builder()
        .set_created_by(format!("rabbithole {}", env!("CARGO_PKG_VERSION")))
        .build();
    let mut writer = ArrowWriter::try_new(Vec::new(), schema.clone(), Some(props))
        .expect("the schema has only supported types");
    for rows in results.impressions.chunks(BATCH_ROWS) {
        let batch = RecordBatch::try_new(schema.clone(), columns(results, rows))
            .expect("the columns match the schema");
        writer
            .write(&batch)
            .expect("writing Parquet to memory cannot fail");
    }
    writer
        .into_inner()
        .expect("finishing Parquet in memory cannot fail")
}

/// The arrays of `rows`, in [`COLUMNS`] order.
fn columns(results: &Results, rows: &[Impression]) -> Vec<ArrayRef> {
    let u32s = |f: fn(&Impression) -> u32| -> ArrayRef {
        Arc::new(UInt32Array::from_iter_values(rows.iter().map(f)))
    };
    let i64s = |f: fn(&Impression) -> i64| -> ArrayRef {
        Arc::new(Int64Array::from_iter_values(rows.iter().map(f)))
    };
    let bools = |f: fn(&Impression) -> bool| -> ArrayRef {
        Arc::new(rows.iter().map(|r| Some(f(r))).collect::<BooleanArray>())
    };
    let strings = |values: Vec<&str>| -> ArrayRef { Arc::new(StringArray::from_iter_values(values)) };
    vec![
        strings(
            rows.iter()
                .map(|r| results.arm_names[usize::from(r.arm)].as_str())
                .collect(),
        ),
        u32s(|r| r.replicate),
        u32s(|r| r.user),
        u32s(|r| r.step),
        i64s(|r| ms(r.clock)),
        u32s(|r| r.item),
        strings(
            rows.iter()
                .map(|r| results.topic_names[usize::from(r.topic)].as_str())
                .collect(),
        ),
        u32s(|r| r.creator),
        Arc::new(rows.iter().map(|r| r.stance).collect::<Float32Array>()),
        strings(rows.iter().map(|r| r.source.name()).collect()),
        Arc::new(Float32Array::from_iter_values(rows.iter().map(|r| r.fraction))),
        i64s(|r| ms(r.seconds)),
        i64s(|r| ms(r.duration)),
        bools(|r| r.liked),
        bools(|r| r.followed),
        bools(|r| r.skipped),
    ]
}
