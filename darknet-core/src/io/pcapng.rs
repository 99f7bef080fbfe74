//! pcapng files: [`PcapngWriter`] (one section, one interface, Enhanced Packet Blocks) and the
//! streaming [`PcapngReader`].
//!
//! The reader follows several sections (each Section Header Block sets its own byte order and
//! resets the interfaces), several interfaces per section with `if_tsresol` (power of 10 or of 2)
//! and `if_tsoffset`, Enhanced, Simple and obsolete Packet Blocks; every other block type is
//! skipped without being buffered. Simple Packet Blocks carry no timestamp: they take the one of
//! the previous packet of the section (0 if none).

use super::frame::{decode_frame, encode_frame, LinkType, SkipCounts, SkipReason};
use super::pcap::{PcapWriterOptions, TsResolution};
use super::{io_err, read_full, MAX_CAPLEN};
use crate::error::{CoreError, Result};
use crate::packet::Packet;
use std::io::{Read, Write};

/// Block type of the Section Header Block (the pcapng magic).
pub const PCAPNG_SHB: u32 = 0x0A0D_0D0A;
const BYTE_ORDER_MAGIC: u32 = 0x1A2B_3C4D;
const IDB: u32 = 1;
const OPB: u32 = 2;
const SPB: u32 = 3;
const EPB: u32 = 6;
/// Largest block the reader buffers (SHB, IDB, packet blocks); other blocks are skipped
/// whatever their length.
pub const MAX_BLOCK_LEN: u32 = MAX_CAPLEN + 64 * 1024;

/// Writes packets as pcapng: one Section Header Block, one Interface Description Block (link
/// type, snap length, `if_tsresol` = 9 for nanoseconds, absent for microseconds), then one
/// Enhanced Packet Block per packet (little-endian).
///
/// ```
/// use darknet_core::io::{PcapngWriter, PcapWriterOptions, PacketReader};
/// use darknet_core::Packet;
/// let mut w = PcapngWriter::new(Vec::new(), PcapWriterOptions::default())?;
/// w.write_packet(&Packet { ts_ns: 7, ..Packet::default() })?;
/// let bytes = w.finish()?;
/// let back: Vec<Packet> = PacketReader::new(&bytes[..], "<memory>")?.collect::<Result<_, _>>()?;
/// assert_eq!(back, vec![Packet { ts_ns: 7, ..Packet::default() }]);
/// # Ok::<(), darknet_core::CoreError>(())
/// ```
pub struct PcapngWriter<W: Write> {
    w: W,
    opts: PcapWriterOptions,
    frame: Vec<u8>,
    block: Vec<u8>,
    written: u64,
}

impl<W: Write> PcapngWriter<W> {
    /// Writes the Section Header Block and the Interface Description Block.
    ///
    /// # Errors
    /// [`CoreError::UnsupportedLinkType`], [`CoreError::Io`].
    pub fn new(mut w: W, opts: PcapWriterOptions) -> Result<Self> {
        opts.validate()?;
        let mut b = Vec::with_capacity(64);
        // SHB: type, length 28, BOM, version 1.0, section length -1, no options, length.
        b.extend_from_slice(&PCAPNG_SHB.to_le_bytes());
        b.extend_from_slice(&28u32.to_le_bytes());
        b.extend_from_slice(&BYTE_ORDER_MAGIC.to_le_bytes());
        b.extend_from_slice(&1u16.to_le_bytes());
        b.extend_from_slice(&0u16.to_le_bytes());
        b.extend_from_slice(&(-1i64).to_le_bytes());
        b.extend_from_slice(&28u32.to_le_bytes());
        // IDB.
        let nanos = opts.resolution == TsResolution::Nano;
        let idb_len: u32 = if nanos { 20 + 8 + 4 } else { 20 };
        b.extend_from_slice(&IDB.to_le_bytes());
        b.extend_from_slice(&idb_len.to_le_bytes());
        b.extend_from_slice(&(opts.link_type.0 as u16).to_le_bytes());
        b.extend_from_slice(&0u16.to_le_bytes());
        b.extend_from_slice(&opts.snaplen.to_le_bytes());
        if nanos {
            b.extend_from_slice(&9u16.to_le_bytes()); // if_tsresol
            b.extend_from_slice(&1u16.to_le_bytes());
            b.extend_from_slice(&[9, 0, 0, 0]);
            b.extend_from_slice(&[0, 0, 0, 0]); // opt_endofopt
        }
        b.extend_from_slice(&idb_len.to_le_bytes());
        w.write_all(&b).map_err(|e| io_err(&opts.output_name, e))?;
        Ok(PcapngWriter {
            w,
            opts,
            frame: Vec::with_capacity(128),
            block: Vec::with_capacity(160),
            written: 0,
        })
    }

