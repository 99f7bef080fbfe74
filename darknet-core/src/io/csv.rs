//! CSV packet tables: [`CsvWriter`] for two layouts ([`CsvLayout`]) and the streaming
//! [`CsvReader`], which reads columns by header name.
//!
//! # Layouts
//! **Extended** ([`EXTENDED_COLUMNS`], ours): `ts` (seconds since the epoch with 9 decimals),
//! `ethtype` (2048), `src_ip`, `src_port`, `dst_ip`, `dst_port`, `proto` (IP protocol number),
//! `pck_len` (IP total length), `ttl`, `ip_id`, `tcp_flags` (the flags byte as an integer),
//! `tcp_seq`, `tcp_ack`, `t_win` (TCP header window), `t_wscale`, `t_mss`, `t_ts` (TSval),
//! `t_sack` (0/1: SACK blocks present), `t_sackp` (0/1: SACK-permitted), `icmp_type`,
//! `icmp_code`, `mirai` (0/1). Fields that do not apply are empty: ports for ICMP and other
//! protocols, every `tcp_*`/`t_*` field for non-TCP, `icmp_*` for non-ICMP, and an absent TCP
//! option (`t_wscale`, `t_mss`, `t_ts`).
//!
//! **GnnForDarknet** ([`GNN_FOR_DARKNET_COLUMNS`]): the 17-column daily raw CSV of the public
//! gnn-for-darknet code: `ts, ethtype, src_ip, src_port, dst_ip, dst_port,
//! pck_len, tcp_flags, mirai, tcp_seq, ttl, t_mss, t_win, t_ts, t_sack, t_sackp, interval`.
//! That code keeps TCP only and has no `proto` column, so the writer writes TCP packets only
//! and counts the others ([`CsvWriter::packets_skipped`]); the reader reads every row as TCP.
//! Absent options are `-`. Where the reference leaves the form open we choose, and read more
//! forms than we write:
//! - `ts`: written with 9 decimals; read as `SECONDS[.FRACTION]` (up to 9 fraction digits).
//! - `ethtype`: written `2048`; read as decimal or `0x`-hex. Rows whose ethertype is not IPv4
//!   are skipped and counted (IPv6 as [`SkipReason::Ipv6`], others as
//!   [`SkipReason::OtherLinkProtocol`]).
//! - `tcp_flags`: written as the integer flags byte; read as a decimal, a `0x`-hex integer or a
//!   string of flag letters `FSRPAUEC` (tcpdump/Tstat style, `.` ignored).
//! - `t_win`: the TCP header window, always written; `-` reads as 0.
//! - `t_sack`, `t_sackp`: written `1` when present and `-` when absent; read as present for any
//!   value other than empty, `-`, `0` or `false` (the reference may store the SACK edge).
//! - `mirai`: written `1`/`0` (TCP seq == destination address); ignored on read, since it is
//!   derived from `tcp_seq` and `dst_ip` ([`Packet::is_mirai`]).
//! - `interval`: the UTC day `YYYYMMDD`; ignored on read.
//!
//! # Reading
//! The header row names the columns; any order and any subset containing `ts`, `src_ip` and
//! `dst_ip` is read (unknown columns are ignored), the delimiter detected from the header row.
//! Missing columns read as zero / absent; without a `proto` column rows are TCP.
//! Comma, tab, semicolon, pipe and space delimiters are recognised (the first with which the
//! header names the three required columns). A header without them is [`CoreError::Csv`] at
//! line 1 saying which columns were expected and which were found.
//! A UTF-8 byte-order mark and CRLF line ends are accepted. Empty fields and `-` are absent.
//! Every row must have as many fields as the header row: a row with more or fewer is an error
//! naming its line (shifted columns are never read as values). A bad value is
//! [`CoreError::Csv`] naming the input, the 1-based line of the file (the header is line 1) and
//! the column, after which the iterator ends.

use super::frame::{SkipCounts, SkipReason};
use super::io_err;
use crate::error::{CoreError, Result};
use crate::packet::{day_label, Packet, Protocol, TcpOptions};
use std::io::{Read, Write};
use std::net::Ipv4Addr;

