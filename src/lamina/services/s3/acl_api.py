"""S3's access-control operations on the wire: Get/PutBucketAcl, Get/PutObjectAcl, Get/Put/DeleteBucketOwnershipControls
and Get/Put/DeletePublicAccessBlock. The rules are acl.py's; these are stored settings (see there)."""

from __future__ import annotations

from typing import Any

from lamina.services.s3.acl import (
    OWNERSHIPS,
    PUBLIC_ACCESS_FIELDS,
    bucket_ownership,
    check_settable,
    owner_grant,
    public_access,
    requested,
)
from lamina.services.s3.engine import S3Engine
from lamina.services.s3.faults import S3Error, malformed_xml
from lamina.services.s3.provider import OWNER
from lamina.types import CallContext


def _missing_acl() -> S3Error:
    return S3Error("MissingSecurityHeader", "Your request was missing a required header", 400,
                   MissingHeaderName="x-amz-acl")  # fmt: skip


class AclApi:
    def __init__(self, engine: S3Engine) -> None:
        self._engine = engine

    @staticmethod
    def _policy(grants: list[dict[str, Any]] | None) -> dict[str, Any]:
        return {"Owner": dict(OWNER), "Grants": grants if grants is not None else [owner_grant(OWNER)]}

    # -- ACLs -----------------------------------------------------------------------------------
    def get_bucket_acl(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        return self._policy(self._engine.bucket(params["Bucket"]).get("acl"))

    def put_bucket_acl(self, ctx: CallContext, params: dict[str, Any]) -> None:
        bucket = self._engine.bucket(params["Bucket"])
        grants, only_owner = requested(params, OWNER)
        if grants is None:
            raise _missing_acl()
        check_settable(bucket, grants, only_owner)
        self._engine.update_bucket(params["Bucket"], acl=grants)

    def get_object_acl(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        row = self._engine.readable(params["Bucket"], params["Key"], params.get("VersionId"), "GET")
        return self._policy(row.body.get("acl"))

    async def put_object_acl(self, ctx: CallContext, params: dict[str, Any]) -> None:
        bucket = self._engine.bucket(params["Bucket"])
        row = self._engine.readable(params["Bucket"], params["Key"], params.get("VersionId"), "PUT")
        grants, only_owner = requested(params, OWNER)
        if grants is None:
            raise _missing_acl()
        check_settable(bucket, grants, only_owner)
        self._engine.update_object(params["Bucket"], row, {"acl": grants}, "ObjectAcl:Put", ctx.request_id)
        await self._engine.notifications.deliver()

    # -- Object Ownership -----------------------------------------------------------------------
    def get_bucket_ownership_controls(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        ownership = bucket_ownership(self._engine.bucket(params["Bucket"]))
        if ownership is None:
            raise S3Error("OwnershipControlsNotFoundError", "The bucket ownership controls were not found", 404,
                          BucketName=params["Bucket"])  # fmt: skip
        return {"OwnershipControls": {"Rules": [{"ObjectOwnership": ownership}]}}

    def put_bucket_ownership_controls(self, ctx: CallContext, params: dict[str, Any]) -> None:
        bucket = self._engine.bucket(params["Bucket"])
        rules = (params.get("OwnershipControls") or {}).get("Rules") or []
        if len(rules) != 1 or rules[0].get("ObjectOwnership") not in OWNERSHIPS:
            raise malformed_xml()
        ownership = rules[0]["ObjectOwnership"]
        acl = bucket.get("acl")
        if ownership == "BucketOwnerEnforced" and acl is not None and acl != [owner_grant(OWNER)]:
            raise S3Error(
                "InvalidBucketAclWithObjectOwnership",
                "Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting",
                400,
            )
        self._engine.update_bucket(params["Bucket"], ownership=ownership)

    def delete_bucket_ownership_controls(self, ctx: CallContext, params: dict[str, Any]) -> None:
        self._engine.bucket(params["Bucket"])
        self._engine.update_bucket(params["Bucket"], ownership=None)

    # -- Block Public Access --------------------------------------------------------------------
    def get_public_access_block(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        block = public_access(self._engine.bucket(params["Bucket"]))
        if block is None:
            raise S3Error("NoSuchPublicAccessBlockConfiguration", "The public access block configuration was not "
                          "found", 404, BucketName=params["Bucket"])  # fmt: skip
        return {"PublicAccessBlockConfiguration": {k: bool(block.get(k)) for k in PUBLIC_ACCESS_FIELDS}}

    def put_public_access_block(self, ctx: CallContext, params: dict[str, Any]) -> None:
        self._engine.bucket(params["Bucket"])
        config = params.get("PublicAccessBlockConfiguration")
        if config is None:
            raise malformed_xml()
        if not any(k in config for k in PUBLIC_ACCESS_FIELDS):
            raise S3Error("InvalidRequest", "Must specify at least one configuration.", 400)
        block = {k: bool(config.get(k)) for k in PUBLIC_ACCESS_FIELDS}
        self._engine.update_bucket(params["Bucket"], public_access=block)

    def delete_public_access_block(self, ctx: CallContext, params: dict[str, Any]) -> None:
        self._engine.bucket(params["Bucket"])
        self._engine.update_bucket(params["Bucket"], public_access=None)
