"""The CloudFormation API (query protocol): CreateStack, UpdateStack, DescribeStacks, DeleteStack, DescribeStackEvents,
DescribeStackResources, DescribeStackResource, ListStackResources, ListStacks, GetTemplate, ValidateTemplate,
UpdateTerminationProtection, change sets (Create/Describe/Execute/Delete/ListChangeSets), with CloudFormation's
errors. Templates come as TemplateBody or TemplateURL, an object in Lamina's S3 (template_source.py)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

from lamina.clock import Clock
from lamina.services.cloudformation import intrinsics, stack_template
from lamina.services.cloudformation.engine import Stack, StackEngine
from lamina.services.cloudformation.template import check_resources, parse, validation_error
from lamina.services.cloudformation.template_source import MAX_URL_BODY, TemplateSource
from lamina.types import CallContext

PAGE = 100
EXECUTE_WAIT = 2.0  # seconds ExecuteChangeSet waits for the deployment to settle before answering


def _resource(stack: Stack, entry: dict[str, Any], detail: bool = False) -> dict[str, Any]:
    shown: dict[str, Any] = {
        "LogicalResourceId": entry["LogicalResourceId"],
        "PhysicalResourceId": entry.get("PhysicalResourceId", ""),
        "ResourceType": entry["ResourceType"],
        "ResourceStatus": entry["ResourceStatus"],
    }
    if entry.get("ResourceStatusReason"):
        shown["ResourceStatusReason"] = entry["ResourceStatusReason"]
    if detail is not None:
        shown.update({"StackName": stack["StackName"], "StackId": stack["StackId"]})
    return shown


class CloudFormationProvider:
    def __init__(
        self,
        engine: StackEngine,
        managed_policies: Callable[[], dict[str, str]],
        clock: Clock,
        templates: TemplateSource | None = None,
    ) -> None:
        self._engine = engine
        self._templates = templates or TemplateSource()
        self._clock = clock
        self._managed_policies = managed_policies  # name → ARN, the map SAM's transform needs

    async def create_stack(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        name = params["StackName"]
        body, limit = await self._templates.body(params)
        template = parse(body, limit)
        pseudo = intrinsics.pseudo_parameters(
            ctx.region, ctx.account_id, name, f"arn:aws:cloudformation:{ctx.region}:{ctx.account_id}:stack/{name}/*"
        )
        plan = stack_template.plan(
            template, params.get("Parameters") or [], params.get("Capabilities") or [], pseudo, self._managed_policies()
        )
        return {"StackId": self._engine.create(name, body, plan, params)}

    async def update_stack(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        stack = self._engine.find(params["StackName"])
        if params.get("UsePreviousTemplate"):
            if params.get("TemplateBody") or params.get("TemplateURL"):
                raise validation_error("You cannot specify both usePreviousTemplate and Template Body/Template URL")
            body, limit = str(stack["TemplateBody"]), MAX_URL_BODY
        else:
            body, limit = await self._templates.body(params)
        template = parse(body, limit)
        given = self._parameters(stack, params.get("Parameters") or [])
        pseudo = intrinsics.pseudo_parameters(ctx.region, ctx.account_id, stack["StackName"], stack["StackId"])
        plan = stack_template.plan(template, given, params.get("Capabilities") or [], pseudo, self._managed_policies())
        return {"StackId": self._engine.update(stack["StackId"], body, plan)}

    # -- change sets (what `aws cloudformation deploy` and `sam deploy` use) ----------------------
    async def create_change_set(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        name = params["StackName"]
        kind = params.get("ChangeSetType") or "UPDATE"
        if kind == "IMPORT":
            raise validation_error("ChangeSetType IMPORT is not supported by Lamina yet")
        stack = None
        if kind == "UPDATE":
            stack = self._engine.find(name)
        if params.get("UsePreviousTemplate"):
            if stack is None:
                raise validation_error("UsePreviousTemplate needs an existing stack")
            body, limit = str(stack["TemplateBody"]), MAX_URL_BODY
        else:
            body, limit = await self._templates.body(params)
        given = self._parameters(stack, params.get("Parameters") or [])
        stack_id = stack["StackId"] if stack else f"arn:aws:cloudformation:{ctx.region}:{ctx.account_id}:stack/{name}/*"
        pseudo = intrinsics.pseudo_parameters(ctx.region, ctx.account_id, name, stack_id)
        capabilities = params.get("Capabilities") or []
        policies = self._managed_policies()
        plan = stack_template.plan(parse(body, limit), given, capabilities, pseudo, policies, change_set=True)
        change_set_id, stack_id = self._engine.create_change_set(
            name, params["ChangeSetName"], kind, body, plan, params
        )
        return {"Id": change_set_id, "StackId": stack_id}

    def describe_change_set(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        _, record = self._engine.change_set(params["ChangeSetName"], params.get("StackName"))
        shown = {k: v for k, v in record.items() if k not in ("Body", "Plan", "Type")}
        shown["NotificationARNs"] = []
        if not shown["Parameters"]:
            del shown["Parameters"]
        return shown

    def list_change_sets(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        stack = self._engine.find(params["StackName"])
        keys = ("StackId", "StackName", "ChangeSetId", "ChangeSetName", "ExecutionStatus", "Status", "StatusReason")
        summaries = [
            {k: record[k] for k in (*keys, "CreationTime", "Description") if k in record}
            for record in (stack.get("ChangeSets") or {}).values()
        ]
        return {"Summaries": summaries}

    async def execute_change_set(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        """Answers once the deployment has settled, or after EXECUTE_WAIT seconds on the project's clock: the
        aws CLI's `deploy` polls only every 30 s, and small stacks are done well within the wait."""
        task = self._engine.execute_change_set(
            params["ChangeSetName"], params.get("StackName"), bool(params.get("DisableRollback"))
        )
        if task is not None:
            timer = asyncio.ensure_future(self._clock.sleep(EXECUTE_WAIT))
            await asyncio.wait({task, timer}, return_when=asyncio.FIRST_COMPLETED)
            timer.cancel()
        return {}

    def delete_change_set(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        self._engine.delete_change_set(params["ChangeSetName"], params.get("StackName"))
        return {}

    def _parameters(self, stack: Stack | None, given: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Parameters with `UsePreviousValue` taken from the stack's current values."""
        out = []
        for parameter in given:
            key = parameter["ParameterKey"]
            if parameter.get("UsePreviousValue"):
                if stack is None or key not in stack["Values"]:
                    raise validation_error(
                        f"Invalid input for parameter key {key}. Cannot specify usePreviousValue as true for a "
                        "parameter key not in the previous template"
                    )
                value = stack["Values"][key]
                out.append(
                    {"ParameterKey": key, "ParameterValue": ",".join(value) if isinstance(value, list) else value}
                )
            else:
                out.append(parameter)
        return out

    def delete_stack(self, ctx: CallContext, params: dict[str, Any]) -> None:
        self._engine.delete(params["StackName"])

    def update_termination_protection(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        return {
            "StackId": self._engine.set_termination_protection(
                params["StackName"], params["EnableTerminationProtection"]
            )
        }

    def _stack_view(self, stack: Stack) -> dict[str, Any]:
        shown: dict[str, Any] = {
            k: stack[k]
            for k in (
                "StackId",
                "StackName",
                "ParentId",
                "RootId",
                "Description",
                "CreationTime",
                "DeletionTime",
                "LastUpdatedTime",
                "StackStatus",
                "StackStatusReason",
                "DisableRollback",
                "Capabilities",
                "Tags",
                "EnableTerminationProtection",
            )
            if k in stack
        }
        if stack["Parameters"]:
            shown["Parameters"] = stack["Parameters"]
        if stack["Outputs"]:
            shown["Outputs"] = stack["Outputs"]
        shown["NotificationARNs"] = []
        shown["DriftInformation"] = {"StackDriftStatus": "NOT_CHECKED"}
        return shown

    def describe_stacks(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        name = params.get("StackName")
        if name:
            return {"Stacks": [self._stack_view(self._engine.find(name))]}
        live = [s for s in self._engine.stacks() if s["StackStatus"] != "DELETE_COMPLETE"]
        return {"Stacks": [self._stack_view(s) for s in live]}

    def list_stacks(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        wanted = set(params.get("StackStatusFilter") or [])
        summaries = []
        for stack in self._engine.stacks():
            if wanted and stack["StackStatus"] not in wanted:
                continue
            summary: dict[str, Any] = {
                k: stack[k]
                for k in (
                    "StackId",
                    "StackName",
                    "CreationTime",
                    "LastUpdatedTime",
                    "DeletionTime",
                    "StackStatus",
                    "StackStatusReason",
                    "ParentId",
                    "RootId",
                )
                if k in stack
            }
            if "Description" in stack:
                summary["TemplateDescription"] = stack["Description"]
            summary["DriftInformation"] = {"StackDriftStatus": "NOT_CHECKED"}
            summaries.append(summary)
        return {"StackSummaries": summaries}

    def describe_stack_events(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        stack = self._engine.find(params["StackName"])
        events = list(reversed(stack["Events"]))  # newest first
        start = int(params.get("NextToken") or 0)
        out: dict[str, Any] = {"StackEvents": events[start : start + PAGE]}
        if start + PAGE < len(events):
            out["NextToken"] = str(start + PAGE)
        return out

    def describe_stack_resources(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        name = params.get("StackName")
        if not name:
            raise validation_error("StackName must be specified if PhysicalResourceId is not specified")
        stack = self._engine.find(name)
        logical = params.get("LogicalResourceId")
        shown = []
        for entry in stack["Resources"].values():
            if logical and entry["LogicalResourceId"] != logical:
                continue
            view = _resource(stack, entry)
            view["Timestamp"] = entry.get("Timestamp", stack["CreationTime"])
            shown.append(view)
        return {"StackResources": shown}

    def describe_stack_resource(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        stack = self._engine.find(params["StackName"])
        logical = params["LogicalResourceId"]
        entry = stack["Resources"].get(logical)
        if entry is None:
            raise validation_error(f"Resource {logical} does not exist for stack {stack['StackName']}")
        view = _resource(stack, entry)
        view["LastUpdatedTimestamp"] = entry.get("Timestamp", stack["CreationTime"])
        return {"StackResourceDetail": view}

    def list_stack_resources(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        stack = self._engine.find(params["StackName"])
        summaries = []
        for entry in stack["Resources"].values():
            view = _resource(stack, entry)
            view.pop("StackName")
            view.pop("StackId")
            view["LastUpdatedTimestamp"] = entry.get("Timestamp", stack["CreationTime"])
            summaries.append(view)
        return {"StackResourceSummaries": summaries}

    def get_template(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        stack = self._engine.find(params["StackName"])
        if params.get("TemplateStage") == "Processed":
            return {"TemplateBody": json.dumps(stack["Processed"]), "StagesAvailable": ["Original", "Processed"]}
        return {"TemplateBody": stack["TemplateBody"], "StagesAvailable": ["Original", "Processed"]}

    def list_exports(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        return {"Exports": self._engine.exports()}

    def list_imports(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        name = params["ExportName"]
        importers = self._engine.importers(name)
        if not importers:
            raise validation_error(f"Export '{name}' is not imported by any stack.")
        return {"Imports": importers}

    async def get_template_summary(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        if params.get("StackName") and not params.get("TemplateBody") and not params.get("TemplateURL"):
            body = str(self._engine.find(params["StackName"])["TemplateBody"])
        else:
            body, _ = await self._templates.body(params)
        template = parse(body, MAX_URL_BODY)
        summary = self._validate(template)
        definitions = stack_template.declared(template)
        for parameter in summary["Parameters"]:
            definition = definitions[parameter["ParameterKey"]]
            parameter["ParameterType"] = definition.get("Type", "String")
            if "AllowedValues" in definition:
                parameter["ParameterConstraints"] = {"AllowedValues": [str(v) for v in definition["AllowedValues"]]}
        resources = template.get("Resources") or {}
        summary["ResourceTypes"] = sorted({str(r.get("Type")) for r in resources.values() if isinstance(r, dict)})
        summary["Version"] = str(template.get("AWSTemplateFormatVersion", "2010-09-09"))
        return summary

    async def validate_template(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        body, limit = await self._templates.body(params)
        return self._validate(parse(body, limit))

    def _validate(self, template: dict[str, Any]) -> dict[str, Any]:
        transforms = template.get("Transform") or []
        if not transforms:
            check_resources(template)
        shown = []
        for key, definition in stack_template.declared(template).items():
            parameter: dict[str, Any] = {
                "ParameterKey": key,
                "NoEcho": str(definition.get("NoEcho", "false")).lower() == "true",
            }
            if "Default" in definition:
                parameter["DefaultValue"] = str(definition["Default"])
            if "Description" in definition:
                parameter["Description"] = definition["Description"]
            shown.append(parameter)
        out: dict[str, Any] = {"Parameters": shown}
        if "Description" in template:
            out["Description"] = template["Description"]
        resources = (template.get("Resources") or {}).values()
        iam = [r for r in resources if isinstance(r, dict) and str(r.get("Type", "")).startswith("AWS::IAM::")]
        if iam:
            named = any("RoleName" in (r.get("Properties") or {}) for r in iam)
            out["Capabilities"] = ["CAPABILITY_NAMED_IAM" if named else "CAPABILITY_IAM"]
            kinds = ", ".join(sorted({f"{r['Type']}" for r in iam}))
            out["CapabilitiesReason"] = f"The following resource(s) require capabilities: [{kinds}]"
        if transforms:
            out["DeclaredTransforms"] = [transforms] if isinstance(transforms, str) else list(transforms)
        return out
