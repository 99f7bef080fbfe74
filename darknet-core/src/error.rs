//! The crate's one error type. Every variant says where: the input's name (a path, `<stdin>` or
//! `<memory>`), the packet index or line, and the field.

use thiserror::Error;

/// Errors of darknet-core: bad captures, bad CSV rows, bad label files, bad configurations.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum CoreError {
    /// The underlying reader or writer failed.
    #[error("{input}: I/O error: {source}")]
    Io {
        /// Input or output name.
        input: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The first bytes are neither a pcap nor a pcapng magic number.
    #[error("{input}: not a pcap or pcapng file (first bytes {magic:02x?})")]
    BadMagic {
        /// Input name.
        input: String,
        /// The first bytes read (up to 4).
        magic: Vec<u8>,
    },
    /// The capture ends in the middle of a header or record.
    #[error("{input}: truncated {what} at packet {packet_index}, byte offset {offset}: needed {needed} bytes, {available} available")]
    Truncated {
        /// Input name.
        input: String,
        /// What was being read ("global header", "record header", "packet data", "block").
        what: &'static str,
        /// Index of the packet (record) being read, counting from 0.
        packet_index: u64,
        /// Byte offset of the record in the input.
        offset: u64,
        /// Bytes needed.
        needed: u64,
        /// Bytes available.
        available: u64,
    },
    /// A record declares a length that is larger than the snap length or absurd.
    #[error("{input}: packet {packet_index} at byte offset {offset}: {field} = {value} exceeds the limit {limit}")]
    LengthTooLarge {
        /// Input name.
        input: String,
        /// Index of the packet (record) being read.
        packet_index: u64,
        /// Byte offset of the record in the input.
        offset: u64,
        /// The field ("caplen", "block length", ...).
        field: &'static str,
        /// Its value.
        value: u64,
        /// The limit it broke.
        limit: u64,
    },
    /// A structurally invalid capture (bad block type order, bad option, ...).
    #[error("{input}: packet {packet_index} at byte offset {offset}: {reason}")]
    Malformed {
        /// Input name.
        input: String,
        /// Index of the packet (record or block) being read.
        packet_index: u64,
        /// Byte offset.
        offset: u64,
        /// What is wrong.
        reason: String,
    },
    /// The capture's link type is not one we decode.
    #[error("{input}: unsupported link type {link_type}")]
    UnsupportedLinkType {
        /// Input name.
        input: String,
        /// The link-layer header type number.
        link_type: u32,
    },
    /// A CSV row could not be read.
    #[error("{input}: line {line}, column `{column}`: {reason}")]
    Csv {
        /// Input name.
        input: String,
        /// 1-based line number.
        line: u64,
        /// Column name.
        column: String,
        /// What is wrong (the bad value, the expected form).
        reason: String,
    },
    /// A label or ground-truth file row could not be used.
    #[error("{input}: line {line}, field `{field}`: {reason}")]
    Label {
        /// Input name.
        input: String,
        /// 1-based line number.
        line: u64,
        /// Field name.
        field: String,
        /// What is wrong.
        reason: String,
    },
    /// A configuration value is out of range.
    #[error("invalid configuration: `{field}` = {value}: {reason}")]
    InvalidConfig {
        /// The configuration field.
        field: &'static str,
        /// Its value.
        value: String,
        /// Why it is invalid.
        reason: String,
    },
    /// A packet cannot be represented in the output format (a pcap timestamp after 2106, ...).
    #[error("{output}: packet {packet_index}: {field} = {value} cannot be written: {reason}")]
    Unwritable {
        /// Output name.
        output: String,
        /// Index of the packet being written.
        packet_index: u64,
        /// The field that does not fit.
        field: &'static str,
        /// Its value.
        value: u64,
        /// Why it does not fit.
        reason: &'static str,
    },
    /// A stream that must come in time order (a filter pass) went back in time.
    #[error("packet {packet_index} of the stream: ts_ns = {ts_ns} is earlier than the previous packet's {previous_ns}; streaming needs the input in time order (read it into a Trace, which sorts, instead)")]
    OutOfOrder {
        /// Index of the packet in the stream (0-based, over every packet pushed).
        packet_index: u64,
        /// Its timestamp.
        ts_ns: u64,
        /// The timestamp of the packet before it.
        previous_ns: u64,
    },
    /// The second pass over a stream did not see the packets the first pass saw.
    #[error("the second pass did not see the first pass's packets: {reason} (first pass {expected}, second pass {seen})")]
    StreamMismatch {
        /// The first pass's count (packets read, or packets kept; see `reason`).
        expected: u64,
        /// The second pass's count so far.
        seen: u64,
        /// What differed.
        reason: &'static str,
    },
    /// An output could not be created, written, synced or renamed into place (a full disk, a
    /// read-only directory, a closed pipe, ...).
    #[error("{output}: cannot {action}: {source}")]
    Output {
        /// The output path.
        output: String,
        /// What was being done ("create the temporary file", "write", "rename into place", ...).
        action: &'static str,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// An output path names one of the inputs (the same file, through a link or another
    /// spelling): writing it would destroy the input.
    #[error(
        "{output}: refusing to write here: this is the input {input}; choose another output path"
    )]
    OutputIsInput {
        /// The output path as given.
        output: String,
        /// The input path as given.
        input: String,
    },
    /// A run's output directory cannot be used.
    #[error("{path}: {reason}")]
    OutputDir {
        /// The directory (or the file in it) concerned.
        path: String,
        /// What is wrong and what to do about it.
        reason: String,
    },
    /// A file holds neither a pcap/pcapng capture nor a CSV with the packet columns.
    #[error("{input}: not a capture: {reason}")]
    NotACapture {
        /// Input name.
        input: String,
        /// What was expected and what was found.
        reason: String,
    },
    /// No capture file was left to read after expanding directories and skipping other files.
    #[error("no capture file to read among {given}{}", skipped_list(.skipped))]
    NoCaptures {
        /// The paths given, joined for display.
        given: String,
        /// Each skipped file with the reason.
        skipped: Vec<String>,
    },
    /// A gzip-compressed input whose compressed stream ends early or is corrupt.
    #[error("{input}: the gzip stream is truncated or corrupt at packet {packet_index} (byte offset {offset} of the decompressed data): {source}")]
    GzipCorrupt {
        /// Input name.
        input: String,
        /// Index of the packet (record, block or data row) being read, counting from 0.
        packet_index: u64,
        /// Offset in the decompressed data of the record being read.
        offset: u64,
        /// The decompressor's error.
        #[source]
        source: std::io::Error,
    },
    /// A non-empty capture of which every frame was skipped: nothing could be decoded.
    #[error("{input}: all {frames} frames skipped, no packet decoded: {reason}")]
    NothingDecoded {
        /// Input name.
        input: String,
        /// Frames read (all skipped).
        frames: u64,
        /// The skip reasons with their counts, and a likely cause.
        reason: String,
    },
    /// A Parquet dataset or aggregate table could not be read or written: a file that is not
    /// Parquet, a missing column, a column of the wrong type, a null where a value is required.
    #[error("{input}: {reason}")]
    Parquet {
        /// The file or directory.
        input: String,
        /// What is wrong (the column, row, what was expected and what was found).
        reason: String,
    },
    /// The SQL engine failed on one of the aggregation queries.
    #[error("aggregate `{query}`: {reason}")]
    Sql {
        /// The query's name (its file under `sql/`).
        query: String,
        /// The engine's message.
        reason: String,
    },
    /// An operation needs at least one packet, host or day and got none.
    #[error("empty input: {what}")]
    Empty {
        /// What was empty.
        what: String,
    },
}

/// Result alias of darknet-core.
pub type Result<T, E = CoreError> = std::result::Result<T, E>;

/// Formats the skipped files of [`CoreError::NoCaptures`].
fn skipped_list(skipped: &[String]) -> String {
    if skipped.is_empty() {
        String::new()
    } else {
        format!("; skipped: {}", skipped.join("; "))
    }
}
