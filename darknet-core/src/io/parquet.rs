//! Parquet packet datasets: one directory per UTC day (`day=YYYY-MM-DD/part-NNNNN.parquet`, the
//! Hive layout that Spark, DuckDB, pandas and pyarrow read as a partitioned table), written by
//! [`ParquetDatasetWriter`] and read back a batch at a time by [`ParquetDatasetReader`].
//!
//! # Columns ([`packet_schema`])
//! The extended CSV's fields as typed columns, absent fields as nulls:
//!
//! | column | type | null when |
//! |---|---|---|
//! | `ts_ns` | int64 | never (ns since the Unix epoch, UTC) |
//! | `seq` | int64 | never (0, 1, 2, … per day: capture order of packets with equal timestamps) |
//! | `src_ip`, `dst_ip` | uint32 | never (the address as a big-endian number) |
//! | `proto` | uint8 | never (IP protocol number) |
//! | `src_port`, `dst_port` | uint16 | the protocol has no ports (not TCP or UDP) |
//! | `pck_len` (IP total length), `ttl`, `ip_id` | uint16, uint8, uint16 | never |
//! | `tcp_flags`, `tcp_seq`, `tcp_ack`, `t_win` | uint8, uint32, uint32, uint16 | not TCP |
//! | `t_wscale`, `t_mss`, `t_ts` | uint8, uint16, uint32 | not TCP, or the option is absent |
//! | `t_sack`, `t_sackp` | boolean | not TCP |
//! | `icmp_type`, `icmp_code` | uint8 | not ICMP |
//!
//! Files are zstd-compressed with row groups of [`DEFAULT_ROW_GROUP_ROWS`] rows (a scan reads
//! whole row groups; 1 Mi rows is about 10 MB compressed). The day directory is the UTC day of
//! `ts_ns`; the `day` partition column exists only in the directory name, so queries take the
//! day from `ts_ns`.
//!
//! # Order
//! The writer numbers the packets of each day in the order it is given them (`seq`), so sorting
//! by `(ts_ns, seq)` restores capture order among equal timestamps. The reader yields the days
//! in ascending order and, inside a day, the rows in file and row order: a dataset written from
//! a time-ordered capture reads back in time order.
//!
//! ```
//! use darknet_core::io::parquet::{ParquetDatasetReader, ParquetDatasetWriter};
//! use darknet_core::{Packet, Protocol};
//! use std::net::Ipv4Addr;
//!
//! let dir = std::env::temp_dir().join(format!("darknet-doc-parquet-{}", std::process::id()));
//! # let _ = std::fs::remove_dir_all(&dir);
//! let p = Packet { ts_ns: 1_000, src: Ipv4Addr::new(192, 0, 2, 1), proto: Protocol::Udp,
//!                  dst_port: 53, ip_len: 40, ttl: 50, ..Packet::default() };
//! let mut w = ParquetDatasetWriter::create(&dir, Default::default())?;
//! w.write_packet(&p)?;
//! assert_eq!(w.finish()?, 1);
//! let back: Vec<Packet> = ParquetDatasetReader::open(&dir)?.collect::<Result<_, _>>()?;
//! assert_eq!(back, vec![p]);
//! # std::fs::remove_dir_all(&dir).unwrap();
//! # Ok::<(), darknet_core::CoreError>(())
//! ```

use crate::error::{CoreError, Result};
use crate::packet::{civil_from_days, Packet, Protocol, TcpOptions};
use arrow_array::builder::{
    ArrayBuilder, BooleanBuilder, Int64Builder, UInt16Builder, UInt32Builder, UInt8Builder,
};
use arrow_array::cast::AsArray;
use arrow_array::types::{Int64Type, UInt16Type, UInt32Type, UInt8Type};
use arrow_array::{Array, ArrayRef, BooleanArray, PrimitiveArray, RecordBatch};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use parquet::arrow::arrow_reader::{ParquetRecordBatchReader, ParquetRecordBatchReaderBuilder};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;
use std::collections::BTreeMap;
use std::fs::File;
use std::io::BufWriter;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Rows per row group written by default (1 Mi).
pub const DEFAULT_ROW_GROUP_ROWS: usize = 1 << 20;

