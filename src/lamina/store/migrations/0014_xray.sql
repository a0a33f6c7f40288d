-- X-Ray segments (services/xray, store/traces_sqlite.py): one row per segment document (a later document with the
-- same trace and id replaces it: an in-progress segment completed), with the times the API filters on. Kept 30 days.
CREATE TABLE xray_segments (
    trace_id TEXT NOT NULL,
    id TEXT NOT NULL,
    trace_start REAL NOT NULL,
    start_time REAL NOT NULL,
    end_time REAL,
    document TEXT NOT NULL,
    PRIMARY KEY (trace_id, id)
) WITHOUT ROWID;
CREATE INDEX xray_segments_by_start ON xray_segments (start_time);
CREATE INDEX xray_segments_by_trace_start ON xray_segments (trace_start);
