"""AWS::S3::Bucket's CorsConfiguration and BucketEncryption in CloudFormation's shape → S3's PutBucketCors and
PutBucketEncryption parameters (CorsRules' Id/ExposedHeaders/MaxAge are S3's ID/ExposeHeaders/MaxAgeSeconds)."""

from __future__ import annotations

from typing import Any

_CORS_MEMBERS = {
    "Id": "ID",
    "AllowedHeaders": "AllowedHeaders",
    "AllowedMethods": "AllowedMethods",
    "AllowedOrigins": "AllowedOrigins",
    "ExposedHeaders": "ExposeHeaders",
    "MaxAge": "MaxAgeSeconds",
}


def cors(bucket: str, config: dict[str, Any]) -> dict[str, Any]:
    rules = []
    for rule in config.get("CorsRules") or []:
        out = {_CORS_MEMBERS[k]: v for k, v in rule.items() if k in _CORS_MEMBERS}
        if "MaxAgeSeconds" in out:
            out["MaxAgeSeconds"] = int(out["MaxAgeSeconds"])
        rules.append(out)
    return {"Bucket": bucket, "CORSConfiguration": {"CORSRules": rules}}


def encryption(bucket: str, config: dict[str, Any]) -> dict[str, Any]:
    rules = []
    for rule in config.get("ServerSideEncryptionConfiguration") or []:
        out: dict[str, Any] = {}
        default = rule.get("ServerSideEncryptionByDefault")
        if default is not None:
            out["ApplyServerSideEncryptionByDefault"] = dict(default)
        if rule.get("BucketKeyEnabled") is not None:
            out["BucketKeyEnabled"] = str(rule["BucketKeyEnabled"]).lower() == "true"
        rules.append(out)
    return {"Bucket": bucket, "ServerSideEncryptionConfiguration": {"Rules": rules}}