/// Column names of [`CsvLayout::Extended`], in order.
pub const EXTENDED_COLUMNS: [&str; 22] = [
    "ts",
    "ethtype",
    "src_ip",
    "src_port",
    "dst_ip",
    "dst_port",
    "proto",
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
    "mirai",
];

/// Column names of [`CsvLayout::GnnForDarknet`], in order.
pub const GNN_FOR_DARKNET_COLUMNS: [&str; 17] = [
    "ts",
    "ethtype",
    "src_ip",
    "src_port",
    "dst_ip",
    "dst_port",
    "pck_len",
    "tcp_flags",
    "mirai",
    "tcp_seq",
    "ttl",
    "t_mss",
    "t_win",
    "t_ts",
    "t_sack",
    "t_sackp",
    "interval",
];

/// A CSV packet layout (see the [module docs](self)).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum CsvLayout {
    /// Our 22-column layout ([`EXTENDED_COLUMNS`]).
    #[default]
    Extended,
    /// The 17-column raw layout of gnn-for-darknet ([`GNN_FOR_DARKNET_COLUMNS`]).
    GnnForDarknet,
}

impl CsvLayout {
    /// The layout's column names, in order.
    pub fn columns(self) -> &'static [&'static str] {
        match self {
            CsvLayout::Extended => &EXTENDED_COLUMNS,
            CsvLayout::GnnForDarknet => &GNN_FOR_DARKNET_COLUMNS,
        }
    }
}

/// Writes packets as CSV in a [`CsvLayout`] (header row first). Wrap files in a `BufWriter`.
///
/// ```
/// use darknet_core::io::{CsvLayout, CsvWriter, CsvReader};
/// use darknet_core::Packet;
/// let mut w = CsvWriter::new(Vec::new(), CsvLayout::Extended)?;
/// w.write_packet(&Packet { ts_ns: 1_500_000_000, ttl: 9, ..Packet::default() })?;
/// let bytes = w.finish()?;
/// assert!(bytes.starts_with(b"ts,ethtype,src_ip"));
/// let back: Vec<Packet> = CsvReader::new(&bytes[..], "<memory>")?.collect::<Result<_, _>>()?;
/// assert_eq!(back[0].ts_ns, 1_500_000_000);
/// # Ok::<(), darknet_core::CoreError>(())
/// ```
pub struct CsvWriter<W: Write> {
    w: W,
    layout: CsvLayout,
    line: Vec<u8>,
    name: String,
    written: u64,
    skipped: u64,
}

impl<W: Write> CsvWriter<W> {
    /// Writes the header row.
    ///
    /// # Errors
    /// [`CoreError::Io`].
    pub fn new(w: W, layout: CsvLayout) -> Result<Self> {
        let mut cw = CsvWriter {
            w,
            layout,
            line: Vec::with_capacity(256),
            name: "<output>".to_string(),
            written: 0,
            skipped: 0,
        };
        cw.line
            .extend_from_slice(layout.columns().join(",").as_bytes());
        cw.line.push(b'\n');
        cw.flush_line()?;
        Ok(cw)
    }

    /// Sets the output name used in errors (default `<output>`).
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    fn flush_line(&mut self) -> Result<()> {
        self.w
            .write_all(&self.line)
            .map_err(|e| io_err(&self.name, e))?;
        self.line.clear();
        Ok(())
    }

