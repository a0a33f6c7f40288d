"""S3 ACLs in authorization on a --auth sigv4 server, as AWS evaluates them in the bucket owner's account: with
ACLs enabled (ObjectWriter) a public-read object serves anonymous GETs, a bucket's READ lists it (and turns a
missing key into NoSuchKey), AuthenticatedUsers grants reach IAM users without identity policies, a grant to the
account's canonical id delegates to identity policies; IgnorePublicAcls, BucketOwnerEnforced and an explicit Deny
in the bucket policy take every ACL grant back. Unsigned requests are refused with S3's plain "Access Denied"."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.auth.conftest import Client
from tests.auth.test_resource_policies import Users

ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"
AUTHENTICATED = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"
OWNER_ID = "75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a"
ACLS_ON = {"Rules": [{"ObjectOwnership": "ObjectWriter"}]}
OPEN = {"BlockPublicAcls": False, "IgnorePublicAcls": False, "BlockPublicPolicy": False,
        "RestrictPublicBuckets": False}  # fmt: skip


def _error(call: Callable[[], Any]) -> tuple[str, str, int]:
    with pytest.raises(ClientError) as caught:
        call()
    error = caught.value.response
    return error["Error"]["Code"], error["Error"]["Message"], error["ResponseMetadata"]["HTTPStatusCode"]


def _denied_anonymously(call: Callable[[], Any]) -> None:
    assert _error(call) == ("AccessDenied", "Access Denied", 403)


@pytest.fixture
def acl_users(client: Client) -> Iterator[Users]:
    made = Users(client)
    yield made
    made.clean()


@pytest.fixture
def bucket(client: Client) -> Iterator[str]:
    s3 = client("s3")
    name = f"acl-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name)
    yield name
    s3.delete_bucket_policy(Bucket=name)
    for listed in s3.list_objects_v2(Bucket=name).get("Contents", []):
        s3.delete_object(Bucket=name, Key=listed["Key"])
    s3.delete_bucket(Bucket=name)


def _acls_on(s3: Any, bucket: str) -> None:
    s3.put_bucket_ownership_controls(Bucket=bucket, OwnershipControls=ACLS_ON)
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration=OPEN)


def test_acls_are_disabled_on_a_new_bucket(client: Client, bucket: str) -> None:
    s3, anonymous = client("s3"), client("s3", None)
    s3.put_object(Bucket=bucket, Key="doc", Body=b"kept")
    assert _error(lambda: s3.put_object_acl(Bucket=bucket, Key="doc", ACL="public-read")) == (
        "AccessControlListNotSupported", "The bucket does not allow ACLs", 400,
    )  # fmt: skip
    assert _error(lambda: s3.put_bucket_acl(Bucket=bucket, ACL="public-read"))[0] == "AccessControlListNotSupported"
    _denied_anonymously(lambda: anonymous.get_object(Bucket=bucket, Key="doc"))
    _denied_anonymously(lambda: anonymous.list_objects_v2(Bucket=bucket))
    _denied_anonymously(anonymous.list_buckets)


def test_a_public_read_object_serves_anonymous_reads(client: Client, bucket: str) -> None:
    s3, anonymous = client("s3"), client("s3", None)
    _acls_on(s3, bucket)
    s3.put_object(Bucket=bucket, Key="public", Body=b"for all", ACL="public-read")
    s3.put_object(Bucket=bucket, Key="private", Body=b"mine")
    assert anonymous.get_object(Bucket=bucket, Key="public")["Body"].read() == b"for all"
    assert anonymous.head_object(Bucket=bucket, Key="public")["ContentLength"] == 7
    unreadable = urllib.request.Request(f"{s3.meta.endpoint_url}/{bucket}/public",
                                        headers={"Authorization": "AWS AKIAROOTTESTKEY00001:bm90LWEtc2ln"})  # fmt: skip
    with pytest.raises(urllib.error.HTTPError) as refused:  # a signature it cannot read is not anonymity
        urllib.request.urlopen(unreadable)
    assert refused.value.code == 403
    _denied_anonymously(lambda: anonymous.get_object(Bucket=bucket, Key="private"))
    _denied_anonymously(lambda: anonymous.get_object(Bucket=bucket, Key="missing"))  # may not list: 403, not 404
    _denied_anonymously(lambda: anonymous.list_objects_v2(Bucket=bucket))  # the bucket's ACL is private
    _denied_anonymously(lambda: anonymous.put_object(Bucket=bucket, Key="new", Body=b"x"))
    _denied_anonymously(lambda: anonymous.get_object_acl(Bucket=bucket, Key="public"))  # READ is not READ_ACP

    s3.put_bucket_acl(Bucket=bucket, ACL="public-read")
    assert [o["Key"] for o in anonymous.list_objects_v2(Bucket=bucket)["Contents"]] == ["private", "public"]
    assert _error(lambda: anonymous.get_object(Bucket=bucket, Key="missing"))[0] == "NoSuchKey"
    _denied_anonymously(lambda: anonymous.get_object(Bucket=bucket, Key="private"))  # the bucket's READ lists only

    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration={**OPEN, "IgnorePublicAcls": True})
    _denied_anonymously(lambda: anonymous.get_object(Bucket=bucket, Key="public"))
    _denied_anonymously(lambda: anonymous.list_objects_v2(Bucket=bucket))

    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration=OPEN)
    assert anonymous.get_object(Bucket=bucket, Key="public")["Body"].read() == b"for all"
    s3.put_bucket_acl(Bucket=bucket, ACL="private")
    s3.put_bucket_ownership_controls(
        Bucket=bucket, OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    )
    _denied_anonymously(lambda: anonymous.get_object(Bucket=bucket, Key="public"))  # ACLs disabled: no grant counts
    assert s3.get_object(Bucket=bucket, Key="public")["Body"].read() == b"for all"


def test_public_read_write_lets_anyone_write(client: Client, bucket: str) -> None:
    s3, anonymous = client("s3"), client("s3", None)
    _acls_on(s3, bucket)
    s3.put_bucket_acl(Bucket=bucket, ACL="public-read-write")
    anonymous.put_object(Bucket=bucket, Key="dropped", Body=b"from anyone")
    assert s3.get_object(Bucket=bucket, Key="dropped")["Body"].read() == b"from anyone"
    _denied_anonymously(lambda: anonymous.delete_object(Bucket=bucket, Key="dropped"))  # WRITE creates objects
    _denied_anonymously(lambda: anonymous.get_object(Bucket=bucket, Key="dropped"))  # its object ACL is private
    _denied_anonymously(lambda: anonymous.put_bucket_acl(Bucket=bucket, ACL="private"))


def test_grants_reach_iam_users(client: Client, acl_users: Users, bucket: str) -> None:
    s3 = client("s3")
    _acls_on(s3, bucket)
    _, reader_arn, reader = acl_users.make()  # no identity policy at all
    s3.put_object(Bucket=bucket, Key="signed", Body=b"for signed callers", ACL="authenticated-read")
    s3.put_object(Bucket=bucket, Key="account", Body=b"for the account", GrantRead=f'id="{OWNER_ID}"')
    user = reader("s3")
    assert user.get_object(Bucket=bucket, Key="signed")["Body"].read() == b"for signed callers"
    _denied_anonymously(lambda: client("s3", None).get_object(Bucket=bucket, Key="signed"))
    code, message, status = _error(lambda: user.get_object(Bucket=bucket, Key="account"))
    assert (code, status) == ("AccessDenied", 403)  # the account's grant delegates to its identity policies
    assert message == (
        f'User: {reader_arn} is not authorized to perform: s3:GetObject on resource: "arn:aws:s3:::{bucket}/account" '
        "because no identity-based policy allows the s3:GetObject action"
    )
    assert _error(lambda: user.list_objects_v2(Bucket=bucket))[0] == "AccessDenied"
    assert _error(lambda: user.get_bucket_acl(Bucket=bucket))[0] == "AccessDenied"
    s3.put_bucket_acl(Bucket=bucket, GrantWrite=f'uri="{AUTHENTICATED}"', GrantReadACP=f'uri="{AUTHENTICATED}"',
                      GrantFullControl=f'id="{OWNER_ID}"')  # fmt: skip
    user.put_object(Bucket=bucket, Key="by-user", Body=b"written through the bucket ACL")
    assert {g["Permission"] for g in user.get_bucket_acl(Bucket=bucket)["Grants"]} == {"WRITE", "READ_ACP",
                                                                                       "FULL_CONTROL"}  # fmt: skip
    assert _error(lambda: user.delete_object(Bucket=bucket, Key="by-user"))[0] == "AccessDenied"
    assert _error(lambda: user.put_bucket_acl(Bucket=bucket, ACL="private"))[0] == "AccessDenied"  # no WRITE_ACP
    _denied_anonymously(lambda: client("s3", None).put_object(Bucket=bucket, Key="anon", Body=b"x"))
    s3.put_object_acl(Bucket=bucket, Key="signed", GrantFullControl=f'uri="{AUTHENTICATED}"')
    user.put_object_acl(Bucket=bucket, Key="signed", ACL="private")  # FULL_CONTROL holds WRITE_ACP
    assert _error(lambda: user.get_object(Bucket=bucket, Key="signed"))[0] == "AccessDenied"  # and it is gone


def test_an_explicit_deny_beats_every_acl_grant(client: Client, acl_users: Users, bucket: str) -> None:
    s3, anonymous = client("s3"), client("s3", None)
    _acls_on(s3, bucket)
    _, _, reader = acl_users.make()
    s3.put_object(Bucket=bucket, Key="doc", Body=b"open", ACL="public-read")
    assert reader("s3").get_object(Bucket=bucket, Key="doc")["Body"].read() == b"open"
    deny = {"Effect": "Deny", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*"}
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": [deny]}))
    _denied_anonymously(lambda: anonymous.get_object(Bucket=bucket, Key="doc"))
    code, message, _ = _error(lambda: reader("s3").get_object(Bucket=bucket, Key="doc"))
    assert code == "AccessDenied" and message.endswith("with an explicit deny in a resource-based policy")


def test_a_bucket_policy_for_everyone_serves_anonymous_requests(client: Client, bucket: str) -> None:
    """Without ACLs (BucketOwnerEnforced): a policy that allows `*` reaches unsigned requests, until
    RestrictPublicBuckets restricts the bucket to its account."""
    s3, anonymous = client("s3"), client("s3", None)
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration=OPEN)
    s3.put_object(Bucket=bucket, Key="site/index.html", Body=b"<h1>hi</h1>")
    allow = {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
             "Resource": f"arn:aws:s3:::{bucket}/site/*"}  # fmt: skip
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": [allow]}))
    assert anonymous.get_object(Bucket=bucket, Key="site/index.html")["Body"].read() == b"<h1>hi</h1>"
    _denied_anonymously(lambda: anonymous.list_objects_v2(Bucket=bucket))
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration={**OPEN, "RestrictPublicBuckets": True})
    _denied_anonymously(lambda: anonymous.get_object(Bucket=bucket, Key="site/index.html"))


def test_an_unsigned_post_form_needs_a_public_write_grant(client: Client, bucket: str) -> None:
    import urllib3

    s3 = client("s3")
    http = urllib3.PoolManager()

    def post(key: str) -> urllib3.BaseHTTPResponse:
        body, content_type = urllib3.encode_multipart_formdata([("key", key), ("file", ("f", b"posted"))])
        return http.request("POST", f"{s3.meta.endpoint_url}/{bucket}", body=body,
                            headers={"Content-Type": content_type})  # fmt: skip

    refused = post("first.txt")
    assert refused.status == 403 and b"<Code>AccessDenied</Code>" in refused.data
    _acls_on(s3, bucket)
    s3.put_bucket_acl(Bucket=bucket, ACL="public-read-write")
    assert post("second.txt").status == 204
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == ["second.txt"]
    assert s3.get_object(Bucket=bucket, Key="second.txt")["Body"].read() == b"posted"
