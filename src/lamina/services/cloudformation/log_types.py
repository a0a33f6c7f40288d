"""AWS::Logs::LogGroup and ::SubscriptionFilter, provisioned through Lamina's logs operations."""

from __future__ import annotations

from typing import Any

from lamina.errors import LaminaError
from lamina.services.cloudformation import tagging
from lamina.services.cloudformation.resource_types import Call, Made, generated_name, quietly


class LogGroup:
    """AWS::Logs::LogGroup: `Ref` the name, `Fn::GetAtt ... Arn` the group's ARN ending `:*`."""

    GETATT = ("Arn",)  # what Fn::GetAtt gives, as AWS documents it

    async def create(self, call: Call, stack: str, logical: str, props: dict[str, Any]) -> Made:
        name = props.get("LogGroupName") or generated_name(stack, logical, 512)
        params: dict[str, Any] = {"logGroupName": name}
        if props.get("KmsKeyId"):
            params["kmsKeyId"] = props["KmsKeyId"]
        if props.get("LogGroupClass"):
            params["logGroupClass"] = props["LogGroupClass"]
        if props.get("Tags"):
            params["tags"] = tagging.tag_map(props)
        await call("logs", "CreateLogGroup", params)
        made = Made(name, {})
        try:
            if "RetentionInDays" in props:
                retention = {"logGroupName": name, "retentionInDays": int(props["RetentionInDays"])}
                await call("logs", "PutRetentionPolicy", retention)
            made.attributes = {"Arn": await self._arn(call, name)}
        except LaminaError:
            await self.delete(call, made)
            raise
        return made

    @staticmethod
    async def _arn(call: Call, name: str) -> str:
        for group in (await call("logs", "DescribeLogGroups", {"logGroupNamePrefix": name})).get("logGroups", []):
            if group["logGroupName"] == name:
                return str(group["arn"])
        raise LaminaError(f"Log group {name} does not exist")

    async def delete(self, call: Call, made: Made) -> None:
        await quietly(call, "logs", "DeleteLogGroup", {"logGroupName": made.physical_id})

    async def find(self, call: Call, stack: str, logical: str, props: dict[str, Any]) -> Made | None:
        if props.get("LogGroupName"):
            return None
        name = generated_name(stack, logical, 512)
        try:
            return Made(name, {"Arn": await self._arn(call, name)})
        except LaminaError:
            return None

    async def update(self, call: Call, made: Made, old: dict[str, Any], new: dict[str, Any]) -> Made | None:
        if any(old.get(k) != new.get(k) for k in ("LogGroupName", "KmsKeyId", "LogGroupClass")):
            return None
        if old.get("RetentionInDays") != new.get("RetentionInDays"):
            if "RetentionInDays" in new:
                params = {"logGroupName": made.physical_id, "retentionInDays": int(new["RetentionInDays"])}
                await call("logs", "PutRetentionPolicy", params)
            else:
                await call("logs", "DeleteRetentionPolicy", {"logGroupName": made.physical_id})
        if old.get("Tags") != new.get("Tags"):
            arn = made.attributes.get("Arn") or await self._arn(call, made.physical_id)
            await tagging.LOG_GROUP.apply(call, arn.removesuffix(":*"), old, new)
        return made


class SubscriptionFilter:
    """AWS::Logs::SubscriptionFilter: `Ref` the filter name."""

    GETATT = ()  # what Fn::GetAtt gives, as AWS documents it

    def _params(self, name: str, props: dict[str, Any]) -> dict[str, Any]:
        params: dict[str, Any] = {
            "logGroupName": str(props["LogGroupName"]),
            "filterName": name,
            "filterPattern": str(props.get("FilterPattern", "")),
            "destinationArn": str(props["DestinationArn"]),
        }
        if props.get("RoleArn"):
            params["roleArn"] = props["RoleArn"]
        if props.get("Distribution"):
            params["distribution"] = props["Distribution"]
        return params

    async def create(self, call: Call, stack: str, logical: str, props: dict[str, Any]) -> Made:
        name = props.get("FilterName") or generated_name(stack, logical, 512)
        await call("logs", "PutSubscriptionFilter", self._params(name, props))
        return Made(name, {"LogGroupName": str(props["LogGroupName"])})

    async def delete(self, call: Call, made: Made) -> None:
        params = {"logGroupName": made.attributes["LogGroupName"], "filterName": made.physical_id}
        await quietly(call, "logs", "DeleteSubscriptionFilter", params)

    async def update(self, call: Call, made: Made, old: dict[str, Any], new: dict[str, Any]) -> Made | None:
        if old.get("FilterName") != new.get("FilterName") or old.get("LogGroupName") != new.get("LogGroupName"):
            return None
        await call("logs", "PutSubscriptionFilter", self._params(made.physical_id, new))
        return made