/// Rows the writer buffers before handing them to the Parquet encoder, and rows per batch the
/// reader decodes.
const BATCH_ROWS: usize = 64 * 1024;

/// Days whose files stay open at once; a packet of a further day closes the earliest.
const OPEN_DAYS: usize = 2;

/// Column names of [`packet_schema`], in order.
pub const PARQUET_COLUMNS: [&str; 21] = [
    "ts_ns",
    "seq",
    "src_ip",
    "dst_ip",
    "proto",
    "src_port",
    "dst_port",
    "pck_len",
    "ttl",
    "ip_id",
    "tcp_flags",
    "tcp_seq",
    "tcp_ack",
    "t_win",
    "t_wscale",
    "t_mss",
    "t_ts",
    "t_sack",
    "t_sackp",
    "icmp_type",
    "icmp_code",
];

/// The Arrow schema of a packet dataset (see the [module docs](self) for each column).
pub fn packet_schema() -> SchemaRef {
    use DataType::*;
    let f = |name: &str, t: DataType, nullable: bool| Field::new(name, t, nullable);
    Arc::new(Schema::new(vec![
        f("ts_ns", Int64, false),
        f("seq", Int64, false),
        f("src_ip", UInt32, false),
        f("dst_ip", UInt32, false),
        f("proto", UInt8, false),
        f("src_port", UInt16, true),
        f("dst_port", UInt16, true),
        f("pck_len", UInt16, false),
        f("ttl", UInt8, false),
        f("ip_id", UInt16, false),
        f("tcp_flags", UInt8, true),
        f("tcp_seq", UInt32, true),
        f("tcp_ack", UInt32, true),
        f("t_win", UInt16, true),
        f("t_wscale", UInt8, true),
        f("t_mss", UInt16, true),
        f("t_ts", UInt32, true),
        f("t_sack", Boolean, true),
        f("t_sackp", Boolean, true),
        f("icmp_type", UInt8, true),
        f("icmp_code", UInt8, true),
    ]))
}

/// `YYYY-MM-DD` of a day number (days since 1970-01-01), the partition directory's date.
pub fn partition_date(day: u32) -> String {
    let (y, m, d) = civil_from_days(i64::from(day));
    format!("{y:04}-{m:02}-{d:02}")
}

/// The day number of a `day=YYYY-MM-DD` directory name; `None` for any other name.
pub fn parse_partition_dir(name: &str) -> Option<u32> {
    let date = name.strip_prefix("day=")?;
    let b = date.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let compact = format!("{}{}{}", &date[0..4], &date[5..7], &date[8..10]);
    crate::packet::parse_day_label(&compact)
}

/// Options of [`ParquetDatasetWriter`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ParquetWriterOptions {
    /// Rows per row group (default [`DEFAULT_ROW_GROUP_ROWS`]; at least 1).
    pub row_group_rows: usize,
    /// zstd level, 1 to 22 (default 3).
    pub zstd_level: i32,
}

impl Default for ParquetWriterOptions {
    fn default() -> Self {
        ParquetWriterOptions {
            row_group_rows: DEFAULT_ROW_GROUP_ROWS,
            zstd_level: 3,
        }
    }
}

/// Column builders for one batch of packets.
struct Columns {
    ts: Int64Builder,
    seq: Int64Builder,
    src: UInt32Builder,
    dst: UInt32Builder,
    proto: UInt8Builder,
    src_port: UInt16Builder,
    dst_port: UInt16Builder,
    ip_len: UInt16Builder,
    ttl: UInt8Builder,
    ip_id: UInt16Builder,
    flags: UInt8Builder,
    tcp_seq: UInt32Builder,
    tcp_ack: UInt32Builder,
    win: UInt16Builder,
    wscale: UInt8Builder,
    mss: UInt16Builder,
    tsval: UInt32Builder,
    sack: BooleanBuilder,
    sackp: BooleanBuilder,
    icmp_type: UInt8Builder,
    icmp_code: UInt8Builder,
}

