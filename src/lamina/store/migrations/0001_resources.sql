-- Control-plane resources as JSON documents keyed by kind and key (e.g. kind 'function',
-- key 'us-east-1/my-fn'). Documents keep the schema stable while resources grow fields.
CREATE TABLE resources (
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    body TEXT NOT NULL,
    updated REAL NOT NULL,
    PRIMARY KEY (kind, key)
);
