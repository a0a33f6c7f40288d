"""Function logs: capture of environment output, Lambda's platform lines, and a bounded on-disk store
organised as CloudWatch Logs is (groups `/aws/lambda/<name>`, one stream per execution environment)."""

from .store import LogEvent, LogStore, StreamInfo

__all__ = ["LogEvent", "LogStore", "StreamInfo"]
