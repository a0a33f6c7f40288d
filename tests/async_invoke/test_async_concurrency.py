"""Async events respect reserved concurrency: with ReservedConcurrentExecutions 1, events sent together run one at
a time (the others are throttled and retried with back-off, spec invoke-and-runtime.md §3), and all of them run."""

from __future__ import annotations

import itertools
import json
import time
from typing import Any

import pytest

from tests.async_invoke.test_crash import Collector, collector  # noqa: F401 - the fixture is used by name
from tests.conftest import make_zip
from tests.server import ROLE

HANDLER = """
import json, os, time, urllib.request

def handler(event, context):
    started = time.time()
    time.sleep(0.2)
    body = json.dumps({"id": event["id"], "rid": f"{started}:{time.time()}"}).encode()
    urllib.request.urlopen(urllib.request.Request(os.environ["COLLECTOR"], data=body), timeout=10).read()
"""


@pytest.mark.slow
def test_reserved_concurrency_serialises_async_events(
    lambda_client: Any,
    fn_name: str,
    collector: Collector,  # noqa: F811
) -> None:
    lambda_client.create_function(
        FunctionName=fn_name, Runtime="python3.12", Role=ROLE, Handler="app.handler", Timeout=10,
        Code={"ZipFile": make_zip({"app.py": HANDLER})}, Environment={"Variables": {"COLLECTOR": collector.url}},
    )  # fmt: skip
    try:
        lambda_client.get_waiter("function_active_v2").wait(FunctionName=fn_name, WaiterConfig={"Delay": 0.1})
        lambda_client.put_function_concurrency(FunctionName=fn_name, ReservedConcurrentExecutions=1)
        for i in range(4):
            response = lambda_client.invoke(FunctionName=fn_name, InvocationType="Event", Payload=json.dumps({"id": i}))
            assert response["StatusCode"] == 202
        deadline = time.monotonic() + 30
        while len({run[0] for run in collector.runs}) < 4 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert sorted({run[0] for run in collector.runs}) == [0, 1, 2, 3]
        spans = sorted(tuple(map(float, run[1].split(":"))) for run in collector.runs)
        for (_, end), (start, _) in itertools.pairwise(spans):
            assert start >= end - 0.01, f"two runs overlapped under reserved concurrency 1: {spans}"
    finally:
        lambda_client.delete_function(FunctionName=fn_name)
