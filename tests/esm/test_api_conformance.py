"""Replays the recorded AWS responses of the SQS event source mapping entries (TestLambdaEventSourceMappings in
test_lambda_api.snapshot.json and the API-side entries of test_lambda_integration_sqs.snapshot.json) through
tests/conformance/snapshot.py's normaliser. The calls mirror upstream's tests of the same ids."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.conformance.snapshot import RECORDED, Bindings, Replay, clean, known_difference
from tests.esm.conftest import wait_settled

INTEGRATION_FILE = "services__lambda___event_source_mapping__test_lambda_integration_sqs.snapshot.json"
INTEGRATION_PREFIX = "tests/aws/services/lambda_/event_source_mapping/test_lambda_integration_sqs.py::"
REGION = "us-east-1"
ENTRIES: set[str] = set()  # the entries replayed here, for the summary in tests/esm/conftest.py
ECHO = "def handler(event, context):\n    return event\n"


class EsmReplay(Replay):
    def __init__(self, test_id: str, integration: bool = False) -> None:
        if integration:
            data = json.loads((RECORDED / INTEGRATION_FILE).read_text())
            self.test_id = test_id
            self.recorded = data[INTEGRATION_PREFIX + test_id]["recorded-content"]
            self.known = known_difference(self.recorded)
            self.bindings = Bindings({"<partition>": "aws", "<region>": REGION})
            self.live = {}
        else:
            super().__init__(f"TestLambdaEventSourceMappings::{test_id}", REGION)
        self._integration = integration
        ENTRIES.add(self.test_id)

    def match(self, name: str, live: Any) -> Any:
        super().match(name, live)
        got = self.live[name]
        if not self._integration and isinstance(got, dict) and isinstance(got.get("LastModified"), str):
            got["LastModified"] = "datetime"  # the API file records the key_value "datetime"
        return live


@pytest.fixture
def fn(make_function: Callable[..., str]) -> str:
    return make_function(ECHO)


@pytest.fixture
def cleanup(lambda_client: Any) -> Iterator[Callable[[dict[str, Any]], dict[str, Any]]]:
    made: list[str] = []

    def keep(response: dict[str, Any]) -> dict[str, Any]:
        if "UUID" in response:
            made.append(response["UUID"])
        return response

    yield keep
    for u in made:
        wait_settled(lambda_client, u)
        try:
            lambda_client.delete_event_source_mapping(UUID=u)
        except lambda_client.exceptions.ResourceNotFoundException:
            pass


def test_event_source_mapping_exceptions(lambda_client: Any, make_queue: Any, fn: str) -> None:
    r = EsmReplay("test_event_source_mapping_exceptions")
    _, arn = make_queue()
    r.call("get_unknown_uuid", lambda_client.get_event_source_mapping, UUID=str(uuid.uuid4()))
    r.call("delete_unknown_uuid", lambda_client.delete_event_source_mapping, UUID=str(uuid.uuid4()))
    r.call("update_unknown_uuid", lambda_client.update_event_source_mapping, UUID=str(uuid.uuid4()), Enabled=False)
    r.call("create_no_event_source_arn", lambda_client.create_event_source_mapping, FunctionName=fn)
    r.call(
        "create_unknown_params",
        lambda_client.create_event_source_mapping,
        FunctionName="doesnotexist",
        EventSourceArn=arn,
    )
    r.call(
        "destination_config_failure",
        lambda_client.create_event_source_mapping,
        FunctionName=fn,
        EventSourceArn=arn,
        DestinationConfig={"OnFailure": {"Destination": arn}},
    )
    r.verify()


STARTING_POSITION_ENTRIES = ["test_create_event_source_validation", "test_create_event_source_validation_kinesis"]


@pytest.mark.parametrize("test_id", STARTING_POSITION_ENTRIES)
def test_invalid_starting_position(lambda_client: Any, make_queue: Any, fn: str, test_id: str) -> None:
    """Partial: only the enum check, which the model-driven validation answers before the source type
    matters (stream sources are not built); AWS lists the positions in its own order."""
    r = EsmReplay(test_id)
    _, arn = make_queue()
    create = lambda_client.create_event_source_mapping
    r.call("invalid_starting_position", create, FunctionName=fn, EventSourceArn=arn, StartingPosition="invalid")
    r.verify()


def test_function_name_variations(lambda_client: Any, make_queue: Any, fn: str) -> None:
    r = EsmReplay("test_function_name_variations")
    _, arn = make_queue()
    version = lambda_client.publish_version(FunctionName=fn)["Version"]
    lambda_client.create_alias(FunctionName=fn, Name="myalias", FunctionVersion=version)
    fn_arn = lambda_client.get_function(FunctionName=fn)["Configuration"]["FunctionArn"]
    variants = [
        ("name_only", fn),
        ("partial_arn_latest", f"{fn}:$LATEST"),
        ("partial_arn_version", f"{fn}:{version}"),
        ("partial_arn_alias", f"{fn}:myalias"),
        ("full_arn_latest", fn_arn),
        ("full_arn_version", f"{fn_arn}:{version}"),
        ("full_arn_alias", f"{fn_arn}:myalias"),
    ]
    for label, name in variants:
        got = r.call(
            f"{label}_create_esm", lambda_client.create_event_source_mapping, FunctionName=name, EventSourceArn=arn
        )
        wait_settled(lambda_client, got["UUID"])
        lambda_client.delete_event_source_mapping(UUID=got["UUID"])
        wait_settled(lambda_client, got["UUID"])
    r.verify()


def test_default_batch_size(lambda_client: Any, make_queue: Any, fn: str, cleanup: Any) -> None:
    r = EsmReplay("TestSQSEventSourceMapping::test_event_source_mapping_default_batch_size", integration=True)
    _, arn = make_queue()
    got = cleanup(
        r.call(
            "create-event-source-mapping",
            lambda_client.create_event_source_mapping,
            EventSourceArn=arn,
            FunctionName=fn,
        )
    )
    assert got["BatchSize"] == 10
    wait_settled(lambda_client, got["UUID"])
    r.call(
        "invalid-update-event-source-mapping",
        lambda_client.update_event_source_mapping,
        UUID=got["UUID"],
        BatchSize=11,
    )
    _, arn2 = make_queue()
    r.call(
        "invalid-create-event-source-mapping",
        lambda_client.create_event_source_mapping,
        EventSourceArn=arn2,
        FunctionName=fn,
        BatchSize=11,
    )
    r.verify()


@pytest.mark.parametrize("label", ["None", "simple string", "invalid_filter2", "invalid_filter3"])
def test_invalid_event_filter(lambda_client: Any, make_queue: Any, fn: str, label: str) -> None:
    invalid: dict[str, Any] = {
        "None": None,
        "simple string": "simple string",
        "invalid_filter2": {"eventSource": "aws:sqs"},
    }
    value: Any = invalid.get(label, {"eventSource": []})
    r = EsmReplay(f"TestSQSEventSourceMapping::test_sqs_invalid_event_filter[{label}]", integration=True)
    _, arn = make_queue()
    pattern = value if isinstance(value, str) else json.dumps(value)
    r.call(
        "create_event_source_mapping_exception",
        lambda_client.create_event_source_mapping,
        EventSourceArn=arn,
        FunctionName=fn,
        MaximumBatchingWindowInSeconds=1,
        FilterCriteria={"Filters": [{"Pattern": pattern}]},
    )
    r.verify()


def test_duplicate_event_source_mappings(lambda_client: Any, make_queue: Any, fn: str, cleanup: Any) -> None:
    r = EsmReplay("TestSQSEventSourceMapping::test_duplicate_event_source_mappings", integration=True)
    _, arn = make_queue()
    cleanup(r.call("create", lambda_client.create_event_source_mapping, EventSourceArn=arn, FunctionName=fn))
    r.call("error", lambda_client.create_event_source_mapping, EventSourceArn=arn, FunctionName=fn)
    r.verify()


def test_esm_with_not_existing_sqs_queue(lambda_client: Any, fn: str) -> None:
    r = EsmReplay("test_esm_with_not_existing_sqs_queue", integration=True)
    arn = f"arn:aws:sqs:{REGION}:000000000000:not-existing-queue"
    r.call("error", lambda_client.create_event_source_mapping, EventSourceArn=arn, FunctionName=fn)
    r.verify()


def test_fifo_enable_states(lambda_client: Any, make_queue: Any, fn: str, cleanup: Any) -> None:
    r = EsmReplay("test_fifo_message_group_parallelism", integration=True)
    _, arn = make_queue(fifo=True, ContentBasedDeduplication="true")
    got = cleanup(
        r.call(
            "create_esm_disabled",
            lambda_client.create_event_source_mapping,
            EventSourceArn=arn,
            FunctionName=fn,
            BatchSize=1,
            Enabled=False,
        )
    )
    wait_settled(lambda_client, got["UUID"])
    r.call("update_esm_enabling", lambda_client.update_event_source_mapping, UUID=got["UUID"], Enabled=True)
    wait_settled(lambda_client, got["UUID"])
    r.call("get_esm_enabled", lambda_client.get_event_source_mapping, UUID=got["UUID"])
    r.verify()


def test_clean_is_used() -> None:
    assert clean({"a": 1}) == {"a": 1}


def _integration_entries(prefix: str, key: str) -> list[str]:
    data = json.loads((RECORDED / INTEGRATION_FILE).read_text())
    out = []
    for full, entry in data.items():
        test_id = full.removeprefix(INTEGRATION_PREFIX)
        if test_id.startswith(prefix) and key in entry["recorded-content"]:
            out.append(test_id)
    return out


class ParsedPatternReplay(EsmReplay):
    """The recordings show each filter Pattern parsed (upstream's snapshot transformer); so is the live one."""

    def match(self, name: str, live: Any) -> Any:
        super().match(name, live)
        got = self.live[name]
        for f in (got.get("FilterCriteria") or {}).get("Filters", []):
            f["Pattern"] = json.loads(f["Pattern"])
        if "batch_size[" in self.test_id and "MaximumBatchingWindowInSeconds" in got:
            got["MaximumBatchingWindowInSeconds"] = "maximum-batching-window-in-seconds"  # upstream masks it
        return live


@pytest.mark.parametrize(
    "test_id",
    _integration_entries("TestSQSEventSourceMapping::test_sqs_event_filter[", "create_event_source_mapping_response"),
)
def test_filter_create_responses(lambda_client: Any, make_queue: Any, fn: str, cleanup: Any, test_id: str) -> None:
    r = ParsedPatternReplay(test_id, integration=True)
    recorded = r.recorded["create_event_source_mapping_response"]
    _, arn = make_queue()
    cleanup(
        r.call(
            "create_event_source_mapping_response",
            lambda_client.create_event_source_mapping,
            EventSourceArn=arn,
            FunctionName=fn,
            MaximumBatchingWindowInSeconds=1,
            FilterCriteria={
                "Filters": [{"Pattern": json.dumps(f["Pattern"])} for f in recorded["FilterCriteria"]["Filters"]]
            },
        )
    )
    r.verify()


@pytest.mark.parametrize(
    ("test_id", "args"),
    [
        ("TestSQSEventSourceMapping::test_sqs_event_source_mapping", {"MaximumBatchingWindowInSeconds": 1}),
        *[
            (
                f"TestSQSEventSourceMapping::test_sqs_event_source_mapping_batch_size[{n}]",
                {"BatchSize": n, "MaximumBatchingWindowInSeconds": 1},
            )
            for n in (15, 100, 1000, 10000)
        ],
        (
            "TestSQSEventSourceMapping::test_sqs_event_source_mapping_batching_reserved_concurrency",
            {"BatchSize": 20, "MaximumBatchingWindowInSeconds": 1, "ScalingConfig": {"MaximumConcurrency": 2}},
        ),
    ],
)
def test_create_responses(
    lambda_client: Any, make_queue: Any, fn: str, cleanup: Any, test_id: str, args: dict[str, Any]
) -> None:
    r = ParsedPatternReplay(test_id, integration=True)
    _, arn = make_queue()
    cleanup(
        r.call(
            "create-event-source-mapping-response",
            lambda_client.create_event_source_mapping,
            EventSourceArn=arn,
            FunctionName=fn,
            **args,
        )
    )
    r.verify()


def test_report_batch_item_failures_create(lambda_client: Any, make_queue: Any, fn: str, cleanup: Any) -> None:
    r = EsmReplay("test_report_batch_item_failures", integration=True)
    _, arn = make_queue(fifo=True)
    cleanup(
        r.call(
            "create_event_source_mapping",
            lambda_client.create_event_source_mapping,
            EventSourceArn=arn,
            FunctionName=fn,
            BatchSize=10,
            FunctionResponseTypes=["ReportBatchItemFailures"],
        )
    )
    r.verify()


def test_update_function_name(lambda_client: Any, make_queue: Any, fn: str, cleanup: Any) -> None:
    r = EsmReplay("TestSQSEventSourceMapping::test_sqs_event_source_mapping_update", integration=True)
    _, arn = make_queue()
    version = lambda_client.publish_version(FunctionName=fn)["Version"]
    got = cleanup(
        r.call(
            "create-event-source-mapping-response",
            lambda_client.create_event_source_mapping,
            EventSourceArn=arn,
            FunctionName=fn,
            MaximumBatchingWindowInSeconds=1,
        )
    )
    wait_settled(lambda_client, got["UUID"])
    r.call("updated_esm", lambda_client.update_event_source_mapping, UUID=got["UUID"], FunctionName=f"{fn}:{version}")
    wait_settled(lambda_client, got["UUID"])
    r.call("updated_event_source_mapping", lambda_client.get_event_source_mapping, UUID=got["UUID"])
    r.verify()
