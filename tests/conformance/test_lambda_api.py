"""Replays the control-plane entries of test_lambda_api.snapshot.json against a real Lamina server.

Each scenario makes, in order, the calls that upstream's test of the same id made (LocalStack
tests/aws/services/lambda_/test_lambda_api.py; read as facts, not copied), and compares every response it
can reproduce with the recording. Upstream's `create_lambda_function` fixture defaults (handler.handler,
Timeout 30, empty Environment, its response wrapped in {"CreateFunctionResponse", ...}) are mirrored by
`Ctx.fixture_create`; its `create_lambda_function_aws` by `Ctx.aws_create`. Both wait until the function
is Active, as those fixtures do.
"""

from __future__ import annotations

import io
import time
import urllib.request
import uuid
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest
from botocore.config import Config

from tests.conformance.snapshot import (
    LIVE_ACCOUNT,
    KnownDifference,
    Replay,
    capture,
    clean,
    known_difference,
    load,
)
from tests.conftest import make_zip
from tests.server import ROLE

REGION = "us-east-1"
ARN_PREFIX = f"arn:aws:lambda:{REGION}:{LIVE_ACCOUNT}:function:"
ECHO = "def handler(event, context):\n    return event\n"
RUNTIME = "python3.12"  # what the recordings show (upstream's runtime constant at the recorded commit)
ZIPPED_LIMIT = 52_428_800
UNZIPPED_LIMIT = 262_144_000
REQUEST_LIMIT = 70_167_211


def package(tag: str) -> bytes:
    """A deployment package whose bytes (and so CodeSha256) are unique to `tag`."""
    source = f"{ECHO}# {tag}\n"
    return make_zip({"handler.py": source, "index.py": source})


def stored_zip(size: int) -> bytes:
    """A zip holding one uncompressed file of `size` bytes, as upstream's size-limit tests build them."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        z.writestr("handler.py", ECHO + "#" * (size - len(ECHO)))
    return buf.getvalue()


def deflated_zip(size: int) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("handler.py", ECHO + "#" * (size - len(ECHO)))
    return buf.getvalue()


def wait_settled(client: Any, name: str, timeout: float = 20.0) -> None:
    """Until the function is no longer Pending nor InProgress (upstream waits with function_*_v2 waiters)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        config = client.get_function_configuration(FunctionName=name)
        if config["State"] != "Pending" and config.get("LastUpdateStatus") != "InProgress":
            return
        time.sleep(0.02)
    raise AssertionError(f"{name} did not settle within {timeout}s")


@dataclass
class Ctx:
    client: Any
    slow: Any  # a client of the server that keeps functions Pending / InProgress for a second
    rec: Replay
    created: list[tuple[Any, str]] = field(default_factory=list)
    cleanups: list[Callable[[], Any]] = field(default_factory=list)  # after the functions are deleted

    def name(self, prefix: str = "fn") -> str:
        """A unique function name, deleted after the test even if a call that should fail created it."""
        name = f"{prefix}-{uuid.uuid4().hex[:10]}"
        self.created.extend((client, name) for client in (self.client, self.slow) if client is not None)
        return name

    def aws_create(self, client: Any | None = None, **params: Any) -> dict[str, Any]:
        client = client or self.client
        result: dict[str, Any] = client.create_function(**params)
        self.created.append((client, result["FunctionName"]))  # also when created by ARN
        wait_settled(client, result["FunctionName"])
        return result

    def fixture_create(self, name: str, client: Any | None = None, **params: Any) -> dict[str, Any]:
        args: dict[str, Any] = {
            "FunctionName": name,
            "Runtime": RUNTIME,
            "Role": ROLE,
            "Handler": "handler.handler",
            "Code": {"ZipFile": package(name)},
            "Timeout": 30,
            "Environment": {"Variables": {}},
        }
        args.update(params)
        return {"CreateFunctionResponse": self.aws_create(client, **args), "CreateEventSourceMappingResponse": None}

    def cleanup(self) -> None:
        for client, name in self.created:
            capture(client.delete_function, FunctionName=name)
        for cleanup in self.cleanups:
            cleanup()


Scenario = Callable[[Ctx], None]
SCENARIOS: dict[str, Scenario] = {}


def scenario(*test_ids: str) -> Callable[[Scenario], Scenario]:
    def register(fn: Scenario) -> Scenario:
        for test_id in test_ids:
            SCENARIOS[test_id] = fn
        return fn

    return register


def method_of(ctx: Ctx) -> str:
    """The client method a parametrized upstream id names: `...[get_function]` → `get_function`."""
    return ctx.rec.test_id.rsplit("[", 1)[1].rstrip("]").rsplit("-", 1)[-1]


# -- TestLambdaUrl ------------------------------------------------------------------------------------


@scenario("TestLambdaUrl::test_url_config_lifecycle")
def url_config_lifecycle(ctx: Ctx) -> None:
    c, rec, name = ctx.client, ctx.rec, ctx.name()
    ctx.fixture_create(name)
    rec.call("url_creation", c.create_function_url_config, FunctionName=name, AuthType="NONE")
    rec.call("failed_duplication", c.create_function_url_config, FunctionName=name, AuthType="NONE")
    rec.call("get_url_config", c.get_function_url_config, FunctionName=name)
    rec.call("updated_url_config", c.update_function_url_config, FunctionName=name, AuthType="AWS_IAM")
    c.delete_function_url_config(FunctionName=name)
    rec.call("failed_getter", c.get_function_url_config, FunctionName=name)


@scenario("TestLambdaUrl::test_url_config_deletion_without_qualifier")
def url_config_deletion_without_qualifier(ctx: Ctx) -> None:
    c, rec, name = ctx.client, ctx.rec, ctx.name()
    ctx.fixture_create(name)
    version = c.publish_version(FunctionName=name)["Version"]
    c.create_alias(FunctionName=name, Name="test-alias", FunctionVersion=version)
    rec.call("url_creation", c.create_function_url_config, FunctionName=name, AuthType="NONE")
    rec.call(
        "url_with_alias_creation",
        c.create_function_url_config,
        FunctionName=name,
        Qualifier="test-alias",
        AuthType="NONE",
    )
    rec.call("get_url_config", c.get_function_url_config, FunctionName=name)
    rec.call("get_url_config_with_alias", c.get_function_url_config, FunctionName=name, Qualifier="test-alias")
    rec.call("delete_function_url_config", c.delete_function_url_config, FunctionName=name)
    rec.call("get_url_config_after_deletion", c.get_function_url_config, FunctionName=name)
    rec.call(
        "get_url_config_with_alias_after_deletion",
        c.get_function_url_config,
        FunctionName=name,
        Qualifier="test-alias",
    )


# -- TestLambdaFunction -------------------------------------------------------------------------------


@scenario("TestLambdaFunction::test_function_lifecycle")
def function_lifecycle(ctx: Ctx) -> None:
    c, rec, name = ctx.client, ctx.rec, ctx.name()
    rec.match("create_response", ctx.fixture_create(name, MemorySize=256, Timeout=5))
    rec.call("get_function_response", c.get_function, FunctionName=name)
    rec.call(
        "update_func_conf_response",
        c.update_function_configuration,
        FunctionName=name,
        Runtime="python3.11",
        Description="Changed-Description",
        MemorySize=512,
        Timeout=10,
        Environment={"Variables": {"ENV_A": "a"}},
    )
    wait_settled(c, name)
    rec.call("get_function_response_postupdate", c.get_function, FunctionName=name)
    rec.call("update_code_response", c.update_function_code, FunctionName=name, ZipFile=package(name + "-v2"))
    wait_settled(c, name)
    rec.call("get_function_response_postcodeupdate", c.get_function, FunctionName=name)
    rec.call("delete_response", c.delete_function, FunctionName=name)
    rec.call("delete_postdelete", c.delete_function, FunctionName=name)


@scenario("TestLambdaFunction::test_redundant_updates")
def redundant_updates(ctx: Ctx) -> None:
    c, rec, name = ctx.client, ctx.rec, ctx.name()
    rec.match("create_response", ctx.fixture_create(name, Description="Initial description"))
    update = {"FunctionName": name, "Description": "1st update description"}
    rec.call("first_update_result", c.update_function_configuration, **update)
    wait_settled(c, name)
    rec.call("get_fn_config_result", c.get_function_configuration, FunctionName=name)
    rec.call("get_fn_result", c.get_function, FunctionName=name)
    rec.call("redundant_update_result", c.update_function_configuration, **update)
    wait_settled(c, name)
    rec.call("get_fn_result_after_redundant_update", c.get_function, FunctionName=name)


