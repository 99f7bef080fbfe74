-- paper_b_host_features (table): the 37 raw features of every host node of Paper B's daily
-- snapshots, before the per-day scaling (each column divided by its maximum over the day's
-- hosts). Standard deviations are sample ones (n - 1), 0 for a single value.
--
-- Input:  the view paper_b_packets.
-- Output: one row per (day, kept source):
--   day bigint, src bigint (source address as a number), then 37 doubles in feature order:
--   n_ports, pkts_per_port_{min,max,sum,mean,std}, n_dst_addresses,
--   pkts_per_address_{min,max,sum,mean,std}, then F_{sum,min,max,mean,std} for F in pck_len,
--   ttl, mss, window, tcp_ts. Per-port counts are over the source's port nodes ("other" is one
--   node); per-address counts over its destination addresses.
--
-- Parameters: none.
WITH edges AS (
  SELECT day, src_ip, port, COUNT(*) AS n FROM paper_b_packets GROUP BY day, src_ip, port
),
per_port AS (
  SELECT
    day,
    src_ip,
    COUNT(*) AS n_ports,
    CAST(MIN(n) AS DOUBLE) AS pkts_per_port_min,
    CAST(MAX(n) AS DOUBLE) AS pkts_per_port_max,
    CAST(SUM(n) AS DOUBLE) AS pkts_per_port_sum,
    CAST(AVG(n) AS DOUBLE) AS pkts_per_port_mean,
    CAST(COALESCE(STDDEV_SAMP(n), 0) AS DOUBLE) AS pkts_per_port_std
  FROM edges
  GROUP BY day, src_ip
),
addresses AS (
  SELECT day, src_ip, dst_ip, COUNT(*) AS n FROM paper_b_packets GROUP BY day, src_ip, dst_ip
),
per_address AS (
  SELECT
    day,
    src_ip,
    COUNT(*) AS n_dst_addresses,
    CAST(MIN(n) AS DOUBLE) AS pkts_per_address_min,
    CAST(MAX(n) AS DOUBLE) AS pkts_per_address_max,
    CAST(SUM(n) AS DOUBLE) AS pkts_per_address_sum,
    CAST(AVG(n) AS DOUBLE) AS pkts_per_address_mean,
    CAST(COALESCE(STDDEV_SAMP(n), 0) AS DOUBLE) AS pkts_per_address_std
  FROM addresses
  GROUP BY day, src_ip
),
per_field AS (
  SELECT
    day,
    src_ip,
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
  GROUP BY day, src_ip
)
SELECT
  CAST(pp.day AS BIGINT) AS day,
  CAST(pp.src_ip AS BIGINT) AS src,
  CAST(pp.n_ports AS DOUBLE) AS n_ports,
  pp.pkts_per_port_min,
  pp.pkts_per_port_max,
  pp.pkts_per_port_sum,
  pp.pkts_per_port_mean,
  pp.pkts_per_port_std,
  CAST(pa.n_dst_addresses AS DOUBLE) AS n_dst_addresses,
  pa.pkts_per_address_min,
  pa.pkts_per_address_max,
  pa.pkts_per_address_sum,
  pa.pkts_per_address_mean,
  pa.pkts_per_address_std,
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
FROM per_port pp
JOIN per_address pa ON pp.day = pa.day AND pp.src_ip = pa.src_ip
JOIN per_field pf ON pp.day = pf.day AND pp.src_ip = pf.src_ip
ORDER BY day, src
