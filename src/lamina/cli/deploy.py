"""`lamina deploy`, `lamina stacks`, `lamina destroy`: CloudFormation stacks on a running Lamina through its
public API (boto3), with each resource event shown as it happens."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

from lamina.config import DEFAULT_PORT, DEFAULT_REGION

CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"]


def client(endpoint: str | None, region: str | None, service: str = "cloudformation") -> Any:
    import boto3

    return boto3.client(
        service,
        endpoint_url=endpoint or os.environ.get("AWS_ENDPOINT_URL") or f"http://127.0.0.1:{DEFAULT_PORT}",
        region_name=region or os.environ.get("AWS_DEFAULT_REGION") or DEFAULT_REGION,
        aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID", "lamina"),
        aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY", "lamina"),
    )


def parameters(overrides: list[str]) -> list[dict[str, str]]:
    found = []
    for item in overrides:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise SystemExit(f"lamina: error: --parameter-overrides takes Key=Value, not {item!r}")
        found.append({"ParameterKey": key, "ParameterValue": value})
    return found


def _status(cfn: Any, stack: str) -> str:
    return str(cfn.describe_stacks(StackName=stack)["Stacks"][0]["StackStatus"])


def _event_ids(cfn: Any, stack: str) -> set[str]:
    return {e["EventId"] for e in cfn.describe_stack_events(StackName=stack)["StackEvents"]}


def follow(cfn: Any, stack: str, seen: set[str], out: Any = sys.stdout) -> str:
    """Prints the stack's events (those not `seen` before) as they happen until it settles; answers the final
    status."""
    while True:
        status = _status(cfn, stack)
        found = cfn.describe_stack_events(StackName=stack)["StackEvents"]
        for event in reversed(found):
            if event["EventId"] in seen:
                continue
            seen.add(event["EventId"])
            reason = event.get("ResourceStatusReason", "")
            line = f"{event['Timestamp']:%H:%M:%S}  {event['ResourceStatus']:<36} {event['ResourceType']:<36} "
            print(f"{line}{event['LogicalResourceId']}  {reason}".rstrip(), file=out, flush=True)
        if not status.endswith("_IN_PROGRESS"):
            return status
        time.sleep(0.3)


def deploy(
    cfn: Any,
    s3: Any,
    template: Path,
    stack: str,
    overrides: list[str],
    bucket: str | None = None,
    prefix: str | None = None,
    out: Any = sys.stdout,
) -> int:
    """Packages the template's local artifacts into `bucket` (the managed stack's when None) under `prefix` (the
    stack's name when None), then creates or updates the stack and follows its events."""
    from botocore.exceptions import ClientError

    from lamina.cli.package import MAX_BODY, Uploader, managed_bucket, package
    from lamina.errors import LaminaError

    try:
        uploader = Uploader(
            s3, bucket or managed_bucket(cfn, out), stack if prefix is None else prefix, s3.meta.region_name, out
        )
        body = package(template, uploader)
        request: dict[str, Any] = {
            "StackName": stack,
            "Parameters": parameters(overrides),
            "Capabilities": CAPABILITIES,
        }
        if len(body.encode()) > MAX_BODY:
            request["TemplateURL"] = uploader.url(uploader.put(body.encode(), ".template"))
        else:
            request["TemplateBody"] = body
    except ClientError as exc:
        print(f"lamina: error: packaging failed: {exc.response['Error']['Message']}", file=sys.stderr)
        return 1
    except LaminaError as exc:  # the template's own errors, worded as CloudFormation words them
        print(f"lamina: error: {exc.message}", file=sys.stderr)
        return 1
    except (OSError, ValueError) as exc:
        print(f"lamina: error: packaging failed: {exc}", file=sys.stderr)
        return 1
    try:
        existing = _status(cfn, stack)
        seen = _event_ids(cfn, stack)
    except ClientError:
        existing, seen = None, set()
    try:
        if existing is None:
            cfn.create_stack(**request)
        else:
            cfn.update_stack(**request)
    except ClientError as exc:
        message = exc.response["Error"]["Message"]
        if message == "No updates are to be performed.":
            print(f"No changes to deploy. Stack {stack} is up to date", file=out)
            return 0
        print(f"lamina: error: {message}", file=sys.stderr)
        return 1
    status = follow(cfn, stack, seen, out)
    if status not in ("CREATE_COMPLETE", "UPDATE_COMPLETE"):
        print(f"lamina: error: stack {stack} ended {status}", file=sys.stderr)
        return 1
    for output in cfn.describe_stacks(StackName=stack)["Stacks"][0].get("Outputs", []):
        print(f"{output['OutputKey']}: {output['OutputValue']}", file=out)
    print(f"Stack {stack}: {status}", file=out)
    return 0


def stacks(cfn: Any, out: Any = sys.stdout) -> int:
    for summary in cfn.list_stacks()["StackSummaries"]:
        if summary["StackStatus"] != "DELETE_COMPLETE":
            print(f"{summary['StackName']:<40} {summary['StackStatus']}", file=out)
    return 0


def destroy(cfn: Any, stack: str, out: Any = sys.stdout) -> int:
    from botocore.exceptions import ClientError

    try:
        stack_id = cfn.describe_stacks(StackName=stack)["Stacks"][0]["StackId"]
        seen = _event_ids(cfn, stack)
        cfn.delete_stack(StackName=stack)
    except ClientError as exc:
        print(f"lamina: error: {exc.response['Error']['Message']}", file=sys.stderr)
        return 1
    status = follow(cfn, stack_id, seen, out)
    print(f"Stack {stack}: {status}", file=out)
    return 0 if status == "DELETE_COMPLETE" else 1
