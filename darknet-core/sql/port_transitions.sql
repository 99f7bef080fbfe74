-- port_transitions (table): Paper A's port-transition counts over the packets the filter chain
-- keeps. Each source's TCP and UDP packets in time order (ts_ns, then seq) form one walk of
-- port codes; a code directly followed by a different code counts one transition of that
-- ordered pair; a code followed by itself counts nothing; ICMP and other protocols are skipped.
--
-- Input:  the view paper_a_packets and the table paper_a_hosts.
-- Output: one row per ordered pair with at least one transition:
--   from_code bigint  port code before (TCP port p: p; UDP port p: 65536 + p)
--   to_code   bigint  port code after
--   theta     bigint  number of transitions
--
-- Parameters: none.
WITH walk AS (
  SELECT
    p.src_ip,
    p.ts_ns,
    p.seq,
    CAST(CASE WHEN p.proto = 17 THEN 65536 + p.dst_port ELSE p.dst_port END AS BIGINT) AS code
  FROM paper_a_packets p
  JOIN paper_a_hosts h ON p.src_ip = h.src
  WHERE p.kept = 1 AND h.kept = 1 AND p.proto IN (6, 17)
),
steps AS (
  SELECT code, LAG(code) OVER (PARTITION BY src_ip ORDER BY ts_ns, seq) AS prev
  FROM walk
)
SELECT
  CAST(prev AS BIGINT) AS from_code,
  CAST(code AS BIGINT) AS to_code,
  CAST(COUNT(*) AS BIGINT) AS theta
FROM steps
WHERE prev IS NOT NULL AND prev <> code
GROUP BY prev, code
ORDER BY from_code, to_code
