"""Default bucket encryption: every bucket answers SSE-S3 (AES256) unless PutBucketEncryption set another rule;
objects record the encryption they were written with (aws:kms is recorded and reported, not performed)."""

from __future__ import annotations

from typing import Any

from lamina.services.s3.faults import S3Error, malformed_xml

ALGORITHMS = ("AES256", "aws:kms", "aws:kms:dsse")
DEFAULT_RULE: dict[str, Any] = {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"},
                                "BucketKeyEnabled": False}  # fmt: skip


def check(config: dict[str, Any] | None) -> list[dict[str, Any]]:
    rules = (config or {}).get("Rules")
    if not rules or len(rules) != 1:
        raise malformed_xml()
    out = []
    for rule in rules:
        default = rule.get("ApplyServerSideEncryptionByDefault")
        if default is None or default.get("SSEAlgorithm") not in ALGORITHMS:
            raise malformed_xml()
        if default.get("KMSMasterKeyID") and default["SSEAlgorithm"] == "AES256":
            raise S3Error(
                "InvalidArgument",
                "a KMSMasterKeyID is not applicable if the default sse algorithm is not aws:kms or aws:kms:dsse",
                400,
                ArgumentName="ApplyServerSideEncryptionByDefault",
            )
        kept = {k: v for k, v in default.items() if v is not None}
        out.append({"ApplyServerSideEncryptionByDefault": kept, "BucketKeyEnabled": bool(rule.get("BucketKeyEnabled"))})
    return out


def rules_of(bucket: dict[str, Any]) -> list[dict[str, Any]]:
    return bucket.get("encryption") or [DEFAULT_RULE]


def for_object(bucket: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    """The encryption a new object gets: the request's x-amz-server-side-encryption headers, else the bucket's."""
    algorithm = params.get("ServerSideEncryption")
    if algorithm is not None:
        out: dict[str, Any] = {"ServerSideEncryption": algorithm}
        if algorithm != "AES256":
            out["SSEKMSKeyId"] = params.get("SSEKMSKeyId") or None
            out["BucketKeyEnabled"] = bool(params.get("BucketKeyEnabled"))
        return {k: v for k, v in out.items() if v is not None}
    rule = rules_of(bucket)[0]
    default = rule["ApplyServerSideEncryptionByDefault"]
    out = {"ServerSideEncryption": default["SSEAlgorithm"]}
    if default["SSEAlgorithm"] != "AES256":
        if default.get("KMSMasterKeyID"):
            out["SSEKMSKeyId"] = default["KMSMasterKeyID"]
        out["BucketKeyEnabled"] = bool(rule.get("BucketKeyEnabled"))
    return out


def members(doc: dict[str, Any]) -> dict[str, Any]:
    """The output members an object's encryption shows (objects from before this was recorded: AES256)."""
    found = dict(doc.get("encryption") or {"ServerSideEncryption": "AES256"})
    if not found.get("BucketKeyEnabled"):
        found.pop("BucketKeyEnabled", None)
    return found
