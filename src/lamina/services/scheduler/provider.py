"""The EventBridge Scheduler API (rest-json, /schedules and /schedule-groups): schedules, schedule groups and
their tags, with AWS's defaults (State ENABLED, timezone UTC, ActionAfterCompletion NONE, RetryPolicy 185
attempts / 86400 s) and errors (ValidationException 400, ResourceNotFoundException 404, ConflictException 409).
Model constraints (name patterns, ranges, enums) are checked by the wire layer before a method runs. A create
repeated with the same ClientToken (botocore fills one in and keeps it across its retries) answers as the first
did instead of ConflictException."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from lamina.clock import Clock
from lamina.errors import ServiceFault
from lamina.schedules.expressions import InvalidExpression, InvalidTimezone, parse, timezone
from lamina.services.scheduler.delivery import DEFAULT_RETRY, service_of
from lamina.services.scheduler.engine import DEFAULT_GROUP, SchedulerEngine, describe
from lamina.types import CallContext

_TARGET_FIELDS = (
    "Arn",
    "RoleArn",
    "Input",
    "RetryPolicy",
    "DeadLetterConfig",
    "SqsParameters",
    "EventBridgeParameters",
    "KinesisParameters",
    "EcsParameters",
    "SageMakerPipelineParameters",
)


def validation(message: str) -> ServiceFault:
    return ServiceFault("ValidationException", message, 400)


def not_found(message: str) -> ServiceFault:
    return ServiceFault("ResourceNotFoundException", message, 404)


def conflict(message: str) -> ServiceFault:
    return ServiceFault("ConflictException", message, 409)


def _page(items: list[dict[str, Any]], params: dict[str, Any], key: str) -> tuple[list[dict[str, Any]], str | None]:
    """One page of `items` (sorted by `key`); the token names the first item of the next page."""
    after = None
    if params.get("NextToken"):
        try:
            after = base64.urlsafe_b64decode(params["NextToken"].encode()).decode()
        except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
            raise validation("Invalid NextToken.") from exc
    size = int(params.get("MaxResults") or 100)
    ordered = sorted(items, key=lambda item: str(item[key]))
    if after is not None:
        ordered = [item for item in ordered if str(item[key]) >= after]
    page, rest = ordered[:size], ordered[size:]
    token = base64.urlsafe_b64encode(str(rest[0][key]).encode()).decode() if rest else None
    return page, token


class SchedulerProvider:
    def __init__(self, engine: SchedulerEngine, clock: Clock) -> None:
        self._engine = engine
        self._clock = clock

    # -- schedules ------------------------------------------------------------------------------
    def create_schedule(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        group = self._group(ctx, params.get("GroupName") or DEFAULT_GROUP)
        name = params["Name"]
        existing = self._engine.schedule(ctx.region, group["Name"], name)
        if existing is not None:
            if params.get("ClientToken") and existing.get("_clientToken") == params["ClientToken"]:
                return {"ScheduleArn": existing["Arn"]}  # the same request again (an SDK retry): idempotent
            raise conflict(f"Schedule {name} already exists.")
        record = self._record(ctx, params, group["Name"])
        record["CreationDate"] = record["LastModificationDate"]
        if params.get("ClientToken"):
            record["_clientToken"] = params["ClientToken"]
        self._engine.put_schedule(ctx.region, record)
        return {"ScheduleArn": record["Arn"]}

    def update_schedule(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        """Replaces the whole schedule, as AWS does: members left out go back to their defaults."""
        group = self._group(ctx, params.get("GroupName") or DEFAULT_GROUP)
        existing = self._schedule(ctx, group["Name"], params["Name"])
        record = self._record(ctx, params, group["Name"])
        record["CreationDate"] = existing["CreationDate"]
        self._engine.put_schedule(ctx.region, record)
        return {"ScheduleArn": record["Arn"]}

    def get_schedule(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        group = self._group(ctx, params.get("GroupName") or DEFAULT_GROUP)
        return describe(self._schedule(ctx, group["Name"], params["Name"]))

    def delete_schedule(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        group = self._group(ctx, params.get("GroupName") or DEFAULT_GROUP)
        self._schedule(ctx, group["Name"], params["Name"])
        self._engine.delete_schedule(ctx.region, group["Name"], params["Name"])
        return {}

    def list_schedules(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        found = self._engine.region_schedules(ctx.region)
        if params.get("GroupName"):
            group = self._group(ctx, params["GroupName"])
            found = [s for s in found if s["GroupName"] == group["Name"]]
        if params.get("NamePrefix"):
            found = [s for s in found if s["Name"].startswith(params["NamePrefix"])]
        if params.get("State"):
            found = [s for s in found if s["State"] == params["State"]]
        rows = [{**s, "_order": f"{s['GroupName']}/{s['Name']}"} for s in found]
        page, token = _page(rows, params, "_order")
        out: dict[str, Any] = {
            "Schedules": [
                {
                    "Arn": s["Arn"],
                    "CreationDate": s["CreationDate"],
                    "GroupName": s["GroupName"],
                    "LastModificationDate": s["LastModificationDate"],
                    "Name": s["Name"],
                    "State": s["State"],
                    "Target": {"Arn": s["Target"]["Arn"]},
                }
                for s in page
            ]
        }
        if token:
            out["NextToken"] = token
        return out

    def _schedule(self, ctx: CallContext, group: str, name: str) -> dict[str, Any]:
        found = self._engine.schedule(ctx.region, group, name)
        if found is None:
            raise not_found(f"Schedule {name} does not exist.")
        return found

    def _record(self, ctx: CallContext, params: dict[str, Any], group: str) -> dict[str, Any]:
        """A schedule record from Create/UpdateSchedule's parameters, validated, with AWS's defaults."""
        expression = params["ScheduleExpression"]
        try:
            parse(expression, plural_rule=False)
        except InvalidExpression as exc:
            raise validation(f"Invalid Schedule Expression {expression}.") from exc
        zone = params.get("ScheduleExpressionTimezone") or "UTC"
        try:
            timezone(zone)
        except InvalidTimezone as exc:
            raise validation(f"Invalid timezone {zone}.") from exc
        window = dict(params["FlexibleTimeWindow"])
        if window.get("Mode") == "FLEXIBLE" and "MaximumWindowInMinutes" not in window:
            raise validation("MaximumWindowInMinutes must be provided when FlexibleTimeWindow Mode is FLEXIBLE.")
        if window.get("Mode") == "OFF" and "MaximumWindowInMinutes" in window:
            raise validation("MaximumWindowInMinutes must not be provided when FlexibleTimeWindow Mode is OFF.")
        start, end = params.get("StartDate"), params.get("EndDate")
        if start is not None and end is not None and end <= start:
            raise validation("The EndDate must be after the StartDate.")
        if end is not None and end <= self._clock.time() and not expression.startswith("at("):
            raise validation("The EndDate must be in the future.")
        target = {k: params["Target"][k] for k in _TARGET_FIELDS if k in params["Target"]}
        if not self._engine.delivery.serves(target["Arn"]):
            raise validation(
                f"Invalid target {target['Arn']}: Lamina delivers schedules to Lambda, SQS and SNS targets."
            )
        dlq = (target.get("DeadLetterConfig") or {}).get("Arn")
        if dlq is not None and service_of(dlq) != "sqs":
            raise validation(f"Invalid DeadLetterConfig Arn {dlq}: it must be an SQS queue ARN.")
        target["RetryPolicy"] = {**DEFAULT_RETRY, **(target.get("RetryPolicy") or {})}
        record: dict[str, Any] = {
            "Arn": f"arn:aws:scheduler:{ctx.region}:{ctx.account_id}:schedule/{group}/{params['Name']}",
            "GroupName": group,
            "Name": params["Name"],
            "ScheduleExpression": expression,
            "ScheduleExpressionTimezone": zone,
            "State": params.get("State") or "ENABLED",
            "LastModificationDate": self._clock.time(),
            "Target": target,
            "FlexibleTimeWindow": window,
            "ActionAfterCompletion": params.get("ActionAfterCompletion") or "NONE",
        }
        for member in ("StartDate", "EndDate", "Description", "KmsKeyArn"):
            if params.get(member) is not None:
                record[member] = params[member]
        return record

    # -- groups ---------------------------------------------------------------------------------
    def create_schedule_group(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        name = params["Name"]
        existing = self._engine.group(ctx.region, name)
        if existing is not None:
            if params.get("ClientToken") and existing.get("_clientToken") == params["ClientToken"]:
                return {"ScheduleGroupArn": existing["Arn"]}  # an SDK retry of the same request
            raise conflict(f"Schedule group {name} already exists.")
        now = self._clock.time()
        record = {
            "Arn": self._engine.group_arn(ctx.region, name),
            "Name": name,
            "State": "ACTIVE",
            "CreationDate": now,
            "LastModificationDate": now,
            "Tags": list(params.get("Tags") or []),
            "_clientToken": params.get("ClientToken"),
        }
        self._engine.put_group(ctx.region, record)
        return {"ScheduleGroupArn": record["Arn"]}

    def get_schedule_group(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        group = self._group(ctx, params["Name"])
        return {k: v for k, v in group.items() if k != "Tags" and not k.startswith("_")}

    def delete_schedule_group(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        name = params["Name"]
        if name == DEFAULT_GROUP:
            raise validation("Cannot delete the default schedule group.")
        self._group(ctx, name)
        self._engine.delete_group(ctx.region, name)
        return {}

    def list_schedule_groups(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        groups = self._engine.region_groups(ctx.region)
        if params.get("NamePrefix"):
            groups = [g for g in groups if g["Name"].startswith(params["NamePrefix"])]
        page, token = _page(groups, params, "Name")
        shown = [{k: v for k, v in g.items() if k != "Tags" and not k.startswith("_")} for g in page]
        out: dict[str, Any] = {"ScheduleGroups": shown}
        if token:
            out["NextToken"] = token
        return out

    def _group(self, ctx: CallContext, name: str) -> dict[str, Any]:
        found = self._engine.group(ctx.region, name)
        if found is None:
            raise not_found(f"Schedule group {name} does not exist.")
        return found

    # -- tags (schedule groups carry them) ------------------------------------------------------
    def _tagged(self, ctx: CallContext, arn: str) -> dict[str, Any]:
        prefix = f"arn:aws:scheduler:{ctx.region}:{ctx.account_id}:schedule-group/"
        if not arn.startswith(prefix):
            raise not_found(f"Schedule group {arn} does not exist.")
        return self._group(ctx, arn[len(prefix) :])

    def list_tags_for_resource(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        return {"Tags": list(self._tagged(ctx, params["ResourceArn"]).get("Tags") or [])}

    def tag_resource(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        group = dict(self._tagged(ctx, params["ResourceArn"]))
        tags = {t["Key"]: t["Value"] for t in group.get("Tags") or []}
        tags.update({t["Key"]: t["Value"] for t in params["Tags"]})
        group["Tags"] = [{"Key": k, "Value": v} for k, v in tags.items()]
        self._engine.put_group(ctx.region, group)
        return {}

    def untag_resource(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        group = dict(self._tagged(ctx, params["ResourceArn"]))
        drop = set(params["TagKeys"])
        group["Tags"] = [t for t in group.get("Tags") or [] if t["Key"] not in drop]
        self._engine.put_group(ctx.region, group)
        return {}
