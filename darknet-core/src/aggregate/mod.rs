//! The aggregation stage as SQL: the per-packet work of both pipelines written once as SQL texts
//! (`darknet-core/sql/*.sql`, one per aggregate, each documenting its input and output schema),
//! run in-process by DataFusion (`run`, feature `datafusion`) or unchanged on Apache Spark
//! (`scripts/spark/aggregate.py`), and read back into the structures the pipelines consume
//! (`read`, feature `parquet`).
//!
//! | aggregate | what it holds | read by |
//! |---|---|---|
//! | `paper_a_hosts` | per source: the inputs and decisions of Paper A's bogon, isolated-packet, vertical-scan and periodic filters | `read::paper_a_filters` |
//! | `port_transitions`, `port_nodes` | Paper A's port-transition counts θ and port nodes, over the kept packets | `read::port_transitions` |
//! | `host_stats` | per source: counts, distinct counts and mergeable moments of every packet field | `read::host_stats` |
//! | `paper_b_edges`, `paper_b_host_features`, `paper_b_port_features` | Paper B's daily host–port edges (top-K ports plus "other") and raw node features | `read::paper_b_days` |
//! | `paper_a_host_stats` | per kept source: the `host_stats` columns over its kept packets (Paper A's baseline and hybrid statistics) | `read::paper_a_host_stats` |
//! | `host_graph_nodes`, `host_graph_edges` | Paper A's host graphs: per kept source, its nodes with what their features are computed from, and its weighted edges | `read::host_graphs` |
//! | `packet_days` | the UTC days of the dataset with their packets | `read::packet_days` |
//!
//! The views `paper_a_packets`, `paper_b_packets` and `paper_a_kept_packets` are shared steps
//! that are not written.
//!
//! Each aggregate equals what the in-memory path computes from the same packets: counts exactly,
//! floating-point statistics up to rounding (the engines sum in another order). Two choices are
//! not expressible in the portable SQL both engines share and are refused by
//! [`AggregateParams::validate`]: periodic periods beyond 8 (the text tests periods 2 to 8), and
//! a vertical-scan origin other than the dataset's first packet.

#[cfg(feature = "datafusion")]
mod engine;
#[cfg(feature = "parquet")]
pub mod read;

#[cfg(feature = "datafusion")]
pub use engine::{run, RunOptions, RunSummary, TableSummary};

use crate::error::{CoreError, Result};
use crate::filter::{IsolatedConfig, PeriodicConfig, VerticalScanConfig};

/// The query manifest: names and kinds in running order.
const MANIFEST: &str = include_str!("../../sql/queries.txt");

/// Whether a query's result is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QueryKind {
    /// A shared step, registered under its name for the queries after it, not written.
    View,
    /// An aggregate table, written as Parquet to `OUT/<name>/`.
    Table,
}

/// One aggregation query.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Query {
    /// Its name: the view or table it defines, and its file `sql/<name>.sql`.
    pub name: &'static str,
    /// View or table.
    pub kind: QueryKind,
    /// The SQL text, with `${param}` placeholders ([`AggregateParams::render`]).
    pub sql: &'static str,
}

fn text_of(name: &str) -> Option<&'static str> {
    Some(match name {
        "paper_a_packets" => include_str!("../../sql/paper_a_packets.sql"),
        "paper_a_hosts" => include_str!("../../sql/paper_a_hosts.sql"),
        "port_transitions" => include_str!("../../sql/port_transitions.sql"),
        "port_nodes" => include_str!("../../sql/port_nodes.sql"),
        "host_stats" => include_str!("../../sql/host_stats.sql"),
        "paper_b_packets" => include_str!("../../sql/paper_b_packets.sql"),
        "paper_b_edges" => include_str!("../../sql/paper_b_edges.sql"),
        "paper_b_host_features" => include_str!("../../sql/paper_b_host_features.sql"),
        "paper_b_port_features" => include_str!("../../sql/paper_b_port_features.sql"),
        "paper_a_kept_packets" => include_str!("../../sql/paper_a_kept_packets.sql"),
        "paper_a_host_stats" => include_str!("../../sql/paper_a_host_stats.sql"),
        "host_graph_nodes" => include_str!("../../sql/host_graph_nodes.sql"),
        "host_graph_edges" => include_str!("../../sql/host_graph_edges.sql"),
        "packet_days" => include_str!("../../sql/packet_days.sql"),
        _ => return None,
    })
}

/// The aggregation queries in running order (the manifest `sql/queries.txt`).
pub fn queries() -> Vec<Query> {
    MANIFEST
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (name, kind) = l.split_once(' ').expect("manifest lines are `name kind`");
            let name: &'static str = name;
            Query {
                name,
                kind: if kind.trim() == "view" {
                    QueryKind::View
                } else {
                    QueryKind::Table
                },
                sql: text_of(name).expect("every manifest entry has its SQL file"),
            }
        })
        .collect()
}

/// The names of the aggregate tables (the queries of kind [`QueryKind::Table`]), in order.
pub fn table_names() -> Vec<&'static str> {
    queries()
        .into_iter()
        .filter(|q| q.kind == QueryKind::Table)
        .map(|q| q.name)
        .collect()
}

