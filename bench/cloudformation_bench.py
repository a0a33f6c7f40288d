"""CloudFormation deploy time: a SAM template of N functions (inline code, each with its own generated role
and an SQS event on one shared queue) created, updated and deleted through boto3 against a real `lamina serve`.

    .venv/bin/python bench/cloudformation_bench.py [--functions 20]

Reports the seconds from CreateStack to CREATE_COMPLETE, from UpdateStack (one function's code changed) to
UPDATE_COMPLETE and from DeleteStack to DELETE_COMPLETE (polled every 50 ms), beside the stack's resource count
after the SAM transform. The issue's target: create under 10 s.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.server import LaminaProcess


def template(functions: int, changed: int = -1) -> str:
    """`changed`: the function whose code differs (the update measured)."""
    lines = ["Transform: AWS::Serverless-2016-10-31", "Resources:", "  Jobs:", "    Type: AWS::SQS::Queue"]
    for i in range(functions):
        lines += [
            f"  Fn{i}:",
            "    Type: AWS::Serverless::Function",
            "    Properties:",
            "      Runtime: python3.12",
            "      Handler: index.handler",
            f'      InlineCode: "def handler(event, context):\\n    return {i if i != changed else -i}\\n"',
            "      Events:",
            "        Work:",
            "          Type: SQS",
            "          Properties:",
            "            Queue: !GetAtt Jobs.Arn",
            "            Enabled: false",
        ]
    return "\n".join(lines) + "\n"


def wait(cfn: Any, name: str, done: str) -> None:
    while True:
        status = cfn.describe_stacks(StackName=name)["Stacks"][0]["StackStatus"]
        if not status.endswith("_IN_PROGRESS"):
            if status != done:
                raise RuntimeError(f"{name}: {status}")
            return
        time.sleep(0.05)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--functions", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as data:
        server = LaminaProcess(Path(data)).start()
        try:
            cfn = server.client("cloudformation")
            begin = time.monotonic()
            stack_id = cfn.create_stack(
                StackName="bench",
                TemplateBody=template(args.functions),
                Capabilities=["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"],
            )["StackId"]
            answered = time.monotonic() - begin
            wait(cfn, "bench", "CREATE_COMPLETE")
            created = time.monotonic() - begin
            resources = len(cfn.describe_stack_resources(StackName="bench")["StackResources"])
            begin = time.monotonic()
            cfn.update_stack(
                StackName="bench",
                TemplateBody=template(args.functions, changed=args.functions // 2),
                Capabilities=["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"],
            )
            wait(cfn, "bench", "UPDATE_COMPLETE")
            updated = time.monotonic() - begin
            begin = time.monotonic()
            cfn.delete_stack(StackName="bench")
            wait(cfn, stack_id, "DELETE_COMPLETE")
            deleted = time.monotonic() - begin
        finally:
            server.stop()
    print(f"functions: {args.functions}  resources: {resources}")
    print(f"CreateStack answered in {answered * 1000:.0f} ms; CREATE_COMPLETE after {created:.2f} s")
    print(f"UpdateStack of one function's code: UPDATE_COMPLETE after {updated:.2f} s")
    print(f"DELETE_COMPLETE after {deleted:.2f} s")


if __name__ == "__main__":
    main()
