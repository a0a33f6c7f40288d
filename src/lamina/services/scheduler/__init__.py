"""EventBridge Scheduler: schedules and schedule groups (provider), their firing on the project's clock and
their delivery to Lambda, SQS and SNS targets (engine, delivery)."""
