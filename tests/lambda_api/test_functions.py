"""The function control plane through boto3, exactly as users call it."""

from __future__ import annotations

import base64
import hashlib
import urllib.request
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import make_zip
from tests.server import ROLE, LaminaProcess

Create = Callable[..., dict[str, Any]]


def _error(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, str, int]:
    response: Any = exc.value.response
    return response["Error"]["Code"], response["Error"]["Message"], response["ResponseMetadata"]["HTTPStatusCode"]


def test_create_returns_pending_then_becomes_active(lambda_client: Any, create_function: Create, fn_name: str) -> None:
    zip_bytes = make_zip()
    created = create_function(fn_name, MemorySize=256, Timeout=5, Description="d")
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert created["State"] == "Pending"
    assert created["StateReason"] == "The function is being created."
    assert created["StateReasonCode"] == "Creating"
    assert "LastUpdateStatus" not in created
    assert created["CodeSha256"] == base64.b64encode(hashlib.sha256(zip_bytes).digest()).decode()
    assert created["CodeSize"] == len(zip_bytes)
    assert created["FunctionArn"] == f"arn:aws:lambda:us-east-1:000000000000:function:{fn_name}"
    assert created["Version"] == "$LATEST"
    assert created["PackageType"] == "Zip"
    assert created["Architectures"] == ["x86_64"]
    assert created["EphemeralStorage"] == {"Size": 512}
    assert created["TracingConfig"] == {"Mode": "PassThrough"}
    assert created["SnapStart"] == {"ApplyOn": "None", "OptimizationStatus": "Off"}
    assert created["LoggingConfig"] == {"LogFormat": "Text", "LogGroup": f"/aws/lambda/{fn_name}"}
    assert "Environment" not in created

    lambda_client.get_waiter("function_active_v2").wait(FunctionName=fn_name)
    got = lambda_client.get_function(FunctionName=fn_name)
    config = got["Configuration"]
    assert config["State"] == "Active"
    assert config["LastUpdateStatus"] == "Successful"
    assert config["RevisionId"] != created["RevisionId"]
    assert got["Code"]["RepositoryType"] == "S3"
    with urllib.request.urlopen(got["Code"]["Location"]) as response:
        assert response.read() == zip_bytes
    assert lambda_client.get_function_configuration(FunctionName=fn_name) | {"ResponseMetadata": None} == config | {
        "ResponseMetadata": None
    }


def test_code_location_requires_a_valid_signature(lambda_client: Any, create_function: Create, fn_name: str) -> None:
    create_function(fn_name)
    location = lambda_client.get_function(FunctionName=fn_name)["Code"]["Location"]
    tampered = location.replace("Signature=", "Signature=0")
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(tampered)
    assert info.value.code == 403


def test_update_code_and_configuration(lambda_client: Any, create_function: Create, fn_name: str) -> None:
    create_function(fn_name)
    lambda_client.get_waiter("function_active_v2").wait(FunctionName=fn_name)
    updated = lambda_client.update_function_configuration(
        FunctionName=fn_name,
        MemorySize=512,
        Timeout=10,
        Description="Changed-Description",
        Environment={"Variables": {"ENV_A": "a"}},
        Runtime="python3.11",
    )
    assert updated["LastUpdateStatus"] == "InProgress"
    assert updated["LastUpdateStatusReason"] == "The function is being created."
    assert updated["LastUpdateStatusReasonCode"] == "Creating"
    assert updated["MemorySize"] == 512
    assert updated["Environment"] == {"Variables": {"ENV_A": "a"}}
    lambda_client.get_waiter("function_updated_v2").wait(FunctionName=fn_name)
    settled = lambda_client.get_function_configuration(FunctionName=fn_name)
    assert settled["LastUpdateStatus"] == "Successful"
    assert "LastUpdateStatusReason" not in settled
    assert settled["Runtime"] == "python3.11"

    new_zip = make_zip({"app.py": "def handler(e, c):\n    return 2\n"})
    code = lambda_client.update_function_code(FunctionName=fn_name, ZipFile=new_zip)
    assert code["CodeSha256"] == base64.b64encode(hashlib.sha256(new_zip).digest()).decode()
    assert code["LastUpdateStatus"] == "InProgress"
    assert code["Environment"] == {"Variables": {"ENV_A": "a"}}  # configuration is kept
    lambda_client.get_waiter("function_updated_v2").wait(FunctionName=fn_name)
    location = lambda_client.get_function(FunctionName=fn_name)["Code"]["Location"]
    with urllib.request.urlopen(location) as response:
        assert response.read() == new_zip


