"""Versions and aliases through boto3: each version runs its own code; aliases split traffic by weight."""

from __future__ import annotations

import base64
import http.client
import json
import math
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from lamina.functions.alias import AliasConfig
from tests.conftest import make_zip
from tests.server import LaminaProcess

Create = Callable[..., dict[str, Any]]


def _code(tag: str) -> bytes:
    return make_zip(
        {
            "app.py": (
                "import os\n"
                "def handler(event, context):\n"
                f"    return {{'tag': {tag!r}, 'version': context.function_version,\n"
                "            'arn': context.invoked_function_arn, 'stream': context.log_stream_name}\n"
            )
        }
    )


def _payload(response: dict[str, Any]) -> Any:
    return json.loads(response["Payload"].read())


@pytest.fixture
def two_versions(lambda_client: Any, create_function: Create, fn_name: str) -> str:
    create_function(fn_name, Code={"ZipFile": _code("one")}, Publish=True)
    lambda_client.get_waiter("function_active_v2").wait(FunctionName=fn_name, WaiterConfig={"Delay": 0.1})
    lambda_client.update_function_code(FunctionName=fn_name, ZipFile=_code("two"))
    lambda_client.get_waiter("function_updated_v2").wait(FunctionName=fn_name, WaiterConfig={"Delay": 0.1})
    assert lambda_client.publish_version(FunctionName=fn_name)["Version"] == "2"
    return fn_name


def test_each_version_runs_its_own_code(lambda_client: Any, two_versions: str) -> None:
    name = two_versions
    one = lambda_client.invoke(FunctionName=name, Qualifier="1", LogType="Tail")
    assert one["ExecutedVersion"] == "1"
    body = _payload(one)
    assert body["tag"] == "one"
    assert body["version"] == "1"
    assert body["arn"].endswith(f":function:{name}:1")
    assert "]" in body["stream"] and body["stream"].split("]")[0].endswith("[1")
    assert "Version: 1" in base64.b64decode(one["LogResult"]).decode()
    two = lambda_client.invoke(FunctionName=f"{name}:2")
    assert (two["ExecutedVersion"], _payload(two)["tag"]) == ("2", "two")
    latest = lambda_client.invoke(FunctionName=name)
    assert (latest["ExecutedVersion"], _payload(latest)["tag"]) == ("$LATEST", "two")


def test_versions_are_immutable_and_listed(lambda_client: Any, two_versions: str) -> None:
    name = two_versions
    lambda_client.update_function_configuration(FunctionName=name, Environment={"Variables": {"STAGE": "x"}})
    lambda_client.get_waiter("function_updated_v2").wait(FunctionName=name, WaiterConfig={"Delay": 0.1})
    assert "Environment" not in lambda_client.get_function_configuration(FunctionName=name, Qualifier="1")
    versions = lambda_client.list_versions_by_function(FunctionName=name)["Versions"]
    assert [v["Version"] for v in versions] == ["$LATEST", "1", "2"]
    assert versions[0]["FunctionArn"].endswith(":$LATEST")
    # Something changed since version 2, so this publish makes version 3; publishing again does not.
    assert lambda_client.publish_version(FunctionName=name)["Version"] == "3"
    assert lambda_client.publish_version(FunctionName=name)["Version"] == "3"


def test_publish_preconditions(lambda_client: Any, two_versions: str) -> None:
    with pytest.raises(ClientError) as sha:
        lambda_client.publish_version(FunctionName=two_versions, CodeSha256="nope")
    assert sha.value.response["Error"]["Code"] == "InvalidParameterValueException"
    with pytest.raises(ClientError) as revision:
        lambda_client.publish_version(FunctionName=two_versions, RevisionId="nope")
    assert revision.value.response["ResponseMetadata"]["HTTPStatusCode"] == 412


def test_alias_in_use_protects_its_versions(lambda_client: Any, two_versions: str) -> None:
    name = two_versions
    lambda_client.create_alias(FunctionName=name, Name="live", FunctionVersion="1",
                               RoutingConfig={"AdditionalVersionWeights": {"2": 0.5}})  # fmt: skip
    for version in ("1", "2"):
        with pytest.raises(ClientError) as info:
            lambda_client.delete_function(FunctionName=name, Qualifier=version)
        assert info.value.response["Error"]["Code"] == "ResourceConflictException"
    lambda_client.update_alias(FunctionName=name, Name="live", FunctionVersion="2", RoutingConfig={})
    lambda_client.delete_function(FunctionName=name, Qualifier="1")
    with pytest.raises(lambda_client.exceptions.ResourceNotFoundException):
        lambda_client.get_function(FunctionName=name, Qualifier="1")
    response = lambda_client.invoke(FunctionName=name, Qualifier="live")
    assert response["ExecutedVersion"] == "2"
    assert _payload(response)["arn"].endswith(f":function:{name}:live")


def test_alias_pick_version_follows_the_weights() -> None:
    alias = AliasConfig("a", "arn:aws:lambda:us-east-1:000000000000:function:f", "1", "r", weights={"2": 0.3})
    assert alias.pick_version(0.0) == "2"
    assert alias.pick_version(0.2999) == "2"
    assert alias.pick_version(0.3) == "1"
    assert alias.pick_version(0.99) == "1"


@pytest.mark.slow
def test_weighted_alias_splits_10000_invokes_70_30(
    lamina: LaminaProcess, lambda_client: Any, two_versions: str
) -> None:
    name = two_versions
    lambda_client.create_alias(FunctionName=name, Name="canary", FunctionVersion="1",
                               RoutingConfig={"AdditionalVersionWeights": {"2": 0.3}})  # fmt: skip
    conn = http.client.HTTPConnection("127.0.0.1", lamina.port)
    counts: Counter[str] = Counter()
    total = 10_000
    path = f"/2015-03-31/functions/{name}/invocations?Qualifier=canary"
    for _ in range(total):
        conn.request("POST", path, body=b"{}")
        response = conn.getresponse()
        body = json.loads(response.read())
        version = response.getheader("X-Amz-Executed-Version") or ""
        assert body["tag"] == {"1": "one", "2": "two"}[version]
        counts[version] += 1
    conn.close()
    # Binomial(10000, 0.3): sd ~ 45.8; five standard deviations make a false failure ~1 in 3.5 million.
    sd = math.sqrt(total * 0.3 * 0.7)
    assert abs(counts["2"] - 0.3 * total) < 5 * sd, counts
    assert counts["1"] + counts["2"] == total
