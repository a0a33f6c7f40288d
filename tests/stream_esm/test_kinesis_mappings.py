"""Kinesis event source mappings end to end: real functions, records in order per shard and per partition key
(ParallelizationFactor 10), retry until success, bisect isolating a poison record into the on-failure queue,
filters, AWS's mapping fields and errors (the recorded test_lambda_integration_kinesis entries)."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.esm.conftest import wait_for, wait_settled
from tests.stream_esm.conftest import REPORT, Counter

RECORDED = json.loads(
    (
        Path(__file__).parents[1]
        / "conformance/aws-recorded/services__lambda___event_source_mapping__test_lambda_integration_kinesis"
        ".snapshot.json"
    ).read_text()
)


def _recorded(test: str) -> dict[str, Any]:
    (entry,) = [v["recorded-content"] for k, v in RECORDED.items() if k.endswith("::" + test)]
    return dict(entry)


RECORDING = (
    REPORT
    + """
def handler(event, context):
    report({"records": event["Records"]})
"""
)


def _data(post: dict[str, Any]) -> list[str]:
    return [base64.b64decode(r["kinesis"]["data"]).decode() for r in post["records"]]


def test_mapping_fields_and_record_shape_match_the_recording(
    lambda_client: Any, kinesis: Any, make_stream: Any, make_function: Callable[..., str], mappings: list[str],
    counter: Counter,
) -> None:  # fmt: skip
    expected = _recorded("test_create_kinesis_event_source_mapping")
    name, arn = make_stream()
    fn = make_function(RECORDING, env={"COLLECTOR": counter.url})
    created = lambda_client.create_event_source_mapping(FunctionName=fn, EventSourceArn=arn, StartingPosition="LATEST")
    mappings.append(created["UUID"])
    want = expected["create_event_source_mapping_response"]
    assert set(created) == set(want)
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 202
    for field in ("BatchSize", "MaximumRecordAgeInSeconds", "MaximumRetryAttempts", "ParallelizationFactor",
                  "DestinationConfig", "StateTransitionReason", "State", "TumblingWindowInSeconds",
                  "LastProcessingResult", "BisectBatchOnFunctionError"):  # fmt: skip
        assert created[field] == want[field], field
    assert wait_settled(lambda_client, created["UUID"]) == "Enabled"
    wait_for(lambda: lambda_client.get_event_source_mapping(UUID=created["UUID"])["State"] == "Enabled")
    time.sleep(1.5)  # LATEST: the shard's poller has taken its starting position
    kinesis.put_records(StreamName=name, Records=[{"Data": b"hello", "PartitionKey": f"test_{i}"} for i in range(3)])
    posts = wait_for(counter.snapshot)
    record = posts[0]["records"][0]
    want_record = expected["kinesis_records"]["Records"][0]
    assert set(record) == set(want_record)
    assert set(record["kinesis"]) == set(want_record["kinesis"])
    assert record["kinesis"]["data"] == want_record["kinesis"]["data"] == "aGVsbG8="
    assert record["eventID"] == f"shardId-000000000000:{record['kinesis']['sequenceNumber']}"
    assert record["eventSourceARN"] == arn
    for field in ("eventName", "eventSource", "eventVersion"):
        assert record[field] == want_record[field]


def test_order_per_shard_and_per_key_with_parallelization(
    lambda_client: Any, kinesis: Any, make_stream: Any, make_function: Callable[..., str], mappings: list[str],
    counter: Counter,
) -> None:  # fmt: skip
    name, arn = make_stream(2)
    fn = make_function(RECORDING, env={"COLLECTOR": counter.url})
    for i in range(0, 200, 50):
        kinesis.put_records(
            StreamName=name, Records=[{"Data": f"{k % 10}:{k}".encode(), "PartitionKey": f"key-{k % 10}"}
                                      for k in range(i, i + 50)]
        )  # fmt: skip
    created = lambda_client.create_event_source_mapping(
        FunctionName=fn, EventSourceArn=arn, StartingPosition="TRIM_HORIZON", BatchSize=7, ParallelizationFactor=10
    )
    mappings.append(created["UUID"])
    assert created["ParallelizationFactor"] == 10
    wait_for(lambda: sum(len(p["records"]) for p in counter.snapshot()) >= 200, timeout=60)
    seen: dict[str, list[int]] = {}
    shard_seqs: dict[str, list[int]] = {}
    for post in counter.snapshot():
        keys = {r["kinesis"]["partitionKey"] for r in post["records"]}
        assert len({r["eventID"].split(":")[0] for r in post["records"]}) == 1  # a batch is from one shard
        assert len(keys) >= 1
        for text in _data(post):
            key, n = text.split(":")
            seen.setdefault(key, []).append(int(n))
        for r in post["records"]:
            shard_seqs.setdefault(r["eventID"].split(":")[0], []).append(int(r["kinesis"]["sequenceNumber"]))
    assert sum(len(v) for v in seen.values()) == 200  # nothing lost, nothing twice
    for key, ns in seen.items():
        assert ns == sorted(ns), key  # per partition key, in order


def test_retry_until_success(
    lambda_client: Any, kinesis: Any, make_stream: Any, make_function: Callable[..., str], mappings: list[str],
    counter: Counter,
) -> None:  # fmt: skip
    name, arn = make_stream()
    code = (
        REPORT
        + """
