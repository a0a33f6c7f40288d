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
