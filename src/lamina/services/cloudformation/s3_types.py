"""AWS::S3::Bucket and AWS::S3::BucketPolicy, provisioned through Lamina's S3 operations (CreateBucket,
Put/DeleteBucketOwnershipControls, Put/DeletePublicAccessBlock, PutBucketAcl, Put/DeleteBucketLifecycle(Configuration),
PutBucketVersioning, Put/DeleteBucketTagging, PutBucketNotificationConfiguration, PutBucketPolicy). A property
removed by an update puts S3's default back, as CloudFormation does."""

from __future__ import annotations

import json
from typing import Any

from lamina.errors import LaminaError
from lamina.services.cloudformation.resource_types import (
    Call,
    Made,
    ProvisionFailed,
    _changed,
    generated_name,
    quietly,
)
from lamina.services.cloudformation.s3_cors_encryption import cors, encryption
from lamina.services.cloudformation.s3_lifecycle import lifecycle

# Bucket properties Lamina's S3 has no behaviour for: accepted (a template that sets them deploys), not applied.
_ACCEPTED = (
    "WebsiteConfiguration",
    "LoggingConfiguration",
    "ObjectLockEnabled",
    "IntelligentTieringConfigurations",
    "MetricsConfigurations",
    "InventoryConfigurations",
    "AnalyticsConfigurations",
    "AccelerateConfiguration",
    "ReplicationConfiguration",
)


# CloudFormation's AccessControl → the canned ACL S3 takes.
CANNED_ACLS = {
    "AuthenticatedRead": "authenticated-read",
    "AwsExecRead": "aws-exec-read",
    "BucketOwnerFullControl": "bucket-owner-full-control",
    "BucketOwnerRead": "bucket-owner-read",
    "LogDeliveryWrite": "log-delivery-write",
    "Private": "private",
    "PublicRead": "public-read",
    "PublicReadWrite": "public-read-write",
}
_OWNER_ONLY = ("private", "bucket-owner-full-control")  # what a bucket with ACLs disabled still takes


def canned_acl(props: dict[str, Any]) -> str:
    """The canned ACL AccessControl names (`private`, S3's default, when it is not given)."""
    given = props.get("AccessControl")
    if given is None:
        return "private"
    if given not in CANNED_ACLS:
        raise ProvisionFailed(
            "Properties validation failed for resource: #/AccessControl: failed validation constraint for keyword "
            "[enum]"
        )
    return CANNED_ACLS[given]


def public_access_block(props: dict[str, Any]) -> dict[str, bool]:
    given = props.get("PublicAccessBlockConfiguration") or {}
    return {k: v is True or str(v).lower() == "true" for k, v in given.items()}


def _filter(config: dict[str, Any]) -> dict[str, Any]:
    rules = ((config.get("Filter") or {}).get("S3Key") or {}).get("Rules") or []
    if not rules:
        return {}
    return {"Filter": {"Key": {"FilterRules": [{"Name": r["Name"], "Value": r["Value"]} for r in rules]}}}


def notification(props: dict[str, Any]) -> dict[str, Any]:
    """CloudFormation's NotificationConfiguration as PutBucketNotificationConfiguration takes it."""
    given = props.get("NotificationConfiguration") or {}
    out: dict[str, Any] = {}
    for cfn_key, api_key, target, arn_key in (
        ("LambdaConfigurations", "LambdaFunctionConfigurations", "Function", "LambdaFunctionArn"),
        ("QueueConfigurations", "QueueConfigurations", "Queue", "QueueArn"),
        ("TopicConfigurations", "TopicConfigurations", "Topic", "TopicArn"),
    ):
        entries = given.get(cfn_key) or []
        if entries:
            out[api_key] = [{arn_key: e[target], "Events": [e["Event"]], **_filter(e)} for e in entries]
    if (given.get("EventBridgeConfiguration") or {}).get("EventBridgeEnabled") in (True, "true"):
        out["EventBridgeConfiguration"] = {}
    return out


