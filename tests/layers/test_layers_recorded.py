"""The TestLambdaLayer entries of test_lambda_api.snapshot.json, replayed through boto3 against a real server.

Each test makes, in order, the calls upstream's test of the same id made (LocalStack
tests/aws/services/lambda_/test_lambda_api.py; read as facts, not copied) and compares every response
with the recording through the conformance normaliser. Two kinds of response are compared apart, by
hand, because Lamina cannot word them as AWS did; `DIFFERENCES` says which and why.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from functools import partial
from typing import Any

import pytest

from tests.conformance.snapshot import Replay, capture
from tests.conftest import make_zip
from tests.layers.support import ACCOUNT, REGION, Publisher, unique, wait_settled
from tests.server import ROLE, LaminaProcess

OTHER_REGION = "eu-west-1"
ECHO = "def handler(event, context):\n    return event\n"
DUMMY_LAYER = make_zip({"python/dummy.py": "VALUE = 1\n"})

# Responses Lamina cannot word as AWS did (none left: compared by hand when listed here).
DIFFERENCES: dict[str, str] = {}


class Layered(Replay):
    """A replay where layer responses are made comparable: the signed Location (different per call, as
    AWS's are) is checked to download the zip and then stands for AWS's `<layer-location>` placeholder;
    the JSON strings of Statement/Policy are parsed (upstream's snapshot parses them too)."""

    def match(self, name: str, live: Any) -> Any:
        if isinstance(live, dict):
            live = dict(live)
            content = live.get("Content")
            if isinstance(content, dict) and "Location" in content:
                with urllib.request.urlopen(content["Location"]) as response:
                    assert len(response.read()) == content["CodeSize"]
                live["Content"] = {**content, "Location": "<layer-location>"}
            for key in ("Statement", "Policy"):
                if isinstance(live.get(key), str):
                    live[key] = json.loads(live[key])
        return super().match(name, live)

    def verify(self) -> None:
        """Every recorded response was reproduced: compared here, or by hand when listed in DIFFERENCES."""
        unmatched = set(self.recorded) - set(self.live) - set(DIFFERENCES)
        assert not unmatched, f"recorded but not replayed: {sorted(unmatched)}"
        super().verify()


@pytest.fixture
def rec(request: pytest.FixtureRequest) -> Iterator[Layered]:
    replay = Layered("TestLambdaLayer::" + request.node.name, REGION)
    yield replay


@pytest.fixture
def functions(lambda_client: Any) -> Iterator[list[str]]:
    names: list[str] = []
    yield names
    for name in names:
        capture(lambda_client.delete_function, FunctionName=name)


def create(client: Any, names: list[str], name: str, **params: Any) -> dict[str, Any]:
    """Upstream's `create_lambda_function` fixture: handler.handler, Timeout 30, empty Environment."""
    names.append(name)
    result: dict[str, Any] = client.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=ROLE,
        Handler="handler.handler",
        Code={"ZipFile": make_zip({"handler.py": f"{ECHO}# {name}\n"})},
        Timeout=30,
        Environment={"Variables": {}},
        **params,
    )
    wait_settled(client, name)
    return result


def test_layer_exceptions(lambda_client: Any, layers: Publisher, rec: Layered) -> None:
    c, name = lambda_client, unique("testlayer")
    published = layers.publish(name, DUMMY_LAYER, CompatibleRuntimes=["python3.12"], CompatibleArchitectures=["x86_64"])
    rec.match("publish_result", published)
    rec.call("list_layers_exc_compatibleruntime_invalid", c.list_layers, CompatibleRuntime="runtimedoesnotexist")
    rec.call("list_layers_exc_compatiblearchitecture_invalid", c.list_layers, CompatibleArchitecture="archdoesnotexist")
    rec.call("list_nonexistent_layer", c.list_layer_versions, LayerName="layerdoesnotexist")
    rec.call(
        "get_layer_version_exc_layer_doesnotexist", c.get_layer_version, LayerName="layerdoesnotexist", VersionNumber=1
    )
    rec.call(
        "get_layer_version_exc_layer_version_doesnotexist_negative",
        c.get_layer_version,
        LayerName=name,
        VersionNumber=-1,
    )
    rec.call(
        "get_layer_version_exc_layer_version_doesnotexist_zero", c.get_layer_version, LayerName=name, VersionNumber=0
    )
    rec.call("get_layer_version_exc_layer_version_doesnotexist_2", c.get_layer_version, LayerName=name, VersionNumber=2)
    # AWS prints the layer version ARN pattern without the model's outer parentheses.
    rec.call("get_layer_version_by_arn_exc_invalidarn", c.get_layer_version_by_arn, Arn=published["LayerArn"])
    rec.call(
        "get_layer_version_by_arn_exc_nonexistentversion", c.get_layer_version_by_arn, Arn=f"{published['LayerArn']}:2"
    )
    rec.call("delete_nonexistent_response", c.delete_layer_version, LayerName="layerdoesnotexist", VersionNumber=1)
    rec.call("delete_nonexistent_version_response", c.delete_layer_version, LayerName=name, VersionNumber=2)
    rec.call("delete_layer_response", c.delete_layer_version, LayerName=name, VersionNumber=1)
    rec.call("delete_layer_again_response", c.delete_layer_version, LayerName=name, VersionNumber=1)
    rec.call(
        "delete_layer_version_exc_layerversion_invalid_version",
        c.delete_layer_version,
        LayerName=name,
        VersionNumber=-1,
    )
    empty = layers.publish(unique("testlayer-empty"), DUMMY_LAYER, CompatibleRuntimes=[], CompatibleArchitectures=[])
    rec.match("publish_empty_result", empty)
    # AWS reports the bad runtimes and the bad architectures in one ValidationException.
    rec.call(
        "publish_layer_version_exc_invalid_runtime_arch",
        c.publish_layer_version,
        LayerName=unique("testlayer-2"),
        Content={"ZipFile": DUMMY_LAYER},
        CompatibleRuntimes=["invalidruntime"],
        CompatibleArchitectures=["invalidarch"],
    )
    rec.call(
        "publish_layer_version_exc_partially_invalid_values",
        c.publish_layer_version,
        LayerName=unique("testlayer-2"),
        Content={"ZipFile": DUMMY_LAYER},
        CompatibleRuntimes=["invalidruntime", "invalidruntime2", "nodejs20.x"],
        CompatibleArchitectures=["invalidarch", "x86_64"],
    )
    rec.verify()


def test_invalid_runtimes_alone_word_as_aws(lambda_client: Any) -> None:
    """Without a bad architecture, the runtime half of AWS's recorded message is Lamina's whole message."""
    live = capture(
        lambda_client.publish_layer_version,
        LayerName=unique(),
        Content={"ZipFile": DUMMY_LAYER},
        CompatibleRuntimes=["invalidruntime", "invalidruntime2", "nodejs20.x"],
    )
    recorded = Replay("TestLambdaLayer::test_layer_exceptions", REGION).recorded
    aws = recorded["publish_layer_version_exc_partially_invalid_values"]["Error"]["Message"]
    runtime_half = aws.split("; Value '[invalidarch")[0].replace("2 validation errors", "1 validation error")
    assert live["Error"] == {"Code": "ValidationException", "Message": runtime_half}


def test_layer_lifecycle(lambda_client: Any, layers: Publisher, functions: list[str], rec: Layered) -> None:
    c, fn, name = lambda_client, unique("fn-layer"), unique("testlayer")
    license_info, description = unique("licenseinfo"), unique("description")
    rec.bindings.values.update({"<license-info>": license_info, "<description>": description})
    create(c, functions, fn)
    rec.call("get_fn_result", c.get_function, FunctionName=fn)
    rec.call("get_fn_config_result", c.get_function_configuration, FunctionName=fn)
    params: dict[str, Any] = {
        "CompatibleRuntimes": ["python3.12"],
        "LicenseInfo": license_info,
        "Description": description,
        "CompatibleArchitectures": ["x86_64"],
    }
    first = rec.match("publish_result", layers.publish(name, DUMMY_LAYER, **params))
    second = rec.match("publish_result_2", layers.publish(name, DUMMY_LAYER, **params))
    assert (first["Version"], second["Version"]) == (1, 2)
    assert first["Content"]["CodeSha256"] == second["Content"]["CodeSha256"]
    rec.call("update_fn_config", c.update_function_configuration, FunctionName=fn, Layers=[first["LayerVersionArn"]])
    wait_settled(c, fn)
    rec.call("get_fn_config", c.get_function_configuration, FunctionName=fn)
    rec.call("get_layer_ver_result", c.get_layer_version, LayerName=name, VersionNumber=1)
    rec.call("get_layer_by_arn_version", c.get_layer_version_by_arn, Arn=first["LayerVersionArn"])
    rec.call("list_layer_versions_predelete", c.list_layer_versions, LayerName=name)
    rec.call("delete_layer_1", c.delete_layer_version, LayerName=name, VersionNumber=1)
    rec.call("get_fn_config_postdelete", c.get_function_configuration, FunctionName=fn)
    rec.call("delete_layer_2", c.delete_layer_version, LayerName=name, VersionNumber=2)
    listed = rec.call("list_layer_versions_postdelete", c.list_layer_versions, LayerName=name)
    assert listed["LayerVersions"] == []
    third = rec.match("publish_result_3", layers.publish(name, DUMMY_LAYER, **params))
    assert third["Version"] == 3
    rec.verify()


def test_layer_policy_exceptions(lambda_client: Any, layers: Publisher, rec: Layered) -> None:
    c, name = lambda_client, unique("layer4policy")
    rec.match(
        "publish_result",
        layers.publish(name, DUMMY_LAYER, CompatibleRuntimes=["python3.12"], CompatibleArchitectures=["x86_64"]),
    )
    grant = {"Action": "lambda:GetLayerVersion", "Principal": "*"}
    rec.call("layer_permission_nopolicy_get", c.get_layer_version_policy, LayerName=name, VersionNumber=1)
    rec.call(
        "add_layer_permission_result",
        c.add_layer_version_permission,
        LayerName=name,
        VersionNumber=1,
        StatementId="s1",
        **grant,
    )
    rec.call(
        "layer_permission_action_invalid",
        c.add_layer_version_permission,
        LayerName=name,
        VersionNumber=1,
        Action="*",
        Principal="*",
        StatementId=unique("s"),
    )
    rec.call(
        "layer_permission_duplicate_statement",
        c.add_layer_version_permission,
        LayerName=name,
        VersionNumber=1,
        StatementId="s1",
        **grant,
    )
    rec.call(
        "layer_permission_wrong_revision",
        c.add_layer_version_permission,
        LayerName=name,
        VersionNumber=1,
        StatementId="s2",
        RevisionId="wrong",
        **grant,
    )
    missing = f"{name}-doesnotexist"
    rec.call(
        "layer_permission_layername_doesnotexist_add",
        c.add_layer_version_permission,
        LayerName=missing,
        VersionNumber=1,
        StatementId=unique("s"),
        **grant,
    )
    rec.call(
        "layer_permission_layername_doesnotexist_get", c.get_layer_version_policy, LayerName=missing, VersionNumber=1
    )
    rec.call(
        "layer_permission_layername_doesnotexist_remove",
        c.remove_layer_version_permission,
        LayerName=missing,
        VersionNumber=1,
        StatementId="s1",
    )
    rec.call(
        "layer_permission_layerversion_doesnotexist_add",
        c.add_layer_version_permission,
        LayerName=name,
        VersionNumber=2,
        StatementId=unique("s"),
        **grant,
    )
    rec.call(
        "layer_permission_layerversion_doesnotexist_get", c.get_layer_version_policy, LayerName=name, VersionNumber=2
    )
    rec.call(
        "layer_permission_layerversion_doesnotexist_remove",
        c.remove_layer_version_permission,
        LayerName=name,
        VersionNumber=2,
        StatementId="s1",
    )
    rec.call(
        "layer_permission_statementid_doesnotexist_remove",
        c.remove_layer_version_permission,
        LayerName=name,
        VersionNumber=1,
        StatementId="doesnotexist",
    )
    rec.call(
        "layer_permission_wrong_revision_remove",
        c.remove_layer_version_permission,
        LayerName=name,
        VersionNumber=1,
        StatementId="s1",
        RevisionId="wrong",
    )
    rec.verify()


def test_layer_policy_lifecycle(lambda_client: Any, layers: Publisher, rec: Layered) -> None:
    c, name = lambda_client, unique("testlayer")
    rec.match(
        "publish_result",
        layers.publish(name, DUMMY_LAYER, CompatibleRuntimes=["python3.12"], CompatibleArchitectures=["x86_64"]),
    )
    grant = {"LayerName": name, "VersionNumber": 1, "Action": "lambda:GetLayerVersion", "Principal": "*"}
    rec.call("add_policy_s1", c.add_layer_version_permission, StatementId="s1", **grant)
    policy = rec.call("get_layer_version_policy", c.get_layer_version_policy, LayerName=name, VersionNumber=1)
    rec.call(
        "add_policy_s2", c.add_layer_version_permission, StatementId="s2", RevisionId=policy["RevisionId"], **grant
    )
    policy = rec.call("get_layer_version_policy_postadd2", c.get_layer_version_policy, LayerName=name, VersionNumber=1)
    rec.call(
        "remove_s2",
        c.remove_layer_version_permission,
        LayerName=name,
        VersionNumber=1,
        StatementId="s2",
        RevisionId=policy["RevisionId"],
    )
    rec.call("get_layer_version_policy_postdeletes2", c.get_layer_version_policy, LayerName=name, VersionNumber=1)
    rec.verify()


def test_layer_function_exceptions(
    lambda_client: Any, lamina: LaminaProcess, layers: Publisher, functions: list[str], rec: Layered
) -> None:
    c, fn, name = lambda_client, unique("fn-layer"), unique("testlayer")
    params: dict[str, Any] = {"CompatibleRuntimes": [], "CompatibleArchitectures": ["x86_64"]}
    first = rec.match("publish_result", layers.publish(name, DUMMY_LAYER, **params))
    second = rec.match("publish_result_2", layers.publish(name, DUMMY_LAYER, **params))
    third = rec.match("publish_result_3", layers.publish(name, DUMMY_LAYER, **params))
    create(c, functions, fn)
    rec.call("get_fn_result", c.get_function, FunctionName=fn)
    v1, v2, v3 = (r["LayerVersionArn"] for r in (first, second, third))
    update = c.update_function_configuration
    rec.call("two_layer_versions_single_function_exc", update, FunctionName=fn, Layers=[v1, v2])
    rec.call("three_layer_versions_single_function_exc", update, FunctionName=fn, Layers=[v1, v2, v3])
    rec.call("two_identical_layer_versions_single_function_exc", update, FunctionName=fn, Layers=[v1, v1])
    rec.call(
        "add_nonexistent_layer_exc",
        update,
        FunctionName=fn,
        Layers=[f"{first['LayerArn'].replace(name, 'doesnotexist')}:1"],
    )
    rec.call("add_nonexistent_layer_version_exc", update, FunctionName=fn, Layers=[f"{first['LayerArn']}:9"])
    rec.call("add_layer_arn_without_version_exc", update, FunctionName=fn, Layers=[first["LayerArn"]])
    other = lamina.client(region=OTHER_REGION)
    elsewhere = layers.publish(name, DUMMY_LAYER, client=other, **params)
    assert elsewhere["LayerVersionArn"].startswith(f"arn:aws:lambda:{OTHER_REGION}:{ACCOUNT}:layer:")
    rec.match(
        "create_function_with_layer_in_different_region",
        capture(partial(create, c, functions, fn), Layers=[elsewhere["LayerVersionArn"]]),
    )
    rec.verify()


def test_layer_function_quota_exception(
    lambda_client: Any, layers: Publisher, functions: list[str], rec: Layered
) -> None:
    arns = [
        layers.publish(
            unique(f"testlayer-{n + 1}"), DUMMY_LAYER, CompatibleRuntimes=[], CompatibleArchitectures=["x86_64"]
        )["LayerVersionArn"]
        for n in range(6)
    ]
    rec.match(
        "create_function_with_six_layers",
        capture(partial(create, lambda_client, functions, unique("fn-layer")), Layers=arns),
    )
    rec.verify()


@pytest.mark.parametrize("runtimes", ["runtimes0", "runtimes1", "runtimes2"])
def test_layer_compatibilities(lambda_client: Any, layers: Publisher, runtimes: str) -> None:
    """Every runtime AWS accepted for a layer (deprecated ones included), in the order it echoed them."""
    rec = Layered(f"TestLambdaLayer::test_layer_compatibilities[{runtimes}]", REGION)
    recorded = rec.recorded["publish_result"]
    published = layers.publish(
        unique("testlayer"),
        DUMMY_LAYER,
        CompatibleRuntimes=recorded["CompatibleRuntimes"],
        CompatibleArchitectures=recorded["CompatibleArchitectures"],
    )
    rec.match("publish_result", published)
    rec.verify()