def test_update_with_stale_revision_id_is_refused(lambda_client: Any, create_function: Create, fn_name: str) -> None:
    created = create_function(fn_name)
    lambda_client.get_waiter("function_active_v2").wait(FunctionName=fn_name)
    with pytest.raises(ClientError) as info:
        lambda_client.update_function_configuration(FunctionName=fn_name, RevisionId=created["RevisionId"], Timeout=9)
    assert _error(info) == (
        "PreconditionFailedException",
        "The Revision Id provided does not match the latest Revision Id. "
        "Call the GetFunction/GetAlias API to retrieve the latest Revision Id",
        412,
    )
    assert lambda_client.get_function_configuration(FunctionName=fn_name)["Timeout"] == 3


@pytest.mark.slow
def test_second_update_during_an_update_is_a_409(fresh_lamina: Callable[..., LaminaProcess], fn_name: str) -> None:
    server = fresh_lamina("--state-transition-delay", "2")
    client = server.client()
    client.create_function(
        FunctionName=fn_name, Runtime="python3.12", Role=ROLE, Handler="app.handler", Code={"ZipFile": make_zip()}
    )
    with pytest.raises(ClientError) as pending:
        client.update_function_configuration(FunctionName=fn_name, Timeout=9)
    code, message, status = _error(pending)
    assert (code, status) == ("ResourceConflictException", 409)
    assert "is currently in the following state: 'Pending'. StateReasonCode: 'Creating'" in message
    client.get_waiter("function_active_v2").wait(FunctionName=fn_name, WaiterConfig={"Delay": 1})
    client.update_function_code(FunctionName=fn_name, ZipFile=make_zip({"a.py": "x=1"}))
    with pytest.raises(ClientError) as info:
        client.update_function_code(FunctionName=fn_name, ZipFile=make_zip({"b.py": "x=2"}))
    assert _error(info) == (
        "ResourceConflictException",
        "The operation cannot be performed at this time. An update is in progress for resource: "
        f"arn:aws:lambda:us-east-1:000000000000:function:{fn_name}",
        409,
    )
    client.get_waiter("function_updated_v2").wait(FunctionName=fn_name, WaiterConfig={"Delay": 1})
    client.update_function_code(FunctionName=fn_name, ZipFile=make_zip({"b.py": "x=2"}))


def test_function_exists_waiter(lambda_client: Any, create_function: Create, fn_name: str) -> None:
    create_function(fn_name)
    lambda_client.get_waiter("function_exists").wait(FunctionName=fn_name)


def test_names_arns_and_partial_arns_address_the_same_function(
    lambda_client: Any, create_function: Create, fn_name: str
) -> None:
    create_function(fn_name)
    arn = f"arn:aws:lambda:us-east-1:000000000000:function:{fn_name}"
    for name in (fn_name, arn, f"000000000000:function:{fn_name}", f"{fn_name}:$LATEST", f"{arn}:$LATEST"):
        assert lambda_client.get_function_configuration(FunctionName=name)["FunctionName"] == fn_name


@pytest.mark.slow
def test_list_functions_paginates_over_more_than_50(lambda_client: Any, create_function: Create) -> None:
    names = [f"page-{i:03d}" for i in range(57)]
    for name in names:
        create_function(name)
    first = lambda_client.list_functions()
    assert len(first["Functions"]) == 50
    assert "NextMarker" in first
    assert all("State" not in f for f in first["Functions"])
    seen = [
        f["FunctionName"]
        for page in lambda_client.get_paginator("list_functions").paginate()
        for f in page["Functions"]
    ]
    assert sorted(set(seen) & set(names)) == names
    assert len(seen) == len(set(seen))
    small = lambda_client.list_functions(MaxItems=5)
    assert len(small["Functions"]) == 5
    rest = lambda_client.list_functions(Marker=small["NextMarker"], MaxItems=5)
    assert {f["FunctionName"] for f in rest["Functions"]}.isdisjoint({f["FunctionName"] for f in small["Functions"]})


def test_delete_function(lambda_client: Any, create_function: Create, fn_name: str) -> None:
    create_function(fn_name)
    response = lambda_client.delete_function(FunctionName=fn_name)
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 204
    with pytest.raises(lambda_client.exceptions.ResourceNotFoundException):
        lambda_client.get_function(FunctionName=fn_name)
    with pytest.raises(ClientError) as info:
        lambda_client.delete_function(FunctionName=fn_name)
    assert _error(info)[2] == 404