@scenario(
    "TestLambdaFunction::test_ops_with_arn_qualifier_mismatch[delete_function]",
    "TestLambdaFunction::test_ops_with_arn_qualifier_mismatch[get_function]",
    "TestLambdaFunction::test_ops_with_arn_qualifier_mismatch[get_function_configuration]",
)
def arn_qualifier_mismatch(ctx: Ctx) -> None:
    method = getattr(ctx.client, method_of(ctx))
    arn = ARN_PREFIX + "some-function"
    ctx.rec.call("not_match_exception", method, FunctionName=f"{arn}:1", Qualifier="$LATEST")
    ctx.rec.call("match_exception", method, FunctionName=f"{arn}:$LATEST", Qualifier="$LATEST")


@scenario(
    "TestLambdaFunction::test_ops_on_nonexisting_version[get_function]",
    "TestLambdaFunction::test_ops_on_nonexisting_version[get_function_configuration]",
)
def nonexisting_version(ctx: Ctx) -> None:
    name = ctx.name("i-exist")
    ctx.rec.bindings.values["<fn-name>"] = name
    ctx.fixture_create(name, Description="Initial description")
    method = getattr(ctx.client, method_of(ctx))
    ctx.rec.call("version_not_found_exception", method, FunctionName=name, Qualifier="1221")


@scenario("TestLambdaFunction::test_delete_on_nonexisting_version")
def delete_nonexisting_version(ctx: Ctx) -> None:
    c, rec, name = ctx.client, ctx.rec, ctx.name("i-exist")
    rec.bindings.values["<fn-name>"] = name
    ctx.fixture_create(name, Description="Initial description")
    # AWS answers these two (not recorded) with success: deleting an unknown version is idempotent.
    first = capture(c.delete_function, FunctionName=name, Qualifier="1233")
    second = capture(c.delete_function, FunctionName=name, Qualifier="1233")
    c.delete_function(FunctionName=name)
    rec.call("delete_function_response_non_existent", c.delete_function, FunctionName=name)
    rec.call(
        "delete_function_response_non_existent_with_qualifier", c.delete_function, FunctionName=name, Qualifier="1233"
    )
    assert "Error" not in first and "Error" not in second, f"delete of unknown version failed: {first} / {second}"


@scenario(
    "TestLambdaFunction::test_ops_on_nonexisting_fn[delete_function]",
    "TestLambdaFunction::test_ops_on_nonexisting_fn[get_function]",
    "TestLambdaFunction::test_ops_on_nonexisting_fn[get_function_configuration]",
    "TestLambdaFunction::test_ops_on_nonexisting_fn[get_function_url_config]",
    "TestLambdaFunction::test_ops_on_nonexisting_fn[get_function_code_signing_config]",
)
def nonexisting_fn(ctx: Ctx) -> None:
    name = ctx.name("i-dont-exist")
    ctx.rec.bindings.values["<nonexisting-fn-name>"] = name
    ctx.rec.call("not_found_exception", getattr(ctx.client, method_of(ctx)), FunctionName=name)


@scenario(
    "TestLambdaFunction::test_get_function_wrong_region[get_function]",
    "TestLambdaFunction::test_get_function_wrong_region[get_function_configuration]",
    "TestLambdaFunction::test_get_function_wrong_region[delete_function]",
    "TestLambdaFunction::test_get_function_wrong_region[invoke]",
    "TestLambdaFunction::test_get_function_wrong_region[get_function_url_config]",
    "TestLambdaFunction::test_get_function_wrong_region[get_function_code_signing_config]",
)
def wrong_region(ctx: Ctx) -> None:
    name = ctx.name("i-exist")
    ctx.fixture_create(name, Description="Initial description")
    wrong = "eu-central-1"
    ctx.rec.bindings.values["<wrong-region>"] = wrong
    arn = f"arn:aws:lambda:{wrong}:{LIVE_ACCOUNT}:function:{name}"
    ctx.rec.call("wrong_region_exception", getattr(ctx.client, method_of(ctx)), FunctionName=arn)


@scenario("TestLambdaFunction::test_lambda_code_location_zipfile")
def code_location_zipfile(ctx: Ctx) -> None:
    c, rec, name = ctx.slow, ctx.rec, ctx.name("code-function")
    code = package(name)
    created = ctx.aws_create(
        c, FunctionName=name, Handler="index.handler", Code={"ZipFile": code}, PackageType="Zip", Role=ROLE,
        Runtime=RUNTIME,
    )  # fmt: skip
    rec.match("create-response-zip-file", created)
    got = rec.call("get-function-response", c.get_function, FunctionName=name)
    with urllib.request.urlopen(got["Code"]["Location"]) as response:
        assert response.read() == code, "Code.Location does not serve the uploaded package"
    rec.call("update-function-response", c.update_function_code, FunctionName=name, ZipFile=package(name + "-v2"))
    rec.call("get-function-response-updated", c.get_function, FunctionName=name)


@scenario("TestLambdaFunction::test_function_arns")
def function_arns(ctx: Ctx) -> None:
    c, rec = ctx.client, ctx.rec
    rec.match("create-function-arn-response", ctx.fixture_create(ARN_PREFIX + ctx.name("test-function-arn")))
    partial = f"{LIVE_ACCOUNT}:function:{ctx.name('test-partial-arn')}"
    rec.match("create-function-partial-arn-response", ctx.fixture_create(partial))
    base = {"Handler": "index.handler", "Code": {"ZipFile": package("arns")}, "PackageType": "Zip", "Role": ROLE}
    base["Runtime"] = RUNTIME
    rec.call("invalid_function_name_exc", c.create_function, FunctionName="invalid:function:name", **base)
    rec.call("long_function_name_exc", c.create_function, FunctionName="a" * 65, **base)
    long_name = "a" * (140 - len(ARN_PREFIX) + 1)
    rec.bindings.values["<function-name>"] = long_name
    rec.call("long_function_arn_exc", c.create_function, FunctionName=ARN_PREFIX + long_name, **base)
    other_region = f"arn:aws:lambda:ap-southeast-1:{LIVE_ACCOUNT}:function:{ctx.name('test-function-arn')}"
    rec.call("function_arn_other_region_exc", c.create_function, FunctionName=other_region, **base)
    other_account = f"arn:aws:lambda:{REGION}:123456789012:function:{ctx.name('test-function-arn')}"
    rec.call("function_arn_other_account_exc", c.create_function, FunctionName=other_account, **base)


@scenario("TestLambdaFunction::test_invalid_invoke")
def invalid_invoke(ctx: Ctx) -> None:
    name = f"arn:aws:lambda:{REGION}:123400000000@function:myfn"
    ctx.rec.call("invoke_function_name_pattern_exc", ctx.client.invoke, FunctionName=name, Payload=b"{}")


SUBNETS = ("subnet-0a1b2c3d4e5f60718", "subnet-0f1e2d3c4b5a69788")
GROUPS = ("sg-0a1b2c3d4e5f60718", "sg-0f1e2d3c4b5a69788")


@scenario("TestLambdaFunction::test_vpc_config")
def vpc_config(ctx: Ctx) -> None:
    """Partial: Lamina has no EC2, so a configured VpcConfig shows VpcId "" where AWS shows the subnets'
    VPC; the responses with subnets (create, first update) are not compared. A cleared one is compared."""
    c, rec, name = ctx.client, ctx.rec, ctx.name()
    ctx.fixture_create(name, MemorySize=256, Timeout=5,
                       VpcConfig={"SubnetIds": [SUBNETS[0]], "SecurityGroupIds": [GROUPS[0]]})  # fmt: skip
    c.update_function_configuration(FunctionName=name, VpcConfig={"SubnetIds": [SUBNETS[1]],
                                    "SecurityGroupIds": [GROUPS[1]]})  # fmt: skip
    wait_settled(c, name)
    rec.call("delete_vpcconfig_update_response", c.update_function_configuration, FunctionName=name,
             VpcConfig={"SubnetIds": [], "SecurityGroupIds": []})  # fmt: skip
    wait_settled(c, name)
    rec.call("delete_vpcconfig_get_function_response", c.get_function, FunctionName=name)