    /// Appends one packet as a row (non-TCP packets are skipped in the gnn-for-darknet layout).
    ///
    /// # Errors
    /// [`CoreError::Io`].
    pub fn write_packet(&mut self, p: &Packet) -> Result<()> {
        let tcp = p.proto == Protocol::Tcp;
        if self.layout == CsvLayout::GnnForDarknet && !tcp {
            self.skipped += 1;
            return Ok(());
        }
        let l = &mut self.line;
        let o = &p.tcp_options;
        push_ts(l, p.ts_ns);
        l.extend_from_slice(b",2048,");
        push_ip(l, p.src);
        l.push(b',');
        let ports = p.proto.has_ports();
        if ports {
            push_u64(l, p.src_port.into());
        }
        l.push(b',');
        push_ip(l, p.dst);
        l.push(b',');
        if ports {
            push_u64(l, p.dst_port.into());
        }
        l.push(b',');
        match self.layout {
            CsvLayout::Extended => {
                for v in [
                    u64::from(p.proto.number()),
                    u64::from(p.ip_len),
                    u64::from(p.ttl),
                    u64::from(p.ip_id),
                ] {
                    push_u64(l, v);
                    l.push(b',');
                }
                if tcp {
                    for v in [
                        u64::from(p.tcp_flags),
                        u64::from(p.tcp_seq),
                        u64::from(p.tcp_ack),
                        u64::from(p.tcp_window),
                    ] {
                        push_u64(l, v);
                        l.push(b',');
                    }
                    for v in [
                        o.window_scale.map(u64::from),
                        o.mss.map(u64::from),
                        o.tsval.map(u64::from),
                    ] {
                        if let Some(v) = v {
                            push_u64(l, v);
                        }
                        l.push(b',');
                    }
                    l.extend_from_slice(if o.sack { b"1," } else { b"0," });
                    l.extend_from_slice(if o.sack_permitted { b"1," } else { b"0," });
                } else {
                    l.extend_from_slice(b",,,,,,,,,");
                }
                if p.proto == Protocol::Icmp {
                    push_u64(l, p.icmp_type.into());
                    l.push(b',');
                    push_u64(l, p.icmp_code.into());
                    l.push(b',');
                } else {
                    l.extend_from_slice(b",,");
                }
                l.extend_from_slice(if p.is_mirai() { b"1\n" } else { b"0\n" });
            }
            CsvLayout::GnnForDarknet => {
                push_u64(l, p.ip_len.into());
                l.push(b',');
                push_u64(l, p.tcp_flags.into());
                l.extend_from_slice(if p.is_mirai() { b",1," } else { b",0," });
                push_u64(l, p.tcp_seq.into());
                l.push(b',');
                push_u64(l, p.ttl.into());
                l.push(b',');
                push_dash(l, o.mss.map(u64::from));
                l.push(b',');
                push_u64(l, p.tcp_window.into());
                l.push(b',');
                push_dash(l, o.tsval.map(u64::from));
                l.extend_from_slice(if o.sack { b",1," } else { b",-," });
                l.extend_from_slice(if o.sack_permitted { b"1," } else { b"-," });
                l.extend_from_slice(day_label(p.day()).as_bytes());
                l.push(b'\n');
            }
        }
        self.flush_line()?;
        self.written += 1;
        Ok(())
    }

    /// Rows written so far.
    pub fn packets_written(&self) -> u64 {
        self.written
    }

    /// Packets not written because the layout cannot hold them (non-TCP in gnn-for-darknet).
    pub fn packets_skipped(&self) -> u64 {
        self.skipped
    }

    /// Flushes and returns the underlying writer.
    pub fn finish(mut self) -> Result<W> {
        self.w.flush().map_err(|e| io_err(&self.name, e))?;
        Ok(self.w)
    }
}

/// Appends the decimal digits of `v`.
fn push_u64(out: &mut Vec<u8>, mut v: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    out.extend_from_slice(&buf[i..]);
}

/// Appends `v`, or `-` when absent.
fn push_dash(out: &mut Vec<u8>, v: Option<u64>) {
    match v {
        Some(v) => push_u64(out, v),
        None => out.push(b'-'),
    }
}

/// Appends a timestamp as seconds with 9 decimals.
fn push_ts(out: &mut Vec<u8>, ts_ns: u64) {
    push_u64(out, ts_ns / 1_000_000_000);
    out.push(b'.');
    let mut frac = ts_ns % 1_000_000_000;
    let mut buf = [b'0'; 9];
    for d in buf.iter_mut().rev() {
        *d = b'0' + (frac % 10) as u8;
        frac /= 10;
    }
    out.extend_from_slice(&buf);
}

/// Appends a dotted-quad IPv4 address.
fn push_ip(out: &mut Vec<u8>, ip: Ipv4Addr) {
    let [a, b, c, d] = ip.octets();
    push_u64(out, a.into());
    out.push(b'.');
    push_u64(out, b.into());
    out.push(b'.');
    push_u64(out, c.into());
    out.push(b'.');
    push_u64(out, d.into());
}

