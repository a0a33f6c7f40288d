-- DynamoDB tables and items (services/dynamodb). A table row holds its description (key schema, indexes,
-- billing, TTL, tags) as JSON; an item row holds the item as JSON (binary values base64), keyed by the text
-- form of its partition and sort key values (services/dynamodb/values.py key_text; '' without a sort key).
CREATE TABLE dynamodb_tables (
    name TEXT PRIMARY KEY,
    body TEXT NOT NULL
);
CREATE TABLE dynamodb_items (
    table_name TEXT NOT NULL,
    pk TEXT NOT NULL,
    sk TEXT NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (table_name, pk, sk)
) WITHOUT ROWID
;
-- DynamoDB Streams records (services/dynamodb/streams.py), written in the same transaction as the item change
-- they describe; `seq` is the record's sequence number, increasing in commit order across all streams.
CREATE TABLE dynamodb_stream_records (
    stream_arn TEXT NOT NULL,
    seq INTEGER NOT NULL,
    created REAL NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (stream_arn, seq)
) WITHOUT ROWID