@scenario("TestLambdaFunction::test_invalid_vpc_config_subnet")
def invalid_vpc_subnet(ctx: Ctx) -> None:
    """Partial: a well-formed subnet that does not exist needs EC2 (create-response-non-existent-subnet-id)."""
    vpc = {"SubnetIds": ["no-subnet"], "SecurityGroupIds": []}
    ctx.rec.call("create-response-invalid-format-subnet-id", ctx.client.create_function,
                 FunctionName=ctx.name(), Runtime=RUNTIME, Role=ROLE, Handler="handler.handler",
                 Code={"ZipFile": package("vpc")}, VpcConfig=vpc)  # fmt: skip


@scenario("TestLambdaFunction::test_invalid_vpc_config_security_group")
def invalid_vpc_security_group(ctx: Ctx) -> None:
    """Partial: a well-formed group that does not exist needs EC2 (create-response-non-existent-security-group)."""
    vpc = {"SubnetIds": [SUBNETS[0]], "SecurityGroupIds": ["group"]}
    ctx.rec.call("create-response-invalid-format-security-group", ctx.client.create_function,
                 FunctionName=ctx.name(), Runtime=RUNTIME, Role=ROLE, Handler="handler.handler",
                 Code={"ZipFile": package("vpc")}, VpcConfig=vpc)  # fmt: skip


@scenario("TestLambdaFunction::test_create_lambda_exceptions")
def create_exceptions(ctx: Ctx) -> None:
    c, rec = ctx.client, ctx.rec
    base = {"FunctionName": ctx.name("invalid-function"), "Handler": "index.handler", "PackageType": "Zip"}
    ok = {**base, "Code": {"ZipFile": package("exc")}, "Role": ROLE, "Runtime": RUNTIME}
    rec.call("invalid_role_arn_exc", c.create_function, **{**ok, "Role": "r1"})
    rec.call("invalid_runtime_exc", c.create_function, **{**ok, "Runtime": "non-existent-runtime"})
    rec.call("uppercase_runtime_exc", c.create_function, **{**ok, "Runtime": "PYTHON3.9"})
    rec.call("empty_architectures", c.create_function, **ok, Architectures=[])
    rec.call("multiple_architectures", c.create_function, **ok, Architectures=["x86_64", "arm64"])
    rec.call("uppercase_architecture", c.create_function, **ok, Architectures=["X86_64"])
    bad_zip = {"ZipFile": b"this is not a zipfile, just a random string"}
    rec.call("invalid_zip_exc", c.create_function, **{**ok, "Code": bad_zip})


@scenario("TestLambdaFunction::test_update_lambda_exceptions")
def update_exceptions(ctx: Ctx) -> None:
    c, rec, name = ctx.client, ctx.rec, ctx.name("invalid-function")
    ctx.aws_create(
        FunctionName=name, Handler="index.handler", Code={"ZipFile": package(name)}, PackageType="Zip", Role=ROLE,
        Runtime=RUNTIME,
    )  # fmt: skip
    rec.call("invalid_role_arn_exc", c.update_function_configuration, FunctionName=name, Role="r1")
    rec.call("invalid_runtime_exc", c.update_function_configuration, FunctionName=name, Runtime="non-existent-runtime")
    rec.call("uppercase_runtime_exc", c.update_function_configuration, FunctionName=name, Runtime="PYTHON3.9")


@scenario("TestLambdaFunction::test_list_functions")
def list_functions(ctx: Ctx) -> None:
    """Partial: upstream creates the first function with Publish=True and also lists FunctionVersion=ALL;
    versions are not built, so create_response_1 and list_all are not compared."""
    c, rec = ctx.client, ctx.rec
    first, second = ctx.name("list-fn-1"), ctx.name("list-fn-2")
    ctx.fixture_create(first)
    rec.match("create_response_2", ctx.fixture_create(second))
    rec.call("list_functions_invalid_functionversion", c.list_functions, FunctionVersion="invalid")
    listing = c.get_paginator("list_functions").paginate(PaginationConfig={"PageSize": 1}).build_full_result()
    mine = [f for f in listing["Functions"] if f["FunctionName"] in (first, second)]
    rec.match("list_default", {"Functions": sorted(mine, key=lambda f: f["FunctionArn"])})


@scenario("TestLambdaFunction::test_lambda_concurrent_code_updates")
def concurrent_code_updates(ctx: Ctx) -> None:
    c, rec, name = ctx.slow, ctx.rec, ctx.name()
    created = ctx.aws_create(
        c, FunctionName=name, Handler="handler.handler", Code={"ZipFile": package(name)}, PackageType="Zip",
        Role=ROLE, Runtime=RUNTIME,
    )  # fmt: skip
    rec.match("create-function-response", created)
    c.update_function_code(FunctionName=name, ZipFile=package(name + "-v2"))
    rec.call("update-during-in-progress-update-exc", c.update_function_code, FunctionName=name, ZipFile=package(name))


@scenario("TestLambdaFunction::test_lambda_concurrent_config_updates")
def concurrent_config_updates(ctx: Ctx) -> None:
    c, rec, name = ctx.slow, ctx.rec, ctx.name()
    rec.match("create-function-response", ctx.fixture_create(name, client=c))
    c.update_function_configuration(FunctionName=name, Description="first")
    rec.call(
        "update-during-in-progress-update-exc", c.update_function_configuration, FunctionName=name, Description="2nd"
    )


# Upstream's parametrization, as the recorded messages show it: (FunctionName, Qualifier); for
# create_function a qualifier is appended to the name.
NAME_CASES: dict[str, tuple[str, str | None]] = {
    "function_name_is_single_invalid": ("*", None),
    "invalid_characters_in_function_name": ("my-function!", None),
    "invalid_characters_in_qualifier": ("my-function", "invalid!"),
    "qualifier_too_long0": ("my-function", "a" * 129),
    "qualifier_too_long": ("my-function", "a" * 129),
    "invalid_account_id_in_partial_arn": ("invalid-account:function:my-function", None),
    "invalid_region_in_arn": (f"arn:aws:lambda:invalid-region:{LIVE_ACCOUNT}:function:my-function", None),
    "non_lambda_arn": (f"arn:aws:ec2:{REGION}:{LIVE_ACCOUNT}:instance:i-1234567890abcdef0", None),
    "function_name_too_long": ("a" * 65, None),
    "function_name_too_long_and_invalid_region": (
        f"arn:aws:lambda:invalid-region:{LIVE_ACCOUNT}:function:my-function{'a' * 170}",
        None,
    ),
    "full_arn_and_qualifier_too_long_and_invalid_region": (
        f"arn:aws:lambda:invalid-region:{LIVE_ACCOUNT}:function:my-function-{'a' * 170}",
        "a" * 129,
    ),
    "qualifier_too_long1": ("my-function", "a" * 65),
    "function_name_and_qualifier_too_long": ("my-function", "a" * 65),
    "full_arn_with_multiple_qualifiers": (ARN_PREFIX + "my-function:1:2", None),
    "incomplete_arn": (f"arn:aws:lambda:{REGION}:{LIVE_ACCOUNT}:function", None),
    "partial_arn_with_extra_qualifier": ("function:my-function:$LATEST:extra", None),
    "latest_version_with_additional_qualifier": (ARN_PREFIX + "my-function:$LATEST", "1"),
    "lowercase_latest_qualifier": (ARN_PREFIX + "my-function", "$latest"),
    "missing_region_in_arn": (f"arn:aws:lambda::{LIVE_ACCOUNT}:function:my-function", None),
    "missing_account_id_in_arn": (f"arn:aws:lambda:{REGION}::function:my-function", None),
    "misspelled_latest_in_arn": (ARN_PREFIX + "my-function:$LATES", None),
}
NAME_METHODS = ("get_function", "delete_function", "create_function", "invoke")


def validation_view(response: Any) -> dict[str, Any]:
    """Upstream snapshots these errors as {Code, Count, Errors} (the validation message split into its
    errors) or {Code, Message}."""
    code, message = response["Error"]["Code"], response["Error"].get("Message") or ""
    head, sep, rest = message.partition(" detected: ")
    if sep and head.split(" ", 1)[0].isdigit() and " validation error" in head:
        return {"Code": code, "Count": int(head.split(" ", 1)[0]), "Errors": rest.split("; ")}
    return {"Code": code, "Message": message}


