"""Concurrency enforced on real invocations: reserved pools throttle with AWS's 429, provisioned environments
serve the first invokes with no cold start (spec/lambda-api.md §1, §10; README point 2)."""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Callable
from typing import Any

from tests.concurrency.test_concurrency_api import active, wait_status
from tests.conftest import make_zip

SLOW = """import os, time
def handler(event, context):
    time.sleep(event.get("sleep", 0))
    return {"init": os.environ["AWS_LAMBDA_INITIALIZATION_TYPE"]}
"""
SLEEP = 1.5


def invoke_all(client: Any, name: str, count: int, payload: dict[str, Any]) -> list[Any]:
    """`count` invokes at once (released together by a barrier); each result or the error response."""
    results: list[Any] = [None] * count
    barrier = threading.Barrier(count)

    def one(i: int) -> None:
        barrier.wait()
        try:
            results[i] = client.invoke(FunctionName=name, Payload=json.dumps(payload).encode())
        except client.exceptions.TooManyRequestsException as e:
            results[i] = e.response

    threads = [threading.Thread(target=one, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_reserved_n_runs_exactly_n(lambda_client: Any, create_function: Callable[..., Any], fn_name: str) -> None:
    n = 4
    create_function(fn_name, Code={"ZipFile": make_zip({"app.py": SLOW})}, Timeout=10)
    active(lambda_client, fn_name)
    lambda_client.put_function_concurrency(FunctionName=fn_name, ReservedConcurrentExecutions=n)
    results = invoke_all(lambda_client, fn_name, 2 * n, {"sleep": SLEEP})
    ran = [r for r in results if r.get("StatusCode") == 200]
    throttled = [r for r in results if r.get("Error", {}).get("Code") == "TooManyRequestsException"]
    assert len(ran) == n and len(throttled) == n, results
    for r in throttled:
        assert r["ResponseMetadata"]["HTTPStatusCode"] == 429
        assert r["Error"]["Message"] == "Rate Exceeded."
        assert r["Reason"] == "ReservedFunctionConcurrentInvocationLimitExceeded"
        assert r["Type"] == "User"
    # Leases come back when invocations end: the next wave runs in full.
    again = invoke_all(lambda_client, fn_name, n, {})
    assert all(r.get("StatusCode") == 200 for r in again), again


def test_reserved_zero_throttles_every_sync_invoke(
    lambda_client: Any, create_function: Callable[..., Any], fn_name: str
) -> None:
    create_function(fn_name)
    active(lambda_client, fn_name)
    lambda_client.put_function_concurrency(FunctionName=fn_name, ReservedConcurrentExecutions=0)
    for _ in range(3):
        try:
            lambda_client.invoke(FunctionName=fn_name, Payload=b"{}")
        except lambda_client.exceptions.TooManyRequestsException as e:
            assert e.response["Reason"] == "ReservedFunctionConcurrentInvocationLimitExceeded"
        else:
            raise AssertionError("an invoke with reserved concurrency 0 ran")
    lambda_client.delete_function_concurrency(FunctionName=fn_name)
    assert lambda_client.invoke(FunctionName=fn_name, Payload=b"{}")["StatusCode"] == 200


def test_lease_released_after_function_error_and_timeout(
    lambda_client: Any, create_function: Callable[..., Any], fn_name: str
) -> None:
    code = (
        "import time\n"
        "def handler(event, context):\n"
        "    if event.get('t'):\n"
        "        time.sleep(5)\n"
        "    raise ValueError('x')\n"
    )
    create_function(fn_name, Code={"ZipFile": make_zip({"app.py": code})}, Timeout=1)
    active(lambda_client, fn_name)
    lambda_client.put_function_concurrency(FunctionName=fn_name, ReservedConcurrentExecutions=1)
    for payload in (b"{}", b'{"t": 1}', b"{}"):
        assert lambda_client.invoke(FunctionName=fn_name, Payload=payload)["FunctionError"] == "Unhandled"


def _report(log_result: str) -> str:
    return next(line for line in base64.b64decode(log_result).decode().splitlines() if line.startswith("REPORT"))


def test_provisioned_environments_serve_first_invokes_warm(
    lambda_client: Any, create_function: Callable[..., Any], fn_name: str
) -> None:
    c, count = lambda_client, 2
    create_function(fn_name, Code={"ZipFile": make_zip({"app.py": SLOW})}, Timeout=10)
    active(c, fn_name)
    version = c.publish_version(FunctionName=fn_name)["Version"]
    c.create_alias(FunctionName=fn_name, Name="live", FunctionVersion=version)
    put = c.put_provisioned_concurrency_config(
        FunctionName=fn_name, Qualifier="live", ProvisionedConcurrentExecutions=count
    )
    assert put["Status"] == "IN_PROGRESS"
    ready = wait_status(c, fn_name, "live")
    assert ready["Status"] == "READY" and ready["AvailableProvisionedConcurrentExecutions"] == count

    warm: list[float] = []
    for _ in range(count):
        t0 = time.perf_counter()
        r = c.invoke(FunctionName=fn_name, Qualifier="live", LogType="Tail", Payload=b"{}")
        warm.append(time.perf_counter() - t0)
        assert json.loads(r["Payload"].read()) == {"init": "provisioned-concurrency"}
        assert "Init Duration" not in _report(r["LogResult"])

    # An on-demand cold start of the same code ($LATEST has no provisioned environments).
    t0 = time.perf_counter()
    r = c.invoke(FunctionName=fn_name, LogType="Tail", Payload=b"{}")
    cold = time.perf_counter() - t0
    assert json.loads(r["Payload"].read()) == {"init": "on-demand"}
    assert "Init Duration" in _report(r["LogResult"])
    print(
        f"\nprovisioned first invokes: {', '.join(f'{w * 1000:.1f} ms' for w in warm)}; "
        f"on-demand cold start: {cold * 1000:.1f} ms ({_report(r['LogResult']).split('Init Duration: ')[1]})"
    )

    # Provisioned concurrency counts as concurrency: with it held, one more invoke of the alias
    # runs on demand (from the unreserved pool) and gets a cold start of its own.
    results = invoke_all(c, f"{fn_name}:live", count + 1, {"sleep": 0.5})
    inits = sorted(json.loads(r["Payload"].read())["init"] for r in results)
    assert inits == ["on-demand"] + ["provisioned-concurrency"] * count

    c.delete_provisioned_concurrency_config(FunctionName=fn_name, Qualifier="live")
    assert c.list_provisioned_concurrency_configs(FunctionName=fn_name)["ProvisionedConcurrencyConfigs"] == []
