"""AWS::Events::Rule / ::EventBus and AWS::Scheduler::Schedule / ::ScheduleGroup (what SAM's Schedule,
EventBridgeRule and ScheduleV2 events make), provisioned through Lamina's events and scheduler operations.

`Ref` of a rule is its name (`<bus>|<name>` on a custom bus, as CloudFormation forms it), of a bus, schedule or
group its name; `Fn::GetAtt ... Arn` everywhere (a bus also has Name, a group CreationDate and State)."""

from __future__ import annotations

from typing import Any

from lamina.errors import LaminaError
from lamina.services.cloudformation import tagging
from lamina.services.cloudformation.resource_types import Call, Made, _json, generated_name, quietly

_TARGET_KEYS = (
    "Id",
    "Arn",
    "RoleArn",
    "Input",
    "InputPath",
    "InputTransformer",
    "DeadLetterConfig",
    "RetryPolicy",
    "SqsParameters",
    "HttpParameters",
)


def _bus_name(value: Any) -> str | None:
    """EventBusName may be given as a name or an ARN; the default bus is named by leaving it out."""
    if not value:
        return None
    name = str(value).rsplit("/", 1)[-1] if str(value).startswith("arn:") else str(value)
    return None if name == "default" else name


class Rule:
    GETATT = ("Arn",)  # what Fn::GetAtt gives, as AWS documents it

    async def create(self, call: Call, stack: str, logical: str, props: dict[str, Any]) -> Made:
        name = props.get("Name") or generated_name(stack, logical, 64)
        bus = _bus_name(props.get("EventBusName"))
        params = self._rule_params(name, bus, props)
        arn = (await call("events", "PutRule", params))["RuleArn"]
        made = Made(f"{bus}|{name}" if bus else name, {"Arn": arn, "Name": name, "Bus": bus})
        try:
            await self._put_targets(call, name, bus, props.get("Targets") or [])
        except LaminaError:
            await self.delete(call, made)
            raise
        return made

    @staticmethod
    def _rule_params(name: str, bus: str | None, props: dict[str, Any]) -> dict[str, Any]:
        params: dict[str, Any] = {"Name": name, "State": props.get("State") or "ENABLED"}
        for key in ("Description", "ScheduleExpression", "RoleArn"):
            if key in props:
                params[key] = str(props[key])
        if "EventPattern" in props:
            params["EventPattern"] = _json(props["EventPattern"])
        if bus:
            params["EventBusName"] = bus
        if props.get("Tags"):
            params["Tags"] = props["Tags"]
        return params

    @staticmethod
    async def _put_targets(call: Call, name: str, bus: str | None, targets: list[dict[str, Any]]) -> None:
        if not targets:
            return
        shaped = [{k: t[k] for k in _TARGET_KEYS if k in t} for t in targets]
        params: dict[str, Any] = {"Rule": name, "Targets": shaped}
        if bus:
            params["EventBusName"] = bus
        answer = await call("events", "PutTargets", params)
        if answer.get("FailedEntryCount"):
            entry = answer["FailedEntries"][0]
            raise LaminaError(entry.get("ErrorMessage", "PutTargets failed"))

    async def delete(self, call: Call, made: Made) -> None:
        name, bus = made.attributes.get("Name") or made.physical_id, made.attributes.get("Bus")
        scope: dict[str, Any] = {"EventBusName": bus} if bus else {}
        try:
            targets = (await call("events", "ListTargetsByRule", {"Rule": name, **scope})).get("Targets", [])
        except LaminaError:
            return
        if targets:
            await call("events", "RemoveTargets", {"Rule": name, "Ids": [t["Id"] for t in targets], **scope})
        await quietly(call, "events", "DeleteRule", {"Name": name, **scope})

    async def find(self, call: Call, stack: str, logical: str, props: dict[str, Any]) -> Made | None:
        if props.get("Name"):
            return None
        name, bus = generated_name(stack, logical, 64), _bus_name(props.get("EventBusName"))
        try:
            found = await call("events", "DescribeRule", {"Name": name, **({"EventBusName": bus} if bus else {})})
        except LaminaError:
            return None
        return Made(name, {"Arn": found["Arn"], "Name": name, "Bus": bus})

    async def update(self, call: Call, made: Made, old: dict[str, Any], new: dict[str, Any]) -> Made | None:
        if old.get("Name") != new.get("Name") or _bus_name(old.get("EventBusName")) != _bus_name(
            new.get("EventBusName")
        ):
            return None
        name, bus = made.attributes["Name"], made.attributes.get("Bus")
        await call("events", "PutRule", self._rule_params(name, bus, new))  # replaces all but the tags
        await tagging.EVENTS.apply(call, made.attributes["Arn"], old, new)
        kept = {t["Id"] for t in new.get("Targets") or []}
        gone = [t["Id"] for t in old.get("Targets") or [] if t["Id"] not in kept]
        if gone:
            await call("events", "RemoveTargets", {"Rule": name, "Ids": gone, **({"EventBusName": bus} if bus else {})})
        await self._put_targets(call, name, bus, new.get("Targets") or [])
        return made


