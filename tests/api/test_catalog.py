"""Routing and validation driven by botocore's lambda model."""

from __future__ import annotations

import pytest

from lamina.api.catalog import RouteTable, load_service_model
from lamina.api.validation import Validator
from lamina.errors import ValidationFailed

MODEL = load_service_model("lambda")
ROUTES = RouteTable(MODEL)


@pytest.mark.parametrize(
    ("method", "path", "query", "operation", "params"),
    [
        ("GET", "/2015-03-31/functions/my-fn", {}, "GetFunction", {"FunctionName": "my-fn"}),
        (
            "GET",
            "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Af%3Aprod",
            {},
            "GetFunction",
            {"FunctionName": "arn:aws:lambda:us-east-1:123456789012:function:f:prod"},
        ),
        ("GET", "/2015-03-31/functions/", {}, "ListFunctions", {}),
        ("GET", "/2016-08-19/account-settings/", {}, "GetAccountSettings", {}),
        ("POST", "/2015-03-31/functions/f/invocations", {}, "Invoke", {"FunctionName": "f"}),
        ("GET", "/2018-10-31/layers", {"find": ["LayerVersion"]}, "GetLayerVersionByArn", {}),
        ("GET", "/2018-10-31/layers", {}, "ListLayers", {}),
        ("GET", "/2019-09-30/functions/f/provisioned-concurrency", {"List": ["ALL"]},
         "ListProvisionedConcurrencyConfigs", {"FunctionName": "f"}),
        ("GET", "/2019-09-30/functions/f/provisioned-concurrency", {}, "GetProvisionedConcurrencyConfig",
         {"FunctionName": "f"}),
        ("DELETE", "/2017-03-31/tags/arn%3Aaws%3Alambda%3Aus-east-1%3A1%3Afunction%3Af", {}, "UntagResource",
         {"Resource": "arn:aws:lambda:us-east-1:1:function:f"}),
    ],
)  # fmt: skip
def test_routes(method: str, path: str, query: dict[str, list[str]], operation: str, params: dict[str, str]) -> None:
    found = ROUTES.find(method, path, query)
    assert found is not None
    assert found[0].name == operation
    assert found[1] == params


def test_unknown_paths_do_not_route() -> None:
    assert ROUTES.find("GET", "/2015-03-31/nothing-here", {}) is None
    assert ROUTES.find("PATCH", "/2015-03-31/functions/f", {}) is None


def _validate(operation: str, params: dict[str, object]) -> str:
    shape = MODEL.operation_model(operation).input_shape
    with pytest.raises(ValidationFailed) as info:
        Validator(frozenset({"Runtime"})).validate(shape, params)
    return info.value.message


def test_validation_messages_read_like_aws() -> None:
    base = {"FunctionName": "f", "Role": "arn:aws:iam::123456789012:role/r", "Code": {}}
    assert _validate("CreateFunction", {**base, "Role": "r1"}) == (
        "1 validation error detected: Value 'r1' at 'role' failed to satisfy constraint: Member must satisfy "
        "regular expression pattern: arn:(aws[a-zA-Z-]*)?:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+"
    )
    assert _validate("CreateFunction", {**base, "Architectures": ["x86_64", "arm64"]}) == (
        "1 validation error detected: Value '[x86_64, arm64]' at 'architectures' failed to satisfy constraint: "
        "Member must have length less than or equal to 1"
    )
    assert _validate("CreateFunction", {**base, "Architectures": ["X86_64"]}) == (
        "1 validation error detected: Value '[X86_64]' at 'architectures' failed to satisfy constraint: "
        "Member must satisfy constraint: [Member must satisfy enum value set: [x86_64, arm64], "
        "Member must not be null]"
    )
    two = _validate("CreateFunction", {**base, "MemorySize": 64, "Timeout": 0})
    assert two.startswith("2 validation errors detected: ")
    assert "Value '64' at 'memorySize' failed to satisfy constraint" in two
    assert (
        "Value '0' at 'timeout' failed to satisfy constraint: Member must have value greater than or equal to 1" in two
    )
    assert _validate("UntagResource", {"Resource": "arn:aws:lambda:us-east-1:123456789012:function:f"}) == (
        "1 validation error detected: Value null at 'tagKeys' failed to satisfy constraint: Member must not be null"
    )


def test_skipped_enum_is_left_to_the_service() -> None:
    shape = MODEL.operation_model("CreateFunction").input_shape
    Validator(frozenset({"Runtime"})).validate(
        shape,
        {"FunctionName": "f", "Role": "arn:aws:iam::123456789012:role/r", "Code": {}, "Runtime": "cobol"},
    )
