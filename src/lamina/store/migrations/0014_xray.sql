-- X-Ray segments (services/xray, store/traces_sqlite.py): one row per segment document (a later document with the
-- same trace and id replaces it: an in-progress segment completed), with the times the API filters on. Kept 30 days.
-- A rowid table (documents are ~1 KB: appended in rowid order, the keys indexed apart, not a B-tree of whole rows).
CREATE TABLE xray_segments (
    seq INTEGER PRIMARY KEY,
    trace_id TEXT NOT NULL,
    id TEXT NOT NULL,
    trace_start REAL NOT NULL,
    start_time REAL NOT NULL,
    end_time REAL,
    document TEXT NOT NULL,
    UNIQUE (trace_id, id)
);
CREATE INDEX xray_segments_by_start ON xray_segments (start_time);
CREATE INDEX xray_segments_by_trace_start ON xray_segments (trace_start);
