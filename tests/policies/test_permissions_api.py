"""AddPermission / RemovePermission / GetPolicy through boto3 against a real server, compared with the
responses recorded from AWS (TestLambdaPermissions, TestLambdaRevisions::test_function_revisions_permissions)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from tests.concurrency.test_concurrency_api import active
from tests.conformance.snapshot import Replay, capture
from tests.server import LaminaProcess

REGION = "us-east-1"
ACCOUNT = "000000000000"
S3_ARN = "arn:aws:s3:::test-bucket"
INVOKE = "lambda:InvokeFunction"


def decoded(response: Any) -> Any:
    """The recordings show `Statement` and `Policy` parsed; boto3 hands them over as JSON strings."""
    if isinstance(response, dict):
        return {
            k: json.loads(v) if k in ("Statement", "Policy") and isinstance(v, str) else v for k, v in response.items()
        }
    return response


def call(rec: Replay, name: str, method: Any, **kwargs: Any) -> Any:
    return rec.match(name, decoded(capture(method, **kwargs)))


def test_add_lambda_permission_aws(lambda_client: Any, create_function: Callable[..., Any], fn_name: str) -> None:
    rec = Replay("TestLambdaPermissions::test_add_lambda_permission_aws", REGION)
    rec.bindings.values["<function-name:1>"] = fn_name
    rec.bindings.values["<resource:3>"] = "test-bucket"
    create_function(fn_name)
    c = lambda_client
    call(rec, "add_permission", c.add_permission, FunctionName=fn_name, Action=INVOKE, StatementId="s3",
         Principal="s3.amazonaws.com", SourceArn=S3_ARN)  # fmt: skip
    call(rec, "get_policy", c.get_policy, FunctionName=fn_name)
    rec.verify()


def test_remove_multi_permissions(lambda_client: Any, create_function: Callable[..., Any], fn_name: str) -> None:
    rec = Replay("TestLambdaPermissions::test_remove_multi_permissions", REGION)
    create_function(fn_name)
    c = lambda_client
    call(rec, "add_permission_1", c.add_permission, FunctionName=fn_name, Action=INVOKE, StatementId="s3",
         Principal="s3.amazonaws.com")  # fmt: skip
    call(rec, "add_permission_2", c.add_permission, FunctionName=fn_name, Action=INVOKE, StatementId="sqs",
         Principal="sqs.amazonaws.com", SourceArn=S3_ARN)  # fmt: skip
    call(rec, "policy_after_2_add", c.get_policy, FunctionName=fn_name)
    call(rec, "remove_permission_exception_nonexisting_sid", c.remove_permission, FunctionName=fn_name,
         StatementId="non-existent")  # fmt: skip
    c.remove_permission(FunctionName=fn_name, StatementId="sqs")
    call(rec, "policy_after_removal", c.get_policy, FunctionName=fn_name)
    attempt = call(rec, "policy_after_removal_attempt", c.get_policy, FunctionName=fn_name)
    c.remove_permission(FunctionName=fn_name, StatementId="s3", RevisionId=attempt["RevisionId"])
    call(rec, "get_policy_exception_removed_all", c.get_policy, FunctionName=fn_name)
    rec.verify()


def test_create_multiple_lambda_permissions(
    lambda_client: Any, create_function: Callable[..., Any], fn_name: str
) -> None:
    rec = Replay("TestLambdaPermissions::test_create_multiple_lambda_permissions", REGION)
    create_function(fn_name)
    c = lambda_client
    call(rec, "add_permission_response_1", c.add_permission, FunctionName=fn_name, Action=INVOKE, StatementId="logs",
         Principal="logs.amazonaws.com")  # fmt: skip
    call(rec, "add_permission_response_2", c.add_permission, FunctionName=fn_name, Action=INVOKE,
         StatementId="kinesis", Principal="kinesis.amazonaws.com")  # fmt: skip
    call(rec, "policy_after_2_add", c.get_policy, FunctionName=fn_name)
    rec.verify()


def test_permission_exceptions(lamina: LaminaProcess, create_function: Callable[..., Any], fn_name: str) -> None:
    rec = Replay("TestLambdaPermissions::test_permission_exceptions", REGION)
    rec.bindings.values["<function-name>"] = fn_name
    c = lamina.client(parameter_validation=False)
    create_function(fn_name)
    add = {"Action": INVOKE, "StatementId": "s3", "Principal": "s3.amazonaws.com", "SourceArn": S3_ARN}
    call(rec, "add_permission_invalid_statement_id", c.add_permission, FunctionName=fn_name, Action=INVOKE,
         StatementId="example.com", Principal="s3.amazonaws.com")  # fmt: skip
    call(rec, "add_permission_fn_qualifier_mismatch", c.add_permission, FunctionName=f"{fn_name}:alias-not-42",
         Qualifier="42", **add)  # fmt: skip
    call(rec, "add_permission_fn_qualifier_latest", c.add_permission, FunctionName=f"{fn_name}:$LATEST",
         Qualifier="$LATEST", **add)  # fmt: skip
    call(rec, "add_permission_principal_invalid", c.add_permission, FunctionName=fn_name, Action=INVOKE,
         StatementId="lambda", Principal="invalid.nonaws.com", SourceAccount=ACCOUNT)  # fmt: skip
    call(rec, "get_policy_fn_doesnotexist", c.get_policy, FunctionName="doesnotexist")
    call(rec, "get_policy_fn_version_doesnotexist", c.get_policy, FunctionName=fn_name, Qualifier="77")
    call(rec, "add_permission_fn_doesnotexist", c.add_permission, FunctionName="doesnotexist", **add)
    call(rec, "remove_permission_policy_doesnotexist", c.remove_permission, FunctionName=fn_name, StatementId="s3")
    call(rec, "add_permission_fn_alias_doesnotexist", c.add_permission, FunctionName=f"{fn_name}:alias-doesnotexist",
         **add)  # fmt: skip
    call(rec, "add_permission_fn_version_doesnotexist", c.add_permission, FunctionName=fn_name, Qualifier="42", **add)
    call(rec, "add_permission_fn_qualifier_invalid", c.add_permission, FunctionName=fn_name,
         Qualifier="invalid-qualifier-with-?-char", **add)  # fmt: skip
    call(rec, "add_permission_fn_qualifier_valid_doesnotexist", c.add_permission, FunctionName=fn_name,
         Qualifier="valid-with-$-but-doesnotexist", **add)  # fmt: skip
    c.add_permission(FunctionName=fn_name, **add)
    call(rec, "add_permission_conflicting_statement_id", c.add_permission, FunctionName=fn_name, **add)
    call(rec, "remove_permission_fn_doesnotexist", c.remove_permission, FunctionName="doesnotexist", StatementId="s3")
    call(rec, "remove_permission_fn_alias_doesnotexist", c.remove_permission, FunctionName=fn_name, StatementId="s3",
         Qualifier="alias-doesnotexist")  # fmt: skip
    rec.verify()


def test_add_lambda_permission_fields(lambda_client: Any, create_function: Callable[..., Any], fn_name: str) -> None:
    rec = Replay("TestLambdaPermissions::test_add_lambda_permission_fields", REGION)
    user_arn = f"arn:aws:iam::{ACCOUNT}:user/someone"
    rec.bindings.values["<user_arn>"] = user_arn.replace(ACCOUNT, "111111111111")
    rec.bindings.values["<resource:2>"] = "root"
    create_function(fn_name)
    c = lambda_client
    base = {"FunctionName": fn_name, "Action": INVOKE}
    call(rec, "add_permission_principal_wildcard", c.add_permission, StatementId="wilcard", Principal="*",
         SourceAccount=ACCOUNT, **base)  # fmt: skip
    call(rec, "add_permission_principal_service", c.add_permission, StatementId="lambda",
         Principal="lambda.amazonaws.com", SourceAccount=ACCOUNT, **base)  # fmt: skip
    call(rec, "add_permission_principal_account", c.add_permission, StatementId="account-id", Principal=ACCOUNT,
         **base)  # fmt: skip
    call(rec, "add_permission_principal_arn", c.add_permission, StatementId="user-arn", Principal=user_arn,
         SourceAccount=ACCOUNT, **base)  # fmt: skip
    call(rec, "add_permission_optional_fields", c.add_permission, FunctionName=fn_name, StatementId="urlPermission",
         Action="lambda:InvokeFunctionUrl", Principal="*", SourceArn=S3_ARN, SourceAccount=ACCOUNT,
         PrincipalOrgID="o-1234567890", FunctionUrlAuthType="NONE")  # fmt: skip
    call(rec, "add_permission_alexa_skill", c.add_permission, StatementId="alexaSkill", Principal="*",
         EventSourceToken="amzn1.ask.skill.xxxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx", **base)  # fmt: skip
    rec.verify()


def test_lambda_permission_fn_versioning(lambda_client: Any, create_function: Callable[..., Any], fn_name: str) -> None:
    c = lambda_client
    create_function(fn_name)
    active(c, fn_name)
    add = {"Action": INVOKE, "StatementId": "s3", "Principal": "s3.amazonaws.com", "SourceArn": S3_ARN}
    c.add_permission(FunctionName=fn_name, **add)
    base_policy = c.get_policy(FunctionName=fn_name)
    version = c.publish_version(FunctionName=fn_name)["Version"]
    # The unqualified policy stays as it was; the new version has none of its own.
    assert c.get_policy(FunctionName=fn_name)["Policy"] == base_policy["Policy"]
    missing = capture(c.get_policy, FunctionName=fn_name, Qualifier=version)
    assert missing["Error"]["Message"] == "The resource you requested does not exist."
    c.add_permission(FunctionName=f"{fn_name}:{version}", Qualifier=version, **add)
    statement = json.loads(c.get_policy(FunctionName=fn_name, Qualifier=version)["Policy"])["Statement"][0]
    assert statement["Resource"] == f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{fn_name}:{version}"

    alias = c.create_alias(FunctionName=fn_name, Name="permission-alias", FunctionVersion=version)
    wrong = capture(c.add_permission, FunctionName=fn_name, Qualifier="permission-alias", RevisionId="wrong", **add)
    assert wrong["ResponseMetadata"]["HTTPStatusCode"] == 412
    assert wrong["Error"]["Message"] == (
        "The Revision Id provided does not match the latest Revision Id. Call the GetPolicy API to retrieve the "
        "latest Revision Id"
    )
    c.add_permission(
        FunctionName=f"{fn_name}:permission-alias", Qualifier="permission-alias", RevisionId=alias["RevisionId"], **add
    )
    alias_policy = c.get_policy(FunctionName=fn_name, Qualifier="permission-alias")
    # The alias takes the policy's revision, as AWS's GetAlias shows after AddPermission.
    assert c.get_alias(FunctionName=fn_name, Name="permission-alias")["RevisionId"] == alias_policy["RevisionId"]
    # With the policy's current revision id, a second statement goes in.
    c.add_permission(
        FunctionName=fn_name,
        **{**add, "StatementId": "s3_2"},
        RevisionId=c.get_policy(FunctionName=fn_name)["RevisionId"],
    )
    sids = [s["Sid"] for s in json.loads(c.get_policy(FunctionName=fn_name)["Policy"])["Statement"]]
    assert sids == ["s3", "s3_2"]


def test_unqualified_revision_mismatch(lambda_client: Any, create_function: Callable[..., Any], fn_name: str) -> None:
    """AWS's words for a stale RevisionId on the unqualified function (TestLambdaPermissions::
    test_lambda_permission_revisions)."""
    recorded = Replay("TestLambdaPermissions::test_lambda_permission_revisions", REGION).recorded
    c = lambda_client
    create_function(fn_name)
    add = {"FunctionName": fn_name, "Action": INVOKE, "StatementId": "s3", "Principal": "s3.amazonaws.com"}
    wrong = capture(c.add_permission, RevisionId="wrong", **add)
    assert wrong["Error"] == recorded["add_permission_revision_id_doesnotmatch"]["Error"]
    c.add_permission(**add)
    wrong = capture(c.remove_permission, FunctionName=fn_name, StatementId="s3", RevisionId="wrong")
    assert wrong["Error"] == recorded["remove_permission_fn_revision_id_doesnotmatch"]["Error"]
    # GetFunction's RevisionId after the change is accepted as the precondition.
    current = c.get_function(FunctionName=fn_name)["Configuration"]["RevisionId"]
    assert current == c.get_policy(FunctionName=fn_name)["RevisionId"]
    c.remove_permission(FunctionName=fn_name, StatementId="s3", RevisionId=current)


def test_policy_length_limit(lambda_client: Any, create_function: Callable[..., Any], fn_name: str) -> None:
    c = lambda_client
    create_function(fn_name)
    arn = "arn:aws:s3:::" + "b" * 60
    error = None
    for i in range(200):
        error = capture(c.add_permission, FunctionName=fn_name, Action=INVOKE, StatementId=f"sid-{i}",
                        Principal="s3.amazonaws.com", SourceArn=arn)  # fmt: skip
        if "Error" in error:
            break
    assert error is not None and error["Error"]["Code"] == "PolicyLengthExceededException"
    assert len(c.get_policy(FunctionName=fn_name)["Policy"]) <= 20_480


def test_policy_survives_restart_and_goes_with_the_function(
    fresh_lamina: Callable[..., LaminaProcess], fn_name: str
) -> None:
    from tests.conftest import make_zip
    from tests.server import ROLE

    server = fresh_lamina()
    c = server.client()
    c.create_function(FunctionName=fn_name, Runtime="python3.12", Role=ROLE, Handler="app.handler",
                      Code={"ZipFile": make_zip()})  # fmt: skip
    c.add_permission(FunctionName=fn_name, Action=INVOKE, StatementId="s3", Principal="s3.amazonaws.com")
    policy = c.get_policy(FunctionName=fn_name)
    server.stop()
    server = fresh_lamina(data_dir=server.data_dir)
    c = server.client()
    assert c.get_policy(FunctionName=fn_name) | {"ResponseMetadata": None} == policy | {"ResponseMetadata": None}
    c.delete_function(FunctionName=fn_name)
    c.create_function(FunctionName=fn_name, Runtime="python3.12", Role=ROLE, Handler="app.handler",
                      Code={"ZipFile": make_zip()})  # fmt: skip
    assert capture(c.get_policy, FunctionName=fn_name)["Error"]["Code"] == "ResourceNotFoundException"
