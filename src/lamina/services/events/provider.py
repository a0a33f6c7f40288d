"""The EventBridge API (json 1.1, `AWSEvents.*`): buses, rules, targets, PutEvents, TestEventPattern and tags,
with AWS's error codes and messages (compared with the recorded test_events_* entries)."""

from __future__ import annotations

import base64
import json
from dataclasses import replace
from typing import Any

from lamina.errors import ServiceFault
from lamina.services.events import input_transform, rule_schedules
from lamina.services.events.engine import DEFAULT_BUS, Accepted, Bus, EventsEngine, Rule, bus_arn, rule_arn
from lamina.sources import patterns
from lamina.types import CallContext

MAX_TARGETS = 5  # targets per rule (AWS's quota)
MAX_REQUEST = 262_144  # PutEvents: 256 KB over all entries
EVENT_FIELDS = ("id", "account", "source", "time", "region", "detail-type")  # TestEventPattern requires them
TARGET_SERVICES = frozenset({"lambda", "sqs", "sns", "events"})


def fault(code: str, message: str) -> ServiceFault:
    return ServiceFault(code, message, 400)


def unmanaged(rule: Rule | None, force: bool = False) -> None:
    """Refuses to change a rule a service manages (an archive's), unless the call says Force where AWS allows it.
    The message is Lamina's: no recording of AWS's text for this error was at hand."""
    if rule is not None and rule.managed_by is not None and not force:
        raise fault(
            "ManagedRuleException",
            f"Rule {rule.name} is managed by {rule.managed_by} and can only be deleted or have targets removed "
            "with Force.",
        )


def _not_valid(reason: str) -> ServiceFault:
    return fault("InvalidEventPatternException", f"Event pattern is not valid. Reason: {reason}")


def check_pattern(text: str) -> dict[str, Any]:
    try:
        return patterns.check(text)
    except patterns.InvalidPattern as exc:
        raise _not_valid(exc.reason) from None


def page_of(items: list[Any], params: dict[str, Any]) -> tuple[list[Any], str | None]:
    start = 0
    token = params.get("NextToken")
    if token:
        try:
            start = int(base64.b64decode(token).decode())
        except ValueError:
            raise fault("ValidationException", "The provided NextToken is not valid.") from None
    limit = int(params.get("Limit") or 100)
    page = items[start : start + limit]
    more = start + limit < len(items)
    return page, base64.b64encode(str(start + limit).encode()).decode() if more else None


def entry_size(entry: dict[str, Any]) -> int:
    """AWS's PutEvents entry size: Time 14 bytes, plus the UTF-8 bytes of Source, DetailType, Detail, Resources."""
    size = 14 if entry.get("Time") is not None else 0
    for name in ("Source", "DetailType", "Detail"):
        if entry.get(name):
            size += len(str(entry[name]).encode())
    for resource in entry.get("Resources") or []:
        size += len(str(resource).encode())
    return size