def name_validation(ctx: Ctx) -> None:
    case, method = ctx.rec.test_id.rsplit("[", 1)[1].rstrip("]").rsplit("-", 1)
    function_name, qualifier = NAME_CASES[case]
    if method == "create_function":
        full = f"{function_name}:{qualifier}" if qualifier else function_name
        kwargs: dict[str, Any] = {
            "FunctionName": full, "Runtime": RUNTIME, "Role": ROLE, "Handler": "handler.handler",
            "Code": {"ZipFile": package(case)},
        }  # fmt: skip
    else:
        kwargs = {"FunctionName": function_name, **({"Qualifier": qualifier} if qualifier else {})}
    response = capture(getattr(ctx.client, method), **kwargs)
    if "Error" not in response:  # created where AWS refused: tidy up, the diff shows it
        ctx.created.append((ctx.client, response["FunctionName"]))
    ctx.rec.match(f"{method}_exception", validation_view(response) if "Error" in response else response)


def _name_ids() -> Iterator[str]:
    for case in NAME_CASES:
        for method in NAME_METHODS:
            test_id = f"TestLambdaFunction::test_function_name_and_qualifier_validation[{case}-{method}]"
            if load(test_id):
                yield test_id


scenario(*_name_ids())(name_validation)


# -- advanced logging ---------------------------------------------------------------------------------


def _logging_steps(ctx: Ctx, create: dict[str, Any], *updates: dict[str, str]) -> None:
    """Create (upstream: MemorySize 256, Timeout 5), read back, then each LoggingConfig update and the
    configuration once it is applied (`updated_config`, `received_config`, then `_v2`...)."""
    c, rec, name = ctx.client, ctx.rec, ctx.name()
    rec.match("create_response", ctx.fixture_create(name, MemorySize=256, Timeout=5, **create))
    rec.call("get_function_response", c.get_function, FunctionName=name)
    rec.call("function_config", c.get_function_configuration, FunctionName=name)
    for i, update in enumerate(updates):
        suffix = f"_v{i + 1}" if i else ""
        rec.call(f"updated_config{suffix}", c.update_function_configuration, FunctionName=name, LoggingConfig=update)
        wait_settled(c, name)
        rec.call(f"received_config{suffix}", c.get_function_configuration, FunctionName=name)


@scenario("TestLoggingConfig::test_function_advanced_logging_configuration")
def advanced_logging(ctx: Ctx) -> None:
    _logging_steps(ctx, {"LoggingConfig": {"LogFormat": "JSON"}}, {"LogGroup": "cool_lambda"})


@scenario("TestLoggingConfig::test_advanced_logging_configuration_format_switch")
def logging_format_switch(ctx: Ctx) -> None:
    _logging_steps(ctx, {}, {"LogFormat": "JSON"}, {"LogFormat": "Text"})


PARTIAL_LOGGING = (
    {"LogFormat": "JSON"},
    {"LogFormat": "JSON", "ApplicationLogLevel": "DEBUG"},
    {"LogFormat": "JSON", "SystemLogLevel": "DEBUG"},
    {"LogGroup": "cool_lambda"},
)


@scenario(
    *(f"TestLoggingConfig::test_function_partial_advanced_logging_configuration_update[partial_config{i}]"
      for i in range(len(PARTIAL_LOGGING)))
)  # fmt: skip
def partial_logging(ctx: Ctx) -> None:
    _logging_steps(ctx, {}, PARTIAL_LOGGING[int(ctx.rec.test_id[-2])])


# -- tags ---------------------------------------------------------------------------------------------


def _tag_lifecycle_steps(ctx: Ctx, with_mixed: bool) -> None:
    c, rec, name = ctx.client, ctx.rec, ctx.name()
    ctx.fixture_create(name)
    arn = c.get_function(FunctionName=name)["Configuration"]["FunctionArn"]
    steps: list[tuple[str, str, Any]] = [
        ("tag_single_response", "tag", {"A": "tag-a"}),
        ("tag_multiple_response", "tag", {"B": "tag-b", "C": "tag-c"}),
        ("tag_overlap_response", "tag", {"C": "tag-c-newsuffix", "D": "tag-d"}),
        ("untag_single_response", "untag", ["A"]),
        ("untag_multiple_response", "untag", ["B", "C"]),
        ("untag_nonexisting_response", "untag", ["F"]),
    ]
    if with_mixed:
        steps.append(("untag_existing_and_nonexisting_response", "untag", ["D", "F"]))
    for step, kind, value in steps:
        if kind == "tag":
            rec.call(step, c.tag_resource, Resource=arn, Tags=value)
        else:
            rec.call(step, c.untag_resource, Resource=arn, TagKeys=value)
        rec.call(f"{step}_listtags", c.list_tags, Resource=arn)


@scenario("TestLambdaTag::test_tag_lifecycle", "TestLambdaTag::test_tag_lifecycle[lambda_function]")
def tag_lifecycle_single(ctx: Ctx) -> None:
    _tag_lifecycle_steps(ctx, "untag_existing_and_nonexisting_response" in ctx.rec.recorded)


@scenario("TestLambdaTag::test_create_tag_on_fn_create")
def create_tag_on_fn_create(ctx: Ctx) -> None:
    c, rec, name, tag = ctx.client, ctx.rec, ctx.name(), ctx.name("tag")
    rec.bindings.values["<custom-tag>"] = tag
    ctx.fixture_create(name, Tags={"testtag": tag})
    got = rec.call("get_function_result", c.get_function, FunctionName=name)
    rec.call("list_tags_result", c.list_tags, Resource=got["Configuration"]["FunctionArn"])


@scenario("TestLambdaTag::test_tag_nonexisting_resource")
def tag_nonexisting_resource(ctx: Ctx) -> None:
    c, rec, name = ctx.client, ctx.rec, ctx.name()
    ctx.fixture_create(name)
    arn = c.get_function(FunctionName=name)["Configuration"]["FunctionArn"]
    rec.call("pre_delete_get_function", c.get_function, FunctionName=arn)
    c.delete_function(FunctionName=arn)
    rec.call("not_found_exception_tag", c.tag_resource, Resource=arn, Tags={"A": "B"})
    rec.call("not_found_exception_untag", c.untag_resource, Resource=arn, TagKeys=["A"])
    rec.call("not_found_exception_list", c.list_tags, Resource=arn)


@scenario("TestLambdaTag::test_tag_exceptions[lambda_function]")
def tag_exceptions_param(ctx: Ctx) -> None:
    c, rec, existing, missing = ctx.client, ctx.rec, ctx.name(), ctx.name("doesnotexist")
    rec.bindings.values["<resource-name>"] = missing
    ctx.fixture_create(existing)
    rec.call("not_found_exception_tag", c.tag_resource, Resource=ARN_PREFIX + missing, Tags={"A": "B"})
    rec.call("not_found_exception_untag", c.untag_resource, Resource=ARN_PREFIX + missing, TagKeys=["A"])
    rec.call("not_found_exception_list", c.list_tags, Resource=ARN_PREFIX + missing)
    rec.call("aliased_arn_exception", c.tag_resource, Resource=f"{ARN_PREFIX}{existing}:alias", Tags={"A": "B"})
    invalid = f"arn:aws:lambda:{REGION}:{LIVE_ACCOUNT}:foobar:{missing}"
    rec.call("invalid_arn_exception", c.tag_resource, Resource=invalid, Tags={"A": "B"})