class Bucket:
    """`Ref` the bucket's name (generated lower-case as AWS does when BucketName is not given); GetAtt Arn,
    DomainName, RegionalDomainName, DualStackDomainName, WebsiteURL."""

    GETATT = ("Arn", "DomainName", "RegionalDomainName", "DualStackDomainName", "WebsiteURL")

    def __init__(self, region: str) -> None:
        self._region = region

    def _name(self, stack: str, logical: str, props: dict[str, Any]) -> str:
        if props.get("BucketName"):
            return str(props["BucketName"])
        return generated_name(stack, logical, 64).lower()[:-1]  # AWS's tail for buckets is 12 characters

    def _attributes(self, name: str) -> dict[str, Any]:
        region = self._region
        return {
            "Arn": f"arn:aws:s3:::{name}",
            "DomainName": f"{name}.s3.amazonaws.com",
            "RegionalDomainName": f"{name}.s3.{region}.amazonaws.com",
            "DualStackDomainName": f"{name}.s3.dualstack.{region}.amazonaws.com",
            "WebsiteURL": f"http://{name}.s3-website-{region}.amazonaws.com",
        }

    async def create(self, call: Call, stack: str, logical: str, props: dict[str, Any]) -> Made:
        name = self._name(stack, logical, props)
        params: dict[str, Any] = {"Bucket": name}
        if self._region != "us-east-1":
            params["CreateBucketConfiguration"] = {"LocationConstraint": self._region}
        await call("s3", "CreateBucket", params)
        made = Made(name, self._attributes(name))
        try:
            await self._configure(call, name, {}, props)
        except LaminaError:
            await self.delete(call, made)
            raise
        return made

    async def _configure(self, call: Call, name: str, old: dict[str, Any], new: dict[str, Any]) -> None:
        # An ACL that ownership or Block Public Access would refuse goes on after they change; one they take
        # goes on first, before they tighten.
        acl_changed = old.get("AccessControl") != new.get("AccessControl")
        acl = canned_acl(new) if acl_changed else ""
        if acl in _OWNER_ONLY:
            await call("s3", "PutBucketAcl", {"Bucket": name, "ACL": acl})
        if old.get("OwnershipControls") != new.get("OwnershipControls"):
            if new.get("OwnershipControls"):
                controls = {"Bucket": name, "OwnershipControls": new["OwnershipControls"]}
                await call("s3", "PutBucketOwnershipControls", controls)
            else:
                await call("s3", "DeleteBucketOwnershipControls", {"Bucket": name})
        if old.get("PublicAccessBlockConfiguration") != new.get("PublicAccessBlockConfiguration"):
            if new.get("PublicAccessBlockConfiguration") is not None:
                block = {"Bucket": name, "PublicAccessBlockConfiguration": public_access_block(new)}
                await call("s3", "PutPublicAccessBlock", block)
            else:
                await call("s3", "DeletePublicAccessBlock", {"Bucket": name})
        if acl and acl not in _OWNER_ONLY:
            await call("s3", "PutBucketAcl", {"Bucket": name, "ACL": acl})
        if old.get("LifecycleConfiguration") != new.get("LifecycleConfiguration"):
            if new.get("LifecycleConfiguration"):
                await call("s3", "PutBucketLifecycleConfiguration", lifecycle(name, new["LifecycleConfiguration"]))
            else:
                await call("s3", "DeleteBucketLifecycle", {"Bucket": name})
        if old.get("CorsConfiguration") != new.get("CorsConfiguration"):
            if new.get("CorsConfiguration"):
                await call("s3", "PutBucketCors", cors(name, new["CorsConfiguration"]))
            else:
                await call("s3", "DeleteBucketCors", {"Bucket": name})
        if old.get("BucketEncryption") != new.get("BucketEncryption"):
            if new.get("BucketEncryption"):
                await call("s3", "PutBucketEncryption", encryption(name, new["BucketEncryption"]))
            else:
                await call("s3", "DeleteBucketEncryption", {"Bucket": name})
        if old.get("VersioningConfiguration") != new.get("VersioningConfiguration"):
            status = (new.get("VersioningConfiguration") or {}).get("Status") or "Suspended"
            if new.get("VersioningConfiguration") or old:
                config = {"Bucket": name, "VersioningConfiguration": {"Status": status}}
                await call("s3", "PutBucketVersioning", config)
        if old.get("Tags") != new.get("Tags"):
            if new.get("Tags"):
                tags = [{"Key": t["Key"], "Value": str(t["Value"])} for t in new["Tags"]]
                await call("s3", "PutBucketTagging", {"Bucket": name, "Tagging": {"TagSet": tags}})
            else:
                await call("s3", "DeleteBucketTagging", {"Bucket": name})
        if old.get("NotificationConfiguration") != new.get("NotificationConfiguration"):
            params = {"Bucket": name, "NotificationConfiguration": notification(new)}
            await call("s3", "PutBucketNotificationConfiguration", params)

    async def delete(self, call: Call, made: Made) -> None:
        await quietly(call, "s3", "DeleteBucket", {"Bucket": made.physical_id})  # BucketNotEmpty fails, as on AWS

    async def find(self, call: Call, stack: str, logical: str, props: dict[str, Any]) -> Made | None:
        if props.get("BucketName"):
            return None
        name = self._name(stack, logical, props)
        try:
            await call("s3", "HeadBucket", {"Bucket": name})
        except LaminaError:
            return None
        return Made(name, self._attributes(name))

    async def update(self, call: Call, made: Made, old: dict[str, Any], new: dict[str, Any]) -> Made | None:
        if _changed(old, new, "BucketName", "ObjectLockEnabled"):
            return None
        await self._configure(call, made.physical_id, old, new)
        return made


class BucketPolicy:
    """`Ref` the bucket's name, as AWS gives it."""

    GETATT = ()

    async def create(self, call: Call, stack: str, logical: str, props: dict[str, Any]) -> Made:
        bucket = str(props["Bucket"])
        document = props["PolicyDocument"]
        policy = document if isinstance(document, str) else json.dumps(document)
        await call("s3", "PutBucketPolicy", {"Bucket": bucket, "Policy": policy})
        return Made(bucket, {})

    async def delete(self, call: Call, made: Made) -> None:
        await quietly(call, "s3", "DeleteBucketPolicy", {"Bucket": made.physical_id})

    async def update(self, call: Call, made: Made, old: dict[str, Any], new: dict[str, Any]) -> Made | None:
        if _changed(old, new, "Bucket"):
            return None
        return await self.create(call, "", "", new)
