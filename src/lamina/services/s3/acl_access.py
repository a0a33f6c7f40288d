"""S3 ACLs in authorization (`--auth sigv4`), as AWS evaluates them for a bucket of the caller's own account.

- A bucket whose Object Ownership is BucketOwnerEnforced (AWS's default) has ACLs disabled: its ACLs and its
  objects' ACLs grant nothing; policies alone decide.
- Otherwise a grant allows the actions its permission maps to ("Mapping of ACL permissions and access policy
  permissions"): on the bucket READ → s3:ListBucket/ListBucketVersions/ListBucketMultipartUploads, WRITE →
  s3:PutObject (new objects; every part of a multipart upload), READ_ACP → s3:GetBucketAcl, WRITE_ACP →
  s3:PutBucketAcl; on an object READ → s3:GetObject (HeadObject too), READ_ACP → s3:GetObjectAcl, WRITE_ACP →
  s3:PutObjectAcl; FULL_CONTROL → all of them. Bucket and object ACLs are independent (a bucket's READ lists
  keys, it does not read them); a missing object is judged by the bucket's READ, so a caller who may list the
  bucket learns NoSuchKey as on AWS.
- Grantees: the AllUsers group (anyone, anonymous requests included), AuthenticatedUsers (any signed request).
  A CanonicalUser (or e-mail) grantee is an AWS account: a grant to Lamina's one account gives its IAM users
  nothing by themselves, as an account principal in a bucket policy does not (the account delegates to its
  identity policies); its root needs no grant.
- Block Public Access: IgnorePublicAcls makes the two groups' grants count for nothing; RestrictPublicBuckets
  keeps a bucket policy's Allow from reaching anonymous callers (a policy that allows anonymous access is public).

ACLs only ever allow: an explicit Deny in any policy still denies, and the authorizer asks here only when no
policy allowed (auth/authorizer.py), so a request its policies allow reads no ACL.
"""

from __future__ import annotations

import json
from typing import Any

from lamina.auth.policy_evaluation import Context, Decision, Principal, evaluate_resource_policy
from lamina.services.s3.acl import ALL_USERS, AUTHENTICATED_USERS, bucket_ownership, public_access
from lamina.services.s3.engine import S3Engine
from lamina.services.s3.faults import S3Error
from lamina.store.s3_sqlite import VersionRow

_ARN = "arn:aws:s3:::"
BUCKET_PERMISSIONS = {
    "s3:ListBucket": "READ",
    "s3:ListBucketVersions": "READ",
    "s3:ListBucketMultipartUploads": "READ",
    "s3:PutObject": "WRITE",
    "s3:GetBucketAcl": "READ_ACP",
    "s3:PutBucketAcl": "WRITE_ACP",
}
OBJECT_PERMISSIONS = {"s3:GetObject": "READ", "s3:GetObjectAcl": "READ_ACP", "s3:PutObjectAcl": "WRITE_ACP"}


def granted(grants: list[dict[str, Any]], permission: str, anonymous: bool, ignore_public: bool) -> bool:
    """Whether an ACL's grants give `permission` to a caller (anonymous or signed) outside the owner account."""
    if ignore_public:
        return False  # the only grantees that name such a caller are the two public groups
    for grant in grants:
        if grant.get("Permission") not in (permission, "FULL_CONTROL"):
            continue
        uri = grant.get("Grantee", {}).get("URI")
        if uri == ALL_USERS or (uri == AUTHENTICATED_USERS and not anonymous):
            return True
    return False


class S3Access:
    """The authorizer's S3 hooks: `acl_allows` for signed callers, `anonymous` for unsigned requests."""

    def __init__(self, engine: S3Engine) -> None:
        self._engine = engine

    def _bucket(self, resource: str) -> tuple[str, str, dict[str, Any]] | None:
        if not resource.startswith(_ARN):
            return None
        name, _, key = resource[len(_ARN) :].partition("/")
        try:
            return name, key, self._engine.bucket(name)
        except S3Error:  # no such bucket: nothing grants (the operation answers NoSuchBucket if allowed)
            return None

    def acl_allows(self, anonymous: bool, action: str, resource: str, version_id: str | None) -> bool:
        """Whether the bucket's or the object's ACL grants `action` on `resource` (an S3 ARN)."""
        found = self._bucket(resource)
        if found is None:
            return False
        name, key, bucket = found
        if bucket_ownership(bucket) == "BucketOwnerEnforced":
            return False
        ignore_public = bool((public_access(bucket) or {}).get("IgnorePublicAcls"))
        if key and action in OBJECT_PERMISSIONS:
            row = self._version(name, key, version_id)
            if row is None:
                return granted(bucket.get("acl") or [], "READ", anonymous, ignore_public)
            return granted(row.body.get("acl") or [], OBJECT_PERMISSIONS[action], anonymous, ignore_public)
        permission = BUCKET_PERMISSIONS.get(action)
        return permission is not None and granted(bucket.get("acl") or [], permission, anonymous, ignore_public)

    def _version(self, name: str, key: str, version_id: str | None) -> VersionRow | None:
        store = self._engine.store
        row = store.latest(name, key) if version_id is None else store.version(name, key, version_id)
        return None if row is None or row.body.get("delete_marker") else row

    def anonymous(self, action: str, resource: str, version_id: str | None, context: Context) -> Decision:
        """An unsigned request's decision: the bucket policy's statements for `*` (a Deny always counts, an Allow
        unless RestrictPublicBuckets), then the ACLs' public grants."""
        found = self._bucket(resource)
        if found is None:
            return Decision.IMPLICIT_DENY
        _, _, bucket = found
        policy = bucket.get("policy")
        if policy:
            try:
                document = json.loads(policy)
            except ValueError:
                document = None
            if isinstance(document, dict):
                decision, _ = evaluate_resource_policy(document, Principal(), action, resource, context)
                if decision is Decision.EXPLICIT_DENY:
                    return decision
                if decision is Decision.ALLOW and not (public_access(bucket) or {}).get("RestrictPublicBuckets"):
                    return decision
        return Decision.ALLOW if self.acl_allows(True, action, resource, version_id) else Decision.IMPLICIT_DENY