@scenario("TestLambdaTags::test_tag_exceptions")
def tags_exceptions(ctx: Ctx) -> None:
    c, rec, name = ctx.client, ctx.rec, ctx.name("fn-tag")
    ctx.fixture_create(name)
    arn = c.get_function(FunctionName=name)["Configuration"]["FunctionArn"]
    rec.call("tag_lambda_invalidarn", c.tag_resource, Resource="arn:aws:something", Tags={"key_a": "value_a"})
    rec.call("tag_lambda_doesnotexist", c.tag_resource, Resource=ARN_PREFIX + "doesnotexist", Tags={"key_a": "value_a"})
    rec.call("tag_lambda_qualifier_doesnotexist", c.tag_resource, Resource=f"{arn}:v1", Tags={"key_a": "value_a"})
    rec.call("list_tag_lambda_empty", c.list_tags, Resource=arn)
    rec.call("untag_nomatch", c.untag_resource, Resource=arn, TagKeys=["somekey"])
    rec.call("untag_empty_keys", c.untag_resource, Resource=arn, TagKeys=[])
    rec.call("tag_empty_tags", c.tag_resource, Resource=arn, Tags={})
    c.tag_resource(Resource=arn, Tags={"a_key": "a_value", "b_key": "b_value"})
    c.untag_resource(Resource=arn, TagKeys=["a_key", "c_key"])
    assert c.list_tags(Resource=arn)["Tags"] == {"b_key": "b_value"}


@scenario("TestLambdaTags::test_tag_limits")
def tags_limits(ctx: Ctx) -> None:
    c, rec, name = ctx.client, ctx.rec, ctx.name("fn-tag")
    ctx.fixture_create(name)
    arn = c.get_function(FunctionName=name)["Configuration"]["FunctionArn"]
    many = {f"{k}_key": f"{k}_value" for k in range(51)}
    rec.call("tag_lambda_too_many_tags", c.tag_resource, Resource=arn, Tags=many)
    rec.call("tag_response", c.tag_resource, Resource=arn, Tags={f"{k}_key": f"{k}_value" for k in range(50)})
    rec.call("list_tags_response", c.list_tags, Resource=arn)
    rec.call("get_fn_response", c.get_function, FunctionName=name)
    rec.call("tag_lambda_too_many_tags_additional", c.tag_resource, Resource=arn, Tags={"a_key": "a_value"})
    response = capture(ctx.fixture_create, name=ctx.name("fn-tag"), Tags=many)
    rec.match("create_function_invalid_tags", response)


@scenario("TestLambdaTags::test_tag_versions")
def tags_versions(ctx: Ctx) -> None:
    """Partial: tag_resource_exception needs a published version (not built)."""
    name = ctx.name("fn-tag")
    arn = ctx.fixture_create(name, Tags={"key_a": "value_a"})["CreateFunctionResponse"]["FunctionArn"]
    tags = {"key_b": "value_b", "key_c": "value_c", "key_d": "value_d", "key_e": "value_e"}
    ctx.rec.call("tag_resource_latest_exception", ctx.client.tag_resource, Resource=f"{arn}:$LATEST", Tags=tags)


@scenario("TestLambdaTags::test_tag_lifecycle")
def tags_lifecycle(ctx: Ctx) -> None:
    c, rec, name = ctx.client, ctx.rec, ctx.name("fn-tag")
    ctx.fixture_create(name, Tags={"key_a": "value_a"})
    arn = c.get_function(FunctionName=name)["Configuration"]["FunctionArn"]

    def snapshot_tags(suffix: str) -> None:
        rec.call(f"list_tags_response_{suffix}", c.list_tags, Resource=arn)
        rec.call(f"get_fn_response_{suffix}", c.get_function, FunctionName=arn)

    snapshot_tags("postfncreate")
    four = {"key_b": "value_b", "key_c": "value_c", "key_d": "value_d", "key_e": "value_e"}
    rec.call("tag_resource_response", c.tag_resource, Resource=arn, Tags=four)
    snapshot_tags("postaddtags")
    rec.call("tag_resource_overwrite", c.tag_resource, Resource=arn, Tags={"key_b": "value_b", "key_c": "value_x"})
    snapshot_tags("overwrite")
    c.untag_resource(Resource=arn, TagKeys=["key_c", "key_d"])
    snapshot_tags("postuntag")
    c.untag_resource(Resource=arn, TagKeys=["key_a", "key_b", "key_e"])
    snapshot_tags("postuntagall")
    c.delete_function(FunctionName=name)
    rec.call("list_tags_postdelete", c.list_tags, Resource=arn)


# -- size limits, account settings, revisions ---------------------------------------------------------


@scenario("TestLambdaSizeLimits::test_oversized_request_create_lambda")
def oversized_request(ctx: Ctx) -> None:
    env = "#" * (REQUEST_LIMIT - ZIPPED_LIMIT + 1024 * 1024)
    ctx.rec.call(
        "invalid_param_exc", ctx.client.create_function, FunctionName=ctx.name("test_lambda"), Runtime=RUNTIME,
        Handler="handler.handler", Role=ROLE, Code={"ZipFile": stored_zip(ZIPPED_LIMIT - 1024)}, Timeout=10,
        Environment={"Variables": {"largeKey": env}},
    )  # fmt: skip


@scenario("TestLambdaSizeLimits::test_oversized_zipped_create_lambda")
def oversized_zipped(ctx: Ctx) -> None:
    ctx.rec.call(
        "invalid_param_exc", ctx.client.create_function, FunctionName=ctx.name("test_lambda"), Runtime=RUNTIME,
        Handler="handler.handler", Role=ROLE, Code={"ZipFile": stored_zip(ZIPPED_LIMIT)}, Timeout=10,
    )  # fmt: skip


@scenario("TestLambdaSizeLimits::test_oversized_unzipped_lambda")
def oversized_unzipped(ctx: Ctx) -> None:
    """Upstream uploads the package to S3 first; Lamina has no S3, so the same (compressible) package is
    sent as Code.ZipFile. The unzipped-size check is the one answered either way."""
    ctx.rec.call(
        "invalid_param_exc", ctx.client.create_function, FunctionName=ctx.name("test_lambda"), Runtime=RUNTIME,
        Handler="handler.handler", Role=ROLE, Code={"ZipFile": deflated_zip(UNZIPPED_LIMIT)}, Timeout=10,
    )  # fmt: skip


def _env_case(ctx: Ctx, response_name: str, variables: dict[str, str], fails: bool) -> None:
    name = ctx.name("large-envvar-lambda")
    ctx.rec.match(response_name, capture(ctx.fixture_create, name=name, Environment={"Variables": variables}))
    if fails:
        missing = capture(ctx.client.get_function, FunctionName=name)
        assert missing.get("Error", {}).get("Code") == "ResourceNotFoundException"


@scenario("TestLambdaSizeLimits::test_large_environment_variables_fails")
def large_env(ctx: Ctx) -> None:
    _env_case(ctx, "failed_create_fn_result", {"LARGE_VAR": "x" * (4 * 1024 - 6 - len("LARGE_VAR"))}, True)


@scenario("TestLambdaSizeLimits::test_large_environment_fails_multiple_keys")
def large_env_multi(ctx: Ctx) -> None:
    _env_case(ctx, "failured_create_fn_result_multi_key", {"SMALL_VAR": "ok", "LARGE_VAR": "x" * 4064}, True)


@scenario("TestLambdaSizeLimits::test_lambda_envvars_near_limit_succeeds")
def env_near_limit(ctx: Ctx) -> None:
    _env_case(ctx, "successful_create_fn_result", {"LARGE_VAR": "x" * (4 * 1024 - 7 - len("LARGE_VAR"))}, False)


@scenario("TestLambdaAccountSettings::test_account_settings")
def account_settings(ctx: Ctx) -> None:
    settings = ctx.client.get_account_settings()
    settings["AccountLimit"] = sorted(settings["AccountLimit"])
    settings["AccountUsage"] = sorted(settings["AccountUsage"])
    ctx.rec.match("acc_settings_modded", settings)


@scenario("TestLambdaAccountSettings::test_account_settings_total_code_size_config_update")
def total_code_size_config_update(ctx: Ctx) -> None:
    """Publishing after a configuration-only change counts the (unchanged) code once more."""
    c, rec, name = ctx.client, ctx.rec, ctx.name()

    def total() -> int:
        size: int = c.get_account_settings()["AccountUsage"]["TotalCodeSize"]
        return size

    start = total()
    ctx.fixture_create(name)
    created = total()
    rec.match("is_total_code_size_diff_create_function_more_than_200", created - start > 200)
    c.update_function_configuration(FunctionName=name, Description="changed")
    wait_settled(c, name)
    updated = total()
    rec.match("total_code_size_diff_update_function_configuration", updated - created)
    c.publish_version(FunctionName=name)
    rec.match("is_total_code_size_diff_publish_version_after_config_update_more_than_200", total() - updated > 200)