    /// Appends one packet as an Enhanced Packet Block.
    ///
    /// # Errors
    /// [`CoreError::Io`].
    pub fn write_packet(&mut self, p: &Packet) -> Result<()> {
        let ts = match self.opts.resolution {
            TsResolution::Nano => p.ts_ns,
            TsResolution::Micro => p.ts_ns / 1000,
        };
        let orig = encode_frame(p, self.opts.link_type, &mut self.frame)?;
        let caplen = self.frame.len().min(self.opts.snaplen.max(1) as usize);
        let padded = caplen.div_ceil(4) * 4;
        let len = (32 + padded) as u32;
        let b = &mut self.block;
        b.clear();
        b.extend_from_slice(&EPB.to_le_bytes());
        b.extend_from_slice(&len.to_le_bytes());
        b.extend_from_slice(&0u32.to_le_bytes());
        b.extend_from_slice(&((ts >> 32) as u32).to_le_bytes());
        b.extend_from_slice(&(ts as u32).to_le_bytes());
        b.extend_from_slice(&(caplen as u32).to_le_bytes());
        b.extend_from_slice(&(orig.min(u32::MAX as usize) as u32).to_le_bytes());
        b.extend_from_slice(&self.frame[..caplen]);
        b.resize(28 + padded, 0);
        b.extend_from_slice(&len.to_le_bytes());
        self.w
            .write_all(b)
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

/// How an interface's timestamp units become nanoseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum TsUnit {
    /// Units of 10^-v s with v <= 9: multiply by 10^(9 - v).
    Mul(u64),
    /// Units of 10^-v s with v > 9: divide by 10^(v - 9).
    Div(u128),
    /// Units of 2^-v s.
    Pow2(u32),
}

impl TsUnit {
    fn to_ns(self, t: u64) -> u64 {
        let ns: u128 = match self {
            TsUnit::Mul(m) => u128::from(t) * u128::from(m),
            TsUnit::Div(d) => u128::from(t) / d,
            TsUnit::Pow2(v) => (u128::from(t) * 1_000_000_000) >> v,
        };
        u64::try_from(ns).unwrap_or(u64::MAX)
    }
}

/// One interface of the current section.
#[derive(Clone, Copy, Debug)]
struct Interface {
    link: LinkType,
    snaplen: u32,
    unit: TsUnit,
    offset_ns: i128,
}

/// Streaming reader of pcapng: an iterator of `Result<Packet, CoreError>`.
///
/// Same contract as [`super::PcapReader`]: skipped frames are counted, an error is yielded once
/// and ends the iterator, one buffer is reused, and `R` is read directly (wrap files in a
/// `BufReader`). Packets from an interface with an unsupported link type are skipped as
/// [`SkipReason::UnsupportedLinkType`].
pub struct PcapngReader<R> {
    r: R,
    input: String,
    big_endian: bool,
    interfaces: Vec<Interface>,
    buf: Vec<u8>,
    offset: u64,
    index: u64,
    sections: u64,
    last_ts: u64,
    skips: SkipCounts,
    done: bool,
}

/// The largest number of interfaces one section may declare.
const MAX_INTERFACES: usize = 65_536;

impl<R: Read> PcapngReader<R> {
    /// Reads and checks the first Section Header Block.
    ///
    /// # Errors
    /// [`CoreError::BadMagic`] when the input does not start with a Section Header Block,
    /// [`CoreError::Truncated`], [`CoreError::Malformed`] (bad byte-order magic or block
    /// length), [`CoreError::LengthTooLarge`], [`CoreError::Io`].
    pub fn new(r: R, input: impl Into<String>) -> Result<Self> {
        let mut rd = PcapngReader {
            r,
            input: input.into(),
            big_endian: false,
            interfaces: Vec::new(),
            buf: Vec::new(),
            offset: 0,
            index: 0,
            sections: 0,
            last_ts: 0,
            skips: SkipCounts::default(),
            done: false,
        };
        let mut head = [0u8; 8];
        let n = read_full(&mut rd.r, &mut head, &rd.input)?;
        if n < 4 || u32::from_le_bytes([head[0], head[1], head[2], head[3]]) != PCAPNG_SHB {
            return Err(CoreError::BadMagic {
                input: rd.input,
                magic: head[..n.min(4)].to_vec(),
            });
        }
        if n < 8 {
            return Err(rd.truncated("block header", 0, 8, n));
        }
        rd.read_shb(head)?;
        Ok(rd)
    }

