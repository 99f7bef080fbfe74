//! Packet input and output: streaming readers and writers of pcap, pcapng and CSV captures.
//!
//! # Reading
//! - [`open`]`(path)` (`-` for stdin) and [`PacketReader::new`]`(read, input_name)` detect the
//!   format from the first bytes: gzip (`1f 8b`, decompressed transparently), pcap (µs or ns
//!   magic, either byte order), pcapng (Section Header Block), CSV (text whose header row names
//!   at least `ts`, `src_ip`, `dst_ip`: [`CsvReader`], both [`CsvLayout`]s). The result is an iterator of
//!   `Result<Packet, CoreError>`; the end of input ends it.
//! - With the `parquet` feature, [`open`] also reads a Parquet packet dataset directory
//!   (`day=YYYY-MM-DD/part-NNNNN.parquet`) or a `.parquet` file (module `parquet`).
//! - [`PcapReader`] and [`PcapngReader`] are the format readers over any [`std::io::Read`]
//!   (unbuffered: wrap files in a `BufReader`).
//! - Frames that are not IPv4 (IPv6, ARP, other ethertypes, non-first fragments, truncated
//!   headers) are skipped and counted by [`SkipReason`] in a [`SkipCounts`]
//!   (`reader.skip_counts()`), not errors. The packet is the OUTER IPv4 header.
//! - Link types ([`LinkType`]): Ethernet (802.1Q / QinQ tags), NULL and LOOP (either byte order
//!   of the family), RAW (101, legacy 12 and 14), IPV4 (228), LINUX_SLL (113), LINUX_SLL2 (276).
//! - Bad input is an error, never a panic: a bad magic is [`CoreError::BadMagic`] ("not a pcap or
//!   pcapng file"), text without the packet columns [`CoreError::NotACapture`] (the columns
//!   expected and found); a truncated record yields every complete packet first, then one
//!   [`CoreError::Truncated`] (packet index, byte offset), then the iterator ends; a caplen above
//!   the snap length or [`MAX_CAPLEN`] (256 KiB), and a pcapng block length that is absurd
//!   ([`MAX_BLOCK_LEN`]) or not a multiple of 4, are errors raised before anything is allocated;
//!   a file with only a global header is zero packets and no error. Each reader reuses one
//!   buffer for every record. A pcap sub-second timestamp field at or above 10^6 (µs) or 10^9
//!   (ns) is [`CoreError::Malformed`] with the packet index and offset. A gzip stream cut short
//!   or corrupt is [`CoreError::GzipCorrupt`], naming the packet reached and its offset in the
//!   decompressed data.
//! - A capture whose every record was skipped reads as zero packets; once the iterator has
//!   ended, [`PacketReader::nothing_decoded`] (a warning) and [`PacketReader::ensure_decoded`]
//!   (an error, for conversions) report it as [`CoreError::NothingDecoded`] with the skip
//!   counts and a likely cause (a link type that does not match the frames, IPv6 only).
//!
//! # Choosing inputs
//! [`inputs::resolve`] turns the paths a user gives (files and directories) into the ordered
//! list of captures to read, with a warning for every file skipped or given twice, and
//! [`inputs::CaptureStream`] reads them as one packet stream.
//!
//! # Writing
//! [`PcapWriter`] and [`PcapngWriter`] (`new(w, PcapWriterOptions)`, `write_packet(&Packet)`,
//! `finish() -> W`) write µs or ns timestamps ([`TsResolution`]) and Ethernet, RAW or any other
//! supported link type. Frames hold the headers only ([`encode_frame`]): IPv4 with a correct
//! header checksum, TCP with options (MSS, window scale, SACK-permitted, timestamp, SACK), UDP,
//! ICMP. [`CsvWriter`] (`new(w, CsvLayout)`, `write_packet`, `finish`) writes our extended
//! layout or the 17-column layout of gnn-for-darknet. Reading a written capture gives back identical packets (with µs resolution, timestamps
//! are truncated to the microsecond).
//!
//! ```
//! use darknet_core::io::{PacketReader, PcapWriter, PcapWriterOptions, TsResolution, LinkType};
//! use darknet_core::{Packet, Protocol};
//! use std::net::Ipv4Addr;
//!
//! let p = Packet { ts_ns: 1_000, src: Ipv4Addr::new(192, 0, 2, 1), proto: Protocol::Udp,
//!                  dst_port: 53, ip_len: 40, ttl: 50, ..Packet::default() };
//! let opts = PcapWriterOptions { link_type: LinkType::RAW, resolution: TsResolution::Micro,
//!                                ..PcapWriterOptions::default() };
//! let mut w = PcapWriter::new(Vec::new(), opts)?;
//! w.write_packet(&p)?;
//! let bytes = w.finish()?;
//! let mut reader = PacketReader::new(&bytes[..], "<memory>")?;
//! assert_eq!(reader.next().transpose()?, Some(p));
//! assert!(reader.next().is_none());
//! assert_eq!(reader.skip_counts().total(), 0);
//! # Ok::<(), darknet_core::CoreError>(())
//! ```

