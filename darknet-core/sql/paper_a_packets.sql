-- paper_a_packets (view): the packets Paper A's filter chain works on, after the bogon-source
-- filter, each with its isolated-packet decision.
--
-- Input:  packets (the packet dataset: ts_ns int64, seq int64, src_ip uint32, proto uint8,
--         dst_port uint16 or null, ...).
-- Output: one row per packet whose source is not a bogon (all packets when drop_bogons = 0):
--   ts_ns    bigint  capture time, ns since the epoch
--   seq      bigint  capture order among equal timestamps (per day)
--   src_ip   source address as a number
--   proto    IP protocol number
--   dst_port destination port (null without ports)
--   kept     int     1 when another packet of the same source lies at most isolated_window_ns
--                    before or after it (inclusive), 0 when the packet is isolated
--
-- Parameters: ${drop_bogons} (1 or 0), ${isolated_window_ns} (ns, default 7 days).
-- Bogon ranges (RFC 6890 special-purpose blocks) are written as closed integer ranges so that
-- the text needs no bitwise operators.
SELECT
  ts_ns,
  seq,
  src_ip,
  proto,
  dst_port,
  CASE
    WHEN (prev_ts IS NOT NULL AND ts_ns - prev_ts <= ${isolated_window_ns})
      OR (next_ts IS NOT NULL AND next_ts - ts_ns <= ${isolated_window_ns}) THEN 1
    ELSE 0
  END AS kept
FROM (
  SELECT
    ts_ns,
    seq,
    src_ip,
    proto,
    dst_port,
    LAG(ts_ns) OVER (PARTITION BY src_ip ORDER BY ts_ns, seq) AS prev_ts,
    LEAD(ts_ns) OVER (PARTITION BY src_ip ORDER BY ts_ns, seq) AS next_ts
  FROM packets
  WHERE ${drop_bogons} = 0 OR NOT (
       src_ip BETWEEN 0 AND 16777215              -- 0.0.0.0/8
    OR src_ip BETWEEN 167772160 AND 184549375     -- 10.0.0.0/8
    OR src_ip BETWEEN 1681915904 AND 1686110207   -- 100.64.0.0/10
    OR src_ip BETWEEN 2130706432 AND 2147483647   -- 127.0.0.0/8
    OR src_ip BETWEEN 2851995648 AND 2852061183   -- 169.254.0.0/16
    OR src_ip BETWEEN 2886729728 AND 2887778303   -- 172.16.0.0/12
    OR src_ip BETWEEN 3221225472 AND 3221225727   -- 192.0.0.0/24
    OR src_ip BETWEEN 3221225984 AND 3221226239   -- 192.0.2.0/24
    OR src_ip BETWEEN 3232235520 AND 3232301055   -- 192.168.0.0/16
    OR src_ip BETWEEN 3323068416 AND 3323199487   -- 198.18.0.0/15
    OR src_ip BETWEEN 3325256704 AND 3325256959   -- 198.51.100.0/24
    OR src_ip BETWEEN 3405803776 AND 3405804031   -- 203.0.113.0/24
    OR src_ip BETWEEN 3758096384 AND 4294967295   -- 224.0.0.0/4 and 240.0.0.0/4
  )
) AS neighbours
