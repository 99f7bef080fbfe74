//! Classic pcap (libpcap) files: [`PcapWriter`] and the streaming [`PcapReader`].
//!
//! Both timestamp resolutions (magic `a1b2c3d4` for µs, `a1b23c4d` for ns) and both byte
//! orders are read; the writer writes the host-independent little-endian form.

use super::frame::{decode_frame, encode_frame, LinkType, SkipCounts};
use super::{io_err, read_full, MAX_CAPLEN};
use crate::error::{CoreError, Result};
use crate::packet::Packet;
use std::io::{Read, Write};

/// pcap magic for microsecond timestamps, as a native-order u32.
pub const PCAP_MAGIC_US: u32 = 0xA1B2_C3D4;
/// pcap magic for nanosecond timestamps, as a native-order u32.
pub const PCAP_MAGIC_NS: u32 = 0xA1B2_3C4D;

/// Timestamp resolution of a written capture.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum TsResolution {
    /// Microseconds (classic pcap; pcapng without `if_tsresol`). Nanoseconds are truncated.
    Micro,
    /// Nanoseconds (pcap magic `a1b23c4d`; pcapng `if_tsresol` = 9).
    #[default]
    Nano,
}

/// Options of [`PcapWriter`] and [`super::PcapngWriter`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PcapWriterOptions {
    /// Timestamp resolution (default nanoseconds).
    pub resolution: TsResolution,
    /// Link type of the frames (default [`LinkType::ETHERNET`]; any supported type but IPv6).
    pub link_type: LinkType,
    /// Snap length written in the header (default 65535).
    pub snaplen: u32,
    /// Name of the output in error messages (default `<output>`).
    pub output_name: String,
}

impl Default for PcapWriterOptions {
    fn default() -> Self {
        PcapWriterOptions {
            resolution: TsResolution::Nano,
            link_type: LinkType::ETHERNET,
            snaplen: 65_535,
            output_name: "<output>".to_string(),
        }
    }
}

impl PcapWriterOptions {
    /// Checks that the link type can be encoded.
    pub(crate) fn validate(&self) -> Result<()> {
        if !self.link_type.is_supported() || self.link_type == LinkType::IPV6 {
            return Err(CoreError::UnsupportedLinkType {
                input: self.output_name.clone(),
                link_type: self.link_type.0,
            });
        }
        Ok(())
    }
}

/// Writes packets as a classic pcap file (headers only: each record holds the link, IPv4 and
/// transport headers; the original length says how long the packet was).
///
/// Wrap files in a `BufWriter`: each packet is two small writes.
///
/// ```
/// use darknet_core::io::{PcapWriter, PcapWriterOptions, PcapReader};
/// use darknet_core::Packet;
/// let mut w = PcapWriter::new(Vec::new(), PcapWriterOptions::default())?;
/// w.write_packet(&Packet { ts_ns: 42, ttl: 64, ..Packet::default() })?;
/// let bytes = w.finish()?;
/// let back: Vec<Packet> = PcapReader::new(&bytes[..], "<memory>")?.collect::<Result<_, _>>()?;
/// assert_eq!(back[0].ts_ns, 42);
/// # Ok::<(), darknet_core::CoreError>(())
/// ```
pub struct PcapWriter<W: Write> {
    w: W,
    opts: PcapWriterOptions,
    frame: Vec<u8>,
    record: Vec<u8>,
    written: u64,
}

impl<W: Write> PcapWriter<W> {
    /// Writes the global header.
    ///
    /// # Errors
    /// [`CoreError::UnsupportedLinkType`] for a link type that cannot be encoded,
    /// [`CoreError::Io`] when writing fails.
    pub fn new(mut w: W, opts: PcapWriterOptions) -> Result<Self> {
        opts.validate()?;
        let magic = match opts.resolution {
            TsResolution::Micro => PCAP_MAGIC_US,
            TsResolution::Nano => PCAP_MAGIC_NS,
        };
        let mut h = Vec::with_capacity(24);
        h.extend_from_slice(&magic.to_le_bytes());
        h.extend_from_slice(&2u16.to_le_bytes());
        h.extend_from_slice(&4u16.to_le_bytes());
        h.extend_from_slice(&0i32.to_le_bytes());
        h.extend_from_slice(&0u32.to_le_bytes());
        h.extend_from_slice(&opts.snaplen.to_le_bytes());
        h.extend_from_slice(&opts.link_type.0.to_le_bytes());
        w.write_all(&h).map_err(|e| io_err(&opts.output_name, e))?;
        Ok(PcapWriter {
            w,
            opts,
            frame: Vec::with_capacity(128),
            record: Vec::with_capacity(144),
            written: 0,
        })
    }

