"""Reserved and provisioned concurrency through boto3 against a real server, compared with the responses
recorded from AWS (TestLambdaReservedConcurrency, TestLambdaProvisionedConcurrency, TestLambdaAccountSettings)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from tests.conformance.snapshot import Replay, capture
from tests.server import LaminaProcess

REGION = "us-east-1"


def active(client: Any, name: str, qualifier: str | None = None) -> None:
    extra = {"Qualifier": qualifier} if qualifier else {}
    client.get_waiter("function_active_v2").wait(FunctionName=name, WaiterConfig={"Delay": 0.1}, **extra)


def wait_status(client: Any, name: str, qualifier: str, timeout: float = 20.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        config: dict[str, Any] = client.get_provisioned_concurrency_config(FunctionName=name, Qualifier=qualifier)
        if config["Status"] != "IN_PROGRESS":
            return config
        time.sleep(0.05)
    raise AssertionError(f"{name}:{qualifier} stayed IN_PROGRESS")


def test_function_concurrency(lambda_client: Any, create_function: Callable[..., Any], fn_name: str) -> None:
    rec = Replay("TestLambdaReservedConcurrency::test_function_concurrency", REGION)
    create_function(fn_name)
    c = lambda_client
    rec.call("put_function_concurrency_with_reserved_0", c.put_function_concurrency, FunctionName=fn_name,
             ReservedConcurrentExecutions=0)  # fmt: skip
    rec.call("put_function_concurrency_with_reserved_1", c.put_function_concurrency, FunctionName=fn_name,
             ReservedConcurrentExecutions=1)  # fmt: skip
    rec.call("get_function_concurrency", c.get_function_concurrency, FunctionName=fn_name)
    assert c.get_function(FunctionName=fn_name)["Concurrency"] == {"ReservedConcurrentExecutions": 1}
    rec.call("delete_response", c.delete_function_concurrency, FunctionName=fn_name)
    rec.call("get_function_concurrency_after_delete", c.get_function_concurrency, FunctionName=fn_name)
    assert "Concurrency" not in c.get_function(FunctionName=fn_name)
    # The maximum: everything but the unreserved minimum.
    unreserved = c.get_account_settings()["AccountLimit"]["UnreservedConcurrentExecutions"]
    put = c.put_function_concurrency(FunctionName=fn_name, ReservedConcurrentExecutions=unreserved - 100)
    assert put["ReservedConcurrentExecutions"] == unreserved - 100
    assert c.get_account_settings()["AccountLimit"]["UnreservedConcurrentExecutions"] == 100
    c.delete_function_concurrency(FunctionName=fn_name)
    rec.verify()


def test_function_concurrency_exceptions(lambda_client: Any, create_function: Callable[..., Any], fn_name: str) -> None:
    rec = Replay("TestLambdaReservedConcurrency::test_function_concurrency_exceptions", REGION)
    c = lambda_client
    rec.call("put_function_concurrency_with_function_name_doesnotexist", c.put_function_concurrency,
             FunctionName="doesnotexist", ReservedConcurrentExecutions=1)  # fmt: skip
    rec.call("put_function_concurrency_with_function_name_doesnotexist_and_invalid_concurrency",
             c.put_function_concurrency, FunctionName="doesnotexist", ReservedConcurrentExecutions=0)  # fmt: skip
    create_function(fn_name)
    arn = c.get_function_configuration(FunctionName=fn_name, Qualifier="$LATEST")["FunctionArn"]
    rec.call("put_function_concurrency_with_qualified_arn", c.put_function_concurrency, FunctionName=arn,
             ReservedConcurrentExecutions=0)  # fmt: skip
    rec.verify()


def test_function_concurrency_limits(lambda_client: Any, create_function: Callable[..., Any], fn_name: str) -> None:
    rec = Replay("TestLambdaReservedConcurrency::test_function_concurrency_limits", REGION)
    rec.bindings.values["<min_unreserved_concurrency>"] = "100"
    c = lambda_client
    create_function(fn_name)
    limit = c.get_account_settings()["AccountLimit"]["ConcurrentExecutions"]
    rec.call("put_function_concurrency_account_limit_exceeded", c.put_function_concurrency, FunctionName=fn_name,
             ReservedConcurrentExecutions=limit + 1)  # fmt: skip
    rec.call("put_function_concurrency_below_unreserved_min_value", c.put_function_concurrency,
             FunctionName=fn_name, ReservedConcurrentExecutions=limit)  # fmt: skip
    rec.verify()


def test_provisioned_concurrency_exceptions(
    lamina: LaminaProcess, create_function: Callable[..., Any], fn_name: str
) -> None:
    rec = Replay("TestLambdaProvisionedConcurrency::test_provisioned_concurrency_exceptions", REGION)
    c = lamina.client(parameter_validation=False)
    create_function(fn_name)
    active(c, fn_name)
    version = c.publish_version(FunctionName=fn_name)["Version"]
    rec.bindings.values["<function-name:1>"] = fn_name
    get, delete, put = (
        c.get_provisioned_concurrency_config,
        c.delete_provisioned_concurrency_config,
        c.put_provisioned_concurrency_config,
    )
    rec.call("get_provisioned_config_doesnotexist", get, FunctionName=fn_name, Qualifier=version)
    rec.call("get_provisioned_functionname_doesnotexist", get, FunctionName="doesnotexist", Qualifier="noalias")
    rec.call("get_provisioned_qualifier_doesnotexist", get, FunctionName=fn_name, Qualifier="noalias")
    rec.call("get_provisioned_version_doesnotexist", get, FunctionName=fn_name, Qualifier="10")
    rec.call("get_provisioned_latest", get, FunctionName=fn_name, Qualifier="$LATEST")
    rec.call("list_provisioned_noconfigs", c.list_provisioned_concurrency_configs, FunctionName=fn_name)
    rec.call("list_provisioned_functionname_doesnotexist", c.list_provisioned_concurrency_configs,
             FunctionName="doesnotexist")  # fmt: skip
    rec.call("delete_provisioned_functionname_doesnotexist", delete, FunctionName="doesnotexist", Qualifier=version)
    rec.call("delete_provisioned_qualifier_doesnotexist", delete, FunctionName=fn_name, Qualifier="noalias")
    rec.call("delete_provisioned_version_doesnotexist", delete, FunctionName=fn_name, Qualifier="10")
    rec.call("delete_provisioned_latest", delete, FunctionName=fn_name, Qualifier="$LATEST")
    rec.call("delete_provisioned_config_doesnotexist", delete, FunctionName=fn_name, Qualifier=version)
    rec.call("put_provisioned_invalid_param_0", put, FunctionName=fn_name, Qualifier=version,
             ProvisionedConcurrentExecutions=0)  # fmt: skip
    rec.call("put_provisioned_functionname_doesnotexist_alias", put, FunctionName="doesnotexist",
             Qualifier="noalias", ProvisionedConcurrentExecutions=1)  # fmt: skip
    rec.call("put_provisioned_functionname_doesnotexist_version", put, FunctionName="doesnotexist", Qualifier="1",
             ProvisionedConcurrentExecutions=1)  # fmt: skip
    rec.call("put_provisioned_qualifier_doesnotexist", put, FunctionName=fn_name, Qualifier="doesnotexist",
             ProvisionedConcurrentExecutions=1)  # fmt: skip
    rec.call("put_provisioned_version_doesnotexist", put, FunctionName=fn_name, Qualifier="10",
             ProvisionedConcurrentExecutions=1)  # fmt: skip
    rec.call("put_provisioned_latest", put, FunctionName=fn_name, Qualifier="$LATEST",
             ProvisionedConcurrentExecutions=1)  # fmt: skip
    rec.verify()


def test_provisioned_concurrency_limits(lambda_client: Any, create_function: Callable[..., Any], fn_name: str) -> None:
    rec = Replay("TestLambdaProvisionedConcurrency::test_provisioned_concurrency_limits", REGION)
    c = lambda_client
    create_function(fn_name)
    active(c, fn_name)
    version = c.publish_version(FunctionName=fn_name)["Version"]
    limit = c.get_account_settings()["AccountLimit"]["ConcurrentExecutions"]
    rec.bindings.values["<min_unreserved_concurrency>"] = "100"
    unreserved = str(c.get_account_settings()["AccountLimit"]["UnreservedConcurrentExecutions"])
    rec.bindings.values["<unreserved_concurrency>"] = unreserved
    put = c.put_provisioned_concurrency_config
    rec.call("put_provisioned_concurrency_account_limit_exceeded", put, FunctionName=fn_name, Qualifier=version,
             ProvisionedConcurrentExecutions=limit + 1)  # fmt: skip
    rec.call("put_provisioned_concurrency_below_unreserved_min_value", put, FunctionName=fn_name,
             Qualifier=version, ProvisionedConcurrentExecutions=limit)  # fmt: skip
    rec.verify()


def test_provisioned_lifecycle(lambda_client: Any, create_function: Callable[..., Any], fn_name: str) -> None:
    rec = Replay("TestLambdaProvisionedConcurrency::test_lambda_provisioned_lifecycle", REGION)
    c = lambda_client
    create_function(fn_name)
    active(c, fn_name)
    version = c.publish_version(FunctionName=fn_name)["Version"]
    active(c, fn_name, version)
    alias = f"alias-{fn_name[-6:]}"
    rec.bindings.values["<function-name:1>"] = fn_name
    rec.bindings.values["<alias-name>"] = alias
    c.create_alias(FunctionName=fn_name, Name=alias, FunctionVersion=version)
    put = c.put_provisioned_concurrency_config
    rec.call("put_provisioned_on_version", put, FunctionName=fn_name, Qualifier=version,
             ProvisionedConcurrentExecutions=1)  # fmt: skip
    rec.call("put_provisioned_on_alias_versionconflict", put, FunctionName=fn_name, Qualifier=alias,
             ProvisionedConcurrentExecutions=1)  # fmt: skip
    assert wait_status(c, fn_name, version)["Status"] == "READY"
    listed = c.list_provisioned_concurrency_configs(FunctionName=fn_name)["ProvisionedConcurrencyConfigs"]
    assert [x["FunctionArn"] for x in listed] == [f"arn:aws:lambda:{REGION}:000000000000:function:{fn_name}:1"]
    assert listed[0]["AvailableProvisionedConcurrentExecutions"] == 1
    rec.call("delete_provisioned_version", c.delete_provisioned_concurrency_config, FunctionName=fn_name,
             Qualifier=version)  # fmt: skip
    rec.call("get_provisioned_version_postdelete", c.get_provisioned_concurrency_config, FunctionName=fn_name,
             Qualifier=version)  # fmt: skip
    rec.call("put_provisioned_on_alias", put, FunctionName=fn_name, Qualifier=alias,
             ProvisionedConcurrentExecutions=1)  # fmt: skip
    rec.call("put_provisioned_on_version_conflict", put, FunctionName=fn_name, Qualifier=version,
             ProvisionedConcurrentExecutions=1)  # fmt: skip
    rec.call("delete_alias_result", c.delete_alias, FunctionName=fn_name, Name=alias)
    rec.call("get_provisioned_alias_postaliasdelete", c.get_provisioned_concurrency_config, FunctionName=fn_name,
             Qualifier=alias)  # fmt: skip
    rec.call("list_response_postdeletes", c.list_provisioned_concurrency_configs, FunctionName=fn_name)
    rec.verify()


def test_provisioned_counts_against_reserved(
    lambda_client: Any, create_function: Callable[..., Any], fn_name: str
) -> None:
    c = lambda_client
    create_function(fn_name)
    active(c, fn_name)
    version = c.publish_version(FunctionName=fn_name)["Version"]
    c.put_function_concurrency(FunctionName=fn_name, ReservedConcurrentExecutions=1)
    too_many = capture(
        c.put_provisioned_concurrency_config, FunctionName=fn_name, Qualifier=version, ProvisionedConcurrentExecutions=2
    )
    assert too_many["Error"]["Code"] == "InvalidParameterValueException"


@pytest.mark.parametrize("operation", ["get_function_concurrency", "delete_function_concurrency"])
def test_reserved_on_missing_function(lambda_client: Any, operation: str) -> None:
    error = capture(getattr(lambda_client, operation), FunctionName="doesnotexist")
    assert error["Error"]["Code"] == "ResourceNotFoundException"
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_account_settings_report_reservations(
    lambda_client: Any, create_function: Callable[..., Any], fn_name: str
) -> None:
    rec = Replay("TestLambdaAccountSettings::test_account_settings", REGION)
    c = lambda_client
    before = c.get_account_settings()
    rec.match(
        "acc_settings_modded",
        {
            "AccountLimit": sorted(before["AccountLimit"]),
            "AccountUsage": sorted(before["AccountUsage"]),
            "ResponseMetadata": before["ResponseMetadata"],
        },
    )
    create_function(fn_name)
    c.put_function_concurrency(FunctionName=fn_name, ReservedConcurrentExecutions=7)
    after = c.get_account_settings()
    assert after["AccountLimit"]["UnreservedConcurrentExecutions"] == (
        before["AccountLimit"]["UnreservedConcurrentExecutions"] - 7
    )
    assert after["AccountUsage"]["FunctionCount"] == before["AccountUsage"]["FunctionCount"] + 1
    rec.verify()
