-- SQS queues and their messages (services/sqs). A queue row holds its attributes and tags as JSON; a message
-- row holds what never changes (body, attributes, ids) as JSON plus the receive state that does. `seq` orders a
-- queue's messages (FIFO order, and the order standard queues approximate).
CREATE TABLE sqs_queues (
    arn TEXT PRIMARY KEY,
    body TEXT NOT NULL
);
CREATE TABLE sqs_messages (
    id TEXT PRIMARY KEY,
    queue_arn TEXT NOT NULL,
    seq INTEGER NOT NULL,
    body TEXT NOT NULL,
    visible_at REAL NOT NULL,
    receive_count INTEGER NOT NULL DEFAULT 0,
    first_receive REAL
);
CREATE INDEX sqs_messages_queue ON sqs_messages (queue_arn, seq)