class EventBus:
    GETATT = ("Arn", "Name", "Policy")  # what Fn::GetAtt gives, as AWS documents it

    async def create(self, call: Call, stack: str, logical: str, props: dict[str, Any]) -> Made:
        name = str(props["Name"])
        params: dict[str, Any] = {"Name": name}
        for key in ("EventSourceName", "Description", "Tags"):
            if key in props:
                params[key] = props[key]
        arn = (await call("events", "CreateEventBus", params))["EventBusArn"]
        return Made(name, {"Arn": arn, "Name": name, "Policy": ""})

    async def delete(self, call: Call, made: Made) -> None:
        await quietly(call, "events", "DeleteEventBus", {"Name": made.physical_id})

    async def update(self, call: Call, made: Made, old: dict[str, Any], new: dict[str, Any]) -> Made | None:
        if old.get("Name") != new.get("Name") or old.get("EventSourceName") != new.get("EventSourceName"):
            return None
        if old.get("Description") != new.get("Description"):  # a removed one is cleared
            params = {"Name": made.physical_id, "Description": new.get("Description", "")}
            await call("events", "UpdateEventBus", params)
        await tagging.EVENTS.apply(call, made.attributes["Arn"], old, new)
        return made


class Schedule:
    GETATT = ("Arn",)  # what Fn::GetAtt gives, as AWS documents it

    _PASSED = (
        "ScheduleExpression",
        "ScheduleExpressionTimezone",
        "FlexibleTimeWindow",
        "Target",
        "State",
        "Description",
        "StartDate",
        "EndDate",
        "KmsKeyArn",
        "ActionAfterCompletion",
    )

    def _params(self, name: str, props: dict[str, Any]) -> dict[str, Any]:
        params: dict[str, Any] = {key: props[key] for key in self._PASSED if key in props}
        params["Name"] = name
        if props.get("GroupName"):
            params["GroupName"] = str(props["GroupName"])
        return params

    async def create(self, call: Call, stack: str, logical: str, props: dict[str, Any]) -> Made:
        name = props.get("Name") or generated_name(stack, logical, 64)
        arn = (await call("scheduler", "CreateSchedule", self._params(name, props)))["ScheduleArn"]
        return Made(name, {"Arn": arn, "GroupName": props.get("GroupName") or "default"})

    async def delete(self, call: Call, made: Made) -> None:
        params = {"Name": made.physical_id, "GroupName": made.attributes.get("GroupName") or "default"}
        await quietly(call, "scheduler", "DeleteSchedule", params)

    async def find(self, call: Call, stack: str, logical: str, props: dict[str, Any]) -> Made | None:
        if props.get("Name"):
            return None
        name, group = generated_name(stack, logical, 64), props.get("GroupName") or "default"
        try:
            found = await call("scheduler", "GetSchedule", {"Name": name, "GroupName": group})
        except LaminaError:
            return None
        return Made(name, {"Arn": found["Arn"], "GroupName": group})

    async def update(self, call: Call, made: Made, old: dict[str, Any], new: dict[str, Any]) -> Made | None:
        if old.get("Name") != new.get("Name") or (old.get("GroupName") or "default") != (
            new.get("GroupName") or "default"
        ):
            return None
        await call("scheduler", "UpdateSchedule", self._params(made.physical_id, new))
        return made


class ScheduleGroup:
    GETATT = ("Arn", "CreationDate", "LastModificationDate", "State")  # what Fn::GetAtt gives, as AWS documents it

    async def create(self, call: Call, stack: str, logical: str, props: dict[str, Any]) -> Made:
        name = props.get("Name") or generated_name(stack, logical, 64)
        params: dict[str, Any] = {"Name": name}
        if props.get("Tags"):
            params["Tags"] = props["Tags"]
        await call("scheduler", "CreateScheduleGroup", params)
        found = await call("scheduler", "GetScheduleGroup", {"Name": name})
        return Made(
            name,
            {
                "Arn": found["Arn"],
                "CreationDate": str(found.get("CreationDate", "")),
                "LastModificationDate": str(found.get("LastModificationDate", "")),
                "State": found.get("State", "ACTIVE"),
            },
        )

    async def delete(self, call: Call, made: Made) -> None:
        await quietly(call, "scheduler", "DeleteScheduleGroup", {"Name": made.physical_id})

    async def find(self, call: Call, stack: str, logical: str, props: dict[str, Any]) -> Made | None:
        if props.get("Name"):
            return None
        name = generated_name(stack, logical, 64)
        try:
            found = await call("scheduler", "GetScheduleGroup", {"Name": name})
        except LaminaError:
            return None
        return Made(name, {"Arn": found["Arn"]})

    async def update(self, call: Call, made: Made, old: dict[str, Any], new: dict[str, Any]) -> Made | None:
        if old.get("Name") != new.get("Name"):
            return None
        await tagging.SCHEDULER.apply(call, made.attributes["Arn"], old, new)
        return made
