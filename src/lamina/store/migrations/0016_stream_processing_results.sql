-- Stream event source mappings (sources/stream_poller.py): each mapping's LastProcessingResult ("OK",
-- "PROBLEM: Function call failed"), written when it changes, so GetEventSourceMapping shows it after a restart.
-- No row: the mapping has not processed a batch yet ("No records processed").
CREATE TABLE stream_processing_results (
    mapping_uuid TEXT PRIMARY KEY,
    result TEXT NOT NULL
) WITHOUT ROWID
