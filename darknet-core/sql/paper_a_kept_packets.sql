-- paper_a_kept_packets (view): the packets Paper A's filter chain keeps, with the columns its
-- host graphs and host statistics read: every packet of a kept source (paper_a_hosts.kept = 1)
-- that the isolated-packet filter keeps. Kept sources are never bogons, so the isolated-packet
-- decision over all of a source's packets is the chain's.
--
-- Input:  packets (the packet dataset) and the table paper_a_hosts.
-- Output: one row per kept packet, with the dataset's columns ts_ns, seq, src_ip, dst_ip,
--         proto, src_port, dst_port, pck_len, ttl, tcp_flags, tcp_seq, t_win, t_mss, t_ts,
--         icmp_type, icmp_code (types and nulls as in the dataset).
--
-- Parameters: ${isolated_window_ns} (ns, default 7 days).
SELECT
  ts_ns, seq, src_ip, dst_ip, proto, src_port, dst_port, pck_len, ttl, tcp_flags, tcp_seq,
  t_win, t_mss, t_ts, icmp_type, icmp_code
FROM (
  SELECT
    p.ts_ns, p.seq, p.src_ip, p.dst_ip, p.proto, p.src_port, p.dst_port, p.pck_len, p.ttl,
    p.tcp_flags, p.tcp_seq, p.t_win, p.t_mss, p.t_ts, p.icmp_type, p.icmp_code,
    LAG(p.ts_ns) OVER (PARTITION BY p.src_ip ORDER BY p.ts_ns, p.seq) AS prev_ts,
    LEAD(p.ts_ns) OVER (PARTITION BY p.src_ip ORDER BY p.ts_ns, p.seq) AS next_ts
  FROM packets p
  JOIN paper_a_hosts h ON p.src_ip = h.src
  WHERE h.kept = 1
) AS neighbours
WHERE (prev_ts IS NOT NULL AND ts_ns - prev_ts <= ${isolated_window_ns})
   OR (next_ts IS NOT NULL AND next_ts - ts_ns <= ${isolated_window_ns})
