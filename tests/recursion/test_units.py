"""The lineage arithmetic of loop detection and the SQS poller's use of it, without a server (virtual time)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast
from urllib.parse import quote

from lamina.clock import ManualClock
from lamina.functions.event_source_mappings import Mapping
from lamina.functions.states import State
from lamina.invoke.loop_detection import MAX_HOPS, LoopDetector, function_id, lineage
from lamina.services.sqs.digests import md5_text
from lamina.services.sqs.engine import NewMessage, SqsEngine
from lamina.sources.sqs_poller import SqsPoller
from lamina.store.documents import SqliteStore
from lamina.store.sqs_sqlite import SqsStore
from lamina.types import Invocation, InvocationResult, VersionSpec

REGION, ACCOUNT = "us-east-1", "000000000000"
ARN = "arn:aws:lambda:us-east-1:000000000000:function:f"
OTHER = "arn:aws:lambda:us-east-1:000000000000:function:g"


def test_each_invocation_counts_one_hop_for_its_function() -> None:
    header: str | None = None
    for hop in range(1, 5):
        header = LoopDetector.trace_id(ARN, [header])
        assert lineage(header) == {function_id(ARN): hop}
    assert header is not None and header.startswith("Root=1-")


def test_root_is_kept_and_other_functions_are_carried() -> None:
    first = LoopDetector.trace_id(OTHER, [None])
    second = LoopDetector.trace_id(ARN, [first])
    assert second.split(";")[0] == first.split(";")[0]
    assert lineage(second) == {function_id(OTHER): 1, function_id(ARN): 1}
    batch = LoopDetector.trace_id(ARN, [second, LoopDetector.trace_id(ARN, [second]), None])
    assert lineage(batch)[function_id(ARN)] == 3  # the longest chain in the batch counts


def test_qualified_arn_is_the_same_function() -> None:
    assert function_id(ARN + ":live") == function_id(ARN) != function_id(OTHER)


def test_stops_at_16_unless_allowed() -> None:
    settings = {"f": "Terminate"}
    detector = LoopDetector(lambda region, name: settings.get(name, "Terminate"))
    header: str | None = None
    for _ in range(MAX_HOPS - 1):
        header = LoopDetector.trace_id(ARN, [header])
    assert not detector.looping(ARN, header)  # 15 hops so far: the 16th runs
    header = LoopDetector.trace_id(ARN, [header])
    assert detector.looping(ARN, header)
    assert detector.looping(ARN, quote(header, safe="-=;:+&[]{}\"',"))  # as botocore sends it
    assert not detector.looping(OTHER, header)
    settings["f"] = "Allow"
    assert not detector.looping(ARN, header)


def test_headers_without_lineage_or_malformed_never_stop() -> None:
    detector = LoopDetector(lambda region, name: "Terminate")
    for header in (None, "", "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1", "Lineage=zz:x|:3|abc"):
        assert not detector.looping(ARN, header)


class TracingRunner:
    def __init__(self) -> None:
        self.calls: list[tuple[list[str], str]] = []

    async def invoke(self, spec: VersionSpec, invocation: Invocation) -> InvocationResult:
        self.calls.append(([r["body"] for r in json.loads(invocation.payload)["Records"]], invocation.trace_id))
        return InvocationResult(b"null", "$LATEST")


def test_poller_stops_only_the_looping_message_of_a_batch(tmp_path: Path) -> None:
    """Virtual time, a real SQS engine: of a batch of three, the message at 16 hops goes to the dead-letter
    queue at once (receive count 1, under maxReceiveCount); the other two are invoked with the chain counted."""

    async def main() -> None:
        SqliteStore(tmp_path / "lamina.db", "OFF").close()
        store = SqsStore(tmp_path / "lamina.db", "OFF")
        clock = ManualClock()
        engine = SqsEngine(store, clock)
        dlq = await engine.create(REGION, ACCOUNT, "dlq", {}, {})
        redrive = json.dumps({"deadLetterTargetArn": dlq.arn, "maxReceiveCount": 5})
        queue = await engine.create(REGION, ACCOUNT, "q", {"RedrivePolicy": redrive}, {})
        at_15 = at_16 = None
        for _ in range(16):
            at_15, at_16 = at_16, LoopDetector.trace_id(ARN, [at_16])
        assert at_15 is not None and at_16 is not None
        new = [
            NewMessage(body, md5_text(body), {}, None, {"SenderId": ACCOUNT, **trace}, None)
            for body, trace in (
                ("fresh", {}),
                ("looping", {"AWSTraceHeader": at_16}),
                ("at-15", {"AWSTraceHeader": at_15}),
            )
        ]
        await engine.send(queue, new)
        runner = TracingRunner()
        detector = LoopDetector(lambda region, name: "Terminate")
        mapping = Mapping(
            uuid="u", region=REGION, account=ACCOUNT, source_arn=queue.arn, function_arn=ARN, batch_size=10,
            window=0, enabled=True, state="Enabled", last_modified=0.0, response_types=[],
        )  # fmt: skip
        functions = SimpleNamespace(
            resolve=lambda *a, **k: object(),
            invocation_target=lambda ref: SimpleNamespace(state=State.ACTIVE),
            cached_spec=lambda c: SimpleNamespace(tracing_mode="PassThrough"),  # what the poller reads of it
        )
        poller = SqsPoller(mapping, engine, cast(Any, functions), runner, clock, loops=detector)
        poller.start()
        for _ in range(5000):
            if runner.calls and queue.counts(clock.time()) == (0, 0, 0):
                break
            await asyncio.sleep(0.001)
        [(bodies, trace_id)] = runner.calls
        assert bodies == ["fresh", "at-15"]
        assert lineage(trace_id) == {function_id(ARN): MAX_HOPS}  # the 16th hop of the longer chain runs
        assert [m.body for m in dlq.messages.values()] == ["looping"]
        assert detector.stopped == 1 and poller.stats["looping"] == 1
        await poller.stop()
        await engine.close()
        await store.close()

    asyncio.run(asyncio.wait_for(main(), 10))
