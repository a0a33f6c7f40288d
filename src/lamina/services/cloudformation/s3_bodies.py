"""An OpenAPI body kept in S3 (AWS::ApiGateway::RestApi / AWS::ApiGatewayV2::Api BodyS3Location, what SAM's
DefinitionUri and `aws cloudformation package` make), read through S3's own GetObject as the API types' other
calls are made, and parsed as JSON or YAML (CloudFormation's short-form tags too)."""

from __future__ import annotations

from typing import Any

from lamina.errors import LaminaError
from lamina.services.cloudformation.resource_types import Call, ProvisionFailed
from lamina.services.cloudformation.template import parse_document


async def object_text(call: Call, bucket: str, key: str, version: str | None = None) -> str:
    params: dict[str, Any] = {"Bucket": bucket, "Key": key}
    if version:
        params["VersionId"] = version
    try:
        found = await call("s3", "GetObject", params)
    except LaminaError as exc:
        raise ProvisionFailed(f"Unable to get object {key} from bucket {bucket}: {exc.message}") from None
    body = found.get("Body") or b""
    if isinstance(body, bytes):
        return body.decode()
    stream, _ = body  # (async iterator of slices, length)
    return b"".join([piece async for piece in stream]).decode()


async def body_of(call: Call, props: dict[str, Any]) -> dict[str, Any] | None:
    """The API's Body, or the document BodyS3Location names; None when neither is given."""
    location = props.get("BodyS3Location")
    if not location:
        body = props.get("Body")
        return dict(body) if isinstance(body, dict) else None
    text = await object_text(call, str(location["Bucket"]), str(location["Key"]), location.get("Version"))
    try:
        document = parse_document(text)
    except LaminaError as exc:
        raise ProvisionFailed(f"Unable to parse the API definition in s3://{location['Bucket']}/{location['Key']}: "
                              f"{exc.message}") from None  # fmt: skip
    return document