def test_delete_latest_qualifier_is_refused(lambda_client: Any, create_function: Create, fn_name: str) -> None:
    create_function(fn_name)
    with pytest.raises(ClientError) as info:
        lambda_client.delete_function(FunctionName=fn_name, Qualifier="$LATEST")
    assert _error(info) == (
        "InvalidParameterValueException",
        "$LATEST version cannot be deleted without deleting the function.",
        400,
    )


def test_tags(lambda_client: Any, create_function: Create, fn_name: str) -> None:
    arn = create_function(fn_name, Tags={"team": "a"})["FunctionArn"]
    assert lambda_client.list_tags(Resource=arn)["Tags"] == {"team": "a"}
    lambda_client.tag_resource(Resource=arn, Tags={"env": "dev", "team": "b"})
    assert lambda_client.list_tags(Resource=arn)["Tags"] == {"team": "b", "env": "dev"}
    assert lambda_client.get_function(FunctionName=fn_name)["Tags"] == {"team": "b", "env": "dev"}
    lambda_client.untag_resource(Resource=arn, TagKeys=["team", "missing"])
    assert lambda_client.list_tags(Resource=arn)["Tags"] == {"env": "dev"}
    with pytest.raises(ClientError) as info:
        lambda_client.tag_resource(Resource=arn, Tags={f"k{i}": "v" for i in range(50)})
    assert _error(info) == ("InvalidParameterValueException", "Number of tags exceeds resource tag limit.", 400)
    with pytest.raises(ClientError) as qualified:
        lambda_client.tag_resource(Resource=f"{arn}:$LATEST", Tags={"a": "b"})
    assert "Tags on function aliases and versions are not supported" in _error(qualified)[1]


def test_account_settings_count_functions(lambda_client: Any, create_function: Create, fn_name: str) -> None:
    before = lambda_client.get_account_settings()
    created = create_function(fn_name)
    after = lambda_client.get_account_settings()
    assert after["AccountUsage"]["FunctionCount"] == before["AccountUsage"]["FunctionCount"] + 1
    assert after["AccountUsage"]["TotalCodeSize"] == before["AccountUsage"]["TotalCodeSize"] + created["CodeSize"]
    assert after["AccountLimit"] == {
        "TotalCodeSize": 80530636800,
        "CodeSizeUnzipped": 262144000,
        "CodeSizeZipped": 52428800,
        "ConcurrentExecutions": 1000,
        # 1000 less what functions of other tests on this shared server reserve; a new function reserves nothing
        "UnreservedConcurrentExecutions": before["AccountLimit"]["UnreservedConcurrentExecutions"],
    }
    assert before["AccountLimit"]["UnreservedConcurrentExecutions"] <= 1000


@pytest.mark.parametrize(
    ("kwargs", "code", "message"),
    [
        ({"Role": "r1"}, "ValidationException", "Value 'r1' at 'role' failed to satisfy constraint"),
        ({"MemorySize": 10241}, "InvalidParameterValueException", "less than or equal to 10240"),
        ({"Timeout": 901}, "InvalidParameterValueException", "less than or equal to 900"),
        ({"Runtime": "cobol"}, "InvalidParameterValueException", "Value cobol at 'runtime' failed to satisfy"),
        ({"Runtime": "python3.7"}, "InvalidParameterValueException", "The runtime parameter of python3.7 is no longer"),
        (
            {"Environment": {"Variables": {"AWS_REGION": "x"}}},
            "InvalidParameterValueException",
            "Reserved keys used in this request: AWS_REGION",
        ),
        (
            {"Environment": {"Variables": {"BIG": "x" * 4096}}},
            "InvalidParameterValueException",
            'exceeded the 4KB limit. String measured: {"BIG":"xxx',
        ),
        ({"Code": {"ZipFile": b"not a zip"}}, "InvalidParameterValueException", "Could not unzip uploaded file"),
        (
            {"FunctionName": "a" * 65},
            "InvalidParameterValueException",
            "Member must have length less than or equal to 64",
        ),
    ],
)
def test_bad_create_requests_change_nothing(
    lambda_client: Any, fn_name: str, kwargs: dict[str, Any], code: str, message: str
) -> None:
    args: dict[str, Any] = {
        "FunctionName": fn_name, "Runtime": "python3.12", "Role": ROLE, "Handler": "app.handler",
        "Code": {"ZipFile": make_zip()},
    }  # fmt: skip
    args.update(kwargs)
    with pytest.raises(ClientError) as info:
        lambda_client.create_function(**args)
    got_code, got_message, status = _error(info)
    assert (got_code, status) == (code, 400)
    assert message in got_message
    with pytest.raises(lambda_client.exceptions.ResourceNotFoundException):
        lambda_client.get_function(FunctionName=fn_name)


