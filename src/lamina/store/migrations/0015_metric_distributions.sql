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
-- The same distributions merged into blocks of `span` minutes (10 and 60; `block` = minute // span * span), so a
-- percentile over days merges a few thousand rows, not tens of thousands: each minute of a requested period is
-- read from the largest block that lies whole inside that period, the rest from the minutes.
CREATE TABLE metric_distribution_blocks (
    series_id INTEGER NOT NULL,
    span INTEGER NOT NULL,
    block INTEGER NOT NULL,
    unit TEXT NOT NULL,
    distribution BLOB NOT NULL,
    PRIMARY KEY (series_id, span, block, unit)
) WITHOUT ROWID;
CREATE INDEX metric_distribution_blocks_by_block ON metric_distribution_blocks (block);
