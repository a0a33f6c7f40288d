"""`lamina tune FUNCTION`: power tuning built in. Each memory size runs on a version of its own, is invoked N times
through the Lambda API, and is judged by its REPORT lines (duration, billed duration) and Lambda's prices."""
