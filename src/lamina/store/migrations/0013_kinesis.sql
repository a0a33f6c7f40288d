-- Kinesis Data Streams (services/kinesis). A stream row holds its description (shards and their hash ranges,
-- retention, tags, encryption) as JSON; a record row is one record of one shard, `seq` its position in the
-- stream (increasing in commit order across the stream's shards; the wire sequence number is derived from it).
CREATE TABLE kinesis_streams (
    name TEXT PRIMARY KEY,
    body TEXT NOT NULL
);
CREATE TABLE kinesis_records (
    stream_name TEXT NOT NULL,
    shard_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    arrival REAL NOT NULL,
    partition_key TEXT NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (stream_name, shard_id, seq)
) WITHOUT ROWID
;
-- Stream event source mappings (sources/stream_poller.py): the last position of each shard whose batch is
-- done (processed, or sent to the on-failure destination); a restart resumes after it.
CREATE TABLE stream_checkpoints (
    mapping_uuid TEXT NOT NULL,
    shard_id TEXT NOT NULL,
    position INTEGER NOT NULL,
    PRIMARY KEY (mapping_uuid, shard_id)
) WITHOUT ROWID
