"""Schedule expressions and the timer that fires them, shared by EventBridge Scheduler and EventBridge rules.

`expressions` parses and validates AWS's `rate(...)`, `cron(...)` (six fields, `? L W #`) and `at(...)` and
computes the next fire time in a timezone (zoneinfo); croniter iterates the cron fields after a light
translation of AWS's syntax. `timer.Timer` waits on the project's clock (`lamina.clock`), so a test that
advances a `ManualClock` runs a virtual hour of schedules in milliseconds.

Use (EventBridge Scheduler's engine is the worked example, services/scheduler/engine.py):

    expression = parse("cron(0 9 ? * MON-FRI *)")        # InvalidExpression when AWS would refuse it
    due = expression.next_after(now, timezone("UTC"), anchor=created)   # epoch seconds, or None: no more fires
    timer = Timer(clock, on_due)                          # async on_due(key); timer.set(key, due); timer.start()

EventBridge rules take `rate` and `cron` only, always in UTC: refuse an `At` result there.
"""