impl Columns {
    fn new() -> Self {
        let n = BATCH_ROWS;
        Columns {
            ts: Int64Builder::with_capacity(n),
            seq: Int64Builder::with_capacity(n),
            src: UInt32Builder::with_capacity(n),
            dst: UInt32Builder::with_capacity(n),
            proto: UInt8Builder::with_capacity(n),
            src_port: UInt16Builder::with_capacity(n),
            dst_port: UInt16Builder::with_capacity(n),
            ip_len: UInt16Builder::with_capacity(n),
            ttl: UInt8Builder::with_capacity(n),
            ip_id: UInt16Builder::with_capacity(n),
            flags: UInt8Builder::with_capacity(n),
            tcp_seq: UInt32Builder::with_capacity(n),
            tcp_ack: UInt32Builder::with_capacity(n),
            win: UInt16Builder::with_capacity(n),
            wscale: UInt8Builder::with_capacity(n),
            mss: UInt16Builder::with_capacity(n),
            tsval: UInt32Builder::with_capacity(n),
            sack: BooleanBuilder::with_capacity(n),
            sackp: BooleanBuilder::with_capacity(n),
            icmp_type: UInt8Builder::with_capacity(n),
            icmp_code: UInt8Builder::with_capacity(n),
        }
    }

    fn len(&self) -> usize {
        self.ts.len()
    }

    /// Appends one row; `ts` has been checked to fit in an int64.
    fn push(&mut self, p: &Packet, ts: i64, seq: i64) {
        let tcp = p.proto == Protocol::Tcp;
        let ports = p.proto.has_ports();
        let icmp = p.proto == Protocol::Icmp;
        let o = &p.tcp_options;
        self.ts.append_value(ts);
        self.seq.append_value(seq);
        self.src.append_value(u32::from(p.src));
        self.dst.append_value(u32::from(p.dst));
        self.proto.append_value(p.proto.number());
        self.src_port.append_option(ports.then_some(p.src_port));
        self.dst_port.append_option(ports.then_some(p.dst_port));
        self.ip_len.append_value(p.ip_len);
        self.ttl.append_value(p.ttl);
        self.ip_id.append_value(p.ip_id);
        self.flags.append_option(tcp.then_some(p.tcp_flags));
        self.tcp_seq.append_option(tcp.then_some(p.tcp_seq));
        self.tcp_ack.append_option(tcp.then_some(p.tcp_ack));
        self.win.append_option(tcp.then_some(p.tcp_window));
        self.wscale.append_option(o.window_scale.filter(|_| tcp));
        self.mss.append_option(o.mss.filter(|_| tcp));
        self.tsval.append_option(o.tsval.filter(|_| tcp));
        self.sack.append_option(tcp.then_some(o.sack));
        self.sackp.append_option(tcp.then_some(o.sack_permitted));
        self.icmp_type.append_option(icmp.then_some(p.icmp_type));
        self.icmp_code.append_option(icmp.then_some(p.icmp_code));
    }

    /// The rows appended since the last call, as a batch of [`packet_schema`].
    fn finish(&mut self, schema: &SchemaRef) -> RecordBatch {
        let cols: Vec<ArrayRef> = vec![
            Arc::new(self.ts.finish()),
            Arc::new(self.seq.finish()),
            Arc::new(self.src.finish()),
            Arc::new(self.dst.finish()),
            Arc::new(self.proto.finish()),
            Arc::new(self.src_port.finish()),
            Arc::new(self.dst_port.finish()),
            Arc::new(self.ip_len.finish()),
            Arc::new(self.ttl.finish()),
            Arc::new(self.ip_id.finish()),
            Arc::new(self.flags.finish()),
            Arc::new(self.tcp_seq.finish()),
            Arc::new(self.tcp_ack.finish()),
            Arc::new(self.win.finish()),
            Arc::new(self.wscale.finish()),
            Arc::new(self.mss.finish()),
            Arc::new(self.tsval.finish()),
            Arc::new(self.sack.finish()),
            Arc::new(self.sackp.finish()),
            Arc::new(self.icmp_type.finish()),
            Arc::new(self.icmp_code.finish()),
        ];
        // The builders match the schema column for column: construction cannot fail.
        RecordBatch::try_new(schema.clone(), cols).expect("columns match the packet schema")
    }
}

