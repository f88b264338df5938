//! `impressions.parquet` (`run --log impressions`): one row per impression, in Parquet through
//! arrow-rs, so pandas, polars, R and DuckDB read it directly. The columns are named after
//! public interaction logs where one has the quantity (KuaiRand's `user_id`, `video_id`,
//! `author_id`, `time_ms`, `play_time_ms`, `duration_ms`, `is_like`, `is_follow`; KuaiRec's
//! `watch_ratio`) and documented in `docs/model.md` §10.

use crate::engine::{Impression, ImpressionSink, Results};
use arrow_array::{ArrayRef, BooleanArray, Float32Array, Int64Array, RecordBatch, StringArray, UInt32Array};
use arrow_schema::{DataType, Field, Schema};
use parquet::arrow::ArrowWriter;
use parquet::errors::ParquetError;
use parquet::file::properties::WriterProperties;
use std::io::Write;
use std::sync::Arc;

/// Rows per record batch: the arrays of one batch are what encoding holds beside the rows.
pub const BATCH_ROWS: usize = 64 * 1024;

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

/// `impressions.parquet` of a run whose log was kept whole ([`crate::engine::run`]): the bytes
/// [`ImpressionWriter`] writes for the same rows.
pub fn impressions_parquet(results: &Results) -> Vec<u8> {
    let mut writer =
        ImpressionWriter::new(Vec::new(), results.arm_names.clone(), results.topic_names.clone());
    for rows in results.impressions.chunks(BATCH_ROWS) {
        writer.take(&mut rows.to_vec());
    }
    writer.finish().expect("writing Parquet to memory cannot fail")
}

/// `impressions.parquet` written as the run goes (an [`ImpressionSink`]): uncompressed (each
/// codec would add a dependency; dictionary and run-length encoding already shrink the
/// repeated columns).
///
/// The rows are cut into record batches of [`BATCH_ROWS`] counted from the first row of the
/// run, however the engine hands them over, and the arrow writer closes a row group every
/// 1,048,576 rows (its default), so the file is the same bytes as one encoded from the whole
/// log at the end. What it holds is one batch of rows and the row group being encoded.
pub struct ImpressionWriter<W: Write + Send> {
    writer: ArrowWriter<W>,
    schema: Arc<Schema>,
    arm_names: Vec<String>,
    topic_names: Vec<String>,
    /// Rows not yet a whole batch.
    pending: Vec<Impression>,
    /// The first error, after which rows are dropped; [`ImpressionWriter::finish`] returns it.
    error: Option<ParquetError>,
}

impl<W: Write + Send> ImpressionWriter<W> {
    /// A writer into `out` for a run with these arms and topics.
    pub fn new(out: W, arm_names: Vec<String>, topic_names: Vec<String>) -> ImpressionWriter<W> {
        let fields: Vec<Field> = COLUMNS
            .iter()
            .map(|(name, ty, nullable)| Field::new(*name, ty.clone(), *nullable))
            .collect();
        let schema = Arc::new(Schema::new(fields));
        let props = WriterProperties::builder()
            .set_created_by(format!("rabbithole {}", env!("CARGO_PKG_VERSION")))
            .build();
        let writer = ArrowWriter::try_new(out, schema.clone(), Some(props))
            .expect("the schema has only supported types");
        ImpressionWriter {
            writer,
            schema,
            arm_names,
            topic_names,
            pending: Vec::with_capacity(BATCH_ROWS),
            error: None,
        }
    }

    /// Encodes `rows` as one record batch.
    fn write(&mut self, rows: &[Impression]) -> Result<(), ParquetError> {
        let batch = RecordBatch::try_new(self.schema.clone(), self.columns(rows))
            .expect("the columns match the schema");
        self.writer.write(&batch)
    }

    /// Writes the last rows and the footer; returns the sink, or the first error.
    pub fn finish(mut self) -> Result<W, ParquetError> {
        let rest = std::mem::take(&mut self.pending);
        if self.error.is_none() && !rest.is_empty() {
            self.error = self.write(&rest).err();
        }
        match self.error {
            Some(e) => Err(e),
            None => self.writer.into_inner(),
        }
    }
}

impl<W: Write + Send> ImpressionSink for ImpressionWriter<W> {
    fn take(&mut self, rows: &mut Vec<Impression>) {
        for row in rows.drain(..) {
            self.pending.push(row);
            if self.pending.len() == BATCH_ROWS {
                let batch = std::mem::replace(&mut self.pending, Vec::with_capacity(BATCH_ROWS));
                if self.error.is_none() {
                    self.error = self.write(&batch).err();
                }
            }
        }
    }
}

impl<W: Write + Send> ImpressionWriter<W> {
    /// The arrays of `rows`, in [`COLUMNS`] order.
    fn columns(&self, rows: &[Impression]) -> Vec<ArrayRef> {
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
                    .map(|r| self.arm_names[usize::from(r.arm)].as_str())
                    .collect(),
            ),
            u32s(|r| r.replicate),
            u32s(|r| r.user),
            u32s(|r| r.step),
            i64s(|r| ms(r.clock)),
            u32s(|r| r.item),
            strings(
                rows.iter()
                    .map(|r| self.topic_names[usize::from(r.topic)].as_str())
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
}