@scenario("TestLambdaRevisions::test_function_revisions_version_and_alias")
def revisions_version_and_alias(ctx: Ctx) -> None:
    c, rec, name = ctx.client, ctx.rec, ctx.name()
    rec.match("create_function_response_rev1", ctx.fixture_create(name))
    rev2 = rec.call("get_function_active_rev2", c.get_function, FunctionName=name)["Configuration"]["RevisionId"]
    rec.call("publish_version_revision_exception", c.publish_version, FunctionName=name, RevisionId="wrong")
    rec.call("publish_version_response_rev_v1", c.publish_version, FunctionName=name, RevisionId=rev2)
    rec.call("get_function_published_version_rev_v2", c.get_function, FunctionName=name, Qualifier="1")
    rec.call("get_function_latest_rev3", c.get_function, FunctionName=name)
    alias = rec.call("create_alias_response_rev_a1", c.create_alias, FunctionName=name, Name="revision_alias",
                     FunctionVersion="1")  # fmt: skip
    rec.call("get_function_latest_rev4", c.get_function, FunctionName=name)
    rec.call("get_function_published_version_rev_v3", c.get_function, FunctionName=name, Qualifier="1")
    update = {"FunctionName": name, "Name": "revision_alias", "Description": "something changed"}
    rec.call("update_alias_revision_exception", c.update_alias, **update, RevisionId="wrong")
    rec.call("update_alias_response_rev_a2", c.update_alias, **update, RevisionId=alias["RevisionId"])


@scenario("TestLambdaRevisions::test_function_revisions_basic")
def revisions_basic(ctx: Ctx) -> None:
    c, rec, name = ctx.client, ctx.rec, ctx.name()
    code = package(name)
    rec.match(
        "create_function_response_rev1", ctx.fixture_create(name, Handler="index.handler", Code={"ZipFile": code})
    )
    rev2 = rec.call("get_function_response_rev2", c.get_function, FunctionName=name)["Configuration"]["RevisionId"]
    rec.call("update_function_revision_exception", c.update_function_code, FunctionName=name, ZipFile=code,
             RevisionId="wrong")  # fmt: skip
    rec.call("update_function_code_response_rev3", c.update_function_code, FunctionName=name, ZipFile=code,
             RevisionId=rev2)  # fmt: skip
    wait_settled(c, name)
    rev4 = rec.call("get_function_response_rev4", c.get_function, FunctionName=name)["Configuration"]["RevisionId"]
    update = {"FunctionName": name, "Runtime": "python3.8"}
    rec.call("update_function_configuration_revision_exception", c.update_function_configuration, **update,
             RevisionId="wrong")  # fmt: skip
    rec.call("update_function_configuration_response_rev5", c.update_function_configuration, **update,
             RevisionId=rev4)  # fmt: skip
    wait_settled(c, name)
    rec.call("get_function_response_rev6", c.get_function, FunctionName=name)


# -- TestLambdaVersions / TestLambdaAlias --------------------------------------------------------------


@scenario("TestLambdaVersions::test_publish_version_on_create")
def publish_on_create(ctx: Ctx) -> None:
    c, rec, name = ctx.client, ctx.rec, ctx.name()
    created = capture(c.create_function, FunctionName=name, Runtime=RUNTIME, Role=ROLE, Handler="index.handler",
                      Code={"ZipFile": package(name)}, Publish=True)  # fmt: skip
    rec.match("create_response", created)
    wait_settled(c, name)
    rec.call("get_function_result", c.get_function, FunctionName=name)
    rec.call("get_function_version_result", c.get_function, FunctionName=name, Qualifier="1")
    rec.call("get_function_latest_result", c.get_function, FunctionName=name, Qualifier="$LATEST")
    rec.call("list_versions_result", c.list_versions_by_function, FunctionName=name)
    rec.call("repeated_publish_response", c.publish_version, FunctionName=name)
    rec.call("list_versions_result_after_publish", c.list_versions_by_function, FunctionName=name)


@scenario("TestLambdaVersions::test_version_lifecycle")
def version_lifecycle(ctx: Ctx) -> None:
    c, rec, name = ctx.client, ctx.rec, ctx.name()
    rec.match("create_response", ctx.aws_create(FunctionName=name, Runtime=RUNTIME, Role=ROLE,
              Handler="index.handler", Code={"ZipFile": package(name)}, Description="No version :("))  # fmt: skip
    rec.call("get_function_result", c.get_function, FunctionName=name)
    rec.call("list_versions_result", c.list_versions_by_function, FunctionName=name)
    rec.call("first_update_response", c.update_function_configuration, FunctionName=name,
             Description="First version :)")  # fmt: skip
    wait_settled(c, name)
    rec.call("first_update_get_function", c.get_function, FunctionName=name)
    rec.call("first_publish_response", c.publish_version, FunctionName=name,
             Description="First version description :)")  # fmt: skip
    rec.call("first_publish_get_function", c.get_function, FunctionName=name, Qualifier="1")
    rec.call("first_publish_get_function_config", c.get_function_configuration, FunctionName=name, Qualifier="1")
    rec.call("second_update_response", c.update_function_configuration, FunctionName=name,
             Description="Second version :))")  # fmt: skip
    wait_settled(c, name)
    rec.call("first_publish_get_function_after_update", c.get_function, FunctionName=name, Qualifier="1")
    rec.call("second_publish_response", c.publish_version, FunctionName=name)
    rec.call("third_publish_response", c.publish_version, FunctionName=name)
    rec.call("list_versions_result_after_third_publish", c.list_versions_by_function, FunctionName=name)
    capture(c.delete_function, FunctionName=name, Qualifier="1")
    rec.call("list_versions_result_after_deletion_of_first_version", c.list_versions_by_function, FunctionName=name)


def _publish_precondition(ctx: Ctx, error_name: str, **wrong: str) -> None:
    c, rec, name = ctx.client, ctx.rec, ctx.name()
    rec.match("create_response", ctx.aws_create(FunctionName=name, Runtime=RUNTIME, Role=ROLE,
              Handler="index.handler", Code={"ZipFile": package(name)}))  # fmt: skip
    rec.call("get_fn_response", c.get_function, FunctionName=name)
    rec.call(error_name, c.publish_version, FunctionName=name, **wrong)
    rec.call("publish_result", c.publish_version, FunctionName=name)


@scenario("TestLambdaVersions::test_publish_with_wrong_sha256")
def publish_wrong_sha(ctx: Ctx) -> None:
    _publish_precondition(ctx, "publish_wrong_sha256_exc", CodeSha256="somenonexistentsha256")


@scenario("TestLambdaVersions::test_publish_with_update")
def publish_with_update(ctx: Ctx) -> None:
    c, rec, name = ctx.slow, ctx.rec, ctx.name()
    rec.match("create_response", ctx.aws_create(c, FunctionName=name, Runtime=RUNTIME, Role=ROLE,
              Handler="index.handler", Code={"ZipFile": package(name)}))  # fmt: skip
    rec.call("get_function_result", c.get_function, FunctionName=name)
    rec.call("update_function_code_result", c.update_function_code, FunctionName=name,
             ZipFile=package(name + "-2"), Publish=True)  # fmt: skip
    rec.call("get_function_version_result", c.get_function, FunctionName=name, Qualifier="1")
    rec.call("get_function_latest_result", c.get_function, FunctionName=name, Qualifier="$LATEST")
    wait_settled(c, name)


def _two_versions(ctx: Ctx, **create: Any) -> str:
    """A function created as upstream's alias tests create theirs (environment testenv=staging)."""
    rec, name = ctx.rec, ctx.name()
    create.setdefault("Environment", {"Variables": {"testenv": "staging"}})
    rec.match("create_response", ctx.aws_create(FunctionName=name, Runtime=RUNTIME, Role=ROLE,
              Handler="index.handler", Code={"ZipFile": package(name)}, **create))  # fmt: skip
    return name


