-- S3: buckets, object versions, multipart uploads and their parts. Object bytes live in files under the data
-- directory (services/s3/storage.py); a row names its file once the file is fsynced and renamed into place.
CREATE TABLE s3_buckets (
    name TEXT PRIMARY KEY,
    body TEXT NOT NULL  -- region, creation date, versioning, tags, notification configuration
);
-- One row per version (a bucket without versioning keeps one, version id "null"). seq orders the versions of a
-- key, newest highest; latest = 1 marks the current version (possibly a delete marker).
CREATE TABLE s3_objects (
    bucket TEXT NOT NULL,
    key TEXT NOT NULL,
    seq INTEGER NOT NULL,
    version_id TEXT NOT NULL,
    latest INTEGER NOT NULL,
    body TEXT NOT NULL,  -- size, etag, dates, content headers, metadata, checksum, file, delete marker
    PRIMARY KEY (bucket, key, seq)
);
CREATE INDEX s3_objects_latest ON s3_objects (bucket, latest, key);
CREATE INDEX s3_objects_version ON s3_objects (bucket, key, version_id);
CREATE TABLE s3_uploads (
    upload_id TEXT PRIMARY KEY,
    bucket TEXT NOT NULL,
    key TEXT NOT NULL,
    body TEXT NOT NULL  -- initiated, content headers, metadata, checksum algorithm
);
CREATE TABLE s3_parts (
    upload_id TEXT NOT NULL,
    part INTEGER NOT NULL,
    body TEXT NOT NULL,  -- size, etag, file, last modified
    PRIMARY KEY (upload_id, part)
);
-- Bucket notifications not yet handed to their target: written in the transaction that commits the object change
-- they tell of, deleted once the target (queue, topic, function's async queue, event bus) has it.
CREATE TABLE s3_outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    body TEXT NOT NULL  -- target kind and ARN, the event's JSON
);
