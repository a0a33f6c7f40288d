"""S3 access control as stored settings: ACLs (canned or granted), Object Ownership and Block Public Access.

What AWS does today, and so Lamina: a new bucket has ObjectOwnership BucketOwnerEnforced (ACLs disabled: only
`private`/`bucket-owner-full-control` or their XML equivalent may be set, anything else is
AccessControlListNotSupported; reading ACLs still works) and all four Block Public Access settings on (a public
ACL is refused). Under --auth sigv4 the grants allow access as AWS evaluates them (acl_access.py).
"""

from __future__ import annotations

import re
from typing import Any

from lamina.services.s3.faults import S3Error, invalid_argument, malformed_xml

ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"
AUTHENTICATED_USERS = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"
LOG_DELIVERY = "http://acs.amazonaws.com/groups/s3/LogDelivery"
PUBLIC_GROUPS = (ALL_USERS, AUTHENTICATED_USERS)
OWNERSHIPS = ("BucketOwnerEnforced", "BucketOwnerPreferred", "ObjectWriter")
DEFAULT_OWNERSHIP = "BucketOwnerEnforced"
PUBLIC_ACCESS_FIELDS = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")
DEFAULT_PUBLIC_ACCESS = dict.fromkeys(PUBLIC_ACCESS_FIELDS, True)
OWNER_ONLY = ("private", "bucket-owner-full-control")  # the canned ACLs BucketOwnerEnforced accepts
# Grant headers (x-amz-grant-*) → the permission each gives.
GRANT_MEMBERS = {"GrantFullControl": "FULL_CONTROL", "GrantRead": "READ", "GrantReadACP": "READ_ACP",
                 "GrantWrite": "WRITE", "GrantWriteACP": "WRITE_ACP"}  # fmt: skip
PERMISSIONS = ("FULL_CONTROL", "WRITE", "WRITE_ACP", "READ", "READ_ACP")
_GRANTEE = re.compile(r'\s*(id|uri|emailAddress)\s*=\s*"?([^",]*)"?\s*(?:,|$)')


def _group(uri: str, permission: str) -> dict[str, Any]:
    return {"Grantee": {"Type": "Group", "URI": uri}, "Permission": permission}


def owner_grant(owner: dict[str, str]) -> dict[str, Any]:
    return {"Grantee": {**owner, "Type": "CanonicalUser"}, "Permission": "FULL_CONTROL"}


def canned(name: str, owner: dict[str, str]) -> list[dict[str, Any]]:
    """The grants a canned ACL stands for (the owner is also the bucket's owner: one account)."""
    extra = {
        "private": [],
        "bucket-owner-read": [],
        "bucket-owner-full-control": [],
        "aws-exec-read": [],
        "public-read": [_group(ALL_USERS, "READ")],
        "public-read-write": [_group(ALL_USERS, "READ"), _group(ALL_USERS, "WRITE")],
        "authenticated-read": [_group(AUTHENTICATED_USERS, "READ")],
        "log-delivery-write": [_group(LOG_DELIVERY, "WRITE"), _group(LOG_DELIVERY, "READ_ACP")],
    }.get(name)
    if extra is None:
        raise invalid_argument("", "x-amz-acl", name)
    return [owner_grant(owner), *extra]


def _header_grants(params: dict[str, Any]) -> list[dict[str, Any]]:
    grants: list[dict[str, Any]] = []
    for member, permission in GRANT_MEMBERS.items():
        text = params.get(member)
        if not text:
            continue
        position = 0
        while position < len(text):
            m = _GRANTEE.match(text, position)
            if m is None or m.end() == position:
                raise invalid_argument("Invalid id", member, text)
            kind, value = m.group(1), m.group(2).strip()
            position = m.end()
            if kind == "id":
                grantee = {"ID": value, "Type": "CanonicalUser"}
            elif kind == "uri":
                grantee = {"URI": value, "Type": "Group"}
            else:
                grantee = {"EmailAddress": value, "Type": "AmazonCustomerByEmail"}
            grants.append({"Grantee": grantee, "Permission": permission})
    return grants


