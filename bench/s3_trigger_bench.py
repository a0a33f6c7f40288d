"""S3 upload → function start latency (p50/p99), beside a direct async Invoke → function start measured in the
same run and on the same warm function, and their ratio.

    .venv/bin/python bench/s3_trigger_bench.py [--uploads 200]

The function returns `time.time()` as its handler starts; its OnSuccess destination (an SQS queue) brings that
back. S3: latency = from PutObject answered (the object committed, its notification queued) until the handler
started. Baseline: from `Invoke(InvocationType="Event")` answered until the handler started. One upload or
invoke at a time, so each sample is one event's path, not a queue's backlog. Client and server share a clock.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from events_bench import HANDLER, percentiles, queue, receive
from tests.conftest import make_zip
from tests.server import ROLE, LaminaProcess


def _started(sqs: Any, url: str) -> float:
    record = json.loads(receive(sqs, url)["Body"])
    return float(record["responsePayload"]["started"])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--uploads", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as data:
        server = LaminaProcess(Path(data)).start()
        try:
            s3, sqs, lam = server.client("s3"), server.client("sqs"), server.client()
            outcome_url, outcome_arn = queue(sqs, "bench-outcome")
            function_arn = lam.create_function(
                FunctionName="bench", Runtime="python3.12", Role=ROLE, Handler="app.handler",
                Code={"ZipFile": make_zip({"app.py": HANDLER})},
            )["FunctionArn"]  # fmt: skip
            lam.get_waiter("function_active_v2").wait(FunctionName="bench", WaiterConfig={"Delay": 0.1})
            lam.put_function_event_invoke_config(
                FunctionName="bench", DestinationConfig={"OnSuccess": {"Destination": outcome_arn}}
            )
            s3.create_bucket(Bucket="bench-uploads")
            lam.add_permission(
                FunctionName="bench", StatementId="s3", Action="lambda:InvokeFunction",
                Principal="s3.amazonaws.com", SourceArn="arn:aws:s3:::bench-uploads",
            )  # fmt: skip
            s3.put_bucket_notification_configuration(
                Bucket="bench-uploads",
                NotificationConfiguration={"LambdaFunctionConfigurations": [
                    {"LambdaFunctionArn": function_arn, "Events": ["s3:ObjectCreated:*"]}
                ]},
            )  # fmt: skip
            lam.invoke(FunctionName="bench", InvocationType="Event", Payload=b"{}")  # the cold start, not counted
            _started(sqs, outcome_url)

            direct, upload = [], []
            for n in range(args.uploads):  # interleaved, so both see the same load on the machine
                lam.invoke(FunctionName="bench", InvocationType="Event", Payload=b"{}")
                answered = time.time()
                direct.append(_started(sqs, outcome_url) - answered)
                s3.put_object(Bucket="bench-uploads", Key=f"in/{n}.txt", Body=b"x" * 1024)
                answered = time.time()
                upload.append(_started(sqs, outcome_url) - answered)
            print(f"async Invoke answered -> handler started (baseline): {percentiles(direct)}")
            print(f"PutObject answered -> handler started:               {percentiles(upload)}")
            d, u = sorted(direct), sorted(upload)
            p99 = min(len(d) - 1, int(len(d) * 0.99))
            print(
                f"ratio S3 / direct: p50 {u[len(u) // 2] / d[len(d) // 2]:.2f}x, p99 {u[p99] / d[p99]:.2f}x "
                f"(uploads of 1 KB, one at a time)"
            )
        finally:
            server.stop()


if __name__ == "__main__":
    main()