/// The open file of one day.
struct DayFile {
    path: PathBuf,
    writer: ArrowWriter<BufWriter<File>>,
    cols: Columns,
}

/// Writes packets into a Parquet dataset directory, one `day=YYYY-MM-DD` partition per UTC day
/// (module docs). Packets may come in any order; each day's `seq` counts its packets in the
/// order given. Memory: one batch of rows plus one row group being encoded per open day (two
/// days at most).
pub struct ParquetDatasetWriter {
    dir: PathBuf,
    schema: SchemaRef,
    props: WriterProperties,
    open: BTreeMap<u32, DayFile>,
    /// Next `seq` and next part number of every day seen.
    next: BTreeMap<u32, (i64, u32)>,
    written: u64,
}

impl ParquetDatasetWriter {
    /// Creates the dataset directory `dir` (which must not exist, or be empty).
    ///
    /// # Errors
    /// [`CoreError::InvalidConfig`] for a row group of 0 rows or a zstd level outside 1..=22;
    /// [`CoreError::Parquet`] when `dir` is a non-empty directory; [`CoreError::Io`] when it
    /// cannot be created.
    pub fn create(dir: impl AsRef<Path>, options: ParquetWriterOptions) -> Result<Self> {
        let dir = dir.as_ref().to_path_buf();
        let name = dir.display().to_string();
        if options.row_group_rows == 0 {
            return Err(CoreError::InvalidConfig {
                field: "row_group_rows",
                value: "0".into(),
                reason: "a row group holds at least one row".into(),
            });
        }
        let level =
            ZstdLevel::try_new(options.zstd_level).map_err(|_| CoreError::InvalidConfig {
                field: "zstd_level",
                value: options.zstd_level.to_string(),
                reason: "zstd levels are 1 to 22".into(),
            })?;
        if dir.is_dir() {
            let mut entries = std::fs::read_dir(&dir).map_err(|e| super::io_err(&name, e))?;
            if entries.next().is_some() {
                return Err(CoreError::Parquet {
                    input: name,
                    reason: "the output directory exists and is not empty; choose a new one".into(),
                });
            }
        }
        std::fs::create_dir_all(&dir).map_err(|e| super::io_err(&name, e))?;
        let props = WriterProperties::builder()
            .set_compression(Compression::ZSTD(level))
            .set_max_row_group_row_count(Some(options.row_group_rows))
            .set_created_by(format!("darknet-core {}", env!("CARGO_PKG_VERSION")))
            .build();
        Ok(ParquetDatasetWriter {
            dir,
            schema: packet_schema(),
            props,
            open: BTreeMap::new(),
            next: BTreeMap::new(),
            written: 0,
        })
    }

    /// Appends one packet to its day's partition.
    ///
    /// # Errors
    /// [`CoreError::Unwritable`] for a timestamp beyond int64 (after the year 2262);
    /// [`CoreError::Io`] / [`CoreError::Parquet`] when a file cannot be written.
    pub fn write_packet(&mut self, p: &Packet) -> Result<()> {
        let ts = i64::try_from(p.ts_ns).map_err(|_| CoreError::Unwritable {
            output: self.dir.display().to_string(),
            packet_index: self.written,
            field: "ts_ns",
            value: p.ts_ns,
            reason: "Parquet timestamps are signed 64-bit nanoseconds (up to the year 2262)",
        })?;
        let day = p.day();
        if !self.open.contains_key(&day) {
            self.open_day(day)?;
        }
        let next = self.next.entry(day).or_insert((0, 0));
        let seq = next.0;
        next.0 += 1;
        let f = self.open.get_mut(&day).expect("opened above");
        f.cols.push(p, ts, seq);
        if f.cols.len() >= BATCH_ROWS {
            let batch = f.cols.finish(&self.schema);
            let path = f.path.display().to_string();
            f.writer.write(&batch).map_err(|e| pq_err(&path, e))?;
        }
        self.written += 1;
        Ok(())
    }

