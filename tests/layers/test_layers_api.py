"""Layer API behaviour beyond the recordings: listing and its filters, paging, ARN-form names, policy
principals, S3 content, durability of versions and their counter, layers on published function versions."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import make_zip
from tests.layers.support import ACCOUNT, REGION, Publisher, layer_zip, unique, wait_settled
from tests.server import ROLE, LaminaProcess

CONTENT = layer_zip({"python/x.py": "X = 1\n"})


def test_list_layers_shows_latest_matching_version(lambda_client: Any, layers: Publisher) -> None:
    name = unique()
    v1 = layers.publish(name, CONTENT, CompatibleRuntimes=["python3.12"], CompatibleArchitectures=["arm64"])
    v2 = layers.publish(name, CONTENT, CompatibleRuntimes=["nodejs20.x"], CompatibleArchitectures=["x86_64"])

    def latest(**filters: str) -> int | None:
        found = [x for x in lambda_client.list_layers(**filters)["Layers"] if x["LayerName"] == name]
        return found[0]["LatestMatchingVersion"]["Version"] if found else None

    assert latest() == 2
    assert latest(CompatibleRuntime="python3.12") == 1
    assert latest(CompatibleArchitecture="arm64") == 1
    assert latest(CompatibleRuntime="python3.12", CompatibleArchitecture="x86_64") is None
    assert latest(CompatibleRuntime="java21") is None
    entry = next(x for x in lambda_client.list_layers()["Layers"] if x["LayerName"] == name)
    assert entry["LayerArn"] == v2["LayerArn"]
    assert entry["LatestMatchingVersion"]["LayerVersionArn"] == v2["LayerVersionArn"]
    filtered = lambda_client.list_layer_versions(LayerName=name, CompatibleRuntime="python3.12")["LayerVersions"]
    assert [v["LayerVersionArn"] for v in filtered] == [v1["LayerVersionArn"]]


def test_list_layer_versions_pages(lambda_client: Any, layers: Publisher) -> None:
    name = unique()
    for _ in range(5):
        layers.publish(name, CONTENT)
    seen, marker = [], None
    while True:
        page = lambda_client.list_layer_versions(LayerName=name, MaxItems=2, **({"Marker": marker} if marker else {}))
        assert len(page["LayerVersions"]) <= 2
        seen += [v["Version"] for v in page["LayerVersions"]]
        marker = page.get("NextMarker")
        if marker is None:
            break
    assert seen == [5, 4, 3, 2, 1]
    paginated = lambda_client.get_paginator("list_layer_versions").paginate(
        LayerName=name, PaginationConfig={"PageSize": 3}
    )
    assert [v["Version"] for p in paginated for v in p["LayerVersions"]] == [5, 4, 3, 2, 1]


def test_layers_are_regional(lamina: LaminaProcess, lambda_client: Any, layers: Publisher) -> None:
    name = unique()
    layers.publish(name, CONTENT)
    other = lamina.client(region="eu-west-1")
    assert other.list_layer_versions(LayerName=name)["LayerVersions"] == []
    assert all(x["LayerName"] != name for x in other.list_layers()["Layers"])
    elsewhere = layers.publish(name, CONTENT, client=other)
    assert elsewhere["Version"] == 1  # its own counter


def test_layer_name_may_be_an_arn(lambda_client: Any, layers: Publisher) -> None:
    name = unique()
    published = layers.publish(name, CONTENT, Description="by name")
    by_arn = lambda_client.get_layer_version(LayerName=published["LayerArn"], VersionNumber=1)
    assert by_arn["LayerVersionArn"] == f"arn:aws:lambda:{REGION}:{ACCOUNT}:layer:{name}:1"
    assert by_arn["Description"] == "by name"
    again = layers.publish(published["LayerArn"], CONTENT)
    assert again["Version"] == 2 and again["LayerArn"] == published["LayerArn"]


def test_content_location_downloads_the_zip(lambda_client: Any, layers: Publisher) -> None:
    published = layers.publish(unique(), CONTENT)
    with urllib.request.urlopen(published["Content"]["Location"]) as response:
        assert response.read() == CONTENT
    tampered = published["Content"]["Location"].replace("Signature=", "Signature=0")
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(tampered)
    assert e.value.code == 403


def test_s3_content_from_a_missing_bucket_is_refused_as_aws_does(lambda_client: Any) -> None:
    with pytest.raises(lambda_client.exceptions.InvalidParameterValueException, match="S3 Error Code: NoSuchBucket"):
        lambda_client.publish_layer_version(LayerName=unique(), Content={"S3Bucket": "my-bucket", "S3Key": "k.zip"})


def test_too_many_architectures_is_a_validation_error(lambda_client: Any) -> None:
    """The service checks compatibleArchitectures itself (with the runtimes), the model's length limit too."""
    with pytest.raises(lambda_client.exceptions.ClientError) as info:
        lambda_client.publish_layer_version(
            LayerName=unique(), Content={"ZipFile": make_zip()}, CompatibleArchitectures=["x86_64", "arm64", "x86_64"]
        )
    assert info.value.response["Error"] == {
        "Code": "ValidationException",
        "Message": "1 validation error detected: Value '[x86_64, arm64, x86_64]' at 'compatibleArchitectures' "
        "failed to satisfy constraint: Member must have length less than or equal to 2",
    }