EPHEMERAL_TOO_LARGE = (
    "1 validation error detected: Value '10241' at 'ephemeralStorage.size' failed to satisfy constraint: "
    "Member must have value less than or equal to 10240"
)


def test_ephemeral_storage_above_10240_is_refused(lambda_client: Any, create_function: Create, fn_name: str) -> None:
    """The model allows 32,768 MB (for capacity providers); a function gets at most 10,240, and AWS refuses
    more as it refuses MemorySize above 10,240: InvalidParameterValueException in validation wording."""
    base = {"Runtime": "python3.12", "Role": ROLE, "Handler": "app.handler", "Code": {"ZipFile": make_zip()}}
    with pytest.raises(ClientError) as info:
        lambda_client.create_function(FunctionName=fn_name, EphemeralStorage={"Size": 10241}, **base)
    assert _error(info) == ("InvalidParameterValueException", EPHEMERAL_TOO_LARGE, 400)
    assert info.value.response["Type"] == "User"
    with pytest.raises(lambda_client.exceptions.ResourceNotFoundException):
        lambda_client.get_function(FunctionName=fn_name)
    created = create_function(fn_name, EphemeralStorage={"Size": 10240})
    assert created["EphemeralStorage"] == {"Size": 10240}
    with pytest.raises(ClientError) as info:
        lambda_client.update_function_configuration(FunctionName=fn_name, EphemeralStorage={"Size": 32768})
    assert _error(info)[0] == "InvalidParameterValueException"
    assert "Value '32768' at 'ephemeralStorage.size'" in _error(info)[1]
    assert lambda_client.get_function_configuration(FunctionName=fn_name)["EphemeralStorage"] == {"Size": 10240}


def test_duplicate_function(lambda_client: Any, create_function: Create, fn_name: str) -> None:
    create_function(fn_name)
    with pytest.raises(ClientError) as info:
        create_function(fn_name)
    assert _error(info) == ("ResourceConflictException", f"Function already exist: {fn_name}", 409)


def test_missing_function_error_shape(lambda_client: Any) -> None:
    with pytest.raises(ClientError) as info:
        lambda_client.get_function(FunctionName="does-not-exist")
    response: Any = info.value.response
    assert response["Error"] == {
        "Code": "ResourceNotFoundException",
        "Message": "Function not found: arn:aws:lambda:us-east-1:000000000000:function:does-not-exist",
    }
    assert response["Type"] == "User"
    assert response["ResponseMetadata"]["HTTPHeaders"]["x-amzn-errortype"] == "ResourceNotFoundException"
    assert response["ResponseMetadata"]["RequestId"]


def test_wrong_region_arn(lambda_client: Any) -> None:
    with pytest.raises(ClientError) as info:
        lambda_client.get_function(FunctionName="arn:aws:lambda:ap-southeast-1:000000000000:function:x")
    assert _error(info) == (
        "ResourceNotFoundException",
        "Functions from 'ap-southeast-1' are not reachable in this region ('us-east-1')",
        404,
    )


def test_regions_are_separate(lamina: LaminaProcess, create_function: Create, fn_name: str) -> None:
    create_function(fn_name)
    west = lamina.client(region="us-west-2")
    with pytest.raises(west.exceptions.ResourceNotFoundException):
        west.get_function(FunctionName=fn_name)


@pytest.mark.slow
def test_oversize_zip_is_a_413(lambda_client: Any, fn_name: str) -> None:
    import os

    big = make_zip({"blob.bin": os.urandom(52_428_800 + 100)})  # random bytes do not compress
    with pytest.raises(ClientError) as info:
        lambda_client.create_function(
            FunctionName=fn_name, Runtime="python3.12", Role=ROLE, Handler="app.handler", Code={"ZipFile": big}
        )
    assert _error(info) == ("RequestEntityTooLargeException", "Zipped size must be smaller than 52428800 bytes", 413)


def test_account_concurrency_limit_is_configurable(fresh_lamina: Callable[..., LaminaProcess]) -> None:
    client = fresh_lamina("--concurrent-executions", "50").client()
    limit = client.get_account_settings()["AccountLimit"]
    assert (limit["ConcurrentExecutions"], limit["UnreservedConcurrentExecutions"]) == (50, 50)
