"""CreateEventSourceMapping/UpdateEventSourceMapping details checked against AWS's wording and botocore's
model: the in-use errors, FIFO batching windows, MetricsConfig, ProvisionedPollerConfig, KMSKeyArn and tags."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import pytest

from lamina.clock import ManualClock
from lamina.errors import NotFound
from lamina.functions.event_source_mappings import EventSourceMappings, Mapping
from lamina.store.documents import SqliteStore
from tests.esm.conftest import wait_settled

ECHO = "def handler(event, context):\n    return event\n"
WINDOW_NEEDED = "Maximum batch window in seconds must be greater than 0 if maximum batch size is greater than 10"


def _error(e: Any) -> tuple[str, str, int]:
    r = e.value.response
    return r["Error"]["Code"], r["Error"]["Message"], r["ResponseMetadata"]["HTTPStatusCode"]


def test_in_use_while_creating(lambda_client: Any, make_queue: Any, make_function: Any, mappings: list[str]) -> None:
    _, arn = make_queue()
    fn = make_function(ECHO)
    esm = lambda_client.create_event_source_mapping(EventSourceArn=arn, FunctionName=fn)
    mappings.append(esm["UUID"])
    assert esm["State"] == "Creating"
    with pytest.raises(lambda_client.exceptions.ResourceInUseException) as e:
        lambda_client.update_event_source_mapping(UUID=esm["UUID"], BatchSize=5)
    assert _error(e) == (
        "ResourceInUseException", "Cannot update the event source mapping because it is in use.", 400
    )  # fmt: skip
    with pytest.raises(lambda_client.exceptions.ResourceInUseException) as e:
        lambda_client.delete_event_source_mapping(UUID=esm["UUID"])
    assert _error(e) == (
        "ResourceInUseException", "Cannot delete the event source mapping because it is in use.", 400
    )  # fmt: skip
    assert e.value.response["Type"] == "User"


def test_destination_config_is_refused_before_the_function_is_looked_up(lambda_client: Any, make_queue: Any) -> None:
    """An SQS mapping cannot have a DestinationConfig; AWS says so even when the function does not exist."""
    _, arn = make_queue()
    with pytest.raises(lambda_client.exceptions.InvalidParameterValueException) as e:
        lambda_client.create_event_source_mapping(
            EventSourceArn=arn, FunctionName="doesnotexist-esm", DestinationConfig={"OnFailure": {"Destination": arn}}
        )
    unsupported = "Unsupported DestinationConfig parameter for given event source mapping type."
    assert _error(e) == ("InvalidParameterValueException", unsupported, 400)
    with pytest.raises(lambda_client.exceptions.InvalidParameterValueException) as e:
        lambda_client.create_event_source_mapping(EventSourceArn=arn, FunctionName="doesnotexist-esm")
    assert _error(e) == ("InvalidParameterValueException", "Function does not exist", 400)


def test_fifo_batching_window(lambda_client: Any, make_queue: Any, make_function: Any, mappings: list[str]) -> None:
    _, arn = make_queue(fifo=True)
    fn = make_function(ECHO)
    for extra in ({"BatchSize": 100, "MaximumBatchingWindowInSeconds": 5}, {"MaximumBatchingWindowInSeconds": 1}):
        with pytest.raises(lambda_client.exceptions.InvalidParameterValueException) as e:
            lambda_client.create_event_source_mapping(EventSourceArn=arn, FunctionName=fn, **extra)
        assert _error(e) == ("InvalidParameterValueException", "Batching window is not supported for FIFO queues", 400)
    with pytest.raises(lambda_client.exceptions.InvalidParameterValueException) as e:
        lambda_client.create_event_source_mapping(EventSourceArn=arn, FunctionName=fn, BatchSize=11)
    assert _error(e)[1] == WINDOW_NEEDED
    esm = lambda_client.create_event_source_mapping(EventSourceArn=arn, FunctionName=fn, BatchSize=10)
    mappings.append(esm["UUID"])
    wait_settled(lambda_client, esm["UUID"])
    with pytest.raises(lambda_client.exceptions.InvalidParameterValueException) as e:
        lambda_client.update_event_source_mapping(UUID=esm["UUID"], MaximumBatchingWindowInSeconds=2)
    assert _error(e)[1] == "Batching window is not supported for FIFO queues"


def test_metrics_provisioned_pollers_and_kms(
    lambda_client: Any, make_queue: Any, make_function: Any, mappings: list[str]
) -> None:
    _, arn = make_queue()
    fn = make_function(ECHO)
    key = "arn:aws:kms:us-east-1:000000000000:key/1b2c3d4e-0000-4000-8000-000000000000"
    esm = lambda_client.create_event_source_mapping(
        EventSourceArn=arn,
        FunctionName=fn,
        MetricsConfig={"Metrics": ["EventCount"]},
        ProvisionedPollerConfig={"MinimumPollers": 2, "MaximumPollers": 5},
        KMSKeyArn=key,
        Tags={"team": "payments"},
    )
    mappings.append(esm["UUID"])
    assert esm["MetricsConfig"] == {"Metrics": ["EventCount"]}
    assert esm["ProvisionedPollerConfig"] == {"MinimumPollers": 2, "MaximumPollers": 5}
    assert esm["KMSKeyArn"] == key
    assert "Tags" not in esm and "FilterCriteriaError" not in esm
    assert esm["EventSourceMappingArn"].endswith(f":event-source-mapping:{esm['UUID']}")
    wait_settled(lambda_client, esm["UUID"])
    got = lambda_client.get_event_source_mapping(UUID=esm["UUID"])
    assert (
        got["MetricsConfig"] == esm["MetricsConfig"]
        and got["ProvisionedPollerConfig"] == esm["ProvisionedPollerConfig"]
    )

    updated = lambda_client.update_event_source_mapping(
        UUID=esm["UUID"], MetricsConfig={"Metrics": []}, ProvisionedPollerConfig={}, KMSKeyArn=""
    )
    assert not {"MetricsConfig", "ProvisionedPollerConfig", "KMSKeyArn"} & set(updated)
    wait_settled(lambda_client, esm["UUID"])
    listed = lambda_client.list_event_source_mappings(EventSourceArn=arn)["EventSourceMappings"]
    assert [m["UUID"] for m in listed] == [esm["UUID"]] and "MetricsConfig" not in listed[0]


def test_tags_by_arn(tmp_path: Path) -> None:
    """What TagResource/UntagResource/ListTags on an event-source-mapping ARN call (the provider's hook)."""
    store = SqliteStore(tmp_path / "lamina.db", "OFF")
    mappings = EventSourceMappings(store, cast(Any, None), cast(Any, None), ManualClock())
    mapping = Mapping(
        uuid="0f5d3c1e-4a6b-4c2d-9e8f-123456789abc", region="us-east-1", account="000000000000",
        source_arn="arn:aws:sqs:us-east-1:000000000000:q",
        function_arn="arn:aws:lambda:us-east-1:000000000000:function:f",
        batch_size=10, window=0, enabled=True, state="Enabled", last_modified=0.0, tags={"a": "1"},
    )  # fmt: skip
    mappings._put(mapping)
    mappings.tag(mapping.arn, {"b": "2"})
    mappings.untag(mapping.arn, ["a"])
    assert mappings.tags(mapping.arn) == {"b": "2"}
    missing = mapping.arn.replace("0f5d3c1e", "00000000")
    with pytest.raises(NotFound) as e:
        mappings.tags(missing)
    assert e.value.message == f"Event source mapping not found: {missing}"  # the recorded AWS message
    reloaded = EventSourceMappings(store, cast(Any, None), cast(Any, None), ManualClock())
    reloaded.load()
    assert reloaded.tags(mapping.arn) == {"b": "2"}  # durable
    store.close()


def test_tags_through_boto3(lambda_client: Any, make_queue: Any, make_function: Any, mappings: list[str]) -> None:
    """Tags given at create, then Tag/Untag/ListTags on the mapping's ARN, through the Lambda API."""
    _, arn = make_queue()
    esm = lambda_client.create_event_source_mapping(
        EventSourceArn=arn, FunctionName=make_function(ECHO), Tags={"team": "payments"}
    )
    mappings.append(esm["UUID"])
    mapping_arn = esm["EventSourceMappingArn"]
    assert lambda_client.list_tags(Resource=mapping_arn)["Tags"] == {"team": "payments"}
    lambda_client.tag_resource(Resource=mapping_arn, Tags={"env": "test"})
    lambda_client.untag_resource(Resource=mapping_arn, TagKeys=["team"])
    assert lambda_client.list_tags(Resource=mapping_arn)["Tags"] == {"env": "test"}
    wait_settled(lambda_client, esm["UUID"])  # tags given while the mapping was Creating survive its settling
    assert lambda_client.list_tags(Resource=mapping_arn)["Tags"] == {"env": "test"}
    missing = mapping_arn.rsplit(":", 1)[0] + ":00000000-0000-4000-8000-000000000000"
    with pytest.raises(lambda_client.exceptions.ResourceNotFoundException) as e:
        lambda_client.list_tags(Resource=missing)
    assert e.value.response["Error"]["Message"] == f"Event source mapping not found: {missing}"