def _policy_grants(policy: dict[str, Any]) -> list[dict[str, Any]]:
    grants = []
    for grant in policy.get("Grants") or []:
        grantee, permission = grant.get("Grantee"), grant.get("Permission")
        if not grantee or permission not in PERMISSIONS or grantee.get("Type") not in (
            "CanonicalUser", "Group", "AmazonCustomerByEmail"
        ):  # fmt: skip
            raise malformed_xml()
        grants.append({"Grantee": {k: v for k, v in grantee.items() if v is not None}, "Permission": permission})
    return grants


def requested(params: dict[str, Any], owner: dict[str, str], body_allowed: bool = True) -> tuple[
    list[dict[str, Any]] | None, bool
]:  # fmt: skip
    """(the grants a request sets, None when it sets none; whether they are only the owner's full control)."""
    canned_name = params.get("ACL")
    headers = _header_grants(params)
    policy = params.get("AccessControlPolicy") if body_allowed else None
    given = [x for x in (canned_name, headers or None, policy) if x]
    if not given:
        return None, True
    if len(given) > 1:
        raise S3Error("InvalidRequest", "Specifying both Canned ACLs and Header Grants is not allowed", 400)
    if canned_name:
        return canned(canned_name, owner), canned_name in OWNER_ONLY
    if headers:
        return headers, False
    assert policy is not None
    grants = _policy_grants(policy)
    only_owner = all(
        g["Permission"] == "FULL_CONTROL" and g["Grantee"].get("ID") == owner["ID"] for g in grants
    ) and bool(grants)
    return grants, only_owner


def is_public(grants: list[dict[str, Any]]) -> bool:
    return any(g["Grantee"].get("URI") in PUBLIC_GROUPS for g in grants)


def acl_not_supported() -> S3Error:
    return S3Error("AccessControlListNotSupported", "The bucket does not allow ACLs", 400)


def access_denied() -> S3Error:
    return S3Error("AccessDenied", "Access Denied", 403)


def check_settable(bucket: dict[str, Any], grants: list[dict[str, Any]], only_owner: bool) -> None:
    """Raises what AWS answers when a bucket's settings refuse these grants."""
    if bucket_ownership(bucket) == "BucketOwnerEnforced" and not only_owner:
        raise acl_not_supported()
    block = public_access(bucket) or {}
    if block.get("BlockPublicAcls") and is_public(grants):
        raise access_denied()


def bucket_ownership(bucket: dict[str, Any]) -> str | None:
    """The bucket's ObjectOwnership (None once its controls were deleted: ACLs then work as ObjectWriter's)."""
    if "ownership" not in bucket:
        return DEFAULT_OWNERSHIP  # a bucket stored before Lamina kept the setting: AWS's default for it
    value: str | None = bucket["ownership"]
    return value


def public_access(bucket: dict[str, Any]) -> dict[str, bool] | None:
    """The bucket's Block Public Access settings (None once deleted)."""
    if "public_access" not in bucket:
        return dict(DEFAULT_PUBLIC_ACCESS)  # stored before Lamina kept the setting: AWS's default for it
    value: dict[str, bool] | None = bucket["public_access"]
    return value


def check_create(params: dict[str, Any], owner: dict[str, str]) -> tuple[str, list[dict[str, Any]] | None]:
    """CreateBucket's ObjectOwnership and ACL, refused as AWS refuses them on a new bucket (whose Block Public
    Access is all on)."""
    ownership = params.get("ObjectOwnership") or DEFAULT_OWNERSHIP
    if ownership not in OWNERSHIPS:
        raise invalid_argument("Invalid x-amz-object-ownership header", "x-amz-object-ownership", ownership)
    grants, only_owner = requested(params, owner, body_allowed=False)
    if grants is not None and ownership == "BucketOwnerEnforced" and not only_owner:
        raise S3Error(
            "InvalidBucketAclWithObjectOwnership",
            "Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting",
            400,
        )
    if grants is not None and is_public(grants):
        raise S3Error(
            "InvalidBucketAclWithBlockPublicAccessError",
            "Bucket cannot have public ACLs set with BlockPublicAccess enabled",
            400,
        )
    return ownership, grants
