"""AWS::DynamoDB::Table (and SAM's AWS::Serverless::SimpleTable, which the transform turns into one),
provisioned through Lamina's dynamodb operations. `Ref` is the table name; `Fn::GetAtt` gives Arn and, with a
StreamSpecification, StreamArn. CloudFormation waits for the table (and each change) to be ACTIVE."""

from __future__ import annotations

from typing import Any

from lamina.clock import Clock
from lamina.errors import LaminaError
from lamina.services.cloudformation.resource_types import Call, Made, ProvisionFailed, generated_name, quietly

_PASSED = (
    "AttributeDefinitions",
    "KeySchema",
    "BillingMode",
    "ProvisionedThroughput",
    "GlobalSecondaryIndexes",
    "LocalSecondaryIndexes",
    "SSESpecification",
    "TableClass",
    "DeletionProtectionEnabled",
    "Tags",
)
_REPLACING = ("TableName", "KeySchema", "LocalSecondaryIndexes")


def _stream(props: dict[str, Any]) -> dict[str, Any]:
    spec = props.get("StreamSpecification")
    if not spec:
        return {"StreamEnabled": False}
    return {"StreamEnabled": True, "StreamViewType": spec["StreamViewType"]}


class Table:
    GETATT = ("Arn", "StreamArn")  # what Fn::GetAtt gives, as AWS documents it

    def __init__(self, clock: Clock) -> None:
        self._clock = clock

    async def create(self, call: Call, stack: str, logical: str, props: dict[str, Any]) -> Made:
        name = props.get("TableName") or generated_name(stack, logical, 255)
        params: dict[str, Any] = {key: props[key] for key in _PASSED if key in props}
        params["TableName"] = name
        if props.get("StreamSpecification"):
            params["StreamSpecification"] = _stream(props)
        await call("dynamodb", "CreateTable", params)
        made = Made(name, {})
        try:
            ttl = props.get("TimeToLiveSpecification")
            if ttl and ttl.get("Enabled"):
                await self._ttl(call, name, ttl)
            made.attributes = await self._active(call, name)
        except (LaminaError, ProvisionFailed):
            await self.delete(call, made)
            raise
        return made

    async def _ttl(self, call: Call, name: str, ttl: dict[str, Any]) -> None:
        spec = {"Enabled": bool(ttl.get("Enabled")), "AttributeName": str(ttl["AttributeName"])}
        await call("dynamodb", "UpdateTimeToLive", {"TableName": name, "TimeToLiveSpecification": spec})

    async def _active(self, call: Call, name: str) -> dict[str, Any]:
        for _ in range(1200):
            table = (await call("dynamodb", "DescribeTable", {"TableName": name}))["Table"]
            if table.get("TableStatus") == "ACTIVE":
                attributes = {"Arn": table["TableArn"]}
                if table.get("LatestStreamArn"):
                    attributes["StreamArn"] = table["LatestStreamArn"]
                return attributes
            await self._clock.sleep(0.05)
        raise ProvisionFailed(f"Table {name} did not become ACTIVE")

    async def delete(self, call: Call, made: Made) -> None:
        await quietly(call, "dynamodb", "DeleteTable", {"TableName": made.physical_id})

    async def find(self, call: Call, stack: str, logical: str, props: dict[str, Any]) -> Made | None:
        if props.get("TableName"):
            return None
        name = generated_name(stack, logical, 255)
        try:
            await call("dynamodb", "DescribeTable", {"TableName": name})
        except LaminaError:
            return None
        return Made(name, {})

    async def update(self, call: Call, made: Made, old: dict[str, Any], new: dict[str, Any]) -> Made | None:
        if any(old.get(key) != new.get(key) for key in _REPLACING):
            return None
        name = made.physical_id
        if old.get("GlobalSecondaryIndexes") != new.get("GlobalSecondaryIndexes"):
            raise ProvisionFailed("Lamina does not change a table's GlobalSecondaryIndexes in an update yet")
        change: dict[str, Any] = {}
        for key in ("BillingMode", "ProvisionedThroughput", "SSESpecification", "TableClass"):
            if old.get(key) != new.get(key) and key in new:
                change[key] = new[key]
        if old.get("DeletionProtectionEnabled") != new.get("DeletionProtectionEnabled"):
            change["DeletionProtectionEnabled"] = bool(new.get("DeletionProtectionEnabled"))
        if old.get("StreamSpecification") != new.get("StreamSpecification"):
            if old.get("StreamSpecification") and new.get("StreamSpecification"):
                # a stream's view type cannot change in place: off, then on again (a new stream ARN)
                await call("dynamodb", "UpdateTable", {"TableName": name, "StreamSpecification": _stream({})})
                await self._active(call, name)
            change["StreamSpecification"] = _stream(new)
        if change:
            await call("dynamodb", "UpdateTable", {"TableName": name, **change})
        if old.get("TimeToLiveSpecification") != new.get("TimeToLiveSpecification"):
            ttl = new.get("TimeToLiveSpecification") or {**(old["TimeToLiveSpecification"]), "Enabled": False}
            await self._ttl(call, name, ttl)
        return Made(name, await self._active(call, name))
