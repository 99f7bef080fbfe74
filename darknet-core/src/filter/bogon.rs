//! Bogon-source filter: drops packets whose source address cannot be a real Internet host
//! (loopback, private, link-local, shared, multicast, reserved, documentation, "this network").

use super::Filtered;
use crate::trace::Trace;
use std::net::Ipv4Addr;

/// Bogon IPv4 ranges (RFC 6890 special-purpose registry, the usual "bogon" list):
/// `(network, prefix length)`.
pub const BOGON_PREFIXES: [(Ipv4Addr, u8); 14] = [
    (Ipv4Addr::new(0, 0, 0, 0), 8),
    (Ipv4Addr::new(10, 0, 0, 0), 8),
    (Ipv4Addr::new(100, 64, 0, 0), 10),
    (Ipv4Addr::new(127, 0, 0, 0), 8),
    (Ipv4Addr::new(169, 254, 0, 0), 16),
    (Ipv4Addr::new(172, 16, 0, 0), 12),
    (Ipv4Addr::new(192, 0, 0, 0), 24),
    (Ipv4Addr::new(192, 0, 2, 0), 24),
    (Ipv4Addr::new(192, 168, 0, 0), 16),
    (Ipv4Addr::new(198, 18, 0, 0), 15),
    (Ipv4Addr::new(198, 51, 100, 0), 24),
    (Ipv4Addr::new(203, 0, 113, 0), 24),
    (Ipv4Addr::new(224, 0, 0, 0), 4),
    (Ipv4Addr::new(240, 0, 0, 0), 4),
];

/// True when `addr` lies in one of [`BOGON_PREFIXES`] (255.255.255.255 included via 240/4).
pub fn is_bogon(addr: Ipv4Addr) -> bool {
    let a = u32::from(addr);
    BOGON_PREFIXES.iter().any(|&(net, len)| {
        let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
        a & mask == u32::from(net)
    })
}

/// Configuration of the bogon-source filter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BogonFilterConfig {
    /// When false the filter keeps everything (default true: pipelines drop bogon sources).
    pub enabled: bool,
}

impl Default for BogonFilterConfig {
    fn default() -> Self {
        BogonFilterConfig { enabled: true }
    }
}

/// Drops every packet whose source is a bogon ([`is_bogon`]).
///
/// Complexity: O(n).
pub fn bogon_filter(trace: &Trace, config: &BogonFilterConfig) -> Filtered {
    if !config.enabled {
        return Filtered::keep_all("bogon-source", trace);
    }
    let keep: Vec<bool> = trace
        .src()
        .iter()
        .map(|&s| !is_bogon(Ipv4Addr::from(s)))
        .collect();
    Filtered::from_mask("bogon-source", trace, &keep)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classic_bogons() {
        for a in [
            "127.0.0.1",
            "10.1.2.3",
            "192.168.1.1",
            "172.31.255.255",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "100.64.0.1",
            "169.254.1.1",
            "192.0.2.7",
        ] {
            assert!(is_bogon(a.parse().unwrap()), "{a}");
        }
        for a in ["8.8.8.8", "172.32.0.1", "162.142.125.10", "100.128.0.1"] {
            assert!(!is_bogon(a.parse().unwrap()), "{a}");
        }
    }
}