    /// Appends one packet.
    ///
    /// # Errors
    /// [`CoreError::Unwritable`] when the timestamp does not fit pcap's 32-bit seconds (after
    /// 2106-02-07), [`CoreError::Io`] when writing fails.
    pub fn write_packet(&mut self, p: &Packet) -> Result<()> {
        let secs = p.ts_ns / 1_000_000_000;
        let secs = u32::try_from(secs).map_err(|_| CoreError::Unwritable {
            output: self.opts.output_name.clone(),
            packet_index: self.written,
            field: "ts_ns",
            value: p.ts_ns,
            reason: "pcap seconds are 32-bit (latest 2106-02-07)",
        })?;
        let sub = (p.ts_ns % 1_000_000_000) as u32;
        let frac = match self.opts.resolution {
            TsResolution::Micro => sub / 1000,
            TsResolution::Nano => sub,
        };
        let orig = encode_frame(p, self.opts.link_type, &mut self.frame)?;
        let caplen = self.frame.len().min(self.opts.snaplen.max(1) as usize);
        self.record.clear();
        self.record.extend_from_slice(&secs.to_le_bytes());
        self.record.extend_from_slice(&frac.to_le_bytes());
        self.record
            .extend_from_slice(&(caplen as u32).to_le_bytes());
        self.record
            .extend_from_slice(&(orig.min(u32::MAX as usize) as u32).to_le_bytes());
        self.record.extend_from_slice(&self.frame[..caplen]);
        self.w
            .write_all(&self.record)
            .map_err(|e| io_err(&self.opts.output_name, e))?;
        self.written += 1;
        Ok(())
    }

    /// Packets written so far.
    pub fn packets_written(&self) -> u64 {
        self.written
    }

    /// Flushes and returns the underlying writer.
    pub fn finish(mut self) -> Result<W> {
        self.w
            .flush()
            .map_err(|e| io_err(&self.opts.output_name, e))?;
        Ok(self.w)
    }
}

/// What a pcap global header says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PcapHeader {
    /// The file was written big-endian.
    pub big_endian: bool,
    /// Timestamps are in nanoseconds (else microseconds).
    pub nanos: bool,
    /// Format version (major, minor), normally (2, 4).
    pub version: (u16, u16),
    /// Snap length (0 is read as "no limit" but the 256 KiB cap still applies).
    pub snaplen: u32,
    /// Link type of every record (lower 16 bits of the header's link-type field).
    pub link_type: LinkType,
}

/// Streaming reader of classic pcap: an iterator of `Result<Packet, CoreError>`.
///
/// Frames that are not IPv4 are skipped and counted ([`PcapReader::skip_counts`]). On an error
/// (truncated record, absurd caplen) the iterator yields the error once and then ends. One
/// buffer is reused for every record. Reads `R` directly: wrap unbuffered sources (files) in a
/// `BufReader` (the [`super::open`] entry point does).
pub struct PcapReader<R> {
    r: R,
    input: String,
    header: PcapHeader,
    limit: u32,
    buf: Vec<u8>,
    offset: u64,
    index: u64,
    skips: SkipCounts,
    done: bool,
}

impl<R: Read> PcapReader<R> {
    /// Reads and checks the global header.
    ///
    /// # Errors
    /// [`CoreError::BadMagic`] when the magic is not a pcap one, [`CoreError::Truncated`] when
    /// the 24-byte header is cut short, [`CoreError::UnsupportedLinkType`],
    /// [`CoreError::Io`].
    pub fn new(mut r: R, input: impl Into<String>) -> Result<Self> {
        let input = input.into();
        let mut h = [0u8; 24];
        let n = read_full(&mut r, &mut h, &input)?;
        let magic_le = u32::from_le_bytes([h[0], h[1], h[2], h[3]]);
        let magic_be = u32::from_be_bytes([h[0], h[1], h[2], h[3]]);
        let (big_endian, nanos) = if n < 4 {
            return Err(CoreError::BadMagic {
                input,
                magic: h[..n].to_vec(),
            });
        } else if magic_le == PCAP_MAGIC_US {
            (false, false)
        } else if magic_le == PCAP_MAGIC_NS {
            (false, true)
        } else if magic_be == PCAP_MAGIC_US {
            (true, false)
        } else if magic_be == PCAP_MAGIC_NS {
            (true, true)
        } else {
            return Err(CoreError::BadMagic {
                input,
                magic: h[..4].to_vec(),
            });
        };
        if n < 24 {
            return Err(CoreError::Truncated {
                input,
                what: "global header",
                packet_index: 0,
                offset: 0,
                needed: 24,
                available: n as u64,
            });
        }
        let u16_at = |i: usize| {
            let b = [h[i], h[i + 1]];
            if big_endian {
                u16::from_be_bytes(b)
            } else {
                u16::from_le_bytes(b)
            }
        };
        let u32_at = |i: usize| {
            let b = [h[i], h[i + 1], h[i + 2], h[i + 3]];
            if big_endian {
                u32::from_be_bytes(b)
            } else {
                u32::from_le_bytes(b)
            }
        };
        let snaplen = u32_at(16);
        let link_type = LinkType(u32_at(20) & 0xFFFF);
        if !link_type.is_supported() {
            return Err(CoreError::UnsupportedLinkType {
                input,
                link_type: link_type.0,
            });
        }
        let header = PcapHeader {
            big_endian,
            nanos,
            version: (u16_at(4), u16_at(6)),
            snaplen,
            link_type,
        };
        let limit = if snaplen == 0 {
            MAX_CAPLEN
        } else {
            snaplen.min(MAX_CAPLEN)
        };
        Ok(PcapReader {
            r,
            input,
            header,
            limit,
            buf: Vec::new(),
            offset: 24,
            index: 0,
            skips: SkipCounts::default(),
            done: false,
        })
    }