    fn open_day(&mut self, day: u32) -> Result<()> {
        while self.open.len() >= OPEN_DAYS {
            let (&first, _) = self.open.iter().next().expect("not empty");
            let f = self.open.remove(&first).expect("present");
            self.close(f)?;
        }
        let part = self.next.entry(day).or_insert((0, 0));
        let part_no = part.1;
        part.1 += 1;
        let dir = self.dir.join(format!("day={}", partition_date(day)));
        let dname = dir.display().to_string();
        std::fs::create_dir_all(&dir).map_err(|e| super::io_err(&dname, e))?;
        let path = dir.join(format!("part-{part_no:05}.parquet"));
        let name = path.display().to_string();
        let file = File::create(&path).map_err(|e| super::io_err(&name, e))?;
        let writer = ArrowWriter::try_new(
            BufWriter::with_capacity(1 << 20, file),
            self.schema.clone(),
            Some(self.props.clone()),
        )
        .map_err(|e| pq_err(&name, e))?;
        self.open.insert(
            day,
            DayFile {
                path,
                writer,
                cols: Columns::new(),
            },
        );
        Ok(())
    }

    fn close(&self, mut f: DayFile) -> Result<()> {
        let name = f.path.display().to_string();
        if f.cols.len() > 0 {
            let batch = f.cols.finish(&self.schema);
            f.writer.write(&batch).map_err(|e| pq_err(&name, e))?;
        }
        f.writer.close().map_err(|e| pq_err(&name, e))?;
        Ok(())
    }

    /// Packets written so far.
    pub fn packets_written(&self) -> u64 {
        self.written
    }

    /// Writes every buffered row and closes the files; returns the packets written.
    ///
    /// # Errors
    /// [`CoreError::Io`] / [`CoreError::Parquet`] when a file cannot be written.
    pub fn finish(mut self) -> Result<u64> {
        let open = std::mem::take(&mut self.open);
        for (_, f) in open {
            self.close(f)?;
        }
        Ok(self.written)
    }
}

/// A Parquet error, with the file's name.
pub(crate) fn pq_err(input: &str, e: impl std::fmt::Display) -> CoreError {
    CoreError::Parquet {
        input: input.to_string(),
        reason: e.to_string(),
    }
}

/// The files of a dataset directory: `(day, path)` of every `day=YYYY-MM-DD/*.parquet`, by day
/// then file name. A directory holding `.parquet` files directly (no day partitions) is read
/// as one partition, its files by name, with day `None`.
///
/// # Errors
/// [`CoreError::Io`] when a directory cannot be listed; [`CoreError::Parquet`] when it holds no
/// Parquet file.
pub fn dataset_files(dir: impl AsRef<Path>) -> Result<Vec<(Option<u32>, PathBuf)>> {
    let dir = dir.as_ref();
    let name = dir.display().to_string();
    let list = |d: &Path| -> Result<Vec<PathBuf>> {
        let dn = d.display().to_string();
        let mut v = Vec::new();
        for e in std::fs::read_dir(d).map_err(|e| super::io_err(&dn, e))? {
            let e = e.map_err(|e| super::io_err(&dn, e))?;
            v.push(e.path());
        }
        v.sort();
        Ok(v)
    };
    let mut out = Vec::new();
    for p in list(dir)? {
        let fname = p.file_name().and_then(|s| s.to_str()).unwrap_or("");
        if p.is_dir() {
            if let Some(day) = parse_partition_dir(fname) {
                for f in list(&p)? {
                    if is_parquet_name(&f) {
                        out.push((Some(day), f));
                    }
                }
            }
        } else if is_parquet_name(&p) {
            out.push((None, p));
        }
    }
    if out.is_empty() {
        return Err(CoreError::Parquet {
            input: name,
            reason: "no Parquet file: expected day=YYYY-MM-DD/part-NNNNN.parquet files".into(),
        });
    }
    out.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(&b.1)));
    Ok(out)
}

fn is_parquet_name(p: &Path) -> bool {
    p.is_file() && p.extension().is_some_and(|e| e == "parquet")
}

/// True when `path` is a directory holding a Parquet packet dataset (at least one
/// `day=YYYY-MM-DD` partition or `.parquet` file).
pub fn is_dataset_dir(path: impl AsRef<Path>) -> bool {
    path.as_ref().is_dir() && dataset_files(path).is_ok()
}