def handler(event, context):
    n = report({"records": event["Records"]})
    if n <= 3:
        raise RuntimeError("not yet")
"""
    )
    fn = make_function(code, env={"COLLECTOR": counter.url})
    kinesis.put_records(StreamName=name, Records=[{"Data": f"r{i}".encode(), "PartitionKey": "k"} for i in range(5)])
    created = lambda_client.create_event_source_mapping(
        FunctionName=fn, EventSourceArn=arn, StartingPosition="TRIM_HORIZON", BatchSize=10
    )
    mappings.append(created["UUID"])
    assert created["MaximumRetryAttempts"] == -1
    posts = wait_for(lambda: len(counter.snapshot()) >= 4 and counter.snapshot(), timeout=30)
    assert all(_data(p) == [f"r{i}" for i in range(5)] for p in posts[:4])  # the same batch, blocking the shard
    kinesis.put_record(StreamName=name, Data=b"next", PartitionKey="k")
    posts = wait_for(lambda: len(counter.snapshot()) >= 5 and counter.snapshot(), timeout=30)
    assert _data(posts[4]) == ["next"]  # after success the shard moves on; the batch is not repeated
    # LastProcessingResult follows the batches: OK once one succeeded (the recorded value after processing).
    want = _recorded("test_kinesis_empty_provided")
    ok = [v for k, v in _walk(want) if k == "LastProcessingResult" and v != "No records processed"]
    assert ok == ["OK"]
    wait_for(lambda: lambda_client.get_event_source_mapping(UUID=created["UUID"])["LastProcessingResult"] == "OK")
    listed = lambda_client.list_event_source_mappings(FunctionName=fn)["EventSourceMappings"]
    assert [m["LastProcessingResult"] for m in listed] == ["OK"]


def _walk(value: Any) -> list[tuple[str, Any]]:
    if isinstance(value, dict):
        return [kv for k, v in value.items() for kv in [(k, v), *_walk(v)]]
    if isinstance(value, list):
        return [kv for v in value for kv in _walk(v)]
    return []


def test_last_processing_result_reports_a_failing_function(
    lambda_client: Any, kinesis: Any, make_stream: Any, make_function: Callable[..., str], mappings: list[str],
    counter: Counter,
) -> None:  # fmt: skip
    name, arn = make_stream()
    fn = make_function(REPORT + "\ndef handler(event, context):\n    report({})\n    raise RuntimeError('no')\n",
                       env={"COLLECTOR": counter.url})  # fmt: skip
    kinesis.put_record(StreamName=name, Data=b"x", PartitionKey="k")
    created = lambda_client.create_event_source_mapping(
        FunctionName=fn, EventSourceArn=arn, StartingPosition="TRIM_HORIZON", MaximumRetryAttempts=0
    )
    mappings.append(created["UUID"])
    assert created["LastProcessingResult"] == "No records processed"
    wait_for(counter.snapshot, timeout=30)
    wait_for(
        lambda: (
            lambda_client.get_event_source_mapping(UUID=created["UUID"])["LastProcessingResult"]
            == "PROBLEM: Function call failed"
        ),
        timeout=30,
    )


def test_bisect_isolates_a_poison_record_into_the_failure_queue(
    lambda_client: Any, kinesis: Any, sqs: Any, make_stream: Any, make_function: Callable[..., str],
    mappings: list[str], counter: Counter,
) -> None:  # fmt: skip
    name, arn = make_stream()
    url = sqs.create_queue(QueueName=f"fail-{name}")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    code = (
        REPORT
        + """
import base64
def handler(event, context):
    data = [base64.b64decode(r["kinesis"]["data"]).decode() for r in event["Records"]]
    report({"records": event["Records"]})
    if "poison" in data:
        raise RuntimeError("poison")
