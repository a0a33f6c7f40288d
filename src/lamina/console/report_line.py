"""The figures of an invocation's REPORT log line, as the console's Test result panel shows them.

Lambda writes `REPORT RequestId: ... Duration: 1.23 ms Billed Duration: 2 ms Memory Size: 128 MB
Max Memory Used: 40 MB Init Duration: 80.12 ms` at the end of each invocation; Invoke with LogType=Tail returns
the last 4 KB of the log, so the line is there whenever the tail is.
"""

from __future__ import annotations

import re

_FIELDS = {
    "duration": "Duration",
    "billedDuration": "Billed Duration",
    "memorySize": "Memory Size",
    "maxMemoryUsed": "Max Memory Used",
    "initDuration": "Init Duration",
}
_VALUE = r":\s*([0-9.]+)\s*(ms|MB)"


def report_figures(log_tail: str) -> dict[str, float]:
    """Each figure found on the last REPORT line of `log_tail`, by name (ms or MB); {} when there is none."""
    lines = [line for line in log_tail.splitlines() if line.startswith("REPORT ")]
    if not lines:
        return {}
    line = lines[-1]
    found: dict[str, float] = {}
    for key, label in _FIELDS.items():
        # plain "Duration" must not match the end of "Billed Duration" or "Init Duration"
        pattern = r"(?<!Billed )(?<!Init )\bDuration" if key == "duration" else re.escape(label)
        m = re.search(pattern + _VALUE, line)
        if m:
            found[key] = float(m.group(1))
    return found