/// The typed columns of one decoded batch.
struct Batch {
    ts: PrimitiveArray<Int64Type>,
    src: PrimitiveArray<UInt32Type>,
    dst: PrimitiveArray<UInt32Type>,
    proto: Option<PrimitiveArray<UInt8Type>>,
    src_port: Option<PrimitiveArray<UInt16Type>>,
    dst_port: Option<PrimitiveArray<UInt16Type>>,
    ip_len: Option<PrimitiveArray<UInt16Type>>,
    ttl: Option<PrimitiveArray<UInt8Type>>,
    ip_id: Option<PrimitiveArray<UInt16Type>>,
    flags: Option<PrimitiveArray<UInt8Type>>,
    tcp_seq: Option<PrimitiveArray<UInt32Type>>,
    tcp_ack: Option<PrimitiveArray<UInt32Type>>,
    win: Option<PrimitiveArray<UInt16Type>>,
    wscale: Option<PrimitiveArray<UInt8Type>>,
    mss: Option<PrimitiveArray<UInt16Type>>,
    tsval: Option<PrimitiveArray<UInt32Type>>,
    sack: Option<BooleanArray>,
    sackp: Option<BooleanArray>,
    icmp_type: Option<PrimitiveArray<UInt8Type>>,
    icmp_code: Option<PrimitiveArray<UInt8Type>>,
}

/// Looks a column up and checks its type: `Ok(None)` when absent.
fn column<'b>(
    batch: &'b RecordBatch,
    input: &str,
    name: &str,
    expected: &DataType,
) -> Result<Option<&'b ArrayRef>> {
    match batch.schema().index_of(name) {
        Err(_) => Ok(None),
        Ok(i) => {
            let c = batch.column(i);
            if c.data_type() != expected {
                return Err(CoreError::Parquet {
                    input: input.to_string(),
                    reason: format!(
                        "column `{name}`: expected type {expected}, found {}",
                        c.data_type()
                    ),
                });
            }
            Ok(Some(c))
        }
    }
}

impl Batch {
    fn decode(b: &RecordBatch, input: &str) -> Result<Batch> {
        macro_rules! col {
            ($name:literal, $t:ty, $dt:expr) => {
                column(b, input, $name, &$dt)?.map(|c| c.as_primitive::<$t>().clone())
            };
        }
        macro_rules! required {
            ($name:literal, $t:ty, $dt:expr) => {
                col!($name, $t, $dt).ok_or_else(|| CoreError::Parquet {
                    input: input.to_string(),
                    reason: format!("missing column `{}` ({})", $name, $dt),
                })?
            };
        }
        let boolean = |name: &str| -> Result<Option<BooleanArray>> {
            Ok(column(b, input, name, &DataType::Boolean)?.map(|c| c.as_boolean().clone()))
        };
        use DataType::*;
        Ok(Batch {
            ts: required!("ts_ns", Int64Type, Int64),
            src: required!("src_ip", UInt32Type, UInt32),
            dst: required!("dst_ip", UInt32Type, UInt32),
            proto: col!("proto", UInt8Type, UInt8),
            src_port: col!("src_port", UInt16Type, UInt16),
            dst_port: col!("dst_port", UInt16Type, UInt16),
            ip_len: col!("pck_len", UInt16Type, UInt16),
            ttl: col!("ttl", UInt8Type, UInt8),
            ip_id: col!("ip_id", UInt16Type, UInt16),
            flags: col!("tcp_flags", UInt8Type, UInt8),
            tcp_seq: col!("tcp_seq", UInt32Type, UInt32),
            tcp_ack: col!("tcp_ack", UInt32Type, UInt32),
            win: col!("t_win", UInt16Type, UInt16),
            wscale: col!("t_wscale", UInt8Type, UInt8),
            mss: col!("t_mss", UInt16Type, UInt16),
            tsval: col!("t_ts", UInt32Type, UInt32),
            sack: boolean("t_sack")?,
            sackp: boolean("t_sackp")?,
            icmp_type: col!("icmp_type", UInt8Type, UInt8),
            icmp_code: col!("icmp_code", UInt8Type, UInt8),
        })
    }