"""
    )
    fn = make_function(code, env={"COLLECTOR": counter.url})
    values = [f"ok{i}" for i in range(16)]
    values[11] = "poison"
    put = kinesis.put_records(StreamName=name, Records=[{"Data": v.encode(), "PartitionKey": "k"} for v in values])
    poison_seq = put["Records"][11]["SequenceNumber"]
    created = lambda_client.create_event_source_mapping(
        FunctionName=fn, EventSourceArn=arn, StartingPosition="TRIM_HORIZON", BatchSize=16,
        BisectBatchOnFunctionError=True, MaximumRetryAttempts=0,
        DestinationConfig={"OnFailure": {"Destination": queue_arn}},
    )  # fmt: skip
    mappings.append(created["UUID"])
    assert created["DestinationConfig"] == {"OnFailure": {"Destination": queue_arn}}
    messages = wait_for(lambda: sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1).get("Messages"), timeout=60)
    body = json.loads(messages[0]["Body"])
    want = _recorded("test_kinesis_event_source_mapping_with_on_failure_destination_config")["sqs_payload"]
    want_body = want["Messages"][0]["Body"]
    assert set(body) == set(want_body)
    assert set(body["requestContext"]) == set(want_body["requestContext"])
    assert set(body["KinesisBatchInfo"]) == set(want_body["KinesisBatchInfo"])
    assert body["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert body["responseContext"] == {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"}
    info = body["KinesisBatchInfo"]
    assert info["batchSize"] == 1
    assert info["startSequenceNumber"] == info["endSequenceNumber"] == poison_seq
    assert info["streamArn"] == arn and info["shardId"] == "shardId-000000000000"
    delivered = [d for p in counter.snapshot() if len(p["records"]) >= 1 for d in _data(p)]
    ok = {v for v in values if v != "poison"}
    assert ok <= set(delivered)
    # 16 → 8 → 4 → 2 → 1: the invocations that include the poison are log2(16) + 1 = 5
    assert sum("poison" in _data(p) for p in counter.snapshot()) == 5


def test_filters_skip_records(
    lambda_client: Any, kinesis: Any, make_stream: Any, make_function: Callable[..., str], mappings: list[str],
    counter: Counter,
) -> None:  # fmt: skip
    name, arn = make_stream()
    fn = make_function(RECORDING, env={"COLLECTOR": counter.url})
    records = [json.dumps({"event_type": t}).encode() for t in ("function_1", "function_2", "function_1")]
    kinesis.put_records(StreamName=name, Records=[{"Data": d, "PartitionKey": "k"} for d in [*records, b"not json"]])
    created = lambda_client.create_event_source_mapping(
        FunctionName=fn, EventSourceArn=arn, StartingPosition="TRIM_HORIZON",
        FilterCriteria={"Filters": [{"Pattern": json.dumps({"data": {"event_type": ["function_1"]}})}]},
    )  # fmt: skip
    mappings.append(created["UUID"])
    posts = wait_for(counter.snapshot)
    assert [json.loads(d)["event_type"] for d in _data(posts[0])] == ["function_1", "function_1"]


def test_errors(lambda_client: Any, make_stream: Any, make_function: Callable[..., str], mappings: list[str]) -> None:
    fn = make_function(RECORDING)
    missing = "arn:aws:kinesis:us-east-1:000000000000:stream/test-foobar-81ded7e8"
    with pytest.raises(ClientError) as err:
        lambda_client.create_event_source_mapping(FunctionName=fn, EventSourceArn=missing, StartingPosition="LATEST")
    want = _recorded("test_esm_with_not_existing_kinesis_stream")["error"]
    assert err.value.response["Error"]["Code"] == want["Error"]["Code"]
    assert err.value.response["Error"]["Message"] == f"Stream not found: {missing}"
    _, arn = make_stream()
    created = lambda_client.create_event_source_mapping(FunctionName=fn, EventSourceArn=arn, StartingPosition="LATEST")
    mappings.append(created["UUID"])
    with pytest.raises(ClientError) as err:
        lambda_client.create_event_source_mapping(FunctionName=fn, EventSourceArn=arn, StartingPosition="LATEST")
    assert err.value.response["Error"]["Code"] == "ResourceConflictException"
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 409
    assert err.value.response["Error"]["Message"].startswith(f'The event source arn (" {arn} ") and function')
    with pytest.raises(ClientError) as err:
        lambda_client.create_event_source_mapping(
            FunctionName=fn, EventSourceArn=arn, StartingPosition="LATEST", ParallelizationFactor=11
        )
    assert err.value.response["Error"]["Code"] in ("ValidationException", "InvalidParameterValueException")


def test_update_and_at_timestamp(
    lambda_client: Any, kinesis: Any, make_stream: Any, make_function: Callable[..., str], mappings: list[str],
    counter: Counter,
) -> None:  # fmt: skip
    name, arn = make_stream()
    fn = make_function(RECORDING, env={"COLLECTOR": counter.url})
    kinesis.put_record(StreamName=name, Data=b"before", PartitionKey="k")
    time.sleep(1.1)
    stamp = time.time()
    kinesis.put_record(StreamName=name, Data=b"after", PartitionKey="k")
    created = lambda_client.create_event_source_mapping(
        FunctionName=fn, EventSourceArn=arn, StartingPosition="AT_TIMESTAMP", StartingPositionTimestamp=stamp
    )
    mappings.append(created["UUID"])
    assert created["StartingPosition"] == "AT_TIMESTAMP"
    posts = wait_for(counter.snapshot)
    assert _data(posts[0]) == ["after"]
    wait_settled(lambda_client, created["UUID"])
    updated = lambda_client.update_event_source_mapping(
        UUID=created["UUID"], MaximumRetryAttempts=3, BisectBatchOnFunctionError=True, ParallelizationFactor=2
    )
    assert (updated["MaximumRetryAttempts"], updated["BisectBatchOnFunctionError"]) == (3, True)
    assert updated["ParallelizationFactor"] == 2
    assert wait_settled(lambda_client, created["UUID"]) == "Enabled"
    kinesis.put_record(StreamName=name, Data=b"later", PartitionKey="k")
    wait_for(lambda: len(counter.snapshot()) >= 2)
    assert _data(counter.snapshot()[1]) == ["later"]  # the restarted poller resumed from its checkpoint


def test_resharding_is_followed_parent_before_child(
    lambda_client: Any, kinesis: Any, make_stream: Any, make_function: Callable[..., str], mappings: list[str],
    counter: Counter,
) -> None:  # fmt: skip
    name, arn = make_stream()
    fn = make_function(RECORDING, env={"COLLECTOR": counter.url})
    kinesis.put_records(
        StreamName=name, Records=[{"Data": f"p{i}".encode(), "PartitionKey": f"k{i}"} for i in range(20)]
    )
    kinesis.split_shard(StreamName=name, ShardToSplit="shardId-000000000000", NewStartingHashKey=str(2**127))
    kinesis.put_records(
        StreamName=name, Records=[{"Data": f"c{i}".encode(), "PartitionKey": f"k{i}"} for i in range(20)]
    )
    created = lambda_client.create_event_source_mapping(
        FunctionName=fn, EventSourceArn=arn, StartingPosition="TRIM_HORIZON", BatchSize=5
    )
    mappings.append(created["UUID"])
    wait_for(lambda: sum(len(p["records"]) for p in counter.snapshot()) >= 40, timeout=60)
    seen = [d for p in counter.snapshot() for d in _data(p)]
    assert sorted(seen) == sorted([f"p{i}" for i in range(20)] + [f"c{i}" for i in range(20)])
    last_parent = max(i for i, d in enumerate(seen) if d.startswith("p"))
    first_child = min(i for i, d in enumerate(seen) if d.startswith("c"))
    assert last_parent < first_child  # every record of the parent before any of its children


def test_mapping_on_a_registered_consumer(
    lambda_client: Any, kinesis: Any, make_stream: Any, make_function: Callable[..., str], mappings: list[str],
    counter: Counter,
) -> None:  # fmt: skip
    name, arn = make_stream()
    consumer = kinesis.register_stream_consumer(StreamARN=arn, ConsumerName="efo")["Consumer"]["ConsumerARN"]
    fn = make_function(RECORDING, env={"COLLECTOR": counter.url})
    kinesis.put_record(StreamName=name, Data=b"fan-out", PartitionKey="k")
    created = lambda_client.create_event_source_mapping(
        FunctionName=fn, EventSourceArn=consumer, StartingPosition="TRIM_HORIZON"
    )
    mappings.append(created["UUID"])
    assert created["EventSourceArn"] == consumer
    posts = wait_for(counter.snapshot)
    assert _data(posts[0]) == ["fan-out"]
    assert posts[0]["records"][0]["eventSourceARN"] == arn
