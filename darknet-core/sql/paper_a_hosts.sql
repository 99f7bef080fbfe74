-- paper_a_hosts (table): what Paper A's three filters decide for each source, with the inputs
-- of each decision, so that the filter reports and the kept hosts follow from this table alone.
--
-- Input:  packets (the packet dataset) and the view paper_a_packets.
-- Output: one row per source address seen in the dataset, bogons included:
--   src           bigint  source address as a number
--   packets       bigint  packets of the source in the dataset
--   bogon         int     1 when the bogon-source filter removes the source (0 when drop_bogons = 0)
--   isolated_kept bigint  packets left after the isolated-packet filter (0 for bogons)
--   max_tcp_ports bigint  most distinct TCP destination ports in one vertical-scan window,
--                         over the packets left after the isolated-packet filter
--   max_udp_ports bigint  the same for UDP
--   vertical      int     1 when max_tcp_ports >= max_tcp_ports or max_udp_ports >= max_udp_ports
--   walk_len      bigint  length of the collapsed (protocol, port) walk: TCP/UDP packets left
--                         after the isolated-packet filter in time order, repeats of the
--                         previous key dropped
--   walk_mismatch_2 .. walk_mismatch_8  bigint  positions i >= p of the walk whose key differs
--                         from the key p places earlier (0: the walk repeats with period p)
--   walk_protos   bigint  distinct protocols in the walk
--   walk_steps    bigint  distinct port steps between consecutive keys of the walk
--   walk_step     bigint  the smallest such step (the step, when walk_steps = 1)
--   periodic      int     1 when the walk is periodic: walk_len >= min_len and either a period p
--                         in 2..min(max_period, walk_len / 2) with no mismatch, or (arithmetic = 1)
--                         one protocol and one non-zero port step
--   kept          int     1 when the source still has packets after the whole chain
--
-- Parameters: ${max_tcp_ports}, ${max_udp_ports}, ${vertical_window_ns} (7 days by default),
-- ${min_len}, ${max_period} (at most 8: the text tests periods 2 to 8), ${arithmetic} (1 or 0).
-- Vertical-scan windows start at the first packet of the dataset (bogons included).
-- Windows and days are cut with x - x % w (exact in engines whose integer division returns a
-- double, such as Spark's).
WITH origin AS (
  SELECT MIN(ts_ns) AS t0 FROM packets
),
all_hosts AS (
  SELECT src_ip, COUNT(*) AS packets FROM packets GROUP BY src_ip
),
chain AS (
  SELECT
    src_ip,
    COUNT(*) AS seen,
    SUM(kept) AS isolated_kept
  FROM paper_a_packets
  GROUP BY src_ip
),
kept_ports AS (
  SELECT
    p.src_ip,
    p.proto,
    p.dst_port,
    CASE WHEN p.ts_ns > o.t0 THEN p.ts_ns - o.t0 ELSE 0 END AS since
  FROM paper_a_packets p CROSS JOIN origin o
  WHERE p.kept = 1 AND p.proto IN (6, 17)
),
windows AS (
  SELECT src_ip, proto, since - since % ${vertical_window_ns} AS w, COUNT(DISTINCT dst_port) AS n
  FROM kept_ports
  GROUP BY src_ip, proto, since - since % ${vertical_window_ns}
),
vertical AS (
  SELECT
    src_ip,
    MAX(CASE WHEN proto = 6 THEN n ELSE 0 END) AS max_tcp_ports,
    MAX(CASE WHEN proto = 17 THEN n ELSE 0 END) AS max_udp_ports
  FROM windows
  GROUP BY src_ip
),
keyed AS (
  SELECT
    src_ip,
    ts_ns,
    seq,
    proto,
    CAST(CASE WHEN proto = 17 THEN 65536 + dst_port ELSE dst_port END AS BIGINT) AS code
  FROM paper_a_packets
  WHERE kept = 1 AND proto IN (6, 17)
),
collapsed AS (
  SELECT src_ip, ts_ns, seq, proto, code
  FROM (
    SELECT
      src_ip, ts_ns, seq, proto, code,
      LAG(code) OVER (PARTITION BY src_ip ORDER BY ts_ns, seq) AS prev
    FROM keyed
  ) AS k
  WHERE prev IS NULL OR prev <> code
),
lagged AS (
  SELECT
    src_ip,
    proto,
    code,
    code - LAG(code, 1) OVER w AS step,
    LAG(code, 2) OVER w AS l2,
    LAG(code, 3) OVER w AS l3,
    LAG(code, 4) OVER w AS l4,
    LAG(code, 5) OVER w AS l5,
    LAG(code, 6) OVER w AS l6,
    LAG(code, 7) OVER w AS l7,
    LAG(code, 8) OVER w AS l8
  FROM collapsed
  WINDOW w AS (PARTITION BY src_ip ORDER BY ts_ns, seq)
),
walks AS (
  SELECT
    src_ip,
    COUNT(*) AS walk_len,
    SUM(CASE WHEN l2 IS NOT NULL AND l2 <> code THEN 1 ELSE 0 END) AS m2,
    SUM(CASE WHEN l3 IS NOT NULL AND l3 <> code THEN 1 ELSE 0 END) AS m3,
    SUM(CASE WHEN l4 IS NOT NULL AND l4 <> code THEN 1 ELSE 0 END) AS m4,
    SUM(CASE WHEN l5 IS NOT NULL AND l5 <> code THEN 1 ELSE 0 END) AS m5,
    SUM(CASE WHEN l6 IS NOT NULL AND l6 <> code THEN 1 ELSE 0 END) AS m6,
    SUM(CASE WHEN l7 IS NOT NULL AND l7 <> code THEN 1 ELSE 0 END) AS m7,
    SUM(CASE WHEN l8 IS NOT NULL AND l8 <> code THEN 1 ELSE 0 END) AS m8,
    COUNT(DISTINCT proto) AS walk_protos,
    COUNT(DISTINCT step) AS walk_steps,
    MIN(step) AS walk_step
  FROM lagged
  GROUP BY src_ip
),
decided AS (
  SELECT
    h.src_ip,
    h.packets,
    CASE WHEN c.src_ip IS NULL THEN 1 ELSE 0 END AS bogon,
    COALESCE(c.isolated_kept, 0) AS isolated_kept,
    COALESCE(v.max_tcp_ports, 0) AS max_tcp_ports,
    COALESCE(v.max_udp_ports, 0) AS max_udp_ports,
    COALESCE(w.walk_len, 0) AS walk_len,
    COALESCE(w.m2, 0) AS m2,
    COALESCE(w.m3, 0) AS m3,
    COALESCE(w.m4, 0) AS m4,
    COALESCE(w.m5, 0) AS m5,
    COALESCE(w.m6, 0) AS m6,
    COALESCE(w.m7, 0) AS m7,
    COALESCE(w.m8, 0) AS m8,
    COALESCE(w.walk_protos, 0) AS walk_protos,
    COALESCE(w.walk_steps, 0) AS walk_steps,
    COALESCE(w.walk_step, 0) AS walk_step
  FROM all_hosts h
  LEFT JOIN chain c ON h.src_ip = c.src_ip
  LEFT JOIN vertical v ON h.src_ip = v.src_ip
  LEFT JOIN walks w ON h.src_ip = w.src_ip
),
flagged AS (
  SELECT
    *,
    CASE WHEN max_tcp_ports >= ${max_tcp_ports} OR max_udp_ports >= ${max_udp_ports}
      THEN 1 ELSE 0 END AS vertical,
    CASE WHEN walk_len >= ${min_len} AND (
         (m2 = 0 AND 2 <= ${max_period} AND 4 <= walk_len)
      OR (m3 = 0 AND 3 <= ${max_period} AND 6 <= walk_len)
      OR (m4 = 0 AND 4 <= ${max_period} AND 8 <= walk_len)
      OR (m5 = 0 AND 5 <= ${max_period} AND 10 <= walk_len)
      OR (m6 = 0 AND 6 <= ${max_period} AND 12 <= walk_len)
      OR (m7 = 0 AND 7 <= ${max_period} AND 14 <= walk_len)
      OR (m8 = 0 AND 8 <= ${max_period} AND 16 <= walk_len)
      OR (${arithmetic} = 1 AND walk_protos = 1 AND walk_steps = 1 AND walk_step <> 0)
    ) THEN 1 ELSE 0 END AS periodic
  FROM decided
)
SELECT
  CAST(src_ip AS BIGINT) AS src,
  CAST(packets AS BIGINT) AS packets,
  CAST(bogon AS INT) AS bogon,
  CAST(isolated_kept AS BIGINT) AS isolated_kept,
  CAST(max_tcp_ports AS BIGINT) AS max_tcp_ports,
  CAST(max_udp_ports AS BIGINT) AS max_udp_ports,
  CAST(vertical AS INT) AS vertical,
  CAST(walk_len AS BIGINT) AS walk_len,
  CAST(m2 AS BIGINT) AS walk_mismatch_2,
  CAST(m3 AS BIGINT) AS walk_mismatch_3,
  CAST(m4 AS BIGINT) AS walk_mismatch_4,
  CAST(m5 AS BIGINT) AS walk_mismatch_5,
  CAST(m6 AS BIGINT) AS walk_mismatch_6,
  CAST(m7 AS BIGINT) AS walk_mismatch_7,
  CAST(m8 AS BIGINT) AS walk_mismatch_8,
  CAST(walk_protos AS BIGINT) AS walk_protos,
  CAST(walk_steps AS BIGINT) AS walk_steps,
  CAST(walk_step AS BIGINT) AS walk_step,
  CAST(periodic AS INT) AS periodic,
  CAST(CASE WHEN bogon = 0 AND isolated_kept > 0 AND vertical = 0 AND periodic = 0
    THEN 1 ELSE 0 END AS INT) AS kept
FROM flagged
ORDER BY src
