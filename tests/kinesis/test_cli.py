"""The aws CLI against Lamina's Kinesis: create-stream, wait, put-record, get-shard-iterator, get-records.
(The PyPI CLI is v1: --data is the raw text; get-records shows it base64-encoded.)"""

from __future__ import annotations

import base64
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.aws_cli import AWS, json_runner


@pytest.fixture
def aws(tmp_path: Path, lamina: Any) -> Any:
    return json_runner(tmp_path, lamina.url, "kinesis")


@pytest.mark.skipif(not AWS.exists(), reason="the aws CLI is not installed in this environment")
def test_cli_round_trip(aws: Any) -> None:
    name = f"cli-{uuid.uuid4().hex[:10]}"
    aws("create-stream", "--stream-name", name, "--shard-count", "1")
    aws("wait", "stream-exists", "--stream-name", name)
    put = aws("put-record", "--stream-name", name, "--partition-key", "k", "--data", "hello")
    assert put["ShardId"] == "shardId-000000000000"
    it = aws("get-shard-iterator", "--stream-name", name, "--shard-id", put["ShardId"],
             "--shard-iterator-type", "TRIM_HORIZON")["ShardIterator"]  # fmt: skip
    got = aws("get-records", "--shard-iterator", it)
    assert [base64.b64decode(r["Data"]) for r in got["Records"]] == [b"hello"]
    assert got["Records"][0]["SequenceNumber"] == put["SequenceNumber"]
    listed = aws("list-streams")
    assert name in listed["StreamNames"]
    stderr = aws("describe-stream", "--stream-name", name + "-missing", ok=False)
    assert "ResourceNotFoundException" in stderr
    aws("delete-stream", "--stream-name", name)
