"""EventBridge (issue 14 items 4 and 6): event buses, rules with event patterns, targets and PutEvents.

    provider.py          the wire operations (json 1.1, botocore's `events` model), AWS's errors and messages
    engine.py            buses, rules and targets as documents; PutEvents accepts events durably
    dispatch.py          the delivery worker: target kinds, RetryPolicy, DeadLetterConfig, on the project clock
    input_transform.py   Input, InputPath and InputTransformer (InputPathsMap + InputTemplate)
    rule_schedules.py    ScheduleExpression rules fired on the clock (expressions and timer: lamina.schedules)
Event patterns are matched by the one implementation in `lamina.sources.patterns`.
"""
