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
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod error;
pub mod filter;
pub mod packet;
pub mod synth;
pub mod trace;

pub use error::{CoreError, Result};
pub use packet::{
    day_label, parse_day_label, tcp_flags, Packet, Protocol, TcpOptions, NANOS_PER_DAY,
};
pub use synth::{AbuseReport, HostTruth, Preset, SynthConfig, SyntheticDarknet, Tool};
pub use trace::{SourceIndex, Trace, TRACE_BYTES_PER_PACKET};
