//! # darknet-core
//!
//! Packets and hosts as a darknet (network telescope) sees them: the first stage of every
//! pipeline in this workspace.
//!
//! - [`Packet`]: one compact `Copy` record per packet (outer IPv4 header + transport header).
//! - [`Trace`]: a time-sorted columnar store with per-day ranges and a per-source index.
//!
//! ```
//! use darknet_core::{Packet, Trace};
//! use std::net::Ipv4Addr;
//!
//! let p = Packet { ts_ns: 5, src: Ipv4Addr::new(192, 0, 2, 1), dst_port: 23, ..Packet::default() };
//! let trace = Trace::from_packets(vec![p, Packet { ts_ns: 1, ..p }]);
//! assert_eq!(trace.len(), 2);
//! assert_eq!(trace.ts_ns(), &[1, 5]);
//! assert_eq!(trace.by_source().len(), 1);
//! ```
//!
//! Captures are read and written by [`io`]: write packets to pcap in memory, read them back:
//!
//! ```
//! use darknet_core::{Packet, PacketReader, PcapWriter, PcapWriterOptions};
//! use std::net::Ipv4Addr;
//!
//! let packets: Vec<Packet> = (0..3u16)
//!     .map(|i| Packet { ts_ns: u64::from(i) * 1_000, src: Ipv4Addr::new(192, 0, 2, 9),
//!                       dst_port: 22 + i, ip_len: 44, ttl: 64, ..Packet::default() })
//!     .collect();
//! let mut w = PcapWriter::new(Vec::new(), PcapWriterOptions::default())?;
//! for p in &packets {
//!     w.write_packet(p)?;
//! }
//! let bytes = w.finish()?;
//! let back: Vec<Packet> = PacketReader::new(&bytes[..], "<memory>")?.collect::<Result<_, _>>()?;
//! assert_eq!(back, packets);
//! # Ok::<(), darknet_core::CoreError>(())
//! ```
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod aggregate;
pub mod class;
pub mod error;
pub mod filter;
pub mod io;
pub mod label;
pub mod packet;
pub mod stats;
pub mod synth;
pub mod trace;

pub use class::PaperBClass;
pub use error::{CoreError, Result};
pub use filter::{FilterReport, Filtered, PaperAFilters, PaperBFilters};
pub use io::{
    open, CsvLayout, CsvReader, CsvWriter, LinkType, PacketReader, PcapReader, PcapWriter,
    PcapWriterOptions, PcapngReader, PcapngWriter, SkipCounts, SkipReason, TsResolution,
};
pub use label::{
    labels_from_reports, AbuseReport, GroundTruth, Ipv4Prefix, KnownScanners, LabelRule,
    MultiLabels, PAPER_A_CATEGORIES,
};
pub use packet::{
    day_label, parse_day_label, tcp_flags, Packet, Protocol, TcpOptions, NANOS_PER_DAY,
};
pub use stats::{HostStats, HostStatsTable, Moments, HOST_FEATURE_NAMES};
pub use synth::{HostTruth, Preset, SynthConfig, SyntheticDarknet, Tool};
pub use trace::{SourceIndex, Trace, TRACE_BYTES_PER_PACKET};
