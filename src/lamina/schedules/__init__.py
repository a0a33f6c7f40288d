"""Schedule expressions and the timer that fires them, shared by EventBridge Scheduler and EventBridge rules.

`expressions` parses and validates AWS's `rate(...)`, `cron(...)` (six fields, `? L W #`) and `at(...)` and
computes the next fire time in a timezone (zoneinfo); croniter iterates the cron fields after a light
translation of AWS's syntax. `timer.Timer` waits on the project's clock (`lamina.clock`), so a test that
advances a `ManualClock` runs a virtual hour of schedules in milliseconds.
"""
