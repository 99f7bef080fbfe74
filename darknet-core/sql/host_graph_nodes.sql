-- host_graph_nodes (table): the nodes of Paper A's host graphs with what their features are
-- computed from. A host graph's nodes are its source's kept TCP, UDP and ICMP packets grouped
-- by <protocol, destination port, TCP flags, ICMP type, ICMP code> (fields that do not apply to
-- the protocol are 0), numbered in order of first appearance in time (ts_ns, then seq).
--
-- Input:  the view paper_a_kept_packets.
-- Output: one row per (source, node):
--   src          bigint  source address as a number
--   node         bigint  the node key: proto * 2^40 + port * 2^24 + tcp_flags * 2^16
--                        + icmp_type * 2^8 + icmp_code
--   first_pos    bigint  1-based position of the node's first packet among the source's TCP,
--                        UDP and ICMP packets in time order (orders the nodes)
--   packets      bigint  packets of the node
--   n_dsts       bigint  distinct destination addresses
--   dst_min      bigint  lowest destination address as a number
--   dst_max      bigint  highest destination address
--   dst_up       bigint  consecutive packets of the node (time order) whose destination address
--                        is higher than the previous one's
--   dst_down     bigint  the same, lower
--   n_src_ports  bigint  distinct source ports (0 for ICMP)
--   sport_well_known, sport_registered, sport_dynamic  bigint  packets with a source port in
--                        0-1023, 1024-49151, 49152-65535 (0 for ICMP)
--
-- Parameters: none.
WITH keyed AS (
  SELECT
    src_ip,
    ts_ns,
    seq,
    dst_ip,
    proto,
    CASE WHEN proto = 1 THEN NULL ELSE COALESCE(src_port, 0) END AS sport,
    CAST(proto AS BIGINT) * 1099511627776
      + CAST(CASE WHEN proto = 1 THEN 0 ELSE COALESCE(dst_port, 0) END AS BIGINT) * 16777216
      + CAST(CASE WHEN proto = 6 THEN COALESCE(tcp_flags, 0) ELSE 0 END AS BIGINT) * 65536
      + CAST(CASE WHEN proto = 1 THEN COALESCE(icmp_type, 0) ELSE 0 END AS BIGINT) * 256
      + CAST(CASE WHEN proto = 1 THEN COALESCE(icmp_code, 0) ELSE 0 END AS BIGINT) AS node
  FROM paper_a_kept_packets
  WHERE proto IN (1, 6, 17)
),
ordered AS (
  SELECT
    src_ip,
    node,
    dst_ip,
    sport,
    ROW_NUMBER() OVER (PARTITION BY src_ip ORDER BY ts_ns, seq) AS pos,
    LAG(dst_ip) OVER (PARTITION BY src_ip, node ORDER BY ts_ns, seq) AS prev_dst
  FROM keyed
)
SELECT
  CAST(src_ip AS BIGINT) AS src,
  CAST(node AS BIGINT) AS node,
  CAST(MIN(pos) AS BIGINT) AS first_pos,
  CAST(COUNT(*) AS BIGINT) AS packets,
  CAST(COUNT(DISTINCT dst_ip) AS BIGINT) AS n_dsts,
  CAST(MIN(dst_ip) AS BIGINT) AS dst_min,
  CAST(MAX(dst_ip) AS BIGINT) AS dst_max,
  CAST(SUM(CASE WHEN prev_dst IS NOT NULL AND dst_ip > prev_dst THEN 1 ELSE 0 END) AS BIGINT)
    AS dst_up,
  CAST(SUM(CASE WHEN prev_dst IS NOT NULL AND dst_ip < prev_dst THEN 1 ELSE 0 END) AS BIGINT)
    AS dst_down,
  CAST(COUNT(DISTINCT sport) AS BIGINT) AS n_src_ports,
  CAST(SUM(CASE WHEN sport < 1024 THEN 1 ELSE 0 END) AS BIGINT) AS sport_well_known,
  CAST(SUM(CASE WHEN sport >= 1024 AND sport < 49152 THEN 1 ELSE 0 END) AS BIGINT)
    AS sport_registered,
  CAST(SUM(CASE WHEN sport >= 49152 THEN 1 ELSE 0 END) AS BIGINT) AS sport_dynamic
FROM ordered
GROUP BY src_ip, node
ORDER BY src, first_pos
