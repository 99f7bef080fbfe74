-- paper_b_edges (table): Paper B's daily host-port edges, weighted by the day's packets.
--
-- Input:  the view paper_b_packets.
-- Output: one row per (day, source, port node) with at least one packet:
--   day     bigint  day number (days since 1970-01-01)
--   src     bigint  source address as a number
--   port    bigint  port node: 0..65535, or 65536 for "other"
--   packets bigint  packets of the source to the port node that day
--
-- Parameters: none.
SELECT
  CAST(day AS BIGINT) AS day,
  CAST(src_ip AS BIGINT) AS src,
  CAST(port AS BIGINT) AS port,
  CAST(COUNT(*) AS BIGINT) AS packets
FROM paper_b_packets
GROUP BY day, src_ip, port
ORDER BY day, src, port
