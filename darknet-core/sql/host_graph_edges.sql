-- host_graph_edges (table): the edges of Paper A's host graphs. Two consecutive packets of a
-- source (its kept TCP, UDP and ICMP packets in time order: ts_ns, then seq) at different
-- nodes count one transition of that unordered pair of nodes; consecutive packets at the same
-- node count nothing.
--
-- Input:  the view paper_a_kept_packets.
-- Output: one row per (source, unordered node pair) with at least one transition:
--   src     bigint  source address as a number
--   node_a  bigint  the smaller node key (keys as in host_graph_nodes)
--   node_b  bigint  the larger node key
--   weight  bigint  transitions between the two nodes, in either order
--
-- Parameters: none.
WITH keyed AS (
  SELECT
    src_ip,
    ts_ns,
    seq,
    CAST(proto AS BIGINT) * 1099511627776
      + CAST(CASE WHEN proto = 1 THEN 0 ELSE COALESCE(dst_port, 0) END AS BIGINT) * 16777216
      + CAST(CASE WHEN proto = 6 THEN COALESCE(tcp_flags, 0) ELSE 0 END AS BIGINT) * 65536
      + CAST(CASE WHEN proto = 1 THEN COALESCE(icmp_type, 0) ELSE 0 END AS BIGINT) * 256
      + CAST(CASE WHEN proto = 1 THEN COALESCE(icmp_code, 0) ELSE 0 END AS BIGINT) AS node
  FROM paper_a_kept_packets
  WHERE proto IN (1, 6, 17)
),
steps AS (
  SELECT
    src_ip,
    node,
    LAG(node) OVER (PARTITION BY src_ip ORDER BY ts_ns, seq) AS prev
  FROM keyed
)
SELECT
  CAST(src_ip AS BIGINT) AS src,
  CAST(CASE WHEN prev < node THEN prev ELSE node END AS BIGINT) AS node_a,
  CAST(CASE WHEN prev < node THEN node ELSE prev END AS BIGINT) AS node_b,
  CAST(COUNT(*) AS BIGINT) AS weight
FROM steps
WHERE prev IS NOT NULL AND prev <> node
GROUP BY src_ip, CASE WHEN prev < node THEN prev ELSE node END,
  CASE WHEN prev < node THEN node ELSE prev END
ORDER BY src, node_a, node_b