class EventsProvider:
    def __init__(self, engine: EventsEngine) -> None:
        self._engine = engine

    # -- buses ----------------------------------------------------------------------------------
    def _bus(self, ctx: CallContext, name_or_arn: str | None) -> Bus:
        name = self._bus_name(name_or_arn)
        bus = self._engine.bus(ctx.region, ctx.account_id, name)
        if bus is None:
            raise fault("ResourceNotFoundException", f"Event bus {name} does not exist.")
        return bus

    @staticmethod
    def _bus_name(name_or_arn: str | None) -> str:
        if not name_or_arn:
            return DEFAULT_BUS
        if name_or_arn.startswith("arn:"):
            return name_or_arn.split(":event-bus/", 1)[-1]
        return name_or_arn

    def create_event_bus(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        name = params["Name"]
        if name == DEFAULT_BUS or self._engine.bus(ctx.region, ctx.account_id, name) is not None:
            raise fault("ResourceAlreadyExistsException", f"Event bus {name} already exists.")
        if "/" in name:
            raise fault("ValidationException", "Event bus name must not contain '/'.")
        if params.get("EventSourceName"):
            raise fault("ResourceNotFoundException", f"Event source {params['EventSourceName']} does not exist.")
        tags = {t["Key"]: t["Value"] for t in params.get("Tags") or []}
        bus = Bus(
            name,
            bus_arn(ctx.region, ctx.account_id, name),
            ctx.region,
            ctx.account_id,
            self._engine_time(),
            params.get("Description"),
            tags,
            params.get("DeadLetterConfig"),
            kms_key=params.get("KmsKeyIdentifier") or None,
        )
        self._engine.save_bus(bus)
        out: dict[str, Any] = {"EventBusArn": bus.arn}
        if bus.description is not None:
            out["Description"] = bus.description
        if bus.kms_key:
            out["KmsKeyIdentifier"] = bus.kms_key
        if bus.dead_letter:
            out["DeadLetterConfig"] = bus.dead_letter
        return out

    def update_event_bus(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        """UpdateEventBus (the default bus when Name is omitted). An omitted KmsKeyIdentifier puts the bus back
        on an AWS owned key, as AWS documents; an omitted Description or DeadLetterConfig is kept, and an empty
        one ("" / {}) removes it."""
        bus = self._bus(ctx, params.get("Name"))
        description, dead_letter = bus.description, bus.dead_letter
        if "Description" in params:
            description = params["Description"] or None
        if "DeadLetterConfig" in params:
            dead_letter = params["DeadLetterConfig"] if (params["DeadLetterConfig"] or {}).get("Arn") else None
        bus = replace(
            bus,
            description=description,
            dead_letter=dead_letter,
            kms_key=params.get("KmsKeyIdentifier") or None,
            modified=self._engine_time(),
        )
        self._engine.save_bus(bus)
        out: dict[str, Any] = {"Arn": bus.arn, "Name": bus.name}
        if bus.kms_key:
            out["KmsKeyIdentifier"] = bus.kms_key
        if bus.description is not None:
            out["Description"] = bus.description
        if bus.dead_letter:
            out["DeadLetterConfig"] = bus.dead_letter
        return out

    def _engine_time(self) -> float:
        return self._engine.now()

    @staticmethod
    def _bus_out(bus: Bus) -> dict[str, Any]:
        out: dict[str, Any] = {"Name": bus.name, "Arn": bus.arn}
        if bus.description is not None:
            out["Description"] = bus.description
        if bus.name != DEFAULT_BUS or bus.created:
            out["CreationTime"] = bus.created
            out["LastModifiedTime"] = bus.modified or bus.created
        elif bus.modified:
            out["LastModifiedTime"] = bus.modified
        return out

    def describe_event_bus(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        bus = self._bus(ctx, params.get("Name"))
        out = self._bus_out(bus)
        if bus.kms_key:
            out["KmsKeyIdentifier"] = bus.kms_key
        if bus.dead_letter:
            out["DeadLetterConfig"] = bus.dead_letter
        if bus.policy:
            out["Policy"] = bus.policy
        return out

    def put_permission(self, ctx: CallContext, params: dict[str, Any]) -> None:
        """A bus's resource policy: stored and shown by DescribeEventBus (Lamina has one account, so it decides
        nothing yet). Either a whole `Policy`, or one statement from Action/Principal/StatementId/Condition."""
        bus = self._bus(ctx, params.get("EventBusName"))
        if params.get("Policy"):
            try:
                document = json.loads(params["Policy"])
            except ValueError:
                raise fault("ValidationException", "Policy is not valid JSON.") from None
            self._engine.save_bus(replace(bus, policy=json.dumps(document, separators=(",", ":"))))
            return
        for name in ("Action", "Principal", "StatementId"):
            if not params.get(name):
                raise fault("ValidationException", f"Parameter {name} must be specified.")
        if params["Action"] != "events:PutEvents":
            raise fault("ValidationException", "Provided value in parameter 'action' is not supported.")
        principal = params["Principal"]
        statement: dict[str, Any] = {
            "Sid": params["StatementId"],
            "Effect": "Allow",
            "Principal": "*" if principal == "*" else {"AWS": f"arn:aws:iam::{principal}:root"},
            "Action": "events:PutEvents",
            "Resource": bus.arn,
        }
        condition = params.get("Condition")
        if condition:
            statement["Condition"] = {condition["Type"]: {condition["Key"]: condition["Value"]}}
        document = json.loads(bus.policy) if bus.policy else {"Version": "2012-10-17", "Statement": []}
        statements = [s for s in document.get("Statement", []) if s.get("Sid") != statement["Sid"]]
        document["Statement"] = [*statements, statement]
        self._engine.save_bus(replace(bus, policy=json.dumps(document, separators=(",", ":"))))

    def remove_permission(self, ctx: CallContext, params: dict[str, Any]) -> None:
        bus = self._bus(ctx, params.get("EventBusName"))
        if params.get("RemoveAllPermissions"):
            self._engine.save_bus(replace(bus, policy=None))
            return
        if not bus.policy:
            raise fault("ResourceNotFoundException", "EventBus does not have a policy.")
        document = json.loads(bus.policy)
        statements = document.get("Statement", [])
        kept = [s for s in statements if s.get("Sid") != params.get("StatementId")]
        if len(kept) == len(statements):
            raise fault("ResourceNotFoundException", "Statement with the provided id does not exist.")
        document["Statement"] = kept
        self._engine.save_bus(replace(bus, policy=json.dumps(document, separators=(",", ":")) if kept else None))

    def list_event_buses(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        prefix = params.get("NamePrefix") or ""
        buses = [b for b in self._engine.buses_in(ctx.region, ctx.account_id) if b.name.startswith(prefix)]
        page, token = page_of(buses, params)
        out: dict[str, Any] = {"EventBuses": [self._bus_out(b) for b in page]}
        if token:
            out["NextToken"] = token
        return out

    def delete_event_bus(self, ctx: CallContext, params: dict[str, Any]) -> None:
        name = params["Name"]
        if name == DEFAULT_BUS:
            raise fault("ValidationException", "Cannot delete event bus default.")
        bus = self._engine.bus(ctx.region, ctx.account_id, name)
        if bus is not None:
            self._engine.delete_bus(bus)

    # -- rules ----------------------------------------------------------------------------------
    def _rule(self, ctx: CallContext, name: str, bus_name: str | None) -> Rule:
        bus = self._bus(ctx, bus_name)
        rule = self._engine.rules.get(rule_arn(ctx.region, ctx.account_id, bus.name, name))
        if rule is None:
            raise fault("ResourceNotFoundException", f"Rule {name} does not exist on EventBus {bus.name}.")
        return rule

    def put_rule(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        name = params["Name"]
        pattern, schedule = params.get("EventPattern"), params.get("ScheduleExpression")
        if not pattern and not schedule:
            raise fault("ValidationException", "Parameter(s) EventPattern or ScheduleExpression must be specified.")
        bus = self._bus(ctx, params.get("EventBusName"))
        if schedule:
            if bus.name != DEFAULT_BUS:
                raise fault("ValidationException", "ScheduleExpression is supported only on the default event bus.")
            if not rule_schedules.check(schedule):
                raise fault("ValidationException", "Parameter ScheduleExpression is not valid.")
        if pattern:
            check_pattern(pattern)
        arn = rule_arn(ctx.region, ctx.account_id, bus.name, name)
        old = self._engine.rules.get(arn)
        unmanaged(old)
        tags = dict(old.tags) if old else {}
        tags.update({t["Key"]: t["Value"] for t in params.get("Tags") or []})
        rule = Rule(
            name=name,
            arn=arn,
            bus=bus.name,
            region=ctx.region,
            account=ctx.account_id,
            state=params.get("State") or "ENABLED",
            event_pattern=pattern or None,
            schedule=schedule or None,
            description=params.get("Description"),
            role_arn=params.get("RoleArn"),
            tags=tags,
            targets=list(old.targets) if old else [],
            created=old.created if old else self._engine_time(),
        )
        self._engine.save_rule(rule)
        return {"RuleArn": arn}

    @staticmethod
    def _rule_out(rule: Rule) -> dict[str, Any]:
        out: dict[str, Any] = {"Name": rule.name, "Arn": rule.arn}
        if rule.event_pattern is not None:
            out["EventPattern"] = rule.event_pattern
        if rule.schedule is not None:
            out["ScheduleExpression"] = rule.schedule
        out["State"] = rule.state
        if rule.description is not None:
            out["Description"] = rule.description
        if rule.role_arn is not None:
            out["RoleArn"] = rule.role_arn
        if rule.managed_by is not None:
            out["ManagedBy"] = rule.managed_by
        out["EventBusName"] = rule.bus
        return out

    def describe_rule(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        rule = self._rule(ctx, params["Name"], params.get("EventBusName"))
        out = self._rule_out(rule)
        out["CreatedBy"] = rule.account
        return out

    def list_rules(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        bus = self._bus(ctx, params.get("EventBusName"))
        prefix = params.get("NamePrefix") or ""
        rules = [r for r in self._engine.rules_of(bus) if r.name.startswith(prefix)]
        page, token = page_of(rules, params)
        out: dict[str, Any] = {"Rules": [self._rule_out(r) for r in page]}
        if token:
            out["NextToken"] = token
        return out

    def delete_rule(self, ctx: CallContext, params: dict[str, Any]) -> None:
        bus = self._bus(ctx, params.get("EventBusName"))
        rule = self._engine.rules.get(rule_arn(ctx.region, ctx.account_id, bus.name, params["Name"]))
        if rule is None:
            return
        unmanaged(rule, bool(params.get("Force")))
        if rule.targets and not params.get("Force"):
            raise fault("ValidationException", "Rule can't be deleted since it has targets.")
        self._engine.delete_rule(rule)

    def enable_rule(self, ctx: CallContext, params: dict[str, Any]) -> None:
        self._set_state(ctx, params, "ENABLED")

    def disable_rule(self, ctx: CallContext, params: dict[str, Any]) -> None:
        self._set_state(ctx, params, "DISABLED")

    def _set_state(self, ctx: CallContext, params: dict[str, Any], state: str) -> None:
        rule = self._rule(ctx, params["Name"], params.get("EventBusName"))
        unmanaged(rule)
        self._engine.save_rule(replace(rule, state=state))  # a copy: memory changes only once stored

    # -- targets --------------------------------------------------------------------------------
    def put_targets(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        rule = self._rule(ctx, params["Rule"], params.get("EventBusName"))
        unmanaged(rule)
        current = {t["Id"]: t for t in rule.targets}
        failed: list[dict[str, str]] = []
        for target in params["Targets"]:
            self._check_target(target)
            arn = str(target["Arn"])
            parts = arn.split(":")
            if len(parts) < 6 or parts[0] != "arn" or parts[2] not in TARGET_SERVICES:
                failed.append(
                    {
                        "TargetId": target["Id"],
                        "ErrorCode": "ValidationException",
                        "ErrorMessage": f"Parameter {arn} is not valid."
                        if len(parts) < 6
                        else f"Lamina does not deliver to targets of service {parts[2]}: Lambda, SQS, SNS and event "
                        "buses are served.",
                    }
                )
                continue
            current[target["Id"]] = {k: v for k, v in target.items() if v is not None}
        if len(current) > MAX_TARGETS:
            raise fault("LimitExceededException", "The requested resource exceeds the maximum number allowed.")
        self._engine.save_rule(replace(rule, targets=list(current.values())))
        return {"FailedEntryCount": len(failed), "FailedEntries": failed}

    @staticmethod
    def _check_target(target: dict[str, Any]) -> None:
        target_id = target["Id"]
        arn = str(target.get("Arn", ""))
        if (
            arn.startswith("arn:aws:sqs:")
            and arn.endswith(".fifo")
            and not (target.get("SqsParameters") or {}).get("MessageGroupId")
        ):
            raise fault("ValidationException", f"Parameter(s) SqsParameters must be specified for target: {target_id}.")
        given = [k for k in ("Input", "InputPath", "InputTransformer") if target.get(k) is not None]
        if len(given) > 1:
            raise fault(
                "ValidationException",
                f"Only one of Input, InputPath, or InputTransformer must be provided for target {target_id}.",
            )
        if target.get("Input") is not None:
            try:
                json.loads(target["Input"])
            except ValueError:
                raise fault(
                    "ValidationException", f"Provided input for target {target_id} is not a valid JSON text."
                ) from None
        if target.get("InputPath") is not None:
            try:
                input_transform.check_path(target["InputPath"])
            except input_transform.BadPath:
                raise fault("ValidationException", f"Provided InputPath for target {target_id} is not valid.") from None
        transformer = target.get("InputTransformer")
        if transformer is not None:
            paths = transformer.get("InputPathsMap") or {}
            if len(paths) > input_transform.MAX_PATHS:
                raise fault("ValidationException", "InputPathsMap has more than 100 elements.")
            for key, path in paths.items():
                if key.startswith(input_transform.RESERVED_PREFIX):
                    raise fault("ValidationException", f"{key} is a reserved keyword.")
                try:
                    input_transform.check_path(path)
                except input_transform.BadPath:
                    raise fault("ValidationException", f"{path} is an invalid JSON path.") from None

    def remove_targets(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        rule = self._rule(ctx, params["Rule"], params.get("EventBusName"))
        unmanaged(rule, bool(params.get("Force")))
        ids = set(params["Ids"])
        self._engine.save_rule(replace(rule, targets=[t for t in rule.targets if t["Id"] not in ids]))
        return {"FailedEntryCount": 0, "FailedEntries": []}

    def list_targets_by_rule(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        rule = self._rule(ctx, params["Rule"], params.get("EventBusName"))
        page, token = page_of(rule.targets, params)
        out: dict[str, Any] = {"Targets": page}
        if token:
            out["NextToken"] = token
        return out

    def list_rule_names_by_target(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        bus = self._bus(ctx, params.get("EventBusName"))
        arn = params["TargetArn"]
        names = [r.name for r in self._engine.rules_of(bus) if any(t["Arn"] == arn for t in r.targets)]
        page, token = page_of(names, params)
        out: dict[str, Any] = {"RuleNames": page}
        if token:
            out["NextToken"] = token
        return out

    # -- events ---------------------------------------------------------------------------------
    def put_events(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        entries = params["Entries"]
        if sum(entry_size(e) for e in entries) > MAX_REQUEST:
            raise fault("ValidationException", "Total size of the entries in the request is over the limit.")
        results: list[Accepted] = []
        by_bus: dict[str, tuple[Bus, list[dict[str, Any]]]] = {}
        for entry in entries:
            accepted, bus, event = self._accept(ctx, entry)
            results.append(accepted)
            if bus is not None and event is not None:
                by_bus.setdefault(bus.arn, (bus, []))[1].append(event)
        deliveries = []
        archived = []
        for bus, events in by_bus.values():
            for event in events:
                deliveries.extend(self._engine.route(bus, event))
                archived.extend(self._engine.archive(bus, event))
        self._engine.commit(deliveries, archived=archived)  # committed before the answer: nothing accepted is lost
        out: list[dict[str, Any]] = []
        for r in results:
            if r.event_id is not None:
                out.append({"EventId": r.event_id})
            else:
                out.append({"ErrorCode": r.error_code, "ErrorMessage": r.error_message})
        return {"FailedEntryCount": sum(1 for r in results if r.event_id is None), "Entries": out}

    def _accept(self, ctx: CallContext, entry: dict[str, Any]) -> tuple[Accepted, Bus | None, dict[str, Any] | None]:
        for name in ("Source", "DetailType", "Detail"):
            if not entry.get(name):
                reason = f"Parameter {name} is not valid. Reason: {name} is a required argument."
                return Accepted(error_code="InvalidArgument", error_message=reason), None, None
        try:
            detail = json.loads(entry["Detail"])
        except ValueError:
            detail = None
        if not isinstance(detail, dict):
            return Accepted(error_code="MalformedDetail", error_message="Detail is malformed."), None, None
        name = self._bus_name(entry.get("EventBusName"))
        bus = self._engine.bus(ctx.region, ctx.account_id, name)
        if bus is None:
            message = f"Event bus {name} does not exist."
            return Accepted(error_code="EventBusNotFound", error_message=message), None, None
        time = entry.get("Time")
        event = self._engine.new_event(
            ctx.region,
            ctx.account_id,
            entry["Source"],
            entry["DetailType"],
            detail,
            list(entry.get("Resources") or []),
            float(time) if time is not None else None,
        )
        return Accepted(event_id=event["id"]), bus, event

    def test_event_pattern(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        pattern = check_pattern(params["EventPattern"])
        try:
            event = json.loads(params["Event"])
        except ValueError:
            event = None
        if not isinstance(event, dict) or any(name not in event for name in EVENT_FIELDS):
            raise fault("ValidationException", "Parameter Event is not valid.")
        return {"Result": patterns.matches(pattern, event)}

    # -- tags -----------------------------------------------------------------------------------
    def _tagged(self, ctx: CallContext, arn: str) -> Bus | Rule:
        rule = self._engine.rules.get(arn)
        if rule is not None:
            return rule
        if ":event-bus/" in arn:
            bus = self._engine.bus(ctx.region, ctx.account_id, arn.split(":event-bus/", 1)[1])
            if bus is not None and bus.arn == arn:
                return bus
            raise fault("ResourceNotFoundException", f"Event bus {arn.split(':event-bus/', 1)[1]} does not exist.")
        name = arn.rsplit("/", 1)[-1]
        bus_name = arn.split(":rule/", 1)[-1].rsplit("/", 1)[0] if arn.count("/") > 1 else DEFAULT_BUS
        raise fault("ResourceNotFoundException", f"Rule {name} does not exist on EventBus {bus_name}.")

    def _save(self, resource: Bus | Rule) -> None:
        if isinstance(resource, Rule):
            self._engine.save_rule(resource)
        else:
            self._engine.save_bus(resource)

    def tag_resource(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        resource = self._tagged(ctx, params["ResourceARN"])
        unmanaged(resource if isinstance(resource, Rule) else None)
        self._save(replace(resource, tags={**resource.tags, **{t["Key"]: t["Value"] for t in params["Tags"]}}))
        return {}

    def untag_resource(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        resource = self._tagged(ctx, params["ResourceARN"])
        unmanaged(resource if isinstance(resource, Rule) else None)
        drop = set(params["TagKeys"])
        self._save(replace(resource, tags={k: v for k, v in resource.tags.items() if k not in drop}))
        return {}

    def list_tags_for_resource(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        resource = self._tagged(ctx, params["ResourceARN"])
        return {"Tags": [{"Key": k, "Value": v} for k, v in resource.tags.items()]}
