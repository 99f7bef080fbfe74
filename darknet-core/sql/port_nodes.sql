-- port_nodes (table): the ports of Paper A's port graph: every TCP or UDP destination port of
-- the packets the filter chain keeps, with its packet count (a port is a node even without
-- transitions).
--
-- Input:  the view paper_a_packets and the table paper_a_hosts.
-- Output: one row per port code:
--   code    bigint  TCP port p: p; UDP port p: 65536 + p
--   packets bigint  kept packets to that port
--
-- Parameters: none.
SELECT
  CAST(CASE WHEN p.proto = 17 THEN 65536 + p.dst_port ELSE p.dst_port END AS BIGINT) AS code,
  CAST(COUNT(*) AS BIGINT) AS packets
FROM paper_a_packets p
JOIN paper_a_hosts h ON p.src_ip = h.src
WHERE p.kept = 1 AND h.kept = 1 AND p.proto IN (6, 17)
GROUP BY CASE WHEN p.proto = 17 THEN 65536 + p.dst_port ELSE p.dst_port END
ORDER BY code
