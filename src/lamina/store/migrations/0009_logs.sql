-- CloudWatch Logs (services/logs, logs/store.py): groups hold streams hold events. Function output is written in
-- batches by the log writer thread; PutLogEvents commits before it answers. `stored_bytes` bounds what a stream
-- and a group keep on disk; `full` marks a stream that reached its bound (later output is dropped).
CREATE TABLE log_groups (
    name TEXT PRIMARY KEY,
    created_ms INTEGER NOT NULL,
    retention_days INTEGER,
    log_class TEXT NOT NULL DEFAULT 'STANDARD',
    tags TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE log_streams (
    id INTEGER PRIMARY KEY,
    group_name TEXT NOT NULL,
    name TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    first_event_ms INTEGER,
    last_event_ms INTEGER,
    last_ingestion_ms INTEGER,
    stored_bytes INTEGER NOT NULL DEFAULT 0,
    full INTEGER NOT NULL DEFAULT 0,
    UNIQUE (group_name, name)
);
CREATE TABLE log_events (
    id INTEGER PRIMARY KEY,
    stream_id INTEGER NOT NULL,
    ts INTEGER NOT NULL,
    ingested_ms INTEGER NOT NULL,
    message TEXT NOT NULL
);
CREATE INDEX log_events_by_stream ON log_events (stream_id, ts, id);
-- Subscription filters: at most two per group; the body is the filter as DescribeSubscriptionFilters shows it.
CREATE TABLE log_subscription_filters (
    group_name TEXT NOT NULL,
    name TEXT NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (group_name, name)
);