@scenario("TestLambdaAlias::test_alias_lifecycle")
def alias_lifecycle(ctx: Ctx) -> None:
    c, rec = ctx.client, ctx.rec
    name = _two_versions(ctx)
    rec.call("publish_v1", c.publish_version, FunctionName=name)
    c.update_function_configuration(FunctionName=name, Environment={"Variables": {"testenv": "prod"}})
    wait_settled(c, name)
    rec.call("publish_v2", c.publish_version, FunctionName=name)
    arn = f"arn:aws:lambda:{REGION}:{LIVE_ACCOUNT}:function:{name}"
    rec.call("create_alias_1_1", c.create_alias, FunctionName=name, Name="aliasname1_1", FunctionVersion="1",
             Description="custom-alias", RoutingConfig={"AdditionalVersionWeights": {"2": 0.2}})  # fmt: skip
    rec.call("get_alias_1_1", c.get_alias, FunctionName=name, Name="aliasname1_1")
    rec.call("get_function_alias_1_1", c.get_function, FunctionName=name, Qualifier="aliasname1_1")
    rec.call("get_function_byarn_alias_1_1", c.get_function, FunctionName=f"{arn}:aliasname1_1")
    rec.call("get_function_alias_notfound_exc", c.get_function, FunctionName=name, Qualifier="aliasdoesnotexist")
    rec.call("get_function_alias_byarn_notfound_exc", c.get_function, FunctionName=f"{arn}:aliasdoesnotexist")
    rec.call("create_alias_1_2", c.create_alias, FunctionName=name, Name="aliasname1_2", FunctionVersion="1",
             Description="custom-alias")  # fmt: skip
    rec.call("get_alias_1_2", c.get_alias, FunctionName=name, Name="aliasname1_2")
    rec.call("create_alias_1_3", c.create_alias, FunctionName=name, Name="aliasname1_3", FunctionVersion="1")
    rec.call("get_alias_1_3", c.get_alias, FunctionName=name, Name="aliasname1_3")
    rec.call("create_alias_2", c.create_alias, FunctionName=name, Name="aliasname2", FunctionVersion="2",
             Description="custom-alias")  # fmt: skip
    rec.call("get_alias_2", c.get_alias, FunctionName=name, Name="aliasname2")
    listed = c.list_aliases(FunctionName=name)
    listed.pop("ResponseMetadata")  # this one recording has none
    rec.match("list_aliases_for_fnname", listed)
    rec.call("update_alias_1_1", c.update_alias, FunctionName=name, Name="aliasname1_1",
             RoutingConfig={"AdditionalVersionWeights": {}})  # fmt: skip
    rec.call("get_alias_1_1_after_update", c.get_alias, FunctionName=name, Name="aliasname1_1")
    rec.call("list_aliases_for_fnname_after_update", c.list_aliases, FunctionName=name)
    rec.call("update_alias_1_2", c.update_alias, FunctionName=name, Name="aliasname1_2", RoutingConfig={})
    rec.call("get_alias_1_2_after_update", c.get_alias, FunctionName=name, Name="aliasname1_2")
    rec.call("list_aliases_for_fnname_after_update_2", c.list_aliases, FunctionName=name)
    rec.call("list_aliases_for_version", c.list_aliases, FunctionName=name, FunctionVersion="1")
    rec.call("delete_alias_response", c.delete_alias, FunctionName=name, Name="aliasname1_1")
    rec.call("list_aliases_for_fnname_afterdelete", c.list_aliases, FunctionName=name)


@scenario("TestLambdaAlias::test_notfound_and_invalid_routingconfigs")
def alias_routing_errors(ctx: Ctx) -> None:
    c, rec, name = ctx.client, ctx.rec, ctx.name()
    created = capture(c.create_function, FunctionName=name, Runtime=RUNTIME, Role=ROLE, Handler="index.handler",
                      Code={"ZipFile": package(name)}, Publish=True,
                      Environment={"Variables": {"testenv": "staging"}})  # fmt: skip
    ctx.created.append((c, name))
    rec.match("create_response", created)
    wait_settled(c, name)
    rec.call("publish_v1", c.publish_version, FunctionName=name)
    c.update_function_configuration(FunctionName=name, Environment={"Variables": {"testenv": "prod"}})
    wait_settled(c, name)
    rec.call("publish_v2", c.publish_version, FunctionName=name)
    alias = {"FunctionName": name, "Name": "custom", "FunctionVersion": "1"}
    rec.call("routing_config_exc_toomany", c.create_alias, **alias,
             RoutingConfig={"AdditionalVersionWeights": {"2": 0.5, "3": 0.5}})  # fmt: skip
    rec.call(
        "routing_config_exc_toohigh", c.create_alias, **alias, RoutingConfig={"AdditionalVersionWeights": {"2": 2}}
    )
    unchecked = boto3.client(  # botocore itself refuses a negative weight; send it as upstream did
        "lambda", endpoint_url=c.meta.endpoint_url, region_name=REGION, aws_access_key_id="test",
        aws_secret_access_key="test", config=Config(parameter_validation=False),
    )  # fmt: skip
    rec.call("routing_config_exc_subzero", unchecked.create_alias, **alias,
             RoutingConfig={"AdditionalVersionWeights": {"2": -1}})  # fmt: skip
    rec.call("routing_config_exc_sameversion", c.create_alias, **alias,
             RoutingConfig={"AdditionalVersionWeights": {"1": 0.5}})  # fmt: skip
    rec.call("target_version_doesnotexist", c.create_alias, **{**alias, "FunctionVersion": "10"})
    rec.call("routing_config_exc_version_doesnotexist", c.create_alias, **alias,
             RoutingConfig={"AdditionalVersionWeights": {"10": 0.5}})  # fmt: skip
    rec.call("target_version_exc_version_latest", c.create_alias, **{**alias, "FunctionVersion": "$LATEST"},
             RoutingConfig={"AdditionalVersionWeights": {"1": 0.5}})  # fmt: skip
    rec.call("routing_config_exc_version_latest", c.create_alias, **alias,
             RoutingConfig={"AdditionalVersionWeights": {"$LATEST": 0.5}})  # fmt: skip
    rec.call("create-alias-latest", c.create_alias, FunctionName=name, Name="custom-latest", FunctionVersion="$LATEST")
    rec.call("routing_config_exc_fn_doesnotexist", c.create_alias, **{**alias, "FunctionName": f"{name}-unknown"},
             RoutingConfig={"AdditionalVersionWeights": {"2": 0.5}})  # fmt: skip
    rec.call("create_alias_empty_routingconfig", c.create_alias, FunctionName=name,
             Name="custom-empty-routingconfig", FunctionVersion="1", RoutingConfig={})  # fmt: skip
    rec.call("create_alias_response", c.create_alias, **alias, RoutingConfig={"AdditionalVersionWeights": {"2": 0.5}})
    rec.call("routing_config_exc_already_exist", c.create_alias, **alias,
             RoutingConfig={"AdditionalVersionWeights": {"2": 0.5}})  # fmt: skip
    rec.call("alias_does_not_exist_esc", c.get_alias, FunctionName=name, Name="non-existent")


@scenario("TestLambdaAlias::test_alias_naming")
def alias_naming(ctx: Ctx) -> None:
    c, rec = ctx.client, ctx.rec
    name = _two_versions(ctx)
    rec.call("publish_v1", c.publish_version, FunctionName=name)
    rec.call("create_alias_date", c.create_alias, FunctionName=name, Name="2024-01-02", FunctionVersion="1",
             Description="custom-alias")  # fmt: skip
    rec.call("get_alias_date", c.get_alias, FunctionName=name, Name="2024-01-02")
    rec.call("create_alias_number_exception", c.create_alias, FunctionName=name, Name="2024", FunctionVersion="1",
             Description="custom-alias")  # fmt: skip


@scenario("TestLambdaAlias::test_non_existent_alias_deletion")
def alias_delete_missing(ctx: Ctx) -> None:
    name = _two_versions(ctx)
    ctx.rec.call("delete_alias_response", ctx.client.delete_alias, FunctionName=name, Name="non-existent")


@scenario("TestLambdaAlias::test_non_existent_alias_update")
def alias_update_missing(ctx: Ctx) -> None:
    name = _two_versions(ctx)
    ctx.rec.call("update_alias_response", ctx.client.update_alias, FunctionName=name, Name="non-existent",
                 Description="something")  # fmt: skip


# -- TestCodeSigningConfig -------------------------------------------------------------------------


