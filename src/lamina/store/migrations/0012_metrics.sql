-- CloudWatch metrics (services/cloudwatch, store/metrics_sqlite.py): one row per series (namespace, name and its
-- dimensions as canonical JSON), points aggregated on write into 1-minute buckets per unit. Kept 15 days.
CREATE TABLE metric_series (
    id INTEGER PRIMARY KEY,
    namespace TEXT NOT NULL,
    name TEXT NOT NULL,
    dimensions TEXT NOT NULL,
    last_ms INTEGER NOT NULL,
    UNIQUE (namespace, name, dimensions)
);
CREATE TABLE metric_points (
    series_id INTEGER NOT NULL,
    minute INTEGER NOT NULL,
    unit TEXT NOT NULL,
    samples REAL NOT NULL,
    total REAL NOT NULL,
    minimum REAL NOT NULL,
    maximum REAL NOT NULL,
    PRIMARY KEY (series_id, minute, unit)
) WITHOUT ROWID;
CREATE INDEX metric_points_by_minute ON metric_points (minute);
