-- packet_days (table): the UTC days of the dataset with their packets, so that a pipeline reading
-- aggregates reports the days its input covers as one reading the packets does.
--
-- Input:  packets (the packet dataset).
-- Output: one row per UTC day with at least one packet:
--   day      bigint  day number (days since 1970-01-01 UTC; times before 1970 count as day 0)
--   packets  bigint  packets of that day
--
-- Parameters: none.
SELECT
  CAST(day AS BIGINT) AS day,
  CAST(COUNT(*) AS BIGINT) AS packets
FROM (
  SELECT
    CAST((t - t % 86400000000000) / 86400000000000 AS BIGINT) AS day
  FROM (
    SELECT CASE WHEN ts_ns > 0 THEN ts_ns ELSE 0 END AS t FROM packets
  ) AS clipped
) AS days
GROUP BY day
ORDER BY day
