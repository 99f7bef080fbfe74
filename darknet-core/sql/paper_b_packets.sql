-- paper_b_packets (view): the TCP packets of Paper B's daily snapshots: the packets of the
-- (day, source) pairs with at least host_min_packets TCP packets that day, each with its port
-- node (the port itself when it is among the day's top_k_ports ports, else 65536 = "other").
-- Ports are ranked by the day's packets of the kept sources, ties broken by the lower port.
--
-- Input:  packets (the packet dataset).
-- Output: one row per kept TCP packet:
--   day     bigint  day number (days since 1970-01-01 of ts_ns + utc_offset_ns, before 1970 = 0)
--   src_ip  source address as a number
--   dst_ip  destination address as a number
--   port    bigint  port node: 0..65535, or 65536 for "other"
--   pck_len, ttl, mss, win, tsval  double  packet fields (absent MSS / TSval count as 0)
--
-- Parameters: ${host_min_packets} (keep a source's day at this many TCP packets or more; the
-- reference code's "more than 5" is 6), ${top_k_ports}, ${utc_offset_ns}.
WITH tcp AS (
  SELECT
    CAST((local - local % 86400000000000) / 86400000000000 AS BIGINT) AS day,
    src_ip,
    dst_ip,
    dst_port,
    CAST(pck_len AS DOUBLE) AS pck_len,
    CAST(ttl AS DOUBLE) AS ttl,
    CAST(COALESCE(t_mss, 0) AS DOUBLE) AS mss,
    CAST(COALESCE(t_win, 0) AS DOUBLE) AS win,
    CAST(COALESCE(t_ts, 0) AS DOUBLE) AS tsval
  FROM (
    SELECT
      src_ip, dst_ip, dst_port, pck_len, ttl, t_mss, t_win, t_ts,
      CASE WHEN ts_ns + ${utc_offset_ns} > 0 THEN ts_ns + ${utc_offset_ns} ELSE 0 END AS local
    FROM packets
    WHERE proto = 6
  ) AS shifted
),
host_days AS (
  SELECT day, src_ip
  FROM tcp
  GROUP BY day, src_ip
  HAVING COUNT(*) >= ${host_min_packets}
),
kept AS (
  SELECT t.*
  FROM tcp t
  JOIN host_days h ON t.day = h.day AND t.src_ip = h.src_ip
),
port_counts AS (
  SELECT day, dst_port, COUNT(*) AS n
  FROM kept
  GROUP BY day, dst_port
),
ranked AS (
  SELECT day, dst_port, ROW_NUMBER() OVER (PARTITION BY day ORDER BY n DESC, dst_port) AS port_rank
  FROM port_counts
)
SELECT
  k.day,
  k.src_ip,
  k.dst_ip,
  CAST(CASE WHEN r.port_rank <= ${top_k_ports} THEN k.dst_port ELSE 65536 END AS BIGINT) AS port,
  k.pck_len,
  k.ttl,
  k.mss,
  k.win,
  k.tsval
FROM kept k
JOIN ranked r ON k.day = r.day AND k.dst_port = r.dst_port
