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
//!   pcapng file"); a truncated record yields every complete packet first, then one
//!   [`CoreError::Truncated`] (packet index, byte offset), then the iterator ends; a caplen above
//!   the snap length or [`MAX_CAPLEN`] (256 KiB), and a pcapng block length that is absurd
//!   ([`MAX_BLOCK_LEN`]) or not a multiple of 4, are errors raised before anything is allocated;
//!   a file with only a global header is zero packets and no error. Each reader reuses one
//!   buffer for every record.
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
}

impl<'a> PacketReader<'a> {
    /// Detects the format of `read` (gzip-compressed or not) and reads its header.
    ///
    /// `input_name` names the input in errors (a path, `<stdin>`, `<memory>`).
    ///
    /// # Errors
    /// [`CoreError::BadMagic`] when the input is neither pcap nor pcapng, and every error of
    /// [`PcapReader::new`] / [`PcapngReader::new`].
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
                    }) if reason == self::csv::NOT_A_PACKET_HEADER => None,
                    Err(e) => return Err(e),
                }
            } else {
                None
            }
        } else {
            None
        };
        match inner {
            Some(inner) => Ok(PacketReader { inner, gzip: false }),
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
}

impl Iterator for PacketReader<'_> {
    type Item = Result<Packet>;

    fn next(&mut self) -> Option<Self::Item> {
        match &mut self.inner {
            Inner::Pcap(r) => r.next(),
            Inner::Pcapng(r) => r.next(),
            Inner::Csv(r) => r.next(),
            #[cfg(feature = "parquet")]
            Inner::Parquet(r) => r.next(),
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
        return Ok(PacketReader { inner, gzip: false });
    }
    let name = path.display().to_string();
    let f = std::fs::File::open(path).map_err(|e| io_err(&name, e))?;
    PacketReader::new(f, name)
}
