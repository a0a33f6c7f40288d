"""AWS::DynamoDB::Table (and SAM's AWS::Serverless::SimpleTable, which the transform turns into one),
provisioned through Lamina's dynamodb operations. `Ref` is the table name; `Fn::GetAtt` gives Arn and, with a
StreamSpecification, StreamArn. CloudFormation waits for the table (and each change) to be ACTIVE."""

from __future__ import annotations

from typing import Any

from lamina.clock import Clock
from lamina.errors import LaminaError
from lamina.services.cloudformation import tagging
from lamina.services.cloudformation.resource_types import Call, Made, ProvisionFailed, generated_name, quietly

_PASSED = (
    "AttributeDefinitions",
    "KeySchema",
    "BillingMode",
    "ProvisionedThroughput",
    "GlobalSecondaryIndexes",
    "LocalSecondaryIndexes",
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


def _sse(spec: dict[str, Any]) -> dict[str, Any]:
    """CloudFormation's SSESpecification (SSEEnabled) as CreateTable takes it (Enabled). Lamina's tables are not
    encrypted, so it is accepted, not applied (and an update does not send it)."""
    out: dict[str, Any] = {"Enabled": bool(spec.get("SSEEnabled"))}
    out.update({k: spec[k] for k in ("SSEType", "KMSMasterKeyId") if k in spec})
    return out


def index_updates(old: dict[str, Any], new: dict[str, Any]) -> list[dict[str, Any]]:
    """UpdateTable's GlobalSecondaryIndexUpdates for a change of GlobalSecondaryIndexes: as on AWS, one index
    created or deleted per update (throughput changes of the others ride along)."""
    before = {g["IndexName"]: g for g in old.get("GlobalSecondaryIndexes") or []}
    after = {g["IndexName"]: g for g in new.get("GlobalSecondaryIndexes") or []}
    if before == after:
        return []
    added = [after[n] for n in after if n not in before]
    removed = [n for n in before if n not in after]
    if len(added) + len(removed) > 1:
        raise ProvisionFailed("Cannot perform more than one GSI creation or deletion in a single update")
    updates: list[dict[str, Any]] = [{"Create": index} for index in added]
    updates += [{"Delete": {"IndexName": n}} for n in removed]
    for name in before.keys() & after.keys():
        was, now = before[name], after[name]
        if (was.get("KeySchema"), was.get("Projection")) != (now.get("KeySchema"), now.get("Projection")):
            raise ProvisionFailed(
                f"Cannot update GSI's properties other than Provisioned Throughput and Contributor Insights "
                f"Specification. You can create a new GSI with a different name. (index {name})"
            )
        wanted = {k: int(v) for k, v in (now.get("ProvisionedThroughput") or {}).items()}
        if wanted and was.get("ProvisionedThroughput") != wanted:
            updates.append({"Update": {"IndexName": name, "ProvisionedThroughput": now["ProvisionedThroughput"]}})
    return updates


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
        if props.get("SSESpecification"):
            params["SSESpecification"] = _sse(props["SSESpecification"])
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

    @staticmethod
    async def _indexes(call: Call, name: str) -> dict[str, Any]:
        table = (await call("dynamodb", "DescribeTable", {"TableName": name}))["Table"]
        indexes = []
        for index in table.get("GlobalSecondaryIndexes") or []:
            shown = {key: index[key] for key in ("IndexName", "KeySchema", "Projection")}
            throughput = index.get("ProvisionedThroughput") or {}
            if throughput.get("ReadCapacityUnits"):
                shown["ProvisionedThroughput"] = {
                    "ReadCapacityUnits": throughput["ReadCapacityUnits"],
                    "WriteCapacityUnits": throughput["WriteCapacityUnits"],
                }
            indexes.append(shown)
        return {"GlobalSecondaryIndexes": indexes}

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
        change: dict[str, Any] = {}
        if old.get("GlobalSecondaryIndexes") != new.get("GlobalSecondaryIndexes"):
            # from the table as it is (a rollback's "old" is the update that failed before changing anything)
            updates = index_updates(await self._indexes(call, name), new)
            if updates:
                change.update(GlobalSecondaryIndexUpdates=updates, AttributeDefinitions=new["AttributeDefinitions"])
        billing = new.get("BillingMode") or "PROVISIONED"  # a removed setting goes back to DynamoDB's default
        if (old.get("BillingMode") or "PROVISIONED") != billing:
            change["BillingMode"] = billing
            if billing == "PROVISIONED" and "ProvisionedThroughput" in new:
                change["ProvisionedThroughput"] = new["ProvisionedThroughput"]
        elif old.get("ProvisionedThroughput") != new.get("ProvisionedThroughput") and "ProvisionedThroughput" in new:
            change["ProvisionedThroughput"] = new["ProvisionedThroughput"]
        if old.get("TableClass") != new.get("TableClass"):
            change["TableClass"] = new.get("TableClass") or "STANDARD"
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
        attributes = await self._active(call, name)
        await tagging.TABLE.apply(call, attributes["Arn"], old, new)
        return Made(name, attributes)
