"""Recursion config and runtime management config through boto3 against a real `lamina serve`
(responses compared with the recorded TestLambdaRecursion entries; they survive kill -9)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import make_zip
from tests.server import ROLE, LaminaProcess

RUNTIME_ARN = "arn:aws:lambda:us-east-1::runtime:0cdcfbdefbc5e7d3343f73c2e2dd3cba17d61dea0686b404502a0c9ce83931b9"


def create(client: Any, name: str | None = None) -> str:
    name = name or f"set-{uuid.uuid4().hex[:12]}"
    client.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=ROLE,
        Handler="app.handler",
        Code={"ZipFile": make_zip({"app.py": "def handler(e, c):\n    return e\n"})},
    )
    client.get_waiter("function_active_v2").wait(FunctionName=name, WaiterConfig={"Delay": 0.2, "MaxAttempts": 150})
    return name


@pytest.fixture
def function(lambda_client: Any) -> Iterator[str]:
    name = create(lambda_client)
    yield name
    lambda_client.delete_function(FunctionName=name)


def error(excinfo: pytest.ExceptionInfo[ClientError]) -> tuple[str, str, int]:
    response = excinfo.value.response
    return response["Error"]["Code"], response["Error"]["Message"], response["ResponseMetadata"]["HTTPStatusCode"]


# -- recursion config -----------------------------------------------------------------------------
def test_recursion_config_defaults_to_terminate(lambda_client: Any, function: str) -> None:
    got = lambda_client.get_function_recursion_config(FunctionName=function)
    assert got["RecursiveLoop"] == "Terminate"
    assert got["ResponseMetadata"]["HTTPStatusCode"] == 200


def test_recursion_config_allow_is_answered_back(lambda_client: Any, function: str) -> None:
    put = lambda_client.put_function_recursion_config(FunctionName=function, RecursiveLoop="Allow")
    assert put["RecursiveLoop"] == "Allow"
    assert lambda_client.get_function_recursion_config(FunctionName=function)["RecursiveLoop"] == "Allow"
    lambda_client.put_function_recursion_config(FunctionName=function, RecursiveLoop="Terminate")
    assert lambda_client.get_function_recursion_config(FunctionName=function)["RecursiveLoop"] == "Terminate"


def test_recursion_config_invalid_value_is_a_validation_error(lambda_client: Any, function: str) -> None:
    with pytest.raises(ClientError) as excinfo:
        lambda_client.put_function_recursion_config(FunctionName=function, RecursiveLoop="InvalidValue")
    assert error(excinfo) == (
        "ValidationException",
        "1 validation error detected: Value 'InvalidValue' at 'recursiveLoop' failed to satisfy constraint: "
        "Member must satisfy enum value set: [Terminate, Allow]",
        400,
    )


def test_recursion_config_of_a_missing_function_is_not_found(lambda_client: Any) -> None:
    with pytest.raises(ClientError) as excinfo:
        lambda_client.get_function_recursion_config(FunctionName="set-does-not-exist")
    code, message, status = error(excinfo)
    assert (code, status) == ("ResourceNotFoundException", 404)
    assert message == "Function not found: arn:aws:lambda:us-east-1:000000000000:function:set-does-not-exist"


# -- runtime management config --------------------------------------------------------------------
def test_runtime_management_defaults_to_auto(lambda_client: Any, function: str) -> None:
    got = lambda_client.get_runtime_management_config(FunctionName=function)
    arn = lambda_client.get_function_configuration(FunctionName=function)["FunctionArn"]
    assert {k: v for k, v in got.items() if k != "ResponseMetadata"} == {"UpdateRuntimeOn": "Auto", "FunctionArn": arn}


def test_runtime_management_manual_pins_the_version(lambda_client: Any, function: str) -> None:
    put = lambda_client.put_runtime_management_config(
        FunctionName=function, UpdateRuntimeOn="Manual", RuntimeVersionArn=RUNTIME_ARN
    )
    assert put["UpdateRuntimeOn"] == "Manual" and put["RuntimeVersionArn"] == RUNTIME_ARN
    got = lambda_client.get_runtime_management_config(FunctionName=function)
    assert (got["UpdateRuntimeOn"], got["RuntimeVersionArn"]) == ("Manual", RUNTIME_ARN)
    lambda_client.put_runtime_management_config(FunctionName=function, UpdateRuntimeOn="FunctionUpdate")
    got = lambda_client.get_runtime_management_config(FunctionName=function)
    assert got["UpdateRuntimeOn"] == "FunctionUpdate" and "RuntimeVersionArn" not in got


def test_runtime_management_per_published_version(lambda_client: Any, function: str) -> None:
    version = lambda_client.publish_version(FunctionName=function)["Version"]
    lambda_client.put_runtime_management_config(
        FunctionName=function, Qualifier=version, UpdateRuntimeOn="Manual", RuntimeVersionArn=RUNTIME_ARN
    )
    got = lambda_client.get_runtime_management_config(FunctionName=function, Qualifier=version)
    assert got["FunctionArn"].endswith(f":{function}:{version}") and got["UpdateRuntimeOn"] == "Manual"
    assert lambda_client.get_runtime_management_config(FunctionName=function)["UpdateRuntimeOn"] == "Auto"


@pytest.mark.parametrize(
    ("mode", "runtime_arn"), [("Manual", None), ("Auto", RUNTIME_ARN), ("FunctionUpdate", RUNTIME_ARN)]
)
def test_runtime_version_arn_only_with_manual(
    lambda_client: Any, function: str, mode: str, runtime_arn: str | None
) -> None:
    params = {"RuntimeVersionArn": runtime_arn} if runtime_arn else {}
    with pytest.raises(ClientError) as excinfo:
        lambda_client.put_runtime_management_config(FunctionName=function, UpdateRuntimeOn=mode, **params)
    code, _message, status = error(excinfo)
    assert (code, status) == ("InvalidParameterValueException", 400)


def test_runtime_management_of_a_missing_version_is_not_found(lambda_client: Any, function: str) -> None:
    with pytest.raises(ClientError) as excinfo:
        lambda_client.get_runtime_management_config(FunctionName=function, Qualifier="9")
    assert error(excinfo)[0] == "ResourceNotFoundException"


# -- durability -----------------------------------------------------------------------------------
@pytest.mark.slow
def test_settings_survive_kill_9(fresh_lamina: Callable[..., LaminaProcess]) -> None:
    server = fresh_lamina()
    name = create(server.client())
    server.client().put_function_recursion_config(FunctionName=name, RecursiveLoop="Allow")
    server.client().put_runtime_management_config(
        FunctionName=name, UpdateRuntimeOn="Manual", RuntimeVersionArn=RUNTIME_ARN
    )
    server.kill()
    client = fresh_lamina(data_dir=server.data_dir).client()
    assert client.get_function_recursion_config(FunctionName=name)["RecursiveLoop"] == "Allow"
    assert client.get_runtime_management_config(FunctionName=name)["RuntimeVersionArn"] == RUNTIME_ARN
    # Deleting the function takes its settings with it: a new function of the same name starts at the defaults.
    client.delete_function(FunctionName=name)
    create(client, name)
    assert client.get_function_recursion_config(FunctionName=name)["RecursiveLoop"] == "Terminate"
    assert client.get_runtime_management_config(FunctionName=name)["UpdateRuntimeOn"] == "Auto"


# -- function scaling config (Lambda Managed Instances only) ----------------------------------------
def test_scaling_config_refused_for_a_function_without_capacity_provider(lambda_client: Any, function: str) -> None:
    version = lambda_client.publish_version(FunctionName=function)["Version"]
    with pytest.raises(ClientError) as excinfo:
        lambda_client.put_function_scaling_config(
            FunctionName=function, Qualifier=version, FunctionScalingConfig={"MinExecutionEnvironments": 1}
        )
    code, _message, status = error(excinfo)
    assert (code, status) == ("InvalidParameterValueException", 400)
    with pytest.raises(ClientError) as excinfo:
        lambda_client.get_function_scaling_config(FunctionName=function, Qualifier=version)
    assert error(excinfo)[0] == "InvalidParameterValueException"


def test_scaling_config_of_a_missing_version_is_not_found(lambda_client: Any, function: str) -> None:
    with pytest.raises(ClientError) as excinfo:
        lambda_client.get_function_scaling_config(FunctionName=function, Qualifier="7")
    code, message, status = error(excinfo)
    assert (code, status) == ("ResourceNotFoundException", 404)
    assert message.endswith(f":function:{function}:7")
