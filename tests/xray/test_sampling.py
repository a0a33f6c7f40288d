"""X-Ray's default sampling rule for TracingConfig Active (invoke/sampling.py): one invocation a second per function,
5% of the rest. In virtual time (ManualClock, a seeded random), then through a real server and boto3."""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from lamina.clock import ManualClock
from lamina.invoke import trace_header
from lamina.invoke.sampling import FIXED_RATE, DefaultSampling
from lamina.invoke.trace_header import for_invocation
from tests.conftest import make_zip
from tests.server import ROLE, LaminaProcess
from tests.xray.conftest import wait_for

ARN = "arn:aws:lambda:us-east-1:000000000000:function:orders"
OTHER = "arn:aws:lambda:us-east-1:000000000000:function:billing"
CODE = """
import os

def handler(event, context):
    return os.environ.get("_X_AMZN_TRACE_ID", "")
"""


@pytest.fixture
def sampling() -> Iterator[tuple[ManualClock, DefaultSampling]]:
    clock = ManualClock(1_700_000_000.25)
    rule = DefaultSampling(clock, draw=random.Random(7).random)
    trace_header.use_sampling(rule)
    try:
        yield clock, rule
    finally:
        trace_header.use_sampling(None)


def _sampled(trace: str) -> bool:
    assert trace.endswith((";Sampled=0", ";Sampled=1")), trace
    return trace.endswith(";Sampled=1")


def test_twenty_invocations_in_one_second_sample_one_plus_five_percent(
    sampling: tuple[ManualClock, DefaultSampling],
) -> None:
    clock, _ = sampling
    expected = random.Random(7)  # the same draws the rule makes, for the 19 after the reservoir's one
    share = sum(expected.random() < FIXED_RATE for _ in range(19))
    got = []
    for _ in range(20):
        got.append(_sampled(for_invocation("Active", None, ARN)[0]))
        clock.advance(0.03)  # 20 x 30 ms from .25: all within one second
    assert got[0] is True  # the reservoir's one
    assert sum(got) == 1 + share
    assert share < 19  # the seed draws some unsampled ones: the test can fail


def test_a_new_second_samples_again_and_functions_have_their_own_reservoir(
    sampling: tuple[ManualClock, DefaultSampling],
) -> None:
    clock, _ = sampling
    trace_header.use_sampling(DefaultSampling(clock, draw=lambda: 0.99))  # the fixed rate never picks: the reservoir
    assert [_sampled(for_invocation("Active", None, ARN)[0]) for _ in range(3)] == [True, False, False]
    assert _sampled(for_invocation("Active", None, OTHER)[0]) is True
    clock.advance(0.74)  # .99: still the same second
    assert _sampled(for_invocation("Active", None, ARN)[0]) is False
    clock.advance(0.02)  # the next second
    assert [_sampled(for_invocation("Active", None, ARN)[0]) for _ in range(2)] == [True, False]


def test_a_callers_decision_and_pass_through_are_kept(sampling: tuple[ManualClock, DefaultSampling]) -> None:
    clock, _ = sampling
    trace_header.use_sampling(DefaultSampling(clock, draw=lambda: 0.99))
    caller = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
    assert all(_sampled(for_invocation("Active", caller, ARN)[0]) for _ in range(5))  # the caller said 1
    assert not _sampled(for_invocation("Active", caller.replace("=1", "=0"), ARN)[0])
    assert not _sampled(for_invocation("PassThrough", None, OTHER)[0])  # PassThrough spends no reservoir
    assert _sampled(for_invocation("Active", None, OTHER)[0]) is True


def _invoke(client: Any, name: str) -> str:
    out = client.invoke(FunctionName=name, Payload=b"{}")
    trace: str = json.loads(out["Payload"].read())
    return trace


def test_default_sampling_through_a_real_server(fresh_lamina: Callable[..., LaminaProcess]) -> None:
    """Unsampled invocations still get a trace id (Sampled=0) and write no segments; sampled ones are traced."""
    server = fresh_lamina()  # --xray-sampling default, the default
    client, xray = server.client(), server.client("xray")
    client.create_function(
        FunctionName="sampled", Runtime="python3.12", Role=ROLE, Handler="app.handler",
        Code={"ZipFile": make_zip({"app.py": CODE})}, TracingConfig={"Mode": "Active"},
    )  # fmt: skip
    traces = [_invoke(client, "sampled") for _ in range(20)]
    roots = {t: dict(p.split("=", 1) for p in t.split(";"))["Root"] for t in traces}
    sampled = [t for t in traces if _sampled(t)]
    unsampled = [t for t in traces if not _sampled(t)]
    assert sampled and unsampled, traces  # at least the first is sampled; 20 warm ones take well under 20 s
    wanted = {roots[t] for t in sampled}

    def recorded() -> set[str]:
        got = xray.get_trace_summaries(StartTime=0, EndTime=4e9)["TraceSummaries"]
        ids = {s["Id"] for s in got}
        return ids if wanted <= ids else set()

    ids = wait_for(recorded)
    assert ids == wanted  # no segments for a Sampled=0 invocation
    assert xray.batch_get_traces(TraceIds=[roots[unsampled[0]]])["Traces"] == []


def test_xray_sampling_all_traces_every_active_invocation(fresh_lamina: Callable[..., LaminaProcess]) -> None:
    server = fresh_lamina("--xray-sampling", "all")
    client = server.client()
    client.create_function(
        FunctionName="every", Runtime="python3.12", Role=ROLE, Handler="app.handler",
        Code={"ZipFile": make_zip({"app.py": CODE})}, TracingConfig={"Mode": "Active"},
    )  # fmt: skip
    assert all(_sampled(_invoke(client, "every")) for _ in range(10))
