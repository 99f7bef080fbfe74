-- paper_a_host_stats (table): the columns of host_stats over the packets Paper A's filter chain
-- keeps rather than over every packet: the per-host statistics of Paper A's non-graph baseline
-- and of its hybrid classifier, which read each kept source's kept packets.
--
-- Input:  the view paper_a_kept_packets.
-- Output: one row per kept source, the columns of host_stats (see host_stats.sql).
--
-- Parameters: none.
SELECT
  CAST(src_ip AS BIGINT) AS src,
  CAST(COUNT(*) AS BIGINT) AS packets,
  CAST(SUM(CASE WHEN proto = 6 THEN 1 ELSE 0 END) AS BIGINT) AS tcp,
  CAST(SUM(CASE WHEN proto = 17 THEN 1 ELSE 0 END) AS BIGINT) AS udp,
  CAST(SUM(CASE WHEN proto = 1 THEN 1 ELSE 0 END) AS BIGINT) AS icmp,
  CAST(SUM(CASE WHEN proto NOT IN (1, 6, 17) THEN 1 ELSE 0 END) AS BIGINT) AS other,
  CAST(SUM(CASE WHEN proto = 6 AND (tcp_flags & 2) <> 0 AND (tcp_flags & 16) = 0
    THEN 1 ELSE 0 END) AS BIGINT) AS syn,
  CAST(SUM(CASE WHEN proto = 6 AND (tcp_flags & 2) <> 0 AND (tcp_flags & 16) <> 0
    THEN 1 ELSE 0 END) AS BIGINT) AS syn_ack,
  CAST(SUM(CASE WHEN proto = 6 AND (tcp_flags & 4) <> 0 THEN 1 ELSE 0 END) AS BIGINT) AS rst,
  CAST(SUM(CASE WHEN proto = 6 AND tcp_seq = dst_ip THEN 1 ELSE 0 END) AS BIGINT) AS mirai,
  CAST(SUM(CASE WHEN proto = 6 AND COALESCE(t_ts, 0) <> 0 THEN 1 ELSE 0 END) AS BIGINT)
    AS tsval_packets,
  CAST(MIN(ts_ns) AS BIGINT) AS first_seen_ns,
  CAST(MAX(ts_ns) AS BIGINT) AS last_seen_ns,
  CAST(COUNT(DISTINCT dst_ip) AS BIGINT) AS n_dsts,
  CAST(COUNT(DISTINCT CASE WHEN proto = 6 THEN dst_port END) AS BIGINT) AS n_tcp_ports,
  CAST(COUNT(DISTINCT CASE WHEN proto = 17 THEN dst_port END) AS BIGINT) AS n_udp_ports,
  CAST(MIN(CASE WHEN proto = 6 THEN dst_port END) AS BIGINT) AS tcp_port_min,
  CAST(MAX(CASE WHEN proto = 6 THEN dst_port END) AS BIGINT) AS tcp_port_max,
  CAST(COUNT(CAST(pck_len AS DOUBLE)) AS BIGINT) AS ip_len_n,
  CAST(SUM(CAST(pck_len AS DOUBLE)) AS DOUBLE) AS ip_len_sum,
  CAST(MIN(CAST(pck_len AS DOUBLE)) AS DOUBLE) AS ip_len_min,
  CAST(MAX(CAST(pck_len AS DOUBLE)) AS DOUBLE) AS ip_len_max,
  CAST(AVG(CAST(pck_len AS DOUBLE)) AS DOUBLE) AS ip_len_mean,
  CAST(VAR_POP(CAST(pck_len AS DOUBLE)) * COUNT(CAST(pck_len AS DOUBLE)) AS DOUBLE) AS ip_len_m2,
  CAST(COUNT(CAST(ttl AS DOUBLE)) AS BIGINT) AS ttl_n,
  CAST(SUM(CAST(ttl AS DOUBLE)) AS DOUBLE) AS ttl_sum,
  CAST(MIN(CAST(ttl AS DOUBLE)) AS DOUBLE) AS ttl_min,
  CAST(MAX(CAST(ttl AS DOUBLE)) AS DOUBLE) AS ttl_max,
  CAST(AVG(CAST(ttl AS DOUBLE)) AS DOUBLE) AS ttl_mean,
  CAST(VAR_POP(CAST(ttl AS DOUBLE)) * COUNT(CAST(ttl AS DOUBLE)) AS DOUBLE) AS ttl_m2,
  CAST(COUNT(CASE WHEN proto = 6 THEN CAST(COALESCE(t_mss, 0) AS DOUBLE) END) AS BIGINT) AS mss_n,
  CAST(SUM(CASE WHEN proto = 6 THEN CAST(COALESCE(t_mss, 0) AS DOUBLE) END) AS DOUBLE) AS mss_sum,
  CAST(MIN(CASE WHEN proto = 6 THEN CAST(COALESCE(t_mss, 0) AS DOUBLE) END) AS DOUBLE) AS mss_min,
  CAST(MAX(CASE WHEN proto = 6 THEN CAST(COALESCE(t_mss, 0) AS DOUBLE) END) AS DOUBLE) AS mss_max,
  CAST(AVG(CASE WHEN proto = 6 THEN CAST(COALESCE(t_mss, 0) AS DOUBLE) END) AS DOUBLE) AS mss_mean,
  CAST(VAR_POP(CASE WHEN proto = 6 THEN CAST(COALESCE(t_mss, 0) AS DOUBLE) END) * COUNT(CASE WHEN proto = 6 THEN CAST(COALESCE(t_mss, 0) AS DOUBLE) END) AS DOUBLE) AS mss_m2,
  CAST(COUNT(CASE WHEN proto = 6 THEN CAST(COALESCE(t_win, 0) AS DOUBLE) END) AS BIGINT) AS window_n,
  CAST(SUM(CASE WHEN proto = 6 THEN CAST(COALESCE(t_win, 0) AS DOUBLE) END) AS DOUBLE) AS window_sum,
  CAST(MIN(CASE WHEN proto = 6 THEN CAST(COALESCE(t_win, 0) AS DOUBLE) END) AS DOUBLE) AS window_min,
  CAST(MAX(CASE WHEN proto = 6 THEN CAST(COALESCE(t_win, 0) AS DOUBLE) END) AS DOUBLE) AS window_max,
  CAST(AVG(CASE WHEN proto = 6 THEN CAST(COALESCE(t_win, 0) AS DOUBLE) END) AS DOUBLE) AS window_mean,
  CAST(VAR_POP(CASE WHEN proto = 6 THEN CAST(COALESCE(t_win, 0) AS DOUBLE) END) * COUNT(CASE WHEN proto = 6 THEN CAST(COALESCE(t_win, 0) AS DOUBLE) END) AS DOUBLE) AS window_m2,
  CAST(COUNT(CASE WHEN proto = 6 THEN CAST(COALESCE(t_ts, 0) AS DOUBLE) END) AS BIGINT) AS tsval_n,
  CAST(SUM(CASE WHEN proto = 6 THEN CAST(COALESCE(t_ts, 0) AS DOUBLE) END) AS DOUBLE) AS tsval_sum,
  CAST(MIN(CASE WHEN proto = 6 THEN CAST(COALESCE(t_ts, 0) AS DOUBLE) END) AS DOUBLE) AS tsval_min,
  CAST(MAX(CASE WHEN proto = 6 THEN CAST(COALESCE(t_ts, 0) AS DOUBLE) END) AS DOUBLE) AS tsval_max,
  CAST(AVG(CASE WHEN proto = 6 THEN CAST(COALESCE(t_ts, 0) AS DOUBLE) END) AS DOUBLE) AS tsval_mean,
  CAST(VAR_POP(CASE WHEN proto = 6 THEN CAST(COALESCE(t_ts, 0) AS DOUBLE) END) * COUNT(CASE WHEN proto = 6 THEN CAST(COALESCE(t_ts, 0) AS DOUBLE) END) AS DOUBLE) AS tsval_m2
FROM paper_a_kept_packets
GROUP BY src_ip
ORDER BY src