def _create_csc(ctx: Ctx) -> str:
    """Upstream's config: one signing profile, Enforce; deleted after the test."""
    publisher = f"arn:aws:signer:{REGION}:{LIVE_ACCOUNT}:/signing-profiles/test"
    created = ctx.rec.call(
        "create_code_signing_config",
        ctx.client.create_code_signing_config,
        Description="Testing CodeSigning Config",
        AllowedPublishers={"SigningProfileVersionArns": [publisher]},
        CodeSigningPolicies={"UntrustedArtifactOnDeployment": "Enforce"},
    )
    arn: str = created["CodeSigningConfig"]["CodeSigningConfigArn"]
    ctx.cleanups.append(lambda: capture(ctx.client.delete_code_signing_config, CodeSigningConfigArn=arn))
    return arn


@scenario("TestCodeSigningConfig::test_function_code_signing_config")
def code_signing_lifecycle(ctx: Ctx) -> None:
    c, rec, name = ctx.client, ctx.rec, ctx.name("lambda_func")
    ctx.fixture_create(name)
    arn = _create_csc(ctx)
    rec.call("update_code_signing_config", c.update_code_signing_config, CodeSigningConfigArn=arn,
             CodeSigningPolicies={"UntrustedArtifactOnDeployment": "Warn"})  # fmt: skip
    rec.call("get_code_signing_config", c.get_code_signing_config, CodeSigningConfigArn=arn)
    rec.call("put_function_code_signing_config", c.put_function_code_signing_config, CodeSigningConfigArn=arn,
             FunctionName=name)  # fmt: skip
    rec.call("get_function_code_signing_config", c.get_function_code_signing_config, FunctionName=name)
    # Recorded is the config itself, picked out of the listing (other configs of the account are left out).
    listing = c.get_paginator("list_code_signing_configs").paginate().build_full_result()["CodeSigningConfigs"]
    rec.match("list_code_signing_configs", next(x for x in listing if x["CodeSigningConfigArn"] == arn))
    rec.call("list_functions_by_code_signing_config", c.list_functions_by_code_signing_config,
             CodeSigningConfigArn=arn)  # fmt: skip
    rec.call("delete_function_code_signing_config", c.delete_function_code_signing_config, FunctionName=name)
    rec.call("delete_code_signing_config", c.delete_code_signing_config, CodeSigningConfigArn=arn)


@scenario("TestCodeSigningConfig::test_code_signing_not_found_excs")
def code_signing_not_found(ctx: Ctx) -> None:
    c, rec, name = ctx.client, ctx.rec, ctx.name("lambda_func")
    ctx.fixture_create(name)
    arn = _create_csc(ctx)
    invalid = f"{arn[:-1]}x"
    rec.bindings.values["<csc_arn_invalid>"] = clean(invalid)
    missing = "csc-test-doesnotexist"
    rec.call("delete_csc_notfound", c.delete_code_signing_config, CodeSigningConfigArn=invalid)
    rec.call("nothing_to_delete_response", c.delete_function_code_signing_config, FunctionName=name)
    rec.call("delete_function_csc_fnnotfound", c.delete_function_code_signing_config, FunctionName=missing)
    rec.call("put_function_csc_invalid_fnname", c.put_function_code_signing_config, FunctionName=missing,
             CodeSigningConfigArn=arn)  # fmt: skip
    rec.call("put_function_csc_invalid_csc_arn", c.put_function_code_signing_config, FunctionName=name,
             CodeSigningConfigArn=invalid)  # fmt: skip
    rec.call("put_function_csc_invalid_both", c.put_function_code_signing_config, FunctionName=missing,
             CodeSigningConfigArn=invalid)  # fmt: skip
    rec.call("update_csc_invalid_csc_arn", c.update_code_signing_config, CodeSigningConfigArn=invalid,
             Description="new-description")  # fmt: skip
    rec.call("update_csc_noupdates", c.update_code_signing_config, CodeSigningConfigArn=invalid)
    rec.call("update_csc_noupdate_response", c.update_code_signing_config, CodeSigningConfigArn=arn)
    rec.call("get_csc_invalid", c.get_code_signing_config, CodeSigningConfigArn=invalid)
    rec.call("get_function_csc_fnwithoutcsc", c.get_function_code_signing_config, FunctionName=name)
    rec.call("get_function_csc_nonexistingfn", c.get_function_code_signing_config, FunctionName=missing)
    rec.call("list_functions_by_csc_fnwithoutcsc", c.list_functions_by_code_signing_config, CodeSigningConfigArn=arn)
    rec.call("list_functions_by_csc_invalid_cscarn", c.list_functions_by_code_signing_config,
             CodeSigningConfigArn=invalid)  # fmt: skip


# -- TestLambdaRecursion ------------------------------------------------------------------------------


@scenario("TestLambdaRecursion::test_put_function_recursion_config_allow")
def recursion_allow(ctx: Ctx) -> None:
    c, rec, name = ctx.client, ctx.rec, ctx.name()
    ctx.fixture_create(name)
    rec.call("put_recursion_config_response", c.put_function_recursion_config, FunctionName=name,
             RecursiveLoop="Allow")  # fmt: skip
    rec.call("get_recursion_config_response", c.get_function_recursion_config, FunctionName=name)


@scenario("TestLambdaRecursion::test_put_function_recursion_config_default_terminate")
def recursion_default(ctx: Ctx) -> None:
    name = ctx.name()
    ctx.fixture_create(name)
    ctx.rec.call("get_recursion_default_terminate_response", ctx.client.get_function_recursion_config,
                 FunctionName=name)  # fmt: skip


@scenario("TestLambdaRecursion::test_put_function_recursion_config_invalid_value")
def recursion_invalid(ctx: Ctx) -> None:
    name = ctx.name()
    ctx.fixture_create(name)
    ctx.rec.call("put_recursion_invalid_value_error", ctx.client.put_function_recursion_config, FunctionName=name,
                 RecursiveLoop="InvalidValue")  # fmt: skip


@scenario("TestLambdaFunction::test_lambda_code_location_s3_errors")
def code_location_s3_errors(ctx: Ctx) -> None:
    """The package in an S3 bucket of this Lamina; a wrong bucket or key on create and on update."""
    c, rec, name = ctx.client, ctx.rec, ctx.name()
    s3 = boto3.client("s3", endpoint_url=c.meta.endpoint_url, region_name=REGION, aws_access_key_id="test",
                      aws_secret_access_key="test")  # fmt: skip
    bucket = f"code-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="code.zip", Body=package(name))

    def remove_bucket() -> None:
        s3.delete_object(Bucket=bucket, Key="code.zip")
        s3.delete_bucket(Bucket=bucket)

    ctx.cleanups.append(remove_bucket)
    common = {"FunctionName": name, "Runtime": RUNTIME, "Role": ROLE, "Handler": "handler.handler"}
    rec.call("create-error-wrong-bucket", c.create_function, **common,
             Code={"S3Bucket": f"{bucket}-missing", "S3Key": "code.zip"})  # fmt: skip
    rec.call("create-error-wrong-key", c.create_function, **common, Code={"S3Bucket": bucket, "S3Key": "nope.zip"})
    ctx.aws_create(**common, Code={"S3Bucket": bucket, "S3Key": "code.zip"})
    rec.call("update-error-wrong-bucket", c.update_function_code, FunctionName=name, S3Bucket=f"{bucket}-missing",
             S3Key="code.zip")  # fmt: skip
    rec.call("update-error-wrong-key", c.update_function_code, FunctionName=name, S3Bucket=bucket, S3Key="nope.zip")


# -- the test -----------------------------------------------------------------------------------------


SLOW = (code_location_zipfile, concurrent_code_updates, concurrent_config_updates, publish_with_update)


def _params() -> list[Any]:
    out = []
    for test_id in SCENARIOS:
        known = known_difference(load(test_id))
        marks = [pytest.mark.xfail(strict=True, raises=KnownDifference, reason=known)] if known else []
        out.append(pytest.param(test_id, marks=marks, id=test_id))
    return out


@pytest.mark.parametrize("test_id", _params())
def test_recorded_entry(test_id: str, lambda_client: Any, request: pytest.FixtureRequest) -> None:
    """One upstream test id: replay its calls, compare every reproducible response with the recording."""
    fn = SCENARIOS[test_id]
    slow = request.getfixturevalue("slow_client") if fn in SLOW else None
    ctx = Ctx(lambda_client, slow, Replay(test_id, REGION))
    try:
        fn(ctx)
    finally:
        ctx.cleanup()
    ctx.rec.verify()
