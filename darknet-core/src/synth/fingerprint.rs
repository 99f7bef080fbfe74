//! Per-tool packet fingerprints: what a scanner's or an operating system's probes look like in
//! the IP and TCP headers (TTL, window, options, IP ID, sequence number, source port).
//!
//! Sources: docs/synthetic.md#fingerprints (ZMap IP ID 54321; masscan window 1024 and no
//! options; OS stacks send MSS/SACK/TS; stateless research scanners usually none) and the public
//! Mirai source (TTL 64, no options, sequence number = destination address, one source port).

use crate::packet::{Packet, TcpOptions};
use rand::Rng;

/// The tool or network stack that builds a host's probe headers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Tool {
    /// masscan: initial TTL 255, window 1024, no options, random IP ID.
    Masscan,
    /// ZMap: initial TTL 255, IP ID 54321, window 65535, no options.
    Zmap,
    /// nmap SYN scan: initial TTL 64, window 1024/2048/3072/4096, MSS 1460 only.
    Nmap,
    /// Mirai bots: initial TTL 64, no options, TCP sequence = destination address, random IP ID
    /// and window, one source port per bot.
    Mirai,
    /// Linux connect(): initial TTL 64, window 64240/29200, MSS 1460, SACK-permitted, TSval,
    /// window scale 7, IP ID 0 (DF set).
    Linux,
    /// Windows connect(): initial TTL 128, window 64240/8192, MSS 1460, SACK-permitted, window
    /// scale 8, no timestamps, incrementing IP ID.
    Windows,
}

impl Tool {
    /// Initial TTL of the tool's packets before the hops to the darknet are subtracted.
    pub fn initial_ttl(self) -> u8 {
        match self {
            Tool::Masscan | Tool::Zmap => 255,
            Tool::Windows => 128,
            Tool::Nmap | Tool::Mirai | Tool::Linux => 64,
        }
    }

    /// Name of the tool (lower case).
    pub fn name(self) -> &'static str {
        match self {
            Tool::Masscan => "masscan",
            Tool::Zmap => "zmap",
            Tool::Nmap => "nmap",
            Tool::Mirai => "mirai",
            Tool::Linux => "linux",
            Tool::Windows => "windows",
        }
    }
}

/// Per-host header state: the tool, the hop count, a fixed source port and the host's clocks.
#[derive(Clone, Copy, Debug)]
pub(crate) struct HeaderState {
    pub tool: Tool,
    pub hops: u8,
    pub fixed_src_port: u16,
    /// Window chosen once per host (for tools that fix it).
    pub window: u16,
    /// TSval clock offset (Linux).
    pub ts_offset: u32,
    /// IP ID counter (Windows).
    pub ip_id: u16,
}

impl HeaderState {
    pub(crate) fn new<R: Rng>(tool: Tool, rng: &mut R) -> Self {
        let window = match tool {
            Tool::Masscan => 1024,
            Tool::Zmap => 65535,
            Tool::Nmap => [1024, 2048, 3072, 4096][rng.random_range(0..4)],
            Tool::Mirai => 0,
            Tool::Linux => [64240, 29200, 65535][rng.random_range(0..3)],
            Tool::Windows => [64240, 8192, 65535][rng.random_range(0..3)],
        };
        HeaderState {
            tool,
            hops: rng.random_range(6..=24),
            fixed_src_port: rng.random_range(1024..=65535),
            window,
            ts_offset: rng.random(),
            ip_id: rng.random(),
        }
    }

    /// Fills the TCP/IP header fields of a TCP probe `p` (its `dst`, `dst_port`, `ts_ns` already
    /// set). `raw` is one random 64-bit word for this packet.
    #[inline]
    pub(crate) fn fill_tcp(&mut self, p: &mut Packet, raw: u64) {
        let lo = raw as u32;
        let hi = (raw >> 32) as u32;
        p.ttl = self.tool.initial_ttl().saturating_sub(self.hops);
        match self.tool {
            Tool::Masscan => {
                p.ip_id = lo as u16;
                p.tcp_window = 1024;
                p.src_port = self.fixed_src_port;
                p.tcp_seq = hi;
                p.ip_len = 40;
            }
            Tool::Zmap => {
                p.ip_id = 54321;
                p.tcp_window = 65535;
                p.src_port = 32768 + (lo as u16 & 0x7fff);
                p.tcp_seq = hi;
                p.ip_len = 40;
            }
            Tool::Nmap => {
                p.ip_id = lo as u16;
                p.tcp_window = self.window;
                p.src_port = self.fixed_src_port;
                p.tcp_seq = hi;
                p.tcp_options = TcpOptions {
                    mss: Some(1460),
                    ..TcpOptions::default()
                };
                p.ip_len = 44;
            }
            Tool::Mirai => {
                p.ip_id = lo as u16;
                p.tcp_window = (lo >> 16) as u16;
                p.src_port = self.fixed_src_port;
                p.tcp_seq = u32::from(p.dst);
                p.ip_len = 40;
            }
            Tool::Linux => {
                p.ip_id = 0;
                p.tcp_window = self.window;
                p.src_port = 32768 + (lo as u16 % 28232);
                p.tcp_seq = hi;
                p.tcp_options = TcpOptions {
                    mss: Some(1460),
                    window_scale: Some(7),
                    tsval: Some(self.ts_offset.wrapping_add((p.ts_ns / 1_000_000) as u32)),
                    sack_permitted: true,
                    sack: false,
                };
                p.ip_len = 60;
            }
            Tool::Windows => {
                self.ip_id = self.ip_id.wrapping_add(1 + (lo as u16 & 7));
                p.ip_id = self.ip_id;
                p.tcp_window = self.window;
                p.src_port = 49152 + (lo as u16 % 16383);
                p.tcp_seq = hi;
                p.tcp_options = TcpOptions {
                    mss: Some(1460),
                    window_scale: Some(8),
                    tsval: None,
                    sack_permitted: true,
                    sack: false,
                };
                p.ip_len = 52;
            }
        }
        // Only Mirai-like hosts carry Mirai's fingerprint: the ground truth labels Mirai by it.
        if self.tool != Tool::Mirai && p.tcp_seq == u32::from(p.dst) {
            p.tcp_seq ^= 1;
        }
    }

    /// Fills the IP header fields of a UDP or ICMP probe.
    #[inline]
    pub(crate) fn fill_ip(&mut self, p: &mut Packet, raw: u64) {
        p.ttl = self.tool.initial_ttl().saturating_sub(self.hops);
        p.ip_id = match self.tool {
            Tool::Zmap => 54321,
            Tool::Linux => 0,
            Tool::Windows => {
                self.ip_id = self.ip_id.wrapping_add(1);
                self.ip_id
            }
            _ => raw as u16,
        };
        if p.src_port == 0 && p.proto.has_ports() {
            p.src_port = match self.tool {
                Tool::Masscan | Tool::Mirai | Tool::Nmap => self.fixed_src_port,
                _ => 32768 + ((raw >> 16) as u16 & 0x7fff),
            };
        }
    }
}