    /// The global header.
    pub fn header(&self) -> &PcapHeader {
        &self.header
    }

    /// Frames skipped so far, by reason.
    pub fn skip_counts(&self) -> &SkipCounts {
        &self.skips
    }

    /// Records read so far (packets and skipped frames).
    pub fn records_read(&self) -> u64 {
        self.index
    }

    /// The input's name used in errors.
    pub fn input_name(&self) -> &str {
        &self.input
    }

    /// Bytes of the input consumed by complete records so far (the offset of the next record).
    pub fn byte_offset(&self) -> u64 {
        self.offset
    }

    /// Reads the next record: `Ok(None)` at a clean end of input.
    fn next_record(&mut self) -> Result<Option<(u64, usize)>> {
        let mut h = [0u8; 16];
        let start = self.offset;
        let n = read_full(&mut self.r, &mut h, &self.input)?;
        if n == 0 {
            return Ok(None);
        }
        if n < 16 {
            return Err(CoreError::Truncated {
                input: self.input.clone(),
                what: "record header",
                packet_index: self.index,
                offset: start,
                needed: 16,
                available: n as u64,
            });
        }
        let be = self.header.big_endian;
        let u32_at = |i: usize| {
            let b = [h[i], h[i + 1], h[i + 2], h[i + 3]];
            if be {
                u32::from_be_bytes(b)
            } else {
                u32::from_le_bytes(b)
            }
        };
        let secs = u64::from(u32_at(0));
        let frac = u64::from(u32_at(4));
        let caplen = u32_at(8);
        let frac_limit: u64 = if self.header.nanos {
            1_000_000_000
        } else {
            1_000_000
        };
        if frac >= frac_limit {
            return Err(CoreError::Malformed {
                input: self.input.clone(),
                packet_index: self.index,
                offset: start,
                reason: format!(
                    "timestamp sub-second field = {frac} is out of range: expected below \
                     {frac_limit} ({} capture)",
                    if self.header.nanos {
                        "nanosecond"
                    } else {
                        "microsecond"
                    }
                ),
            });
        }
        if caplen > self.limit {
            let snap = self.header.snaplen;
            let limit = if snap != 0 && caplen > snap {
                snap
            } else {
                MAX_CAPLEN
            };
            return Err(CoreError::LengthTooLarge {
                input: self.input.clone(),
                packet_index: self.index,
                offset: start,
                field: "caplen",
                value: u64::from(caplen),
                limit: u64::from(limit),
            });
        }
        let caplen = caplen as usize;
        if self.buf.len() < caplen {
            self.buf.resize(caplen, 0);
        }
        let got = read_full(&mut self.r, &mut self.buf[..caplen], &self.input)?;
        if got < caplen {
            return Err(CoreError::Truncated {
                input: self.input.clone(),
                what: "packet data",
                packet_index: self.index,
                offset: start,
                needed: caplen as u64,
                available: got as u64,
            });
        }
        self.offset += 16 + caplen as u64;
        self.index += 1;
        let ts = secs * 1_000_000_000 + if self.header.nanos { frac } else { frac * 1000 };
        Ok(Some((ts, caplen)))
    }
}

impl<R: Read> Iterator for PcapReader<R> {
    type Item = Result<Packet>;

    fn next(&mut self) -> Option<Self::Item> {
        while !self.done {
            match self.next_record() {
                Ok(None) => self.done = true,
                Err(e) => {
                    self.done = true;
                    return Some(Err(e));
                }
                Ok(Some((ts, caplen))) => {
                    match decode_frame(self.header.link_type, &self.buf[..caplen], ts) {
                        Ok(p) => return Some(Ok(p)),
                        Err(reason) => self.skips.add(reason),
                    }
                }
            }
        }
        None
    }
}

impl<R: Read> std::iter::FusedIterator for PcapReader<R> {}