    /// Row `i` as a packet; nulls in required columns and negative timestamps are errors.
    fn packet(&self, i: usize, input: &str, row: u64) -> Result<Packet> {
        fn opt<T: arrow_array::ArrowPrimitiveType>(
            a: &Option<PrimitiveArray<T>>,
            i: usize,
        ) -> Option<T::Native> {
            a.as_ref().and_then(|a| a.is_valid(i).then(|| a.value(i)))
        }
        fn flag(a: &Option<BooleanArray>, i: usize) -> bool {
            a.as_ref().is_some_and(|a| a.is_valid(i) && a.value(i))
        }
        let null = |col: &str| CoreError::Parquet {
            input: input.to_string(),
            reason: format!("row {row}, column `{col}`: expected a value, found null"),
        };
        if self.ts.is_null(i) {
            return Err(null("ts_ns"));
        }
        let ts = self.ts.value(i);
        let ts_ns = u64::try_from(ts).map_err(|_| CoreError::Parquet {
            input: input.to_string(),
            reason: format!(
                "row {row}, column `ts_ns`: expected nanoseconds since 1970, found {ts}"
            ),
        })?;
        if self.src.is_null(i) {
            return Err(null("src_ip"));
        }
        if self.dst.is_null(i) {
            return Err(null("dst_ip"));
        }
        if self.proto.as_ref().is_some_and(|a| a.is_null(i)) {
            return Err(null("proto"));
        }
        Ok(Packet {
            ts_ns,
            src: Ipv4Addr::from(self.src.value(i)),
            dst: Ipv4Addr::from(self.dst.value(i)),
            proto: Protocol::from_number(opt(&self.proto, i).unwrap_or(6)),
            src_port: opt(&self.src_port, i).unwrap_or(0),
            dst_port: opt(&self.dst_port, i).unwrap_or(0),
            ip_len: opt(&self.ip_len, i).unwrap_or(0),
            ttl: opt(&self.ttl, i).unwrap_or(0),
            ip_id: opt(&self.ip_id, i).unwrap_or(0),
            tcp_flags: opt(&self.flags, i).unwrap_or(0),
            tcp_seq: opt(&self.tcp_seq, i).unwrap_or(0),
            tcp_ack: opt(&self.tcp_ack, i).unwrap_or(0),
            tcp_window: opt(&self.win, i).unwrap_or(0),
            tcp_options: TcpOptions {
                mss: opt(&self.mss, i),
                window_scale: opt(&self.wscale, i),
                tsval: opt(&self.tsval, i),
                sack_permitted: flag(&self.sackp, i),
                sack: flag(&self.sack, i),
            },
            icmp_type: opt(&self.icmp_type, i).unwrap_or(0),
            icmp_code: opt(&self.icmp_code, i).unwrap_or(0),
        })
    }
}

/// Reads the packets of a Parquet dataset directory (or of one Parquet file) a batch at a time:
/// memory is one decoded batch plus the row group being read, whatever the dataset's size.
///
/// An iterator of `Result<Packet, CoreError>`: days ascending, then files by name, then rows in
/// order. Columns are found by name (any order; unknown columns are ignored); `ts_ns`, `src_ip`
/// and `dst_ip` are required, other missing columns read as zero or absent, a missing `proto` as
/// TCP. A column of another type than [`packet_schema`]'s, a null in a required column or a
/// negative timestamp is [`CoreError::Parquet`] naming the file, the row (counted from 0 in the
/// file) and the column; the iterator ends after an error.
pub struct ParquetDatasetReader {
    files: Vec<PathBuf>,
    next_file: usize,
    reader: Option<ParquetRecordBatchReader>,
    name: String,
    batch: Option<Batch>,
    batch_len: usize,
    row_in_batch: usize,
    /// Rows of the current file before the current batch.
    file_row: u64,
    read: u64,
    done: bool,
    skips: super::SkipCounts,
}

