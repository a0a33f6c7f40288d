"""AWS::Kinesis::Stream, provisioned through Lamina's Kinesis operations."""

from __future__ import annotations

from typing import Any

from lamina.errors import LaminaError
from lamina.services.cloudformation import tagging
from lamina.services.cloudformation.resource_types import Call, Made, _changed, generated_name, quietly

DEFAULT_RETENTION = 24


class Stream:
    """`Ref` the stream's name; GetAtt Arn. ShardCount (1 when neither it nor ON_DEMAND is given, as AWS),
    StreamModeDetails, RetentionPeriodHours, Tags."""

    GETATT = ("Arn",)

    async def create(self, call: Call, stack: str, logical: str, props: dict[str, Any]) -> Made:
        name = str(props.get("Name") or generated_name(stack, logical, 128))
        mode = (props.get("StreamModeDetails") or {}).get("StreamMode") or "PROVISIONED"
        params: dict[str, Any] = {"StreamName": name, "StreamModeDetails": {"StreamMode": mode}}
        if mode == "PROVISIONED":
            params["ShardCount"] = int(props.get("ShardCount") or 1)
        if props.get("Tags"):
            params["Tags"] = tagging.tag_map(props)
        await call("kinesis", "CreateStream", params)
        made = Made(name, {})
        try:
            made.attributes = {"Arn": await self._arn(call, name)}
            await self._retention(call, name, DEFAULT_RETENTION, int(props.get("RetentionPeriodHours") or 24))
        except LaminaError:
            await self.delete(call, made)
            raise
        return made

    @staticmethod
    async def _arn(call: Call, name: str) -> str:
        summary = (await call("kinesis", "DescribeStreamSummary", {"StreamName": name}))["StreamDescriptionSummary"]
        return str(summary["StreamARN"])

    @staticmethod
    async def _retention(call: Call, name: str, old: int, new: int) -> None:
        if new > old:
            await call("kinesis", "IncreaseStreamRetentionPeriod", {"StreamName": name, "RetentionPeriodHours": new})
        elif new < old:
            await call("kinesis", "DecreaseStreamRetentionPeriod", {"StreamName": name, "RetentionPeriodHours": new})

    async def delete(self, call: Call, made: Made) -> None:
        params = {"StreamName": made.physical_id, "EnforceConsumerDeletion": True}
        await quietly(call, "kinesis", "DeleteStream", params)

    async def find(self, call: Call, stack: str, logical: str, props: dict[str, Any]) -> Made | None:
        if props.get("Name"):
            return None
        name = generated_name(stack, logical, 128)
        try:
            return Made(name, {"Arn": await self._arn(call, name)})
        except LaminaError:
            return None

    async def update(self, call: Call, made: Made, old: dict[str, Any], new: dict[str, Any]) -> Made | None:
        old_mode = (old.get("StreamModeDetails") or {}).get("StreamMode") or "PROVISIONED"
        new_mode = (new.get("StreamModeDetails") or {}).get("StreamMode") or "PROVISIONED"
        if _changed(old, new, "Name"):
            return None
        name = made.physical_id
        if old_mode != new_mode:  # no interruption on AWS: UpdateStreamMode, the shards kept
            params = {"StreamARN": made.attributes["Arn"], "StreamModeDetails": {"StreamMode": new_mode}}
            await call("kinesis", "UpdateStreamMode", params)
        if new_mode == "PROVISIONED":
            count = int(new.get("ShardCount") or 1)
            summary = await call("kinesis", "DescribeStreamSummary", {"StreamName": name})
            if int(summary["StreamDescriptionSummary"]["OpenShardCount"]) != count:
                await call(
                    "kinesis",
                    "UpdateShardCount",
                    {"StreamName": name, "TargetShardCount": count, "ScalingType": "UNIFORM_SCALING"},
                )
        old_hours = int(old.get("RetentionPeriodHours") or DEFAULT_RETENTION)
        await self._retention(call, name, old_hours, int(new.get("RetentionPeriodHours") or DEFAULT_RETENTION))
        await tagging.STREAM.apply(call, name, old, new)
        return made