    /// Frames skipped so far, by reason.
    pub fn skip_counts(&self) -> &SkipCounts {
        &self.skips
    }

    /// Packet blocks read so far (packets and skipped frames).
    pub fn records_read(&self) -> u64 {
        self.index
    }

    /// Bytes of the input consumed by complete blocks so far (the offset of the next block).
    pub fn byte_offset(&self) -> u64 {
        self.offset
    }

    /// Sections (Section Header Blocks) read so far.
    pub fn sections_read(&self) -> u64 {
        self.sections
    }

    /// The input's name used in errors.
    pub fn input_name(&self) -> &str {
        &self.input
    }

    fn truncated(&self, what: &'static str, offset: u64, needed: usize, got: usize) -> CoreError {
        CoreError::Truncated {
            input: self.input.clone(),
            what,
            packet_index: self.index,
            offset,
            needed: needed as u64,
            available: got as u64,
        }
    }

    fn malformed(&self, offset: u64, reason: String) -> CoreError {
        CoreError::Malformed {
            input: self.input.clone(),
            packet_index: self.index,
            offset,
            reason,
        }
    }

    fn u16_at(&self, b: &[u8], i: usize) -> u16 {
        let x = [b[i], b[i + 1]];
        if self.big_endian {
            u16::from_be_bytes(x)
        } else {
            u16::from_le_bytes(x)
        }
    }

    fn u32_at(&self, b: &[u8], i: usize) -> u32 {
        let x = [b[i], b[i + 1], b[i + 2], b[i + 3]];
        if self.big_endian {
            u32::from_be_bytes(x)
        } else {
            u32::from_le_bytes(x)
        }
    }

    /// Checks a block length before anything is allocated.
    fn check_len(&self, start: u64, len: u32, min: u32, buffered: bool) -> Result<()> {
        if !len.is_multiple_of(4) || len < min {
            return Err(self.malformed(
                start,
                format!("block length {len} is not a multiple of 4 or is below {min}"),
            ));
        }
        if buffered && len > MAX_BLOCK_LEN {
            return Err(CoreError::LengthTooLarge {
                input: self.input.clone(),
                packet_index: self.index,
                offset: start,
                field: "block length",
                value: u64::from(len),
                limit: u64::from(MAX_BLOCK_LEN),
            });
        }
        Ok(())
    }

    /// Reads `n` bytes of block body (after the 8-byte type + length) into `buf[..n]`.
    fn read_body(&mut self, start: u64, n: usize) -> Result<()> {
        if self.buf.len() < n {
            self.buf.resize(n, 0);
        }
        let got = read_full(&mut self.r, &mut self.buf[..n], &self.input)?;
        if got < n {
            return Err(self.truncated("block", start, n + 8, got + 8));
        }
        Ok(())
    }

    /// Checks the trailing copy of the block length (the last 4 bytes of `buf[..body]`).
    fn check_trailer(&self, start: u64, len: u32, body: usize) -> Result<()> {
        let trailer = self.u32_at(&self.buf, body - 4);
        if trailer != len {
            return Err(self.malformed(
                start,
                format!("trailing block length {trailer} differs from leading {len}"),
            ));
        }
        Ok(())
    }

