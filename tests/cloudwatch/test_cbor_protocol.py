"""The same API on Smithy RPC v2 CBOR (the protocol CloudWatch's model lists first, which SDKs other than
botocore 1.44 send): a real botocore client made to prefer it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import botocore.model
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.server import LaminaProcess


@pytest.fixture
def cbor_client(lamina: LaminaProcess, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    order = ("smithy-rpc-v2-cbor", "json", "rest-json", "rest-xml", "query", "ec2")
    monkeypatch.setattr(botocore.model, "PRIORITY_ORDERED_SUPPORTED_PROTOCOLS", order)
    client = boto3.session.Session().client(
        "cloudwatch",
        endpoint_url=lamina.url,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(retries={"max_attempts": 1}),
    )
    assert client.meta.service_model.resolved_protocol == "smithy-rpc-v2-cbor"
    yield client


def test_put_and_get_over_cbor(cbor_client: Any) -> None:
    ns = f"Test/{uuid.uuid4().hex[:8]}"
    t = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=2)
    cbor_client.put_metric_data(Namespace=ns, MetricData=[{"MetricName": "M", "Timestamp": t, "Value": 2.5}])
    got = cbor_client.get_metric_statistics(
        Namespace=ns, MetricName="M", StartTime=t, EndTime=t + timedelta(minutes=1), Period=60,
        Statistics=["Sum", "SampleCount"],
    )  # fmt: skip
    assert got["Datapoints"] == [{"Timestamp": t, "Sum": 2.5, "SampleCount": 1.0, "Unit": "None"}]
    data = cbor_client.get_metric_data(
        MetricDataQueries=[
            {"Id": "m", "MetricStat": {"Metric": {"Namespace": ns, "MetricName": "M"}, "Period": 60, "Stat": "Sum"}}
        ],
        StartTime=t,
        EndTime=t + timedelta(minutes=1),
    )
    assert data["MetricDataResults"][0]["Timestamps"] == [t]
    assert data["MetricDataResults"][0]["Values"] == [2.5]


def test_errors_over_cbor(cbor_client: Any) -> None:
    now = datetime.now(UTC)
    with pytest.raises(ClientError) as caught:
        cbor_client.get_metric_statistics(
            Namespace="Test/x", MetricName="M", StartTime=now - timedelta(hours=1), EndTime=now, Period=61,
            Statistics=["Sum"],
        )  # fmt: skip
    error = caught.value.response["Error"]
    assert (error["Code"], error["Message"]) == (
        "InvalidParameterValue",
        "The parameter Period must be a multiple of 60.",
    )
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
