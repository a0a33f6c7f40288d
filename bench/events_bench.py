"""EventBridge: PutEvents → target latency (p50/p99), for an SQS target and a Lambda target.

    .venv/bin/python bench/events_bench.py [--events 200] [--burst 5000]

SQS: one event at a time; latency = from just before PutEvents until a long-polling ReceiveMessage has the
message (so it includes the receive's own round trip). Lambda: the function returns `time.time()` at its start,
the record reaches an OnSuccess queue; latency = from just before PutEvents until the function started (the
async queue's pick-up included; the function is warm after the first event). Burst: events a second from
PutEvents (10 entries each, one client) until all are in the SQS target queue.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.conftest import make_zip
from tests.server import ROLE, LaminaProcess

HANDLER = "import time\ndef handler(event, context):\n    return {'started': time.time()}\n"


def percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return f"p50 {statistics.median(ordered) * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms (n={len(ordered)})"


def queue(sqs: Any, name: str) -> tuple[str, str]:
    url: str = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn: str = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return url, arn


def receive(sqs: Any, url: str) -> dict[str, Any]:
    while True:
        got = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=10).get("Messages", [])
        if got:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=got[0]["ReceiptHandle"])
            message: dict[str, Any] = got[0]
            return message


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=200)
    parser.add_argument("--burst", type=int, default=5000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as data:
        server = LaminaProcess(Path(data)).start()
        try:
            events, sqs, lam = server.client("events"), server.client("sqs"), server.client()
            url, arn = queue(sqs, "bench-target")
            events.put_rule(Name="to-sqs", EventPattern=json.dumps({"source": ["bench.sqs"]}))
            events.put_targets(Rule="to-sqs", Targets=[{"Id": "q", "Arn": arn}])
            entry = {"Source": "bench.sqs", "DetailType": "bench", "Detail": '{"n": 1}'}
            samples = []
            for _ in range(args.events):
                t0 = time.time()
                events.put_events(Entries=[entry])
                receive(sqs, url)
                samples.append(time.time() - t0)
            print(f"PutEvents -> SQS target received: {percentiles(samples)}")

            burst = [entry] * 10
            t0 = time.monotonic()
            for _ in range(args.burst // 10):
                events.put_events(Entries=burst)
            accepted = time.monotonic() - t0
            while int(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])[
                "Attributes"]["ApproximateNumberOfMessages"]) < args.burst:  # fmt: skip
                time.sleep(0.01)
            total = time.monotonic() - t0
            print(
                f"burst of {args.burst} events (PutEvents of 10, one client): accepted in {accepted:.2f} s, "
                f"all in the queue after {total:.2f} s = {args.burst / total:,.0f} events/s"
            )

            outcome_url, outcome_arn = queue(sqs, "bench-outcome")
            function_arn = lam.create_function(
                FunctionName="bench", Runtime="python3.12", Role=ROLE, Handler="app.handler",
                Code={"ZipFile": make_zip({"app.py": HANDLER})},
            )["FunctionArn"]  # fmt: skip
            lam.get_waiter("function_active_v2").wait(FunctionName="bench", WaiterConfig={"Delay": 0.1})
            lam.put_function_event_invoke_config(
                FunctionName="bench", DestinationConfig={"OnSuccess": {"Destination": outcome_arn}}
            )
            rule_arn = events.put_rule(Name="to-fn", EventPattern=json.dumps({"source": ["bench.fn"]}))["RuleArn"]
            lam.add_permission(
                FunctionName="bench", StatementId="events", Action="lambda:InvokeFunction",
                Principal="events.amazonaws.com", SourceArn=rule_arn,
            )  # fmt: skip
            events.put_targets(Rule="to-fn", Targets=[{"Id": "fn", "Arn": function_arn}])
            entry = {"Source": "bench.fn", "DetailType": "bench", "Detail": '{"n": 1}'}
            events.put_events(Entries=[entry])  # the cold start, not counted
            receive(sqs, outcome_url)
            samples = []
            for _ in range(args.events):
                t0 = time.time()
                events.put_events(Entries=[entry])
                record = json.loads(receive(sqs, outcome_url)["Body"])
                samples.append(record["responsePayload"]["started"] - t0)
            print(f"PutEvents -> Lambda target started: {percentiles(samples)}")
        finally:
            server.stop()


if __name__ == "__main__":
    main()
