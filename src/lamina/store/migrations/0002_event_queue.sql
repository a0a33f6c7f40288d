-- The durable async event queue (invoke/event_queue.py). One row per accepted Event invocation, from the
-- 202 until its outcome was handled. A row is leased by a poller (lease_owner, lease_until) while an attempt
-- runs; an expired lease makes it visible again (the PostgreSQL version reads the same rows with
-- FOR UPDATE SKIP LOCKED).
CREATE TABLE async_events (
    id TEXT PRIMARY KEY,
    function_key TEXT NOT NULL,
    invoked_arn TEXT NOT NULL,
    request_id TEXT NOT NULL,
    payload BLOB NOT NULL,
    enqueued_at REAL NOT NULL,
    next_at REAL NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    throttles INTEGER NOT NULL DEFAULT 0,
    state TEXT NOT NULL,
    lease_owner TEXT,
    lease_until REAL,
    last_response TEXT
);
CREATE INDEX async_events_due ON async_events (next_at);
CREATE INDEX async_events_function ON async_events (function_key)