pub mod csv;
pub mod frame;
#[cfg(feature = "parquet")]
pub mod parquet;
pub mod pcap;
pub mod pcapng;

pub use self::csv::{CsvLayout, CsvReader, CsvWriter, EXTENDED_COLUMNS, GNN_FOR_DARKNET_COLUMNS};
pub use frame::{
    decode_frame, decode_ipv4, encode_frame, encode_ipv4, internet_checksum, parse_tcp_options,
    LinkType, SkipCounts, SkipReason,
};
pub use pcap::{
    PcapHeader, PcapReader, PcapWriter, PcapWriterOptions, TsResolution, PCAP_MAGIC_NS,
    PCAP_MAGIC_US,
};
pub use pcapng::{PcapngReader, PcapngWriter, MAX_BLOCK_LEN, PCAPNG_SHB};

pub mod inputs;
pub use inputs::{resolve, CaptureFile, CaptureStream, InputWarning, Inputs};

pub mod output;
pub use output::{
    is_broken_pipe, refuse_input_as_output, write_atomic, write_atomic_with, AtomicFile, Manifest,
    OutputDir, RunInfo,
};

use crate::error::{CoreError, Result};
use crate::packet::Packet;
use std::io::{BufReader, Cursor, Read};
use std::path::Path;

/// Largest captured length accepted for one packet (256 KiB); larger is an error.
pub const MAX_CAPLEN: u32 = 256 * 1024;

/// Wraps an I/O error with the input's name.
pub(crate) fn io_err(input: &str, source: std::io::Error) -> CoreError {
    CoreError::Io {
        input: input.to_string(),
        source,
    }
}

/// Reads until `buf` is full or the input ends; returns the bytes read.
pub(crate) fn read_full<R: Read + ?Sized>(r: &mut R, buf: &mut [u8], input: &str) -> Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(io_err(input, e)),
        }
    }
    Ok(n)
}

/// A boxed byte source (after format detection and decompression).
type Source<'a> = BufReader<Box<dyn Read + Send + 'a>>;

/// The format [`PacketReader`] detected.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Format {
    /// Classic pcap.
    Pcap,
    /// pcapng.
    Pcapng,
    /// CSV with a packet header row (see [`CsvReader`]).
    Csv,
    /// A Parquet packet dataset or file (see [`parquet`]).
    #[cfg(feature = "parquet")]
    Parquet,
}

