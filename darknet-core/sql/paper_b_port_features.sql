-- paper_b_port_features (table): the 37 raw features of every port node of Paper B's daily
-- snapshots, before the per-day scaling (each column divided by its maximum over the day's
-- ports). Standard deviations are sample ones (n - 1), 0 for a single value.
--
-- Input:  the view paper_b_packets.
-- Output: one row per (day, port node):
--   day bigint, port bigint (0..65535, or 65536 for "other"), then 37 doubles in feature order:
--   n_src_hosts, pkts_per_host_{min,max,sum,mean,std}, zero_0 .. zero_5 (always 0), then
--   F_{sum,min,max,mean,std} for F in pck_len, ttl, mss, window, tcp_ts over the port's packets.
--
-- Parameters: none.
WITH edges AS (
  SELECT day, src_ip, port, COUNT(*) AS n FROM paper_b_packets GROUP BY day, src_ip, port
),
per_host AS (
  SELECT
    day,
    port,
    COUNT(*) AS n_src_hosts,
    CAST(MIN(n) AS DOUBLE) AS pkts_per_host_min,
    CAST(MAX(n) AS DOUBLE) AS pkts_per_host_max,
    CAST(SUM(n) AS DOUBLE) AS pkts_per_host_sum,
    CAST(AVG(n) AS DOUBLE) AS pkts_per_host_mean,
    CAST(COALESCE(STDDEV_SAMP(n), 0) AS DOUBLE) AS pkts_per_host_std
  FROM edges
  GROUP BY day, port
),
per_field AS (
  SELECT
    day,
    port,
    CAST(SUM(pck_len) AS DOUBLE) AS pck_len_sum,
    CAST(MIN(pck_len) AS DOUBLE) AS pck_len_min,
    CAST(MAX(pck_len) AS DOUBLE) AS pck_len_max,
    CAST(AVG(pck_len) AS DOUBLE) AS pck_len_mean,
    CAST(COALESCE(STDDEV_SAMP(pck_len), 0) AS DOUBLE) AS pck_len_std,
    CAST(SUM(ttl) AS DOUBLE) AS ttl_sum,
    CAST(MIN(ttl) AS DOUBLE) AS ttl_min,
    CAST(MAX(ttl) AS DOUBLE) AS ttl_max,
    CAST(AVG(ttl) AS DOUBLE) AS ttl_mean,
    CAST(COALESCE(STDDEV_SAMP(ttl), 0) AS DOUBLE) AS ttl_std,
    CAST(SUM(mss) AS DOUBLE) AS mss_sum,
    CAST(MIN(mss) AS DOUBLE) AS mss_min,
    CAST(MAX(mss) AS DOUBLE) AS mss_max,
    CAST(AVG(mss) AS DOUBLE) AS mss_mean,
    CAST(COALESCE(STDDEV_SAMP(mss), 0) AS DOUBLE) AS mss_std,
    CAST(SUM(win) AS DOUBLE) AS window_sum,
    CAST(MIN(win) AS DOUBLE) AS window_min,
    CAST(MAX(win) AS DOUBLE) AS window_max,
    CAST(AVG(win) AS DOUBLE) AS window_mean,
    CAST(COALESCE(STDDEV_SAMP(win), 0) AS DOUBLE) AS window_std,
    CAST(SUM(tsval) AS DOUBLE) AS tcp_ts_sum,
    CAST(MIN(tsval) AS DOUBLE) AS tcp_ts_min,
    CAST(MAX(tsval) AS DOUBLE) AS tcp_ts_max,
    CAST(AVG(tsval) AS DOUBLE) AS tcp_ts_mean,
    CAST(COALESCE(STDDEV_SAMP(tsval), 0) AS DOUBLE) AS tcp_ts_std
  FROM paper_b_packets
  GROUP BY day, port
)
SELECT
  CAST(ph.day AS BIGINT) AS day,
  CAST(ph.port AS BIGINT) AS port,
  CAST(ph.n_src_hosts AS DOUBLE) AS n_src_hosts,
  ph.pkts_per_host_min,
  ph.pkts_per_host_max,
  ph.pkts_per_host_sum,
  ph.pkts_per_host_mean,
  ph.pkts_per_host_std,
  CAST(0 AS DOUBLE) AS zero_0,
  CAST(0 AS DOUBLE) AS zero_1,
  CAST(0 AS DOUBLE) AS zero_2,
  CAST(0 AS DOUBLE) AS zero_3,
  CAST(0 AS DOUBLE) AS zero_4,
  CAST(0 AS DOUBLE) AS zero_5,
  pf.pck_len_sum,
  pf.pck_len_min,
  pf.pck_len_max,
  pf.pck_len_mean,
  pf.pck_len_std,
  pf.ttl_sum,
  pf.ttl_min,
  pf.ttl_max,
  pf.ttl_mean,
  pf.ttl_std,
  pf.mss_sum,
  pf.mss_min,
  pf.mss_max,
  pf.mss_mean,
  pf.mss_std,
  pf.window_sum,
  pf.window_min,
  pf.window_max,
  pf.window_mean,
  pf.window_std,
  pf.tcp_ts_sum,
  pf.tcp_ts_min,
  pf.tcp_ts_max,
  pf.tcp_ts_mean,
  pf.tcp_ts_std
FROM per_host ph
JOIN per_field pf ON ph.day = pf.day AND ph.port = pf.port
ORDER BY day, port