    /// Reads a Section Header Block whose first 8 bytes are `head`.
    fn read_shb(&mut self, head: [u8; 8]) -> Result<()> {
        let start = self.offset;
        let mut bom = [0u8; 4];
        let n = read_full(&mut self.r, &mut bom, &self.input)?;
        if n < 4 {
            return Err(self.truncated("section header block", start, 12, 8 + n));
        }
        self.big_endian = match (u32::from_le_bytes(bom), u32::from_be_bytes(bom)) {
            (BYTE_ORDER_MAGIC, _) => false,
            (_, BYTE_ORDER_MAGIC) => true,
            _ => {
                return Err(self.malformed(
                    start,
                    format!("bad byte-order magic {bom:02x?} in section header block"),
                ))
            }
        };
        let len = self.u32_at(&head, 4);
        self.check_len(start, len, 28, true)?;
        let body = len as usize - 12;
        self.read_body(start, body)?;
        self.check_trailer(start, len, body)?;
        let major = self.u16_at(&self.buf, 0);
        if major != 1 {
            return Err(self.malformed(start, format!("unsupported pcapng major version {major}")));
        }
        self.offset += u64::from(len);
        self.sections += 1;
        self.interfaces.clear();
        self.last_ts = 0;
        Ok(())
    }

    /// Parses an Interface Description Block body held in `buf[..body]`.
    fn read_idb(&mut self, start: u64, body: usize) -> Result<()> {
        if self.interfaces.len() >= MAX_INTERFACES {
            return Err(self.malformed(start, "more than 65536 interfaces".to_string()));
        }
        let link = LinkType(u32::from(self.u16_at(&self.buf, 0)));
        let snaplen = self.u32_at(&self.buf, 4);
        let mut unit = TsUnit::Mul(1000);
        let mut offset_ns: i128 = 0;
        let opts_end = body - 4;
        let mut i = 8;
        while i + 4 <= opts_end {
            let code = self.u16_at(&self.buf, i);
            let olen = usize::from(self.u16_at(&self.buf, i + 2));
            let v = i + 4;
            if code == 0 {
                break;
            }
            if v + olen > opts_end {
                return Err(self.malformed(start, format!("option {code} runs past its block")));
            }
            match (code, olen) {
                (9, 1..) => {
                    let r = self.buf[v];
                    let e = u32::from(r & 0x7F);
                    unit = if r & 0x80 != 0 {
                        TsUnit::Pow2(e)
                    } else if e <= 9 {
                        TsUnit::Mul(10u64.pow(9 - e))
                    } else if e <= 38 {
                        TsUnit::Div(10u128.pow(e - 9))
                    } else {
                        return Err(self.malformed(start, format!("if_tsresol 10^-{e}")));
                    };
                }
                (14, 8..) => {
                    let b: [u8; 8] = self.buf[v..v + 8].try_into().unwrap_or([0; 8]);
                    let secs = if self.big_endian {
                        i64::from_be_bytes(b)
                    } else {
                        i64::from_le_bytes(b)
                    };
                    offset_ns = i128::from(secs) * 1_000_000_000;
                }
                _ => {}
            }
            i = v + olen.div_ceil(4) * 4;
        }
        self.interfaces.push(Interface {
            link,
            snaplen,
            unit,
            offset_ns,
        });
        Ok(())
    }

    /// The interface `id` of the current section.
    fn interface(&self, start: u64, id: u32) -> Result<Interface> {
        self.interfaces.get(id as usize).copied().ok_or_else(|| {
            self.malformed(
                start,
                format!(
                    "interface {id} not declared ({} in this section)",
                    self.interfaces.len()
                ),
            )
        })
    }

    fn check_caplen(&self, start: u64, caplen: u32, avail: usize, snaplen: u32) -> Result<()> {
        if caplen > MAX_CAPLEN || (snaplen != 0 && caplen > snaplen) {
            return Err(CoreError::LengthTooLarge {
                input: self.input.clone(),
                packet_index: self.index,
                offset: start,
                field: "caplen",
                value: u64::from(caplen),
                limit: u64::from(if snaplen != 0 {
                    snaplen.min(MAX_CAPLEN)
                } else {
                    MAX_CAPLEN
                }),
            });
        }
        if caplen as usize > avail {
            return Err(self.malformed(
                start,
                format!("caplen {caplen} runs past its block ({avail} bytes of data)"),
            ));
        }
        Ok(())
    }