/// The settings the SQL texts take, with the in-memory pipelines' defaults.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AggregateParams {
    /// Drop bogon sources before Paper A's filters (default true, as
    /// [`crate::filter::BogonFilterConfig`]).
    pub drop_bogons: bool,
    /// Paper A's isolated-packet filter.
    pub isolated: IsolatedConfig,
    /// Paper A's vertical-scan filter; `origin_ns` must be `None` (the windows start at the
    /// dataset's first packet, as [`crate::PaperAFilters`] places them).
    pub vertical: VerticalScanConfig,
    /// Paper A's periodic-pattern filter; `max_period` at most 8.
    pub periodic: PeriodicConfig,
    /// Paper B: a source's day is kept with at least this many TCP packets (default 5; the
    /// reference code's "more than 5" is 6).
    pub host_min_packets: u64,
    /// Paper B: ports kept as their own node each day (default 2,500).
    pub top_k_ports: usize,
    /// Paper B: seconds added to UTC before cutting days (default 0).
    pub utc_offset_secs: i64,
}

impl Default for AggregateParams {
    fn default() -> Self {
        AggregateParams {
            drop_bogons: true,
            isolated: IsolatedConfig::default(),
            vertical: VerticalScanConfig::default(),
            periodic: PeriodicConfig::default(),
            host_min_packets: 5,
            top_k_ports: 2500,
            utc_offset_secs: 0,
        }
    }
}

/// Longest periodic-pattern period the SQL text tests.
pub const SQL_MAX_PERIOD: usize = 8;

impl AggregateParams {
    /// Checks the settings, including the two the SQL texts cannot express (module docs).
    ///
    /// # Errors
    /// [`CoreError::InvalidConfig`] naming the field.
    pub fn validate(&self) -> Result<()> {
        self.isolated.validate()?;
        self.vertical.validate()?;
        self.periodic.validate()?;
        if let Some(o) = self.vertical.origin_ns {
            return Err(CoreError::InvalidConfig {
                field: "vertical.origin_ns",
                value: o.to_string(),
                reason: "the SQL aggregation starts the vertical-scan windows at the dataset's \
                         first packet; leave the origin unset"
                    .into(),
            });
        }
        if self.periodic.max_period > SQL_MAX_PERIOD {
            return Err(CoreError::InvalidConfig {
                field: "periodic.max_period",
                value: self.periodic.max_period.to_string(),
                reason: format!("the SQL aggregation tests periods 2 to {SQL_MAX_PERIOD}"),
            });
        }
        if self.top_k_ports == 0 {
            return Err(CoreError::InvalidConfig {
                field: "top_k_ports",
                value: "0".into(),
                reason: "at least one port is kept".into(),
            });
        }
        if self.utc_offset_secs.abs() > 86_400 {
            return Err(CoreError::InvalidConfig {
                field: "utc_offset_secs",
                value: self.utc_offset_secs.to_string(),
                reason: "must be within ±86400".into(),
            });
        }
        for (field, v) in [
            ("isolated.window_ns", self.isolated.window_ns),
            ("vertical.window_ns", self.vertical.window_ns),
        ] {
            if v > i64::MAX as u64 {
                return Err(CoreError::InvalidConfig {
                    field,
                    value: v.to_string(),
                    reason: "must fit in a signed 64-bit integer".into(),
                });
            }
        }
        Ok(())
    }

    /// The placeholder values, `(name, SQL literal)`.
    pub fn values(&self) -> Vec<(&'static str, String)> {
        vec![
            ("drop_bogons", u8::from(self.drop_bogons).to_string()),
            ("isolated_window_ns", self.isolated.window_ns.to_string()),
            ("vertical_window_ns", self.vertical.window_ns.to_string()),
            ("max_tcp_ports", self.vertical.max_tcp_ports.to_string()),
            ("max_udp_ports", self.vertical.max_udp_ports.to_string()),
            ("min_len", self.periodic.min_len.to_string()),
            ("max_period", self.periodic.max_period.to_string()),
            ("arithmetic", u8::from(self.periodic.arithmetic).to_string()),
            ("host_min_packets", self.host_min_packets.to_string()),
            ("top_k_ports", self.top_k_ports.to_string()),
            (
                "utc_offset_ns",
                (i128::from(self.utc_offset_secs) * 1_000_000_000).to_string(),
            ),
        ]
    }

    /// `sql` with every `${name}` replaced by its value.
    ///
    /// # Errors
    /// [`CoreError::InvalidConfig`] when the text names a placeholder that has no value.
    pub fn render(&self, sql: &str) -> Result<String> {
        let mut out = sql.to_string();
        for (k, v) in self.values() {
            out = out.replace(&format!("${{{k}}}"), &v);
        }
        if let Some(i) = out.find("${") {
            let rest = &out[i..];
            let end = rest.find('}').map_or(rest.len(), |e| e + 1);
            return Err(CoreError::InvalidConfig {
                field: "sql",
                value: rest[..end].to_string(),
                reason: "the SQL text names a parameter that has no value".into(),
            });
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_query_renders_with_the_defaults() {
        let p = AggregateParams::default();
        let qs = queries();
        assert_eq!(qs.len(), 14);
        for q in qs {
            let sql = p.render(q.sql).unwrap();
            assert!(!sql.contains("${"), "{}", q.name);
        }
    }

    #[test]
    fn unknown_placeholder_is_an_error() {
        let e = AggregateParams::default()
            .render("SELECT ${nope}")
            .unwrap_err();
        assert!(e.to_string().contains("${nope}"), "{e}");
    }

    #[test]
    fn settings_sql_cannot_express_are_refused() {
        let mut p = AggregateParams::default();
        p.periodic.max_period = 9;
        assert!(p.validate().unwrap_err().to_string().contains("max_period"));
        let mut p = AggregateParams::default();
        p.vertical.origin_ns = Some(5);
        assert!(p.validate().unwrap_err().to_string().contains("origin"));
        let p = AggregateParams {
            top_k_ports: 0,
            ..AggregateParams::default()
        };
        assert!(p.validate().is_err());
    }
}