impl ParquetDatasetReader {
    /// Opens a dataset directory ([`dataset_files`]) or a single `.parquet` file.
    ///
    /// # Errors
    /// [`CoreError::Io`] and [`CoreError::Parquet`] when the path holds no Parquet file.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let files = if path.is_file() {
            vec![path.to_path_buf()]
        } else {
            dataset_files(path)?.into_iter().map(|(_, p)| p).collect()
        };
        Ok(ParquetDatasetReader {
            files,
            next_file: 0,
            reader: None,
            name: path.display().to_string(),
            batch: None,
            batch_len: 0,
            row_in_batch: 0,
            file_row: 0,
            read: 0,
            done: false,
            skips: super::SkipCounts::default(),
        })
    }

    /// The files read, in order.
    pub fn files(&self) -> &[PathBuf] {
        &self.files
    }

    /// Packets read so far.
    pub fn packets_read(&self) -> u64 {
        self.read
    }

    /// Frames skipped: always none (a dataset holds IPv4 packets only), for the same interface
    /// as the capture readers.
    pub fn skip_counts(&self) -> &super::SkipCounts {
        &self.skips
    }

    /// Opens the next file; `Ok(false)` when there is none.
    fn open_next(&mut self) -> Result<bool> {
        let Some(path) = self.files.get(self.next_file) else {
            return Ok(false);
        };
        self.next_file += 1;
        self.name = path.display().to_string();
        let f = File::open(path).map_err(|e| super::io_err(&self.name, e))?;
        let reader = ParquetRecordBatchReaderBuilder::try_new(f)
            .map_err(|e| pq_err(&self.name, e))?
            .with_batch_size(BATCH_ROWS)
            .build()
            .map_err(|e| pq_err(&self.name, e))?;
        self.reader = Some(reader);
        self.file_row = 0;
        self.batch = None;
        self.batch_len = 0;
        self.row_in_batch = 0;
        Ok(true)
    }

    /// Makes a batch with an unread row current; `Ok(false)` at the end of the dataset.
    fn fill(&mut self) -> Result<bool> {
        loop {
            if self.batch.is_some() && self.row_in_batch < self.batch_len {
                return Ok(true);
            }
            self.file_row += self.batch_len as u64;
            self.batch = None;
            self.batch_len = 0;
            self.row_in_batch = 0;
            let next = match self.reader.as_mut() {
                Some(r) => r.next(),
                None => None,
            };
            match next {
                Some(b) => {
                    let b = b.map_err(|e| pq_err(&self.name, e))?;
                    self.batch_len = b.num_rows();
                    self.batch = Some(Batch::decode(&b, &self.name)?);
                }
                None => {
                    self.reader = None;
                    if !self.open_next()? {
                        return Ok(false);
                    }
                }
            }
        }
    }

    fn next_packet(&mut self) -> Result<Option<Packet>> {
        if !self.fill()? {
            return Ok(None);
        }
        let i = self.row_in_batch;
        let row = self.file_row + i as u64;
        let p = self
            .batch
            .as_ref()
            .expect("filled")
            .packet(i, &self.name, row)?;
        self.row_in_batch += 1;
        self.read += 1;
        Ok(Some(p))
    }
}

impl Iterator for ParquetDatasetReader {
    type Item = Result<Packet>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match self.next_packet() {
            Ok(Some(p)) => Some(Ok(p)),
            Ok(None) => {
                self.done = true;
                None
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}

impl std::iter::FusedIterator for ParquetDatasetReader {}

/// Writes every packet of `packets` into a new dataset at `dir`; returns the packets written.
///
/// # Errors
/// Every error of [`ParquetDatasetWriter`].
pub fn write_dataset<'a>(
    dir: impl AsRef<Path>,
    packets: impl IntoIterator<Item = &'a Packet>,
    options: ParquetWriterOptions,
) -> Result<u64> {
    let mut w = ParquetDatasetWriter::create(dir, options)?;
    for p in packets {
        w.write_packet(p)?;
    }
    w.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partition_names_round_trip() {
        let day = crate::packet::parse_day_label("20211201").unwrap();
        assert_eq!(partition_date(day), "2021-12-01");
        assert_eq!(parse_partition_dir("day=2021-12-01"), Some(day));
        assert_eq!(parse_partition_dir("day=2021-02-30"), None);
        assert_eq!(parse_partition_dir("day=20211201"), None);
        assert_eq!(parse_partition_dir("2021-12-01"), None);
    }
}
