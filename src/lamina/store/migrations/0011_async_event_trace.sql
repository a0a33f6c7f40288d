-- The trace header an async event arrived with (an SNS notification published by a function): the request
-- chain it belongs to, which recursive loop detection counts (invoke/loop_detection.py). NULL: none.
ALTER TABLE async_events ADD COLUMN trace_header TEXT
