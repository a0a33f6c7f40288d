"""Stacks: created and deleted asynchronously, resource by resource in dependency order, with the events and
statuses CloudFormation emits, rolled back when a resource fails.

Each stack is one durable document (kind `cfn-stack`, keyed by stack id) written after every step, so a
restart finds where a deployment stood: a creation that was under way is rolled back (what it had made is
deleted, ROLLBACK_COMPLETE), a deletion resumes. Deleted stacks stay listed (DELETE_COMPLETE) as AWS lists
them. Work runs as tasks on the event loop; waits go through the project's clock.

Statuses (the lifecycle, in one place):
    CREATE_IN_PROGRESS → CREATE_COMPLETE
                       → ROLLBACK_IN_PROGRESS → ROLLBACK_COMPLETE | ROLLBACK_FAILED   (a resource failed)
                       → CREATE_FAILED                                                  (DisableRollback)
    CREATE_COMPLETE | UPDATE_COMPLETE | UPDATE_ROLLBACK_COMPLETE
        → UPDATE_IN_PROGRESS → UPDATE_COMPLETE_CLEANUP_IN_PROGRESS → UPDATE_COMPLETE
                             → UPDATE_ROLLBACK_IN_PROGRESS → UPDATE_ROLLBACK_COMPLETE | UPDATE_ROLLBACK_FAILED
    any settled status → DELETE_IN_PROGRESS → DELETE_COMPLETE | DELETE_FAILED

An update changes what it can in place (the type's `update`) and replaces the rest: the new resource is made
during the update and the old one deleted in the cleanup, once everything succeeded. Its journal (what was
made, changed or replaced, with the entry as it was) is part of the stack document, so an update that fails, or
that a crash interrupts, is undone from it.
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import logging
import uuid
from dataclasses import asdict
from typing import Any

from lamina.clock import Clock
from lamina.errors import LaminaError, ServiceFault
from lamina.services.cloudformation import change_sets, intrinsics
from lamina.services.cloudformation.resource_types import (
    NAME_PROPERTIES,
    Call,
    Made,
    ProvisionFailed,
    ResourceType,
    naming,
    random_tail,
)
from lamina.services.cloudformation.stack_template import Plan
from lamina.services.cloudformation.template import validation_error
from lamina.store.documents import DocumentStore

log = logging.getLogger(__name__)
KIND = "cfn-stack"
Stack = dict[str, Any]
SETTLED = {
    "CREATE_COMPLETE",
    "ROLLBACK_COMPLETE",
    "CREATE_FAILED",
    "DELETE_FAILED",
    "ROLLBACK_FAILED",
    "UPDATE_COMPLETE",
    "UPDATE_ROLLBACK_COMPLETE",
    "UPDATE_ROLLBACK_FAILED",
    "REVIEW_IN_PROGRESS",
}
UPDATABLE = {"CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE"}
_TEMPLATE_FIELDS = ("TemplateBody", "Processed", "Parameters", "Values", "Conditions", "Order", "Outputs")


def missing_stack(name: str) -> ServiceFault:
    return validation_error(f"Stack with id {name} does not exist")


# (stack id, root stack id) of the stack whose resource is being made or changed: a nested stack
# (AWS::CloudFormation::Stack) created from inside it records them as its ParentId and RootId.
# The third member is the parent's logical id of the resource being made: a nested stack's creation shows in the
# parent as that resource's "Resource creation Initiated" event, with the new stack's id, as AWS shows it.
_PARENT: contextvars.ContextVar[tuple[str, str, str] | None] = contextvars.ContextVar("cfn_parent", default=None)


class StackEngine:
    def __init__(
        self, store: DocumentStore, clock: Clock, call: Call, types: dict[str, ResourceType], region: str, account: str
    ) -> None:
        self._store = store
        self._clock = clock
        self._call = call
        self._types = types
        self.region = region
        self.account = account
        self._stacks: dict[str, Stack] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._last: asyncio.Task[None] | None = None  # the deployment spawned last (ExecuteChangeSet waits a moment)

    def load(self) -> None:
        self._stacks = self._store.load(KIND)

    def start(self) -> None:
        """Deployments a stop or crash interrupted: creations are rolled back, deletions resumed."""
        for stack in list(self._stacks.values()):
            status = stack["StackStatus"]
            if status in ("CREATE_IN_PROGRESS", "ROLLBACK_IN_PROGRESS"):
                self._spawn(self._roll_back(stack, "Lamina restarted during the deployment."))
            elif status == "DELETE_IN_PROGRESS":
                self._spawn(self._delete(stack))
            elif status in ("UPDATE_IN_PROGRESS", "UPDATE_ROLLBACK_IN_PROGRESS"):
                self._spawn(self._roll_back_update(stack, "Lamina restarted during the update."))
            elif status == "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS":
                self._spawn(self._clean_up(stack))

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def _spawn(self, work: Any) -> asyncio.Task[None]:
        task: asyncio.Task[None] = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        self._last = task
        return task

    async def settled(self) -> None:
        """Waits for every deployment under way (tests, `lamina` commands)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    # -- reading --------------------------------------------------------------------------------
    def find(self, name_or_id: str) -> Stack:
        """A live stack by name, or any stack (deleted ones too) by id."""
        found = self._stacks.get(name_or_id)
        if found is not None:
            return found
        for stack in self._stacks.values():
            if stack["StackName"] == name_or_id and stack["StackStatus"] != "DELETE_COMPLETE":
                return stack
        raise missing_stack(name_or_id)

    def stacks(self) -> list[Stack]:
        return sorted(self._stacks.values(), key=lambda s: -s["CreationTime"])

    # -- writing --------------------------------------------------------------------------------
    def _save(self, stack: Stack) -> None:
        self._store.put(KIND, stack["StackId"], stack)
        self._stacks[stack["StackId"]] = stack

    def _event(self, stack: Stack, logical: str, status: str, reason: str | None = None, props: Any = None) -> None:
        resource = stack["Resources"].get(logical)
        event: dict[str, Any] = {
            "StackId": stack["StackId"],
            "EventId": str(uuid.uuid4()),
            "StackName": stack["StackName"],
            "LogicalResourceId": logical,
            "PhysicalResourceId": stack["StackId"] if resource is None else resource.get("PhysicalResourceId", ""),
            "ResourceType": "AWS::CloudFormation::Stack" if resource is None else resource["ResourceType"],
            "Timestamp": self._clock.time(),
            "ResourceStatus": status,
        }
        if reason:
            event["ResourceStatusReason"] = reason
        if props is not None:
            event["ResourceProperties"] = json.dumps(props)
        stack["Events"].append(event)
        if resource is not None:
            resource["ResourceStatus"] = status
            resource["Timestamp"] = event["Timestamp"]
            if reason:
                resource["ResourceStatusReason"] = reason
        else:
            stack["StackStatus"] = status
            if reason:
                stack["StackStatusReason"] = reason
            else:
                stack.pop("StackStatusReason", None)
        self._save(stack)

    def create(self, name: str, body: str, plan: Plan, request: dict[str, Any]) -> str:
        for existing in self._stacks.values():
            if existing["StackName"] == name and existing["StackStatus"] != "DELETE_COMPLETE":
                raise ServiceFault("AlreadyExistsException", f"Stack [{name}] already exists", 400)
        stack = self._new_stack(name, body, plan, request, "CREATE_IN_PROGRESS")
        parent = _PARENT.get()
        if parent is not None:
            stack["ParentId"], stack["RootId"], logical = parent
        self._event(stack, name, "CREATE_IN_PROGRESS", "User Initiated")
        if parent is not None and (above := self._stacks.get(parent[0])) and logical in above["Resources"]:
            above["Resources"][logical]["PhysicalResourceId"] = stack["StackId"]
            self._event(above, logical, "CREATE_IN_PROGRESS", "Resource creation Initiated")
        self._spawn(self._create(stack))
        return str(stack["StackId"])

    def _new_stack(self, name: str, body: str, plan: Plan, request: dict[str, Any], status: str) -> Stack:
        stack_id = f"arn:aws:cloudformation:{self.region}:{self.account}:stack/{name}/{uuid.uuid4()}"
        stack: Stack = {
            "StackId": stack_id,
            "StackName": name,
            "StackStatus": status,
            "CreationTime": self._clock.time(),
            "TemplateBody": body,
            "Processed": plan.template,
            "Parameters": plan.shown_parameters,
            "Values": plan.parameters,
            "Conditions": plan.conditions,
            "Order": plan.order,
            "Capabilities": request.get("Capabilities") or [],
            "Tags": request.get("Tags") or [],
            "DisableRollback": bool(request.get("DisableRollback")) or request.get("OnFailure") == "DO_NOTHING",
            "DeleteOnFailure": request.get("OnFailure") == "DELETE",
            "EnableTerminationProtection": bool(request.get("EnableTerminationProtection")),
            "Resources": {},
            "Events": [],
            "Outputs": [],
        }
        if "Description" in plan.template:
            stack["Description"] = plan.template["Description"]
        return stack

    def _scope(self, stack: Stack) -> intrinsics.Scope:
        pseudo = intrinsics.pseudo_parameters(self.region, self.account, stack["StackName"], stack["StackId"])
        made = {n: r for n, r in stack["Resources"].items() if "PhysicalResourceId" in r and r.get("Made")}

        def attribute(name: str, key: str) -> Any:
            attributes = made[name].get("Attributes") or {}
            # a type may keep more than AWS documents (what its delete needs); GETATT names what Fn::GetAtt gives
            documented = getattr(self._types.get(made[name]["ResourceType"]), "GETATT", None)
            if key not in attributes or (documented is not None and key not in documented):
                raise intrinsics.template_error(f"resource {name} does not support attribute type {key} in Fn::GetAtt")
            return attributes[key]

        return intrinsics.Scope(
            {**pseudo, **stack["Values"]},
            stack["Processed"].get("Mappings") or {},
            dict(stack["Conditions"]),
            {n: r["PhysicalResourceId"] for n, r in made.items()},
            attribute,
            self.region,
            lambda export: self._export_value(export, stack["StackId"]),
        )

    # -- exports --------------------------------------------------------------------------------
    def exports(self) -> list[dict[str, str]]:
        """Every live stack's exported outputs (ListExports)."""
        found = []
        for stack in self._stacks.values():
            if stack["StackStatus"] in ("DELETE_COMPLETE", "REVIEW_IN_PROGRESS"):
                continue
            for output in stack["Outputs"]:
                if "ExportName" in output:
                    found.append(
                        {
                            "ExportingStackId": stack["StackId"],
                            "Name": output["ExportName"],
                            "Value": output["OutputValue"],
                        }
                    )
        return found

    def _export_value(self, name: str, importer: str) -> str | None:
        for export in self.exports():
            if export["Name"] == name and export["ExportingStackId"] != importer:
                return export["Value"]
        return None

    def importers(self, name: str) -> list[str]:
        """The live stacks that import an export (ListImports)."""
        return [
            s["StackName"]
            for s in self._stacks.values()
            if s["StackStatus"] != "DELETE_COMPLETE" and name in (s.get("Imports") or [])
        ]

    def _check_exports(self, stack: Stack) -> None:
        for output in stack["Outputs"]:
            name = output.get("ExportName")
            if name is None:
                continue
            for export in self.exports():
                if export["Name"] == name and export["ExportingStackId"] != stack["StackId"]:
                    other = export["ExportingStackId"].split("/")[1]
                    raise validation_error(f"Export with name {name} is already exported by stack {other}")

    async def _create(self, stack: Stack) -> None:
        resources = stack["Processed"]["Resources"]
        failed: str | None = None
        for logical in stack["Order"]:
            definition = resources[logical]
            kind = definition["Type"]
            stack["Resources"][logical] = self._planned(logical, kind)
            self._event(stack, logical, "CREATE_IN_PROGRESS")
            try:
                handler = self._types.get(kind)
                if handler is None:
                    raise ProvisionFailed(f"Resource type {kind} is not supported by Lamina")
                props = self._scope(stack).resolve(definition.get("Properties") or {})
                made = await self._make(stack, logical, handler, props)
            except (LaminaError, ProvisionFailed, KeyError, TypeError, ValueError) as exc:
                reason = exc.message if isinstance(exc, LaminaError) else str(exc)
                if isinstance(exc, KeyError):
                    reason = f"Property {exc} cannot be empty."
                self._event(stack, logical, "CREATE_FAILED", reason)
                failed = logical
                break
            except Exception as exc:
                log.exception("stack %s: creating %s failed", stack["StackName"], logical)
                self._event(stack, logical, "CREATE_FAILED", f"Internal failure: {exc}")
                failed = logical
                break
            entry = stack["Resources"][logical]
            made_entry = {"PhysicalResourceId": made.physical_id, "Attributes": made.attributes, "Made": True}
            entry.update({**made_entry, "Props": props})
            self._event(stack, logical, "CREATE_COMPLETE", props=props)
        reason = f"The following resource(s) failed to create: [{failed}]. "
        if failed is None:
            try:
                stack["Outputs"] = self._outputs(stack)
                self._check_exports(stack)
            except LaminaError as exc:
                stack["Outputs"] = []
                failed, reason = stack["StackName"], exc.message + ". "
        if failed is None:
            self._event(stack, stack["StackName"], "CREATE_COMPLETE")
            return
        if stack["DisableRollback"]:
            self._event(stack, stack["StackName"], "CREATE_FAILED", reason)
            return
        await self._roll_back(stack, reason + "Rollback requested by user.")
        if stack["DeleteOnFailure"] and stack["StackStatus"] == "ROLLBACK_COMPLETE":
            await self._delete(stack)

    def _outputs(self, stack: Stack) -> list[dict[str, Any]]:
        """The stack's outputs; also records which exports its properties and outputs import."""
        scope = self._scope(stack)
        scope.resolve(
            [r.get("Properties") or {} for n, r in stack["Processed"]["Resources"].items() if n in stack["Order"]]
        )
        outputs = []
        for key, output in (stack["Processed"].get("Outputs") or {}).items():
            condition = output.get("Condition")
            if condition is not None and not stack["Conditions"].get(condition, False):
                continue
            shown: dict[str, Any] = {"OutputKey": key, "OutputValue": _text(scope.resolve(output["Value"]))}
            if "Description" in output:
                shown["Description"] = output["Description"]
            if "Export" in output:
                shown["ExportName"] = _text(scope.resolve(output["Export"]["Name"]))
            outputs.append(shown)
        stack["Imports"] = sorted(scope.imported)
        return outputs

    @staticmethod
    def _planned(logical: str, kind: str) -> dict[str, Any]:
        """A resource's entry before its create: the tail of the name it will be given is chosen now."""
        return {"LogicalResourceId": logical, "ResourceType": kind, "PhysicalResourceId": "", "NameTail": random_tail()}

    async def _make(self, stack: Stack, logical: str, handler: ResourceType, props: dict[str, Any]) -> Made:
        """Creates a resource once its planned name and properties are committed, so a crash during the create
        leaves enough on record to find (and roll back) what it made."""
        entry = stack["Resources"][logical]
        entry["Props"] = props
        self._save(stack)
        token = _PARENT.set((stack["StackId"], stack.get("RootId") or stack["StackId"], logical))
        try:
            with naming(entry["NameTail"]):
                return await handler.create(self._call, stack["StackName"], logical, props)
        finally:
            _PARENT.reset(token)

    async def _interrupted(self, stack: Stack, entry: dict[str, Any]) -> Made | None:
        """What a create cut off by a restart made (its entry still CREATE_IN_PROGRESS), found by planned name."""
        if entry.get("Made") or entry.get("ResourceStatus") != "CREATE_IN_PROGRESS" or "NameTail" not in entry:
            return None
        finder = getattr(self._types.get(entry["ResourceType"]), "find", None)
        if finder is None or entry.get("Props") is None:
            return None
        try:
            with naming(entry["NameTail"]):
                found: Made | None = await finder(
                    self._call, stack["StackName"], entry["LogicalResourceId"], entry["Props"]
                )
        except LaminaError:
            return None
        if found is not None:
            entry.update({"PhysicalResourceId": found.physical_id, "Attributes": found.attributes, "Made": True})
        return found

    async def _delete_replacement(self, stack: Stack, logical: str, step: dict[str, Any]) -> None:
        """Whatever a replacement's create made before it failed or a crash stopped it, found by planned name."""
        handler = self._types[step["Before"]["ResourceType"]]
        finder = getattr(handler, "find", None)
        if finder is None:
            return
        with naming(step["Tail"]):
            found = await finder(self._call, stack["StackName"], logical, step.get("To") or {})
        if found is not None:
            await handler.delete(self._call, found)

    async def _undo(self, stack: Stack, final: str) -> bool:
        """Deletes what the stack made, newest first; False when something could not be deleted."""
        ok = True
        for logical in reversed(list(stack["Resources"])):
            entry = stack["Resources"][logical]
            if entry["ResourceStatus"] in ("DELETE_COMPLETE", "DELETE_SKIPPED"):
                continue
            policy = stack["Processed"]["Resources"].get(logical, {}).get("DeletionPolicy", "Delete")
            await self._interrupted(stack, entry)
            if not entry.get("Made"):
                self._event(stack, logical, "DELETE_COMPLETE")
                continue
            if policy in ("Retain", "RetainExceptOnCreate") and final == "DELETE_COMPLETE":
                self._event(stack, logical, "DELETE_SKIPPED")
                continue
            self._event(stack, logical, "DELETE_IN_PROGRESS")
            handler = self._types[entry["ResourceType"]]
            try:
                await handler.delete(self._call, Made(entry["PhysicalResourceId"], entry.get("Attributes") or {}))
            except LaminaError as exc:
                self._event(stack, logical, "DELETE_FAILED", exc.message)
                ok = False
                continue
            entry["Made"] = False
            self._event(stack, logical, "DELETE_COMPLETE")
        return ok

    async def _roll_back(self, stack: Stack, reason: str) -> None:
        self._event(stack, stack["StackName"], "ROLLBACK_IN_PROGRESS", reason)
        ok = await self._undo(stack, "ROLLBACK_COMPLETE")
        stack["Outputs"] = []
        self._event(stack, stack["StackName"], "ROLLBACK_COMPLETE" if ok else "ROLLBACK_FAILED")

    # -- updates --------------------------------------------------------------------------------
    def update(self, name_or_id: str, body: str, plan: Plan) -> str:
        stack = self.find(name_or_id)
        if stack["StackStatus"] not in UPDATABLE:
            raise validation_error(
                f"Stack:{stack['StackId']} is in {stack['StackStatus']} state and can not be updated."
            )
        if plan.template == stack["Processed"] and plan.parameters == stack["Values"]:
            raise validation_error("No updates are to be performed.")
        stack["Previous"] = {key: stack[key] for key in _TEMPLATE_FIELDS}
        stack.update(
            TemplateBody=body,
            Processed=plan.template,
            Parameters=plan.shown_parameters,
            Values=plan.parameters,
            Conditions=plan.conditions,
            Order=plan.order,
            LastUpdatedTime=self._clock.time(),
            Journal=[],
        )
        self._event(stack, stack["StackName"], "UPDATE_IN_PROGRESS", "User Initiated")
        self._spawn(self._update(stack))
        return str(stack["StackId"])

    async def _update(self, stack: Stack) -> None:
        resources = stack["Processed"]["Resources"]
        failed: str | None = None
        for logical in stack["Order"]:
            definition = resources[logical]
            kind = definition["Type"]
            entry = stack["Resources"].get(logical)
            existed = entry is not None and bool(entry.get("Made")) and entry["ResourceType"] == kind
            try:
                handler = self._types.get(kind)
                if handler is None:
                    raise ProvisionFailed(f"Resource type {kind} is not supported by Lamina")
                props = self._scope(stack).resolve(definition.get("Properties") or {})
                if existed and entry is not None and entry.get("Props") == props:
                    # unchanged properties; a nested stack may still have a new template behind the same URL
                    stale = getattr(handler, "stale", None)
                    current = Made(entry["PhysicalResourceId"], entry.get("Attributes") or {})
                    if stale is None or not await stale(self._call, current, props):
                        continue
                if not existed:
                    await self._add(stack, logical, kind, handler, props)
                    continue
                assert entry is not None
                await self._change(stack, logical, entry, handler, props)
            except (LaminaError, ProvisionFailed, KeyError, TypeError, ValueError) as exc:
                reason = exc.message if isinstance(exc, LaminaError) else str(exc)
                if isinstance(exc, KeyError):
                    reason = f"Property {exc} cannot be empty."
                self._event(stack, logical, "UPDATE_FAILED" if existed else "CREATE_FAILED", reason)
                failed = logical
                break
        reason = f"The following resource(s) failed to update: [{failed}]. "
        if failed is None:
            try:
                stack["Outputs"] = self._outputs(stack)
                self._check_exports(stack)
            except LaminaError as exc:
                failed, reason = stack["StackName"], exc.message + ". "
        if failed is not None:
            await self._roll_back_update(stack, reason)
            return
        self._event(stack, stack["StackName"], "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS")
        await self._clean_up(stack)

    async def _add(self, stack: Stack, logical: str, kind: str, handler: ResourceType, props: dict[str, Any]) -> None:
        stack["Resources"][logical] = self._planned(logical, kind)
        stack["Journal"].append({"Logical": logical, "Action": "added"})
        self._event(stack, logical, "CREATE_IN_PROGRESS")
        made = await self._make(stack, logical, handler, props)
        entry = stack["Resources"][logical]
        entry.update(
            {"PhysicalResourceId": made.physical_id, "Attributes": made.attributes, "Made": True, "Props": props}
        )
        self._event(stack, logical, "CREATE_COMPLETE", props=props)

    async def _change(
        self, stack: Stack, logical: str, entry: dict[str, Any], handler: ResourceType, props: dict[str, Any]
    ) -> None:
        before = json.loads(json.dumps(entry))
        current = Made(entry["PhysicalResourceId"], entry.get("Attributes") or {})
        updater = getattr(handler, "update", None)
        self._event(stack, logical, "UPDATE_IN_PROGRESS")
        stack["Journal"].append({"Logical": logical, "Action": "changing", "Before": before, "To": props})
        self._save(stack)
        made = None if updater is None else await updater(self._call, current, entry.get("Props") or {}, props)
        action = "changed"
        if made is None:
            name = NAME_PROPERTIES.get(entry["ResourceType"])
            if name is not None and name in props and props.get(name) == (entry.get("Props") or {}).get(name):
                raise ProvisionFailed(
                    "CloudFormation cannot update a stack when a custom-named resource requires replacing. "
                    f"Rename {props[name]} and update the stack again."
                )
            step = stack["Journal"][-1]
            step.update(Action="replacing", Tail=random_tail())  # the new one's name, on record before it is made
            self._save(stack)
            with naming(step["Tail"]):
                made = await handler.create(self._call, stack["StackName"], logical, props)
            action = "replaced"
        stack["Journal"][-1]["Action"] = action
        entry.update({"PhysicalResourceId": made.physical_id, "Attributes": made.attributes, "Props": props})
        self._event(stack, logical, "UPDATE_COMPLETE", props=props)

    async def _clean_up(self, stack: Stack) -> None:
        """After a successful update: the replaced resources' old selves and the removed resources go."""
        for step in reversed(stack.get("Journal") or []):
            if step["Action"] == "replaced":
                old = step["Before"]
                await self._delete_quietly(old)
        live = set(stack["Order"])
        for logical in reversed(list(stack["Resources"])):
            if logical in live:
                continue
            entry = stack["Resources"][logical]
            if entry.get("Made"):
                policy = (stack["Previous"]["Processed"]["Resources"].get(logical) or {}).get(
                    "DeletionPolicy", "Delete"
                )
                if policy == "Retain":
                    self._event(stack, logical, "DELETE_SKIPPED")
                else:
                    self._event(stack, logical, "DELETE_IN_PROGRESS")
                    await self._delete_quietly(entry)
                    self._event(stack, logical, "DELETE_COMPLETE")
            del stack["Resources"][logical]
        stack.pop("Previous", None)
        stack.pop("Journal", None)
        self._event(stack, stack["StackName"], "UPDATE_COMPLETE")

    async def _delete_quietly(self, entry: dict[str, Any]) -> None:
        handler = self._types.get(entry["ResourceType"])
        if handler is None or not entry.get("Made"):
            return
        try:
            await handler.delete(self._call, Made(entry["PhysicalResourceId"], entry.get("Attributes") or {}))
        except LaminaError as exc:
            log.warning("could not delete %s %s: %s", entry["ResourceType"], entry["PhysicalResourceId"], exc.message)

    async def _roll_back_update(self, stack: Stack, reason: str) -> None:
        """Undoes an update from its journal, newest step first, and restores the previous template."""
        if stack["StackStatus"] != "UPDATE_ROLLBACK_IN_PROGRESS":
            self._event(stack, stack["StackName"], "UPDATE_ROLLBACK_IN_PROGRESS", reason)
        ok = True
        for step in reversed(stack.get("Journal") or []):
            logical = step["Logical"]
            entry = stack["Resources"].get(logical)
            try:
                if step["Action"] == "added":
                    if entry is not None:
                        await self._interrupted(stack, entry)
                        if entry.get("Made"):
                            self._event(stack, logical, "DELETE_IN_PROGRESS")
                            await self._delete_quietly(entry)
                        self._event(stack, logical, "DELETE_COMPLETE")
                        del stack["Resources"][logical]
                    continue
                before = step["Before"]
                if entry is None:
                    stack["Resources"][logical] = before
                    continue
                self._event(stack, logical, "UPDATE_IN_PROGRESS")
                if step["Action"] == "replaced":
                    await self._delete_quietly(entry)  # the new one; the old one was never touched
                elif step["Action"] == "replacing":  # the new one's create failed or was cut off by a crash
                    await self._delete_replacement(stack, logical, step)
                else:  # changed (or changing when it failed): change it back
                    handler = self._types[entry["ResourceType"]]
                    updater = getattr(handler, "update", None)
                    rewinder = getattr(handler, "roll_back", None)  # a type that undoes more than its properties
                    current = Made(entry["PhysicalResourceId"], entry.get("Attributes") or {})
                    to, props = step.get("To") or {}, before.get("Props") or {}
                    if rewinder is not None:
                        await rewinder(self._call, current, to, props, step["Action"] == "changed")
                    elif updater is not None:
                        await updater(self._call, current, to, props)
                stack["Resources"][logical] = before
                self._event(stack, logical, "UPDATE_COMPLETE")
            except (LaminaError, ProvisionFailed) as exc:
                ok = False
                self._event(stack, logical, "UPDATE_FAILED", exc.message if isinstance(exc, LaminaError) else str(exc))
        previous = stack.pop("Previous", None)
        if previous is not None:
            stack.update(previous)  # the template, parameters and outputs as they were
        stack.pop("Journal", None)
        self._event(stack, stack["StackName"], "UPDATE_ROLLBACK_COMPLETE" if ok else "UPDATE_ROLLBACK_FAILED")

    # -- change sets ----------------------------------------------------------------------------
    def create_change_set(
        self, name: str, change_set: str, kind: str, body: str, plan: Plan, request: dict[str, Any]
    ) -> tuple[str, str]:
        """A change set of `kind` CREATE (the stack is made in REVIEW_IN_PROGRESS, as AWS makes it) or UPDATE."""
        if kind == "CREATE":
            for existing in self._stacks.values():
                if existing["StackName"] == name and existing["StackStatus"] != "DELETE_COMPLETE":
                    if existing["StackStatus"] != "REVIEW_IN_PROGRESS":
                        raise ServiceFault("AlreadyExistsException", f"Stack [{name}] already exists", 400)
                    stack = existing
                    break
            else:
                stack = self._new_stack(name, body, plan, request, "REVIEW_IN_PROGRESS")
                self._event(stack, name, "REVIEW_IN_PROGRESS", "User Initiated")
        else:
            stack = self.find(name)
            if stack["StackStatus"] not in UPDATABLE:
                raise validation_error(
                    f"Stack:{stack['StackId']} is in {stack['StackStatus']} state and can not be updated."
                )
        existing_set = stack.setdefault("ChangeSets", {}).get(change_set)
        # An executed change set's name may be used again (the aws CLI names them by the second).
        if existing_set is not None and existing_set["ExecutionStatus"] != "EXECUTE_COMPLETE":
            raise ServiceFault("AlreadyExistsException", f"ChangeSet {change_set} already exists", 400)
        found = change_sets.changes(stack if kind == "UPDATE" else None, plan)
        record: dict[str, Any] = {
            "ChangeSetName": change_set,
            "ChangeSetId": f"arn:aws:cloudformation:{self.region}:{self.account}:changeSet/{change_set}/{uuid.uuid4()}",
            "StackId": stack["StackId"],
            "StackName": stack["StackName"],
            "Type": kind,
            "CreationTime": self._clock.time(),
            "Status": "CREATE_COMPLETE" if found else "FAILED",
            "ExecutionStatus": "AVAILABLE" if found else "UNAVAILABLE",
            "Parameters": plan.shown_parameters,
            "Capabilities": request.get("Capabilities") or [],
            "Changes": found,
            "Body": body,
            "Plan": asdict(plan),
        }
        if not found:
            record["StatusReason"] = change_sets.NO_CHANGES
        if request.get("Description"):
            record["Description"] = request["Description"]
        stack["ChangeSets"][change_set] = record
        self._save(stack)
        return record["ChangeSetId"], stack["StackId"]

    def change_set(self, change_set: str, stack_name: str | None) -> tuple[Stack, dict[str, Any]]:
        candidates = [self.find(stack_name)] if stack_name else list(self._stacks.values())
        for stack in candidates:
            for record in (stack.get("ChangeSets") or {}).values():
                if change_set in (record["ChangeSetName"], record["ChangeSetId"]):
                    return stack, record
        raise ServiceFault("ChangeSetNotFound", f"ChangeSet [{change_set}] does not exist", 404)

    def delete_change_set(self, change_set: str, stack_name: str | None) -> None:
        stack, record = self.change_set(change_set, stack_name)
        del stack["ChangeSets"][record["ChangeSetName"]]
        self._save(stack)

    def execute_change_set(
        self, change_set: str, stack_name: str | None, disable_rollback: bool
    ) -> asyncio.Task[None] | None:
        stack, record = self.change_set(change_set, stack_name)
        if record["ExecutionStatus"] != "AVAILABLE":
            raise ServiceFault(
                "InvalidChangeSetStatus",
                f"ChangeSet [{record['ChangeSetId']}] cannot be executed in its current execution status of "
                f"[{record['ExecutionStatus']}]",
                400,
            )
        plan = Plan(**record["Plan"])
        # Executing one deletes the stack's other change sets: they no longer describe a change to this stack.
        stack["ChangeSets"] = {record["ChangeSetName"]: record}
        record["ExecutionStatus"] = "EXECUTE_COMPLETE"
        if record["Type"] == "CREATE":
            stack.update(
                TemplateBody=record["Body"],
                Processed=plan.template,
                Parameters=plan.shown_parameters,
                Values=plan.parameters,
                Conditions=plan.conditions,
                Order=plan.order,
                DisableRollback=disable_rollback,
            )
            if "Description" in plan.template:
                stack["Description"] = plan.template["Description"]
            self._event(stack, stack["StackName"], "CREATE_IN_PROGRESS", "User Initiated")
            return self._spawn(self._create(stack))
        self.update(stack["StackId"], record["Body"], plan)
        return self._last

    def delete(self, name_or_id: str) -> None:
        try:
            stack = self.find(name_or_id)
        except ServiceFault:
            return  # CloudFormation answers a delete of a stack that does not exist with success
        if stack["StackStatus"] == "DELETE_COMPLETE" or stack["StackStatus"] == "DELETE_IN_PROGRESS":
            return
        if stack["EnableTerminationProtection"]:
            raise validation_error(
                f"Stack [{stack['StackName']}] cannot be deleted while TerminationProtection is enabled"
            )
        if stack["StackStatus"] not in SETTLED:
            raise validation_error(
                f"Stack [{stack['StackName']}] cannot be deleted while in status {stack['StackStatus']}"
            )
        self._event(stack, stack["StackName"], "DELETE_IN_PROGRESS", "User Initiated")
        self._spawn(self._delete(stack))

    async def _delete(self, stack: Stack) -> None:
        if stack["StackStatus"] != "DELETE_IN_PROGRESS":
            self._event(stack, stack["StackName"], "DELETE_IN_PROGRESS", "User Initiated")
        for output in stack["Outputs"]:
            users = [n for n in self.importers(output.get("ExportName", "")) if n != stack["StackName"]]
            if "ExportName" in output and users:
                reason = f"Export {output['ExportName']} cannot be deleted as it is in use by {', '.join(users)}"
                self._event(stack, stack["StackName"], "DELETE_FAILED", reason)
                return
        ok = await self._undo(stack, "DELETE_COMPLETE")
        if ok:
            stack["DeletionTime"] = self._clock.time()
            stack["Outputs"] = []
            self._event(stack, stack["StackName"], "DELETE_COMPLETE")
        else:
            failed = [n for n, r in stack["Resources"].items() if r["ResourceStatus"] == "DELETE_FAILED"]
            self._event(
                stack,
                stack["StackName"],
                "DELETE_FAILED",
                f"The following resource(s) failed to delete: [{', '.join(failed)}]. ",
            )

    def set_termination_protection(self, name_or_id: str, enabled: bool) -> str:
        stack = self.find(name_or_id)  # in place: a deployment under way holds the same document
        stack["EnableTerminationProtection"] = enabled
        self._save(stack)
        return str(stack["StackId"])


def _text(value: Any) -> str:
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    return str(value)
