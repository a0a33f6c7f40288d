"""`ResourcePolicy.allows`: how triggers and function URLs will judge a caller against a function's policy."""

from __future__ import annotations

import pytest

from lamina.errors import InvalidParameter
from lamina.functions.policy import ResourcePolicy, build_statement, principal_element

FN = "arn:aws:lambda:us-east-1:000000000000:function:f"


def policy(*statements: dict[str, str], resource: str = FN) -> ResourcePolicy:
    base = {"Action": "lambda:InvokeFunction"}
    return ResourcePolicy(
        [build_statement(resource, {**base, "StatementId": f"s{i}", **s}) for i, s in enumerate(statements)]
    )


def test_principal_elements() -> None:
    assert principal_element("*") == "*"
    assert principal_element("s3.amazonaws.com") == {"Service": "s3.amazonaws.com"}
    assert principal_element("111122223333") == {"AWS": "arn:aws:iam::111122223333:root"}
    assert principal_element("arn:aws:iam::111122223333:role/r") == {"AWS": "arn:aws:iam::111122223333:role/r"}
    with pytest.raises(InvalidParameter):
        principal_element("invalid.nonaws.com")


def test_service_with_source_arn_and_account() -> None:
    p = policy({"Principal": "s3.amazonaws.com", "SourceArn": "arn:aws:s3:::bucket-*", "SourceAccount": "111122223333"})
    assert p.allows("s3.amazonaws.com", source_arn="arn:aws:s3:::bucket-1", source_account="111122223333")
    assert not p.allows("s3.amazonaws.com", source_arn="arn:aws:s3:::other", source_account="111122223333")
    assert not p.allows("s3.amazonaws.com", source_arn="arn:aws:s3:::bucket-1", source_account="999999999999")
    assert not p.allows("s3.amazonaws.com", source_account="111122223333")  # a missing key fails the condition
    assert not p.allows("sns.amazonaws.com", source_arn="arn:aws:s3:::bucket-1", source_account="111122223333")


def test_action_must_match() -> None:
    p = policy({"Principal": "events.amazonaws.com"})
    assert p.allows("events.amazonaws.com", "lambda:InvokeFunction")
    assert not p.allows("events.amazonaws.com", "lambda:GetFunction")
    wildcard = policy({"Principal": "events.amazonaws.com", "Action": "lambda:*"})
    assert wildcard.allows("events.amazonaws.com", "lambda:GetFunction")


def test_account_principal_covers_its_identities() -> None:
    p = policy({"Principal": "111122223333"})
    assert p.allows("111122223333")
    assert p.allows("arn:aws:iam::111122223333:role/caller")
    assert not p.allows("arn:aws:iam::999999999999:role/caller")
    exact = policy({"Principal": "arn:aws:iam::111122223333:user/u"})
    assert exact.allows("arn:aws:iam::111122223333:user/u")
    assert not exact.allows("arn:aws:iam::111122223333:user/other")


def test_function_url_auth_type_and_org() -> None:
    p = policy({"Principal": "*", "Action": "lambda:InvokeFunctionUrl", "FunctionUrlAuthType": "NONE"})
    assert p.allows("anyone", "lambda:InvokeFunctionUrl", function_url_auth_type="NONE")
    assert not p.allows("anyone", "lambda:InvokeFunctionUrl", function_url_auth_type="AWS_IAM")
    assert not p.allows("anyone", "lambda:InvokeFunction", function_url_auth_type="NONE")
    org = policy({"Principal": "*", "PrincipalOrgID": "o-123"})
    assert org.allows("arn:aws:iam::111122223333:root", principal_org_id="o-123")
    assert not org.allows("arn:aws:iam::111122223333:root", principal_org_id="o-456")


def test_qualifier_scopes_statements() -> None:
    unqualified = policy({"Principal": "s3.amazonaws.com"})
    assert unqualified.allows("s3.amazonaws.com")
    assert unqualified.allows("s3.amazonaws.com", qualifier="$LATEST")
    assert not unqualified.allows("s3.amazonaws.com", qualifier="live")
    alias = policy({"Principal": "s3.amazonaws.com"}, resource=f"{FN}:live")
    assert alias.allows("s3.amazonaws.com", qualifier="live")
    assert not alias.allows("s3.amazonaws.com", qualifier="1")
    assert not alias.allows("s3.amazonaws.com")


def test_empty_policy_allows_nothing() -> None:
    assert not ResourcePolicy().allows("*")


def test_document_shape() -> None:
    p = policy({"Principal": "s3.amazonaws.com", "SourceArn": "arn:aws:s3:::b", "SourceAccount": "111122223333"})
    doc = p.document()
    assert doc["Version"] == "2012-10-17" and doc["Id"] == "default"
    assert doc["Statement"][0]["Condition"] == {
        "StringEquals": {"AWS:SourceAccount": "111122223333"},
        "ArnLike": {"AWS:SourceArn": "arn:aws:s3:::b"},
    }