    /// Reads blocks until a packet block: `Ok(None)` at a clean end of input, otherwise the
    /// frame's interface link type, timestamp and data range in `buf`.
    fn next_frame(&mut self) -> Result<Option<(LinkType, u64, usize, usize)>> {
        loop {
            let start = self.offset;
            let mut head = [0u8; 8];
            let n = read_full(&mut self.r, &mut head, &self.input)?;
            if n == 0 {
                return Ok(None);
            }
            if n < 8 {
                return Err(self.truncated("block header", start, 8, n));
            }
            let btype = self.u32_at(&head, 0);
            if btype == PCAPNG_SHB {
                self.read_shb(head)?;
                continue;
            }
            let len = self.u32_at(&head, 4);
            let buffered = matches!(btype, IDB | OPB | SPB | EPB);
            let min = match btype {
                IDB => 20,
                OPB => 32,
                SPB => 16,
                EPB => 32,
                _ => 12,
            };
            self.check_len(start, len, min, buffered)?;
            let body = len as usize - 8;
            if !buffered {
                let skipped =
                    std::io::copy(&mut (&mut self.r).take(body as u64), &mut std::io::sink())
                        .map_err(|e| io_err(&self.input, e))?;
                if skipped < body as u64 {
                    return Err(self.truncated("block", start, body + 8, skipped as usize + 8));
                }
                self.offset += u64::from(len);
                continue;
            }
            self.read_body(start, body)?;
            self.check_trailer(start, len, body)?;
            self.offset += u64::from(len);
            let data_end = body - 4;
            match btype {
                IDB => self.read_idb(start, body)?,
                EPB => {
                    let iface = self.interface(start, self.u32_at(&self.buf, 0))?;
                    let ts = (u64::from(self.u32_at(&self.buf, 4)) << 32)
                        | u64::from(self.u32_at(&self.buf, 8));
                    let caplen = self.u32_at(&self.buf, 12);
                    self.check_caplen(start, caplen, data_end - 20, iface.snaplen)?;
                    let ts = apply_offset(iface.unit.to_ns(ts), iface.offset_ns);
                    return Ok(Some((iface.link, ts, 20, 20 + caplen as usize)));
                }
                OPB => {
                    let iface = self.interface(start, u32::from(self.u16_at(&self.buf, 0)))?;
                    let ts = (u64::from(self.u32_at(&self.buf, 4)) << 32)
                        | u64::from(self.u32_at(&self.buf, 8));
                    let caplen = self.u32_at(&self.buf, 12);
                    self.check_caplen(start, caplen, data_end - 20, iface.snaplen)?;
                    let ts = apply_offset(iface.unit.to_ns(ts), iface.offset_ns);
                    return Ok(Some((iface.link, ts, 20, 20 + caplen as usize)));
                }
                _ => {
                    // SPB: original length, then data up to the snap length of interface 0.
                    let iface = self.interface(start, 0)?;
                    let orig = self.u32_at(&self.buf, 0) as usize;
                    let mut caplen = orig.min(data_end - 4);
                    if iface.snaplen != 0 {
                        caplen = caplen.min(iface.snaplen as usize);
                    }
                    return Ok(Some((iface.link, self.last_ts, 4, 4 + caplen)));
                }
            }
        }
    }
}

fn apply_offset(ts: u64, offset_ns: i128) -> u64 {
    if offset_ns == 0 {
        ts
    } else {
        (i128::from(ts) + offset_ns).clamp(0, i128::from(u64::MAX)) as u64
    }
}

impl<R: Read> Iterator for PcapngReader<R> {
    type Item = Result<Packet>;

    fn next(&mut self) -> Option<Self::Item> {
        while !self.done {
            match self.next_frame() {
                Ok(None) => self.done = true,
                Err(e) => {
                    self.done = true;
                    return Some(Err(e));
                }
                Ok(Some((link, ts, a, b))) => {
                    self.index += 1;
                    self.last_ts = ts;
                    if !link.is_supported() {
                        self.skips.add(SkipReason::UnsupportedLinkType);
                        continue;
                    }
                    match decode_frame(link, &self.buf[a..b], ts) {
                        Ok(p) => return Some(Ok(p)),
                        Err(reason) => self.skips.add(reason),
                    }
                }
            }
        }
        None
    }
}

impl<R: Read> std::iter::FusedIterator for PcapngReader<R> {}
