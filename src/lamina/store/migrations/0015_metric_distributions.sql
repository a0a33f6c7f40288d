-- CloudWatch percentiles (store/metric_distribution.py): beside each 1-minute point of metric_points, the bounded
-- distribution of its values (exact values when few, else a log-bucketed histogram within 1%), merged on write.
-- A point without a row here has no percentiles (negative values, statistic sets with Minimum != Maximum).
CREATE TABLE metric_distributions (
    series_id INTEGER NOT NULL,
    minute INTEGER NOT NULL,
    unit TEXT NOT NULL,
    distribution BLOB NOT NULL,
    PRIMARY KEY (series_id, minute, unit)
) WITHOUT ROWID;
CREATE INDEX metric_distributions_by_minute ON metric_distributions (minute);
-- The same distributions merged per hour (hour = minute // 60), so a percentile over days merges hundreds of
-- rows, not tens of thousands: whole hours inside a requested period are read here, the edges from the minutes.
CREATE TABLE metric_distributions_hourly (
    series_id INTEGER NOT NULL,
    hour INTEGER NOT NULL,
    unit TEXT NOT NULL,
    distribution BLOB NOT NULL,
    PRIMARY KEY (series_id, hour, unit)
) WITHOUT ROWID;
CREATE INDEX metric_distributions_hourly_by_hour ON metric_distributions_hourly (hour);