def test_bad_zip_is_refused(lambda_client: Any) -> None:
    with pytest.raises(lambda_client.exceptions.InvalidParameterValueException, match="Could not unzip"):
        lambda_client.publish_layer_version(LayerName=unique(), Content={"ZipFile": b"not a zip"})


def test_policy_principals_and_organizations(lambda_client: Any, layers: Publisher) -> None:
    name = unique()
    layers.publish(name, CONTENT)
    grant = {"LayerName": name, "VersionNumber": 1, "Action": "lambda:GetLayerVersion"}
    account = lambda_client.add_layer_version_permission(StatementId="acct", Principal="210987654321", **grant)
    assert json.loads(account["Statement"])["Principal"] == {"AWS": "arn:aws:iam::210987654321:root"}
    org = lambda_client.add_layer_version_permission(
        StatementId="org", Principal="*", OrganizationId="o-abcdefghij", **grant
    )
    assert json.loads(org["Statement"])["Condition"] == {"StringEquals": {"aws:PrincipalOrgID": "o-abcdefghij"}}
    policy = lambda_client.get_layer_version_policy(LayerName=name, VersionNumber=1)
    assert [s["Sid"] for s in json.loads(policy["Policy"])["Statement"]] == ["acct", "org"]
    assert policy["RevisionId"] == org["RevisionId"] != account["RevisionId"]
    lambda_client.remove_layer_version_permission(LayerName=name, VersionNumber=1, StatementId="acct")
    lambda_client.remove_layer_version_permission(LayerName=name, VersionNumber=1, StatementId="org")
    with pytest.raises(lambda_client.exceptions.ResourceNotFoundException, match="No policy"):
        lambda_client.get_layer_version_policy(LayerName=name, VersionNumber=1)


def test_permissions_are_per_version(lambda_client: Any, layers: Publisher) -> None:
    name = unique()
    layers.publish(name, CONTENT)
    layers.publish(name, CONTENT)
    lambda_client.add_layer_version_permission(
        LayerName=name, VersionNumber=1, StatementId="s1", Action="lambda:GetLayerVersion", Principal="*"
    )
    with pytest.raises(lambda_client.exceptions.ResourceNotFoundException):
        lambda_client.get_layer_version_policy(LayerName=name, VersionNumber=2)


def test_removing_layers_from_a_function(lambda_client: Any, layers: Publisher, create_function: Any) -> None:
    published = layers.publish(unique(), CONTENT)
    name = unique("fn")
    create_function(name, Layers=[published["LayerVersionArn"]])
    wait_settled(lambda_client, name)
    lambda_client.update_function_configuration(FunctionName=name, Layers=[])
    assert "Layers" not in wait_settled(lambda_client, name)


def test_published_function_versions_keep_their_layers(
    lambda_client: Any, layers: Publisher, create_function: Any
) -> None:
    layer_name = unique()
    v1 = layers.publish(layer_name, layer_zip({"python/pinned.py": "V = 'one'\n"}))
    v2 = layers.publish(layer_name, layer_zip({"python/pinned.py": "V = 'two'\n"}))
    name = unique("fn")
    code = make_zip({"app.py": "import pinned\ndef handler(event, context):\n    return pinned.V\n"})
    create_function(name, Code={"ZipFile": code}, Layers=[v1["LayerVersionArn"]])
    wait_settled(lambda_client, name)
    version = lambda_client.publish_version(FunctionName=name)["Version"]
    lambda_client.update_function_configuration(FunctionName=name, Layers=[v2["LayerVersionArn"]])
    wait_settled(lambda_client, name)

    def run(qualifier: str) -> Any:
        return json.loads(lambda_client.invoke(FunctionName=name, Qualifier=qualifier)["Payload"].read())

    assert run(version) == "one"
    assert run("$LATEST") == "two"
    shown = lambda_client.get_function_configuration(FunctionName=name, Qualifier=version)["Layers"]
    assert [x["Arn"] for x in shown] == [v1["LayerVersionArn"]]


def test_versions_and_counter_survive_a_restart(fresh_lamina: Callable[..., LaminaProcess], tmp_path: Path) -> None:
    server = fresh_lamina(data_dir=tmp_path / "data")
    client = server.client()
    name = unique()
    for _ in range(2):
        client.publish_layer_version(LayerName=name, Content={"ZipFile": CONTENT})
    client.delete_layer_version(LayerName=name, VersionNumber=2)
    client.add_layer_version_permission(
        LayerName=name, VersionNumber=1, StatementId="s1", Action="lambda:GetLayerVersion", Principal="*"
    )
    fn = unique("fn")
    client.create_function(
        FunctionName=fn,
        Runtime="python3.12",
        Role=ROLE,
        Handler="app.handler",
        Code={"ZipFile": make_zip({"app.py": "import x\ndef handler(e, c):\n    return x.X\n"})},
        Layers=[f"arn:aws:lambda:{REGION}:{ACCOUNT}:layer:{name}:1"],
    )
    wait_settled(client, fn)
    client.delete_layer_version(LayerName=name, VersionNumber=1)
    server.kill()  # kill -9: what was answered must be on disk

    client = fresh_lamina(data_dir=tmp_path / "data").client()
    assert client.list_layer_versions(LayerName=name)["LayerVersions"] == []
    assert client.publish_layer_version(LayerName=name, Content={"ZipFile": CONTENT})["Version"] == 3
    wait_settled(client, fn)
    assert json.loads(client.invoke(FunctionName=fn)["Payload"].read()) == 1  # deleted version 1 still runs