enum Inner<'a> {
    Pcap(PcapReader<Source<'a>>),
    Pcapng(PcapngReader<Source<'a>>),
    Csv(CsvReader<Source<'a>>),
    #[cfg(feature = "parquet")]
    Parquet(Box<parquet::ParquetDatasetReader>),
}

/// A packet source of any supported format, detected from its first bytes: an iterator of
/// `Result<Packet, CoreError>` (see the [module docs](self) for the error contract).
pub struct PacketReader<'a> {
    inner: Inner<'a>,
    gzip: bool,
    input: String,
}

impl<'a> PacketReader<'a> {
    /// Detects the format of `read` (gzip-compressed or not) and reads its header.
    ///
    /// `input_name` names the input in errors (a path, `<stdin>`, `<memory>`).
    ///
    /// # Errors
    /// [`CoreError::BadMagic`] when binary input is neither pcap nor pcapng,
    /// [`CoreError::NotACapture`] when text input is not a CSV with the packet columns (the
    /// message lists the columns expected and found), and every error of [`PcapReader::new`] /
    /// [`PcapngReader::new`] / [`CsvReader::new`].
    pub fn new<R: Read + Send + 'a>(read: R, input_name: impl Into<String>) -> Result<Self> {
        let input = input_name.into();
        let (magic, src) = peek(Box::new(read), &input)?;
        if magic.starts_with(&[0x1F, 0x8B]) {
            let gz: Box<dyn Read + Send + 'a> =
                Box::new(flate2::read::MultiGzDecoder::new(BufReader::new(src)));
            let (magic, src) = peek(gz, &input)?;
            let mut r = Self::detect(magic, src, input)?;
            r.gzip = true;
            return Ok(r);
        }
        Self::detect(magic, src, input)
    }

    fn detect(magic: Vec<u8>, src: Box<dyn Read + Send + 'a>, input: String) -> Result<Self> {
        let src = BufReader::with_capacity(64 * 1024, src);
        let inner = if magic.len() == 4 {
            let le = u32::from_le_bytes([magic[0], magic[1], magic[2], magic[3]]);
            let be = u32::from_be_bytes([magic[0], magic[1], magic[2], magic[3]]);
            if [le, be]
                .iter()
                .any(|&m| m == PCAP_MAGIC_US || m == PCAP_MAGIC_NS)
            {
                Some(Inner::Pcap(PcapReader::new(src, input.clone())?))
            } else if le == PCAPNG_SHB {
                Some(Inner::Pcapng(PcapngReader::new(src, input.clone())?))
            } else if magic.starts_with(&[0xEF, 0xBB, 0xBF])
                || magic
                    .iter()
                    .all(|b| b.is_ascii_graphic() || b.is_ascii_whitespace())
            {
                match CsvReader::new(src, input.clone()) {
                    Ok(r) => Some(Inner::Csv(r)),
                    Err(CoreError::Csv {
                        line: 1, reason, ..
                    }) if reason.starts_with(self::csv::NOT_A_PACKET_HEADER) => {
                        let detail = reason
                            .strip_prefix(self::csv::NOT_A_PACKET_HEADER)
                            .unwrap_or(&reason)
                            .trim_start_matches(": ");
                        return Err(CoreError::NotACapture {
                            input,
                            reason: format!(
                                "text that is neither pcap nor pcapng, nor a CSV packet table: \
                                 {detail}"
                            ),
                        });
                    }
                    Err(e) => return Err(e),
                }
            } else {
                None
            }
        } else {
            None
        };
        match inner {
            Some(inner) => Ok(PacketReader {
                inner,
                gzip: false,
                input,
            }),
            None => Err(CoreError::BadMagic { input, magic }),
        }
    }

    /// The detected format.
    pub fn format(&self) -> Format {
        match self.inner {
            Inner::Pcap(_) => Format::Pcap,
            Inner::Pcapng(_) => Format::Pcapng,
            Inner::Csv(_) => Format::Csv,
            #[cfg(feature = "parquet")]
            Inner::Parquet(_) => Format::Parquet,
        }
    }

    /// True when the input was gzip-compressed.
    pub fn is_gzip(&self) -> bool {
        self.gzip
    }

    /// Frames skipped so far, by reason.
    pub fn skip_counts(&self) -> &SkipCounts {
        match &self.inner {
            Inner::Pcap(r) => r.skip_counts(),
            Inner::Pcapng(r) => r.skip_counts(),
            Inner::Csv(r) => r.skip_counts(),
            #[cfg(feature = "parquet")]
            Inner::Parquet(r) => r.skip_counts(),
        }
    }

    /// Records read so far (packets and skipped frames).
    pub fn records_read(&self) -> u64 {
        match &self.inner {
            Inner::Pcap(r) => r.records_read(),
            Inner::Pcapng(r) => r.records_read(),
            Inner::Csv(r) => r.records_read(),
            #[cfg(feature = "parquet")]
            Inner::Parquet(r) => r.packets_read(),
        }
    }

    /// Bytes consumed so far by complete records (in the decompressed data for gzip input; 0
    /// for a Parquet dataset, which is read by column chunks, not as one byte stream).
    pub fn byte_offset(&self) -> u64 {
        match &self.inner {
            Inner::Pcap(r) => r.byte_offset(),
            Inner::Pcapng(r) => r.byte_offset(),
            Inner::Csv(r) => r.byte_offset(),
            // A dataset is read by row groups, not as one byte stream.
            #[cfg(feature = "parquet")]
            Inner::Parquet(_) => 0,
        }
    }

    /// The link type of a pcap capture's global header (`None` for pcapng, whose interfaces
    /// each have one, and CSV).
    pub fn link_type(&self) -> Option<LinkType> {
        match &self.inner {
            Inner::Pcap(r) => Some(r.header().link_type),
            _ => None,
        }
    }

    /// The input's name used in errors.
    pub fn input_name(&self) -> &str {
        &self.input
    }

    /// After the iterator has ended: [`CoreError::NothingDecoded`] when records were read but
    /// every one was skipped (a capture stamped with the wrong link type, IPv6 only, ...), with
    /// the skip counts and a likely cause; `None` when a packet was decoded or the input had no
    /// record. Use it as a warning where an empty result is acceptable.
    pub fn nothing_decoded(&self) -> Option<CoreError> {
        let records = self.records_read();
        let skips = self.skip_counts();
        if records == 0 || skips.total() < records {
            return None;
        }
        Some(CoreError::NothingDecoded {
            input: self.input.clone(),
            frames: records,
            reason: nothing_decoded_reason(skips, self.link_type()),
        })
    }

    /// After the iterator has ended: `Err` when every record was skipped (see
    /// [`nothing_decoded`](Self::nothing_decoded)). Conversions call it so that a capture
    /// nothing could be read from is not a success.
    ///
    /// # Errors
    /// [`CoreError::NothingDecoded`].
    pub fn ensure_decoded(&self) -> Result<()> {
        match self.nothing_decoded() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

/// The skip counts of a capture nothing was decoded from, with the likely cause.
pub fn nothing_decoded_reason(skips: &SkipCounts, link_type: Option<LinkType>) -> String {
    let total = skips.total();
    let link_level = skips.get(SkipReason::OtherLinkProtocol)
        + skips.get(SkipReason::NotIp)
        + skips.get(SkipReason::TruncatedLink);
    let hint = if total > 0 && link_level == total {
        match link_type {
            Some(lt) => format!(
                "; the header's link type {lt} probably does not match the frames (an Ethernet \
                 capture stamped as raw IP, or the reverse)"
            ),
            None => "; the link type probably does not match the frames".to_string(),
        }
    } else if total > 0 && skips.get(SkipReason::Ipv6) == total {
        "; the capture holds IPv6 only, and only IPv4 is read".to_string()
    } else if total > 0 && skips.get(SkipReason::UnsupportedLinkType) == total {
        "; no interface has a supported link type".to_string()
    } else {
        String::new()
    };
    format!("skipped as {skips}{hint}")
}

impl Iterator for PacketReader<'_> {
    type Item = Result<Packet>;

    fn next(&mut self) -> Option<Self::Item> {
        let item = match &mut self.inner {
            Inner::Pcap(r) => r.next(),
            Inner::Pcapng(r) => r.next(),
            Inner::Csv(r) => r.next(),
            #[cfg(feature = "parquet")]
            Inner::Parquet(r) => r.next(),
        };
        match item {
            // The decompressor fails inside a record: say where in the capture it happened.
            Some(Err(CoreError::Io { input, source })) if self.gzip => {
                Some(Err(CoreError::GzipCorrupt {
                    input,
                    packet_index: self.records_read(),
                    offset: self.byte_offset(),
                    source,
                }))
            }
            other => other,
        }
    }
}

impl std::iter::FusedIterator for PacketReader<'_> {}

/// Reads up to 4 bytes and returns them with a source that yields them again.
fn peek<'a>(
    mut src: Box<dyn Read + Send + 'a>,
    input: &str,
) -> Result<(Vec<u8>, Box<dyn Read + Send + 'a>)> {
    let mut magic = [0u8; 4];
    let n = read_full(&mut src, &mut magic, input)?;
    let magic = magic[..n].to_vec();
    let again: Box<dyn Read + Send + 'a> = Box::new(Cursor::new(magic.clone()).chain(src));
    Ok((magic, again))
}

/// Opens a capture file (`-` for standard input) and detects its format.
///
/// # Errors
/// [`CoreError::Io`] when the file cannot be opened, then every error of [`PacketReader::new`].
pub fn open(path: impl AsRef<Path>) -> Result<PacketReader<'static>> {
    let path = path.as_ref();
    if path.as_os_str() == "-" {
        return PacketReader::new(std::io::stdin(), "<stdin>");
    }
    // With the `parquet` feature: a dataset directory (day=YYYY-MM-DD/part-NNNNN.parquet) or
    // a `.parquet` file.
    #[cfg(feature = "parquet")]
    if parquet::is_dataset_dir(path) || path.extension().is_some_and(|e| e == "parquet") {
        let inner = Inner::Parquet(Box::new(parquet::ParquetDatasetReader::open(path)?));
        return Ok(PacketReader {
            inner,
            gzip: false,
            input: path.display().to_string(),
        });
    }
    let name = path.display().to_string();
    let f = std::fs::File::open(path).map_err(|e| io_err(&name, e))?;
    PacketReader::new(f, name)
}