/// Columns the reader understands, in the order of its index table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Col {
    Ts,
    Ethtype,
    SrcIp,
    SrcPort,
    DstIp,
    DstPort,
    Proto,
    PckLen,
    Ttl,
    IpId,
    TcpFlags,
    TcpSeq,
    TcpAck,
    TWin,
    TWscale,
    TMss,
    TTs,
    TSack,
    TSackp,
    IcmpType,
    IcmpCode,
}

const COLS: [(Col, &str); 21] = [
    (Col::Ts, "ts"),
    (Col::Ethtype, "ethtype"),
    (Col::SrcIp, "src_ip"),
    (Col::SrcPort, "src_port"),
    (Col::DstIp, "dst_ip"),
    (Col::DstPort, "dst_port"),
    (Col::Proto, "proto"),
    (Col::PckLen, "pck_len"),
    (Col::Ttl, "ttl"),
    (Col::IpId, "ip_id"),
    (Col::TcpFlags, "tcp_flags"),
    (Col::TcpSeq, "tcp_seq"),
    (Col::TcpAck, "tcp_ack"),
    (Col::TWin, "t_win"),
    (Col::TWscale, "t_wscale"),
    (Col::TMss, "t_mss"),
    (Col::TTs, "t_ts"),
    (Col::TSack, "t_sack"),
    (Col::TSackp, "t_sackp"),
    (Col::IcmpType, "icmp_type"),
    (Col::IcmpCode, "icmp_code"),
];

/// Start of the reason of the header error that [`super::PacketReader`] turns into
/// [`CoreError::NotACapture`].
pub(crate) const NOT_A_PACKET_HEADER: &str = "not a packet CSV header";

/// Delimiters tried on the header row, in order of preference.
const DELIMITERS: [(u8, &str); 5] = [
    (b',', "comma"),
    (b'\t', "tab"),
    (b';', "semicolon"),
    (b'|', "pipe"),
    (b' ', "space"),
];

/// The header's column names split by `delim`, trimmed and lowercased.
fn split_header(header: &[u8], delim: u8) -> Vec<String> {
    header
        .split(|&b| b == delim)
        .map(|f| {
            String::from_utf8_lossy(f)
                .trim()
                .trim_matches('"')
                .trim()
                .to_ascii_lowercase()
        })
        .collect()
}

/// Finds the delimiter for which the header names `ts`, `src_ip` and `dst_ip`; returns it with
/// the column names and the understood columns, or the reason the header is not a packet
/// header (the columns expected and those found).
#[allow(clippy::type_complexity)]
fn detect_columns(
    header: &[u8],
) -> std::result::Result<(u8, Vec<String>, Vec<(Col, usize)>), String> {
    let required = [Col::Ts, Col::SrcIp, Col::DstIp];
    // The delimiter that splits the header into the most fields, for the error message.
    let mut best: Option<(u8, &str, Vec<String>)> = None;
    for (delim, delim_name) in DELIMITERS {
        if !header.contains(&delim) && delim != b',' {
            continue;
        }
        let names = split_header(header, delim);
        let mut cols = Vec::new();
        for (col, name) in COLS {
            if let Some(i) = names.iter().position(|n| n == name) {
                cols.push((col, i));
            }
        }
        if required.iter().all(|r| cols.iter().any(|&(c, _)| c == *r)) {
            return Ok((delim, names, cols));
        }
        if best.as_ref().is_none_or(|(_, _, b)| names.len() > b.len()) {
            best = Some((delim, delim_name, names));
        }
    }
    let (_, delim_name, names) = best.unwrap_or((b',', "comma", Vec::new()));
    let shown: Vec<String> = names
        .iter()
        .take(12)
        .map(|n| format!("`{}`", n.chars().take(40).collect::<String>()))
        .collect();
    let more = if names.len() > 12 {
        format!(" and {} more", names.len() - 12)
    } else {
        String::new()
    };
    let missing: Vec<&str> = ["ts", "src_ip", "dst_ip"]
        .into_iter()
        .filter(|r| !names.iter().any(|n| n == r))
        .collect();
    Err(format!(
        "{NOT_A_PACKET_HEADER}: expected a header row naming at least `ts`, `src_ip` and \
         `dst_ip` (comma-, tab-, semicolon-, pipe- or space-separated); found {} column{} \
         ({delim_name}-separated): {}{more}; missing {}",
        names.len(),
        if names.len() == 1 { "" } else { "s" },
        shown.join(", "),
        missing.join(", ")
    ))
}

