"""The logs API over a stored group: PutLogEvents ingest rate, FilterLogEvents and GetLogEvents latency.

A real `lamina serve`; one group of `--streams` streams holding `--events` events in total (10,000 per
PutLogEvents call), then timed: a FilterLogEvents page with a term that matches 1 in 100 events (scanning until
the page fills), a JSON pattern page, and GetLogEvents of a stream's last 100 events.

    .venv/bin/python bench/logs_bench.py [--events 200000] [--streams 4]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.server import LaminaProcess


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--streams", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as data:
        server = LaminaProcess(Path(data)).start()
        try:
            logs = server.client("logs")
            logs.create_log_group(logGroupName="/bench")
            for s in range(args.streams):
                logs.create_log_stream(logGroupName="/bench", logStreamName=f"s{s}")
            now = int(time.time() * 1000) - 3_600_000
            per_call = 10_000
            started = time.perf_counter()
            for call in range(args.events // per_call):
                base = now + call * per_call
                events = [
                    {
                        "timestamp": base + i,
                        "message": json.dumps({"level": "ERROR" if i % 100 == 0 else "INFO", "n": i, "pad": "x" * 20}),
                    }
                    for i in range(per_call)
                ]
                logs.put_log_events(logGroupName="/bench", logStreamName=f"s{call % args.streams}", logEvents=events)
            ingest = time.perf_counter() - started
            print(f"PutLogEvents: {args.events} events in {ingest:.2f} s = {args.events / ingest:,.0f} events/s")

            def timed(label: str, call: object, **kwargs: object) -> None:
                laps = []
                for _ in range(args.repeat):
                    t0 = time.perf_counter()
                    answer = call(**kwargs)  # type: ignore[operator]
                    laps.append((time.perf_counter() - t0) * 1000)
                laps.sort()
                count = len(answer["events"])
                print(f"{label:56s} p50 {statistics.median(laps):8.2f} ms  p90 {laps[int(len(laps) * 0.9)]:8.2f} ms"
                      f"  ({count} events)")  # fmt: skip

            timed("FilterLogEvents term ERROR, limit 100", logs.filter_log_events, logGroupName="/bench",
                  filterPattern="ERROR", limit=100)  # fmt: skip
            timed('FilterLogEvents { $.level = "ERROR" }, limit 100', logs.filter_log_events, logGroupName="/bench",
                  filterPattern='{ $.level = "ERROR" }', limit=100)  # fmt: skip
            timed("FilterLogEvents no pattern, limit 1000", logs.filter_log_events, logGroupName="/bench", limit=1000)
            timed("GetLogEvents last 100 of a stream", logs.get_log_events, logGroupName="/bench",
                  logStreamName="s0", limit=100)  # fmt: skip
        finally:
            server.stop()


if __name__ == "__main__":
    main()
