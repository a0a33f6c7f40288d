"""The event invoke config API through boto3 against a real server, compared with the responses recorded
from AWS (TestLambdaEventInvokeConfig::*), plus Event / InvokeAsync on the wire."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest

from tests.conformance.snapshot import Replay, capture
from tests.lambda_api.invoke_support import arn

REGION = "us-east-1"


def dated(live: Any) -> Any:
    """The recordings show LastModified (an epoch number on the wire) as the literal "datetime"."""
    if isinstance(live, dict):
        return {k: "datetime" if k == "LastModified" and isinstance(v, datetime) else dated(v) for k, v in live.items()}
    if isinstance(live, list):
        return [dated(v) for v in live]
    return live


def wait_active(client: Any, name: str) -> None:
    for _ in range(500):
        if client.get_function_configuration(FunctionName=name)["State"] == "Active":
            return
        time.sleep(0.01)
    raise AssertionError(f"{name} never became Active")


class Calls:
    def __init__(self, client: Any, replay: Replay) -> None:
        self.client = client
        self.replay = replay

    def __call__(self, name: str, method: Callable[..., Any], /, **kwargs: Any) -> Any:
        return self.replay.match(name, dated(capture(method, **kwargs)))


def test_eventinvokeconfig_exceptions(
    lambda_client: Any, create_function: Callable[..., dict[str, Any]], fn_name: str
) -> None:
    c = lambda_client
    create_function(fn_name)
    other = fn_name + "-dest"
    create_function(other)
    wait_active(c, fn_name)
    replay = Replay("TestLambdaEventInvokeConfig::test_lambda_eventinvokeconfig_exceptions", REGION)
    call = Calls(c, replay)
    put = c.put_function_event_invoke_config
    # The function itself differs from the recording's (handler, timeout): only the configs are compared.
    version = c.publish_version(FunctionName=fn_name)["Version"]
    alias = "eventinvokealias"
    c.create_alias(FunctionName=fn_name, Name=alias, FunctionVersion=version)
    call("put_functionname_name_notfound", put, FunctionName="doesnotexist", MaximumRetryAttempts=1)
    call("put_functionname_arn_notfound", put, FunctionName=arn("doesnotexist"), MaximumRetryAttempts=1)
    call("put_functionname_nootherargs", put, FunctionName=fn_name)
    success = {"OnSuccess": {"Destination": arn("doesnotexist")}}
    call("put_destination_lambda_doesntexist", put, FunctionName=fn_name, DestinationConfig=success)
    recursive = {"OnSuccess": {"Destination": arn(fn_name)}}
    call("put_destination_recursive", put, FunctionName=fn_name, DestinationConfig=recursive)
    to_other = {"OnSuccess": {"Destination": arn(other)}}
    call("put_destination_other_lambda", put, FunctionName=fn_name, DestinationConfig=to_other)
    iam = {"OnSuccess": {"Destination": arn(fn_name).replace(":lambda:", ":iam:")}}
    call("put_destination_invalid_service_arn", put, FunctionName=fn_name, DestinationConfig=iam)
    call("put_destination_success_no_destination_arn", put, FunctionName=fn_name, DestinationConfig={"OnSuccess": {}})
    call("put_destination_failure_no_destination_arn", put, FunctionName=fn_name, DestinationConfig={"OnFailure": {}})
    call("put_destination_latest", put, FunctionName=fn_name, Qualifier="$LATEST", MaximumRetryAttempts=1)
    call(
        "put_destination_latest_explicit_qualifier",
        put,
        FunctionName=f"{fn_name}:$LATEST",
        Qualifier="$LATEST",
        MaximumRetryAttempts=1,
    )
    call("put_destination_version", put, FunctionName=fn_name, Qualifier=version, MaximumRetryAttempts=1)
    call("put_alias_functionname_qualifier", put, FunctionName=fn_name, Qualifier=alias, MaximumRetryAttempts=1)
    call("put_alias_doesnotexist", put, FunctionName=fn_name, Qualifier="doesnotexist", MaximumRetryAttempts=1)
    alias_arn = f"{arn(fn_name)}:{alias}"
    call("put_alias_qualifiedarn", put, FunctionName=alias_arn, MaximumRetryAttempts=1)
    call("put_alias_qualifiedarn_qualifier", put, FunctionName=alias_arn, Qualifier=alias, MaximumRetryAttempts=1)
    call(
        "put_alias_qualifiedarn_qualifierconflict",
        put,
        FunctionName=alias_arn,
        Qualifier=version,
        MaximumRetryAttempts=1,
    )
    short = f"{fn_name}:{alias}"
    call("put_alias_shorthand", put, FunctionName=short, MaximumRetryAttempts=1)
    call("put_alias_shorthand_qualifier", put, FunctionName=short, Qualifier=alias, MaximumRetryAttempts=1)
    call("put_alias_shorthand_qualifierconflict", put, FunctionName=short, Qualifier=version, MaximumRetryAttempts=1)
    call("put_version_shorthand", put, FunctionName=f"{fn_name}:{version}", MaximumRetryAttempts=1)
    latest = f"{fn_name}:$LATEST"
    call("put_shorthand_qualifier_match", put, FunctionName=latest, Qualifier="$LATEST", MaximumRetryAttempts=1)
    call("put_shorthand_qualifier_mismatch_1", put, FunctionName=latest, Qualifier=version, MaximumRetryAttempts=1)
    call(
        "put_shorthand_qualifier_mismatch_2",
        put,
        FunctionName=f"{fn_name}:{version}",
        Qualifier="$LATEST",
        MaximumRetryAttempts=1,
    )
    call(
        "put_shorthand_qualifier_mismatch_3",
        put,
        FunctionName=f"{fn_name}:{version}",
        Qualifier=alias,
        MaximumRetryAttempts=1,
    )
    call(
        "put_maxevent_maxvalue_result",
        put,
        FunctionName=fn_name,
        MaximumRetryAttempts=2,
        MaximumEventAgeInSeconds=21600,
    )
    replay.verify()


def test_eventinvokeconfig_lifecycle(
    lambda_client: Any, create_function: Callable[..., dict[str, Any]], fn_name: str
) -> None:
    c = lambda_client
    create_function(fn_name)
    wait_active(c, fn_name)
    replay = Replay("TestLambdaEventInvokeConfig::test_lambda_eventinvokeconfig_lifecycle", REGION)
    call = Calls(c, replay)
    put, update = c.put_function_event_invoke_config, c.update_function_event_invoke_config
    call("put_invokeconfig_retries_0", put, FunctionName=fn_name, MaximumRetryAttempts=0)
    call("put_invokeconfig_eventage_60", put, FunctionName=fn_name, MaximumEventAgeInSeconds=60)
    call("update_invokeconfig_eventage_nochange", update, FunctionName=fn_name, MaximumEventAgeInSeconds=60)
    call("update_invokeconfig_retries", update, FunctionName=fn_name, MaximumRetryAttempts=1)
    call("get_invokeconfig", c.get_function_event_invoke_config, FunctionName=fn_name)
    call("get_invokeconfig_latest", c.get_function_event_invoke_config, FunctionName=fn_name, Qualifier="$LATEST")
    call("list_single_invokeconfig", c.list_function_event_invoke_configs, FunctionName=fn_name)
    version = c.publish_version(FunctionName=fn_name)["Version"]
    call("get_invokeconfig_postpublish", c.get_function_event_invoke_config, FunctionName=fn_name, Qualifier=version)
    call("put_published_invokeconfig", put, FunctionName=fn_name, Qualifier=version, MaximumEventAgeInSeconds=120)
    call("get_published_invokeconfig", c.get_function_event_invoke_config, FunctionName=fn_name, Qualifier=version)
    c.delete_function_event_invoke_config(FunctionName=fn_name)
    call("list_paging_nolimit_postdelete", c.list_function_event_invoke_configs, FunctionName=fn_name)
    replay.verify()
    # Deleted with the function.
    c.delete_function(FunctionName=fn_name)
    create_function(fn_name)
    wait_active(c, fn_name)
    assert c.list_function_event_invoke_configs(FunctionName=fn_name)["FunctionEventInvokeConfigs"] == []


def test_missing_things(lambda_client: Any, create_function: Callable[..., dict[str, Any]], fn_name: str) -> None:
    c = lambda_client
    create_function(fn_name)
    wait_active(c, fn_name)
    checks: list[tuple[str, Callable[..., Any], dict[str, Any]]] = [
        ("delete_function_not_found", c.delete_function_event_invoke_config, {"FunctionName": fn_name}),
        ("list_function_doesnotexist", c.list_function_event_invoke_configs, {"FunctionName": "doesnotexist"}),
        ("get_function_doesnotexist", c.get_function_event_invoke_config, {"FunctionName": "doesnotexist"}),
        (
            "update_eventinvokeconfig_config_doesnotexist_without_qualifier",
            c.update_function_event_invoke_config,
            {"FunctionName": fn_name, "MaximumRetryAttempts": 1},
        ),
    ]
    for name, method, kwargs in checks:
        live = capture(method, **kwargs)
        assert live["Error"]["Code"] == "ResourceNotFoundException", (name, live)
    live = capture(c.get_function_event_invoke_config, FunctionName="doesnotexist")
    assert live["Error"]["Message"] == f"The function {arn('doesnotexist')}:$LATEST doesn't have an EventInvokeConfig"


def test_put_without_settings_is_refused_before_the_function_is_looked_up(lambda_client: Any) -> None:
    """AWS checks that a PutFunctionEventInvokeConfig sets something before it looks for the function."""
    live = capture(lambda_client.put_function_event_invoke_config, FunctionName="doesnotexist-eic")
    assert live["Error"] == {
        "Code": "InvalidParameterValueException",
        "Message": "You must specify at least one of error handling or destination setting.",
    }
    assert live["ResponseMetadata"]["HTTPStatusCode"] == 400 and live["Type"] == "User"
    put = lambda_client.put_function_event_invoke_config
    live = capture(put, FunctionName="doesnotexist-eic", MaximumRetryAttempts=1)
    assert live["Error"] == {"Code": "ResourceNotFoundException", "Message": "The function doesn't exist."}


def test_event_invoke_answers_202_and_too_large_413(
    lambda_client: Any, create_function: Callable[..., dict[str, Any]], fn_name: str
) -> None:
    c = lambda_client
    create_function(fn_name)
    wait_active(c, fn_name)
    response = c.invoke(FunctionName=fn_name, InvocationType="Event", Payload=b'{"a":1}')
    assert response["StatusCode"] == 202
    assert "FunctionError" not in response
    assert response["Payload"].read() == b""
    assert c.invoke_async(FunctionName=fn_name, InvokeArgs=b"{}")["Status"] == 202
    big = b'{"x":"' + b"a" * 1_048_576 + b'"}'
    with pytest.raises(c.exceptions.ClientError) as info:
        c.invoke(FunctionName=fn_name, InvocationType="Event", Payload=big)
    error = info.value.response
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 413
    assert error["Error"]["Code"] == "RequestEntityTooLargeException"
    assert (
        error["Error"]["Message"]
        == f"{len(big)} byte payload is too large for the Event invocation type (limit 1048576 bytes)"
    )
    with pytest.raises(c.exceptions.ClientError) as info:
        c.invoke_async(FunctionName=fn_name, InvokeArgs=b'{"x":"' + b"a" * 262_144 + b'"}')
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 413