/// Streaming CSV packet reader: an iterator of `Result<Packet, CoreError>` (see the
/// [module docs](self)). One record buffer is reused for every row.
pub struct CsvReader<R: Read> {
    rdr: csv::Reader<R>,
    input: String,
    /// (column, field index) for every understood column present in the header.
    cols: Vec<(Col, usize)>,
    /// Fields in the header row: every row must have as many.
    n_fields: usize,
    /// Bytes of the header line (read before the csv reader saw the input).
    header_bytes: u64,
    layout: Option<CsvLayout>,
    record: csv::ByteRecord,
    skips: SkipCounts,
    rows: u64,
    done: bool,
}

impl<R: Read> CsvReader<R> {
    /// Reads the header row and maps the columns.
    ///
    /// # Errors
    /// [`CoreError::Csv`] (line 1) when the header lacks `ts`, `src_ip` or `dst_ip` or cannot be
    /// read, [`CoreError::Io`].
    pub fn new(mut r: R, input: impl Into<String>) -> Result<Self> {
        let input = input.into();
        // Sniff the delimiter from the header line without consuming it: read the header
        // bytes ourselves, then hand the rest to the csv reader with the header re-attached.
        let mut header = Vec::new();
        let mut byte = [0u8; 1];
        loop {
            match r.read(&mut byte) {
                Ok(0) => break,
                Ok(_) => {
                    if byte[0] == b'\n' {
                        break;
                    }
                    header.push(byte[0]);
                    if header.len() > 64 * 1024 {
                        return Err(header_error(&input, "header line longer than 64 KiB"));
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(io_err(&input, e)),
            }
        }
        let header_bytes = header.len() as u64 + 1;
        if header.last() == Some(&b'\r') {
            header.pop();
        }
        if header.starts_with(&[0xEF, 0xBB, 0xBF]) {
            header.drain(..3);
        }
        let (delim, names, cols) = match detect_columns(&header) {
            Ok(found) => found,
            Err(reason) => return Err(header_error(&input, &reason)),
        };
        let layout = if names == EXTENDED_COLUMNS {
            Some(CsvLayout::Extended)
        } else if names == GNN_FOR_DARKNET_COLUMNS {
            Some(CsvLayout::GnnForDarknet)
        } else {
            None
        };
        let rdr = csv::ReaderBuilder::new()
            .has_headers(false)
            .delimiter(delim)
            // Field counts are checked against the header row in `next`, which the csv reader
            // does not see.
            .flexible(true)
            .from_reader(r);
        Ok(CsvReader {
            rdr,
            input,
            n_fields: names.len(),
            header_bytes,
            cols,
            layout,
            record: csv::ByteRecord::new(),
            skips: SkipCounts::default(),
            rows: 0,
            done: false,
        })
    }

    /// The layout when the header is exactly one of ours, else `None` (columns read by name).
    pub fn layout(&self) -> Option<CsvLayout> {
        self.layout
    }

    /// Rows skipped so far (non-IPv4 ethertypes, IPv6 addresses), by reason.
    pub fn skip_counts(&self) -> &SkipCounts {
        &self.skips
    }

    /// Data rows read so far (packets and skipped rows).
    pub fn records_read(&self) -> u64 {
        self.rows
    }

    /// Bytes of the input consumed so far (header line included).
    pub fn byte_offset(&self) -> u64 {
        self.header_bytes + self.rdr.position().byte()
    }

    fn csv_err(&self, line: u64, col: Col, reason: String) -> CoreError {
        let column = COLS
            .iter()
            .find(|&&(c, _)| c == col)
            .map_or("?", |&(_, n)| n);
        CoreError::Csv {
            input: self.input.clone(),
            line,
            column: column.to_string(),
            reason,
        }
    }

    /// Parses the current record; `Ok(Err(reason))` for a skipped row.
    fn parse_record(&self, line: u64) -> Result<std::result::Result<Packet, SkipReason>> {
        let mut p = Packet {
            proto: Protocol::Tcp,
            ..Packet::default()
        };
        let mut opts = TcpOptions::default();
        // Protocol first: it decides which fields apply.
        for &(col, i) in &self.cols {
            if col == Col::Proto {
                let f = self.record.get(i).unwrap_or(b"");
                p.proto = parse_proto(f).ok_or_else(|| {
                    self.csv_err(
                        line,
                        col,
                        bad_value(f, "an IP protocol number or tcp/udp/icmp"),
                    )
                })?;
            }
        }
        for &(col, i) in &self.cols {
            let f = trim(self.record.get(i).unwrap_or(b""));
            let absent = f.is_empty() || f == b"-";
            macro_rules! num {
                ($t:ty, $what:expr) => {
                    if absent {
                        None
                    } else {
                        Some(
                            parse_uint(f)
                                .and_then(|v| <$t>::try_from(v).ok())
                                .ok_or_else(|| self.csv_err(line, col, bad_value(f, $what)))?,
                        )
                    }
                };
            }
            match col {
                Col::Ts => {
                    p.ts_ns = parse_ts(f).ok_or_else(|| {
                        self.csv_err(line, col, bad_value(f, "seconds with up to 9 decimals"))
                    })?
                }
                Col::Ethtype => {
                    if !absent {
                        let v = parse_uint(f).ok_or_else(|| {
                            self.csv_err(line, col, bad_value(f, "an ethertype (2048 or 0x0800)"))
                        })?;
                        match v {
                            0x0800 => {}
                            0x86DD => return Ok(Err(SkipReason::Ipv6)),
                            0x0806 | 0x8035 => return Ok(Err(SkipReason::Arp)),
                            _ => return Ok(Err(SkipReason::OtherLinkProtocol)),
                        }
                    }
                }
                Col::SrcIp | Col::DstIp => {
                    let s = std::str::from_utf8(f).unwrap_or("");
                    let addr = match s.parse::<Ipv4Addr>() {
                        Ok(a) => a,
                        Err(_) if s.contains(':') && s.parse::<std::net::Ipv6Addr>().is_ok() => {
                            return Ok(Err(SkipReason::Ipv6))
                        }
                        Err(_) => {
                            return Err(self.csv_err(line, col, bad_value(f, "an IPv4 address")))
                        }
                    };
                    if col == Col::SrcIp {
                        p.src = addr;
                    } else {
                        p.dst = addr;
                    }
                }
                Col::SrcPort => p.src_port = num!(u16, "a port (0-65535)").unwrap_or(0),
                Col::DstPort => p.dst_port = num!(u16, "a port (0-65535)").unwrap_or(0),
                Col::Proto => {}
                Col::PckLen => p.ip_len = num!(u16, "an IP length (0-65535)").unwrap_or(0),
                Col::Ttl => p.ttl = num!(u8, "a TTL (0-255)").unwrap_or(0),
                Col::IpId => p.ip_id = num!(u16, "an IP ID (0-65535)").unwrap_or(0),
                Col::TcpFlags => {
                    if !absent {
                        p.tcp_flags = parse_flags(f).ok_or_else(|| {
                            self.csv_err(
                                line,
                                col,
                                bad_value(f, "TCP flags (0-255, 0x.. or letters FSRPAUEC)"),
                            )
                        })?;
                    }
                }
                Col::TcpSeq => p.tcp_seq = num!(u32, "a 32-bit sequence number").unwrap_or(0),
                Col::TcpAck => p.tcp_ack = num!(u32, "a 32-bit ack number").unwrap_or(0),
                Col::TWin => p.tcp_window = num!(u16, "a TCP window (0-65535)").unwrap_or(0),
                Col::TWscale => opts.window_scale = num!(u8, "a window scale (0-255)"),
                Col::TMss => opts.mss = num!(u16, "an MSS (0-65535)"),
                Col::TTs => opts.tsval = num!(u32, "a 32-bit TSval"),
                Col::TSack => opts.sack = flag_present(f),
                Col::TSackp => opts.sack_permitted = flag_present(f),
                Col::IcmpType => p.icmp_type = num!(u8, "an ICMP type (0-255)").unwrap_or(0),
                Col::IcmpCode => p.icmp_code = num!(u8, "an ICMP code (0-255)").unwrap_or(0),
            }
        }
        // Fields that do not apply to the protocol are zero, whatever the row says.
        if p.proto == Protocol::Tcp {
            p.tcp_options = opts;
        } else {
            p.tcp_flags = 0;
            p.tcp_seq = 0;
            p.tcp_ack = 0;
            p.tcp_window = 0;
        }
        if !p.proto.has_ports() {
            p.src_port = 0;
            p.dst_port = 0;
        }
        if p.proto != Protocol::Icmp {
            p.icmp_type = 0;
            p.icmp_code = 0;
        }
        Ok(Ok(p))
    }
}

fn header_error(input: &str, reason: &str) -> CoreError {
    CoreError::Csv {
        input: input.to_string(),
        line: 1,
        column: "<header>".to_string(),
        reason: reason.to_string(),
    }
}

fn bad_value(f: &[u8], expected: &str) -> String {
    let shown: String = String::from_utf8_lossy(&f[..f.len().min(40)]).into_owned();
    format!("`{shown}` is not {expected}")
}

fn trim(mut f: &[u8]) -> &[u8] {
    while let [b' ' | b'\t' | b'\r', rest @ ..] = f {
        f = rest;
    }
    while let [rest @ .., b' ' | b'\t' | b'\r'] = f {
        f = rest;
    }
    f
}

/// Decimal or `0x`-hex unsigned integer (at most 20 digits).
fn parse_uint(f: &[u8]) -> Option<u64> {
    if let Some(hex) = f.strip_prefix(b"0x").or_else(|| f.strip_prefix(b"0X")) {
        if hex.is_empty() || hex.len() > 16 {
            return None;
        }
        let mut v: u64 = 0;
        for &b in hex {
            v = (v << 4) | u64::from((b as char).to_digit(16)?);
        }
        return Some(v);
    }
    if f.is_empty() || f.len() > 20 {
        return None;
    }
    let mut v: u64 = 0;
    for &b in f {
        if !b.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add(u64::from(b - b'0'))?;
    }
    Some(v)
}

/// `SECONDS[.FRACTION]` (at most 9 fraction digits) to nanoseconds.
fn parse_ts(f: &[u8]) -> Option<u64> {
    let (int, frac) = match f.iter().position(|&b| b == b'.') {
        Some(i) => (&f[..i], &f[i + 1..]),
        None => (f, &b""[..]),
    };
    if int.is_empty() || int.starts_with(b"0x") || frac.len() > 9 {
        return None;
    }
    let secs = parse_uint(int)?;
    let mut ns: u64 = 0;
    for i in 0..9 {
        let d = match frac.get(i) {
            Some(b) if b.is_ascii_digit() => u64::from(b - b'0'),
            Some(_) => return None,
            None => 0,
        };
        ns = ns * 10 + d;
    }
    secs.checked_mul(1_000_000_000)?.checked_add(ns)
}

fn parse_proto(f: &[u8]) -> Option<Protocol> {
    let f = trim(f);
    if f.first().is_some_and(u8::is_ascii_digit) {
        parse_uint(f)
            .and_then(|v| u8::try_from(v).ok())
            .map(Protocol::from_number)
    } else if f.eq_ignore_ascii_case(b"tcp") {
        Some(Protocol::Tcp)
    } else if f.eq_ignore_ascii_case(b"udp") {
        Some(Protocol::Udp)
    } else if f.eq_ignore_ascii_case(b"icmp") {
        Some(Protocol::Icmp)
    } else {
        None
    }
}

fn parse_flags(f: &[u8]) -> Option<u8> {
    if f[0].is_ascii_digit() {
        return parse_uint(f).and_then(|v| u8::try_from(v).ok());
    }
    let mut v = 0u8;
    for &b in f {
        v |= match b.to_ascii_uppercase() {
            b'F' => 0x01,
            b'S' => 0x02,
            b'R' => 0x04,
            b'P' => 0x08,
            b'A' => 0x10,
            b'U' => 0x20,
            b'E' => 0x40,
            b'C' => 0x80,
            b'.' => 0,
            _ => return None,
        };
    }
    Some(v)
}

fn flag_present(f: &[u8]) -> bool {
    !(f.is_empty() || f == b"-" || f == b"0" || f.eq_ignore_ascii_case(b"false"))
}

impl<R: Read> Iterator for CsvReader<R> {
    type Item = Result<Packet>;

    fn next(&mut self) -> Option<Self::Item> {
        while !self.done {
            match self.rdr.read_byte_record(&mut self.record) {
                Ok(false) => self.done = true,
                Err(e) => {
                    self.done = true;
                    // The header line was consumed before the csv reader saw the input.
                    let line = e.position().map_or(0, |p| p.line() + 1);
                    let err = if e.is_io_error() {
                        match e.into_kind() {
                            csv::ErrorKind::Io(io) => io_err(&self.input, io),
                            other => header_error(&self.input, &format!("{other:?}")),
                        }
                    } else {
                        CoreError::Csv {
                            input: self.input.clone(),
                            line,
                            column: "<row>".to_string(),
                            reason: e.to_string(),
                        }
                    };
                    return Some(Err(err));
                }
                Ok(true) => {
                    self.rows += 1;
                    let line = self.record.position().map_or(0, |p| p.line() + 1);
                    if self.record.len() == 1 && trim(&self.record[0]).is_empty() {
                        continue;
                    }
                    if self.record.len() != self.n_fields {
                        self.done = true;
                        return Some(Err(CoreError::Csv {
                            input: self.input.clone(),
                            line,
                            column: "<row>".to_string(),
                            reason: format!(
                                "{} fields, but the header row has {} columns",
                                self.record.len(),
                                self.n_fields
                            ),
                        }));
                    }
                    match self.parse_record(line) {
                        Ok(Ok(p)) => return Some(Ok(p)),
                        Ok(Err(reason)) => self.skips.add(reason),
                        Err(e) => {
                            self.done = true;
                            return Some(Err(e));
                        }
                    }
                }
            }
        }
        None
    }
}

impl<R: Read> std::iter::FusedIterator for CsvReader<R> {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_parse_exactly() {
        assert_eq!(
            parse_ts(b"1638316800.123456789"),
            Some(1_638_316_800_123_456_789)
        );
        assert_eq!(parse_ts(b"1638316800.5"), Some(1_638_316_800_500_000_000));
        assert_eq!(parse_ts(b"1638316800"), Some(1_638_316_800_000_000_000));
        assert_eq!(parse_ts(b"1.1234567891"), None);
        assert_eq!(parse_ts(b"1e9"), None);
        assert_eq!(parse_ts(b"99999999999999999999"), None);
    }

    #[test]
    fn number_formatting_edges() {
        let mut v = Vec::new();
        push_u64(&mut v, 0);
        v.push(b' ');
        push_u64(&mut v, u64::MAX);
        v.push(b' ');
        push_ts(&mut v, 0);
        v.push(b' ');
        push_ts(&mut v, u64::MAX);
        v.push(b' ');
        push_ip(&mut v, Ipv4Addr::new(0, 10, 200, 255));
        assert_eq!(
            String::from_utf8(v).unwrap(),
            "0 18446744073709551615 0.000000000 18446744073.709551615 0.10.200.255"
        );
        assert_eq!(parse_ts(b"18446744073.709551615"), Some(u64::MAX));
    }

    #[test]
    fn flags_in_every_form() {
        assert_eq!(parse_flags(b"18"), Some(0x12));
        assert_eq!(parse_flags(b"0x12"), Some(0x12));
        assert_eq!(parse_flags(b"SA"), Some(0x12));
        assert_eq!(parse_flags(b"S."), Some(0x02));
        assert_eq!(parse_flags(b"256"), None);
        assert_eq!(parse_flags(b"SX"), None);
    }
}
