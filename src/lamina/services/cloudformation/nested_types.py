"""AWS::CloudFormation::Stack (and so SAM's AWS::Serverless::Application, which the transform turns into one): a
nested stack made through CloudFormation's own CreateStack/UpdateStack/DeleteStack, called in-process like every
other type's operations. Its template comes from TemplateURL (an object in Lamina's S3); the resource waits, on
the project's clock, until the nested stack settles, and fails as AWS words it when the nested stack rolls back.
`Ref` gives the nested stack's id; `Fn::GetAtt Child.Outputs.Name` its outputs. On the parent's update the
nested stack is updated when its properties changed or when the template at its TemplateURL is no longer the one
it runs (AWS compares the template's content, not the URL)."""

from __future__ import annotations

from typing import Any

from lamina.clock import Clock
from lamina.errors import LaminaError
from lamina.services.cloudformation.resource_types import Call, Made, ProvisionFailed, generated_name
from lamina.services.cloudformation.s3_bodies import object_text
from lamina.services.cloudformation.template_source import s3_location

CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"]
POLL = 0.1  # seconds between looks at the nested stack's status, on the project's clock
GONE = "does not exist"
# the template a nested stack ran before its last update, kept among the resource's attributes for the parent's
# rollback (the URL may hold the new one by then); not something Fn::GetAtt gives
PREVIOUS = "Previous.Template"
MAX_BODY = 51_200  # what UpdateStack takes as a TemplateBody


class _Outputs:
    """What Fn::GetAtt gives of a nested stack: its `Outputs.<Name>`."""

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and key.startswith("Outputs.")


def _parameters(props: dict[str, Any]) -> list[dict[str, str]]:
    given = props.get("Parameters") or {}
    return [{"ParameterKey": str(k), "ParameterValue": _text(v)} for k, v in given.items()]


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    return str(value)


class NestedStack:
    GETATT = _Outputs()

    def __init__(self, clock: Clock) -> None:
        self._clock = clock

    async def _settle(self, call: Call, stack_id: str) -> dict[str, Any]:
        while True:
            stack: dict[str, Any] = (await call("cloudformation", "DescribeStacks", {"StackName": stack_id}))["Stacks"][
                0
            ]
            if not stack["StackStatus"].endswith("_IN_PROGRESS"):
                return stack
            await self._clock.sleep(POLL)

    @staticmethod
    async def _failed(call: Call, stack_id: str) -> list[str]:
        found = (await call("cloudformation", "DescribeStackEvents", {"StackName": stack_id}))["StackEvents"]
        failed = {e["LogicalResourceId"] for e in found if e["ResourceStatus"].endswith("_FAILED")}
        return sorted(failed - {stack_id.split("/")[1]})

    @staticmethod
    def _made(stack: dict[str, Any]) -> Made:
        attributes = {f"Outputs.{o['OutputKey']}": o["OutputValue"] for o in stack.get("Outputs") or []}
        return Made(stack["StackId"], attributes)

    async def create(self, call: Call, stack: str, logical: str, props: dict[str, Any]) -> Made:
        if not props.get("TemplateURL"):
            raise ProvisionFailed("Properties validation failed for resource: #: required key [TemplateURL] not found")
        name = generated_name(stack, logical, 128)
        params: dict[str, Any] = {
            "StackName": name,
            "TemplateURL": str(props["TemplateURL"]),
            "Parameters": _parameters(props),
            "Capabilities": CAPABILITIES,
        }
        if props.get("Tags"):
            params["Tags"] = [{"Key": t["Key"], "Value": str(t["Value"])} for t in props["Tags"]]
        if props.get("NotificationARNs"):
            params["NotificationARNs"] = props["NotificationARNs"]
        stack_id = (await call("cloudformation", "CreateStack", params))["StackId"]
        settled = await self._settle(call, stack_id)
        if settled["StackStatus"] != "CREATE_COMPLETE":
            failed = ", ".join(await self._failed(call, stack_id))
            await self.delete(call, Made(stack_id, {}))  # the parent's rollback takes the rolled-back stack away
            raise ProvisionFailed(
                f"Embedded stack {stack_id} was not successfully created: "
                f"The following resource(s) failed to create: [{failed}]. "
            )
        return self._made(settled)

    async def delete(self, call: Call, made: Made) -> None:
        try:
            await call("cloudformation", "DeleteStack", {"StackName": made.physical_id})
            settled = await self._settle(call, made.physical_id)
        except LaminaError as exc:
            if GONE in exc.message:
                return
            raise
        if settled["StackStatus"] == "DELETE_FAILED":
            raise ProvisionFailed(f"Embedded stack {made.physical_id} was not successfully deleted")

    async def find(self, call: Call, stack: str, logical: str, props: dict[str, Any]) -> Made | None:
        try:
            found = await call("cloudformation", "DescribeStacks", {"StackName": generated_name(stack, logical, 128)})
        except LaminaError:
            return None
        return Made(found["Stacks"][0]["StackId"], {})

    async def stale(self, call: Call, made: Made, props: dict[str, Any]) -> bool:
        """Whether the object at TemplateURL differs from the template the nested stack runs (its properties being
        unchanged)."""
        running = await self._running(call, made.physical_id)
        bucket, key, version = s3_location(str(props.get("TemplateURL") or ""))
        return bool(await object_text(call, bucket, key, version) != running)

    @staticmethod
    async def _running(call: Call, stack_id: str) -> str:
        return str((await call("cloudformation", "GetTemplate", {"StackName": stack_id}))["TemplateBody"])

    async def roll_back(
        self, call: Call, made: Made, to: dict[str, Any], before: dict[str, Any], completed: bool
    ) -> None:
        """The parent's rollback: a nested update that failed rolled itself back already; one that completed goes
        back to the template it ran before (kept at the update: the URL may hold the new one) and the old
        properties."""
        if not completed:
            return
        previous = made.attributes.get(PREVIOUS)
        template = {"TemplateBody": previous} if previous and len(previous.encode()) <= MAX_BODY else None
        await self.update(call, made, to, before, template)

    async def update(
        self, call: Call, made: Made, old: dict[str, Any], new: dict[str, Any], template: dict[str, Any] | None = None
    ) -> Made | None:
        # whatever changed (properties, or only the template behind the same URL), UpdateStack tells: it answers
        # "No updates are to be performed." when the nested stack would stay as it is
        running = await self._running(call, made.physical_id)
        params: dict[str, Any] = {
            "StackName": made.physical_id,
            **(template or {"TemplateURL": str(new["TemplateURL"])}),
            "Parameters": _parameters(new),
            "Capabilities": CAPABILITIES,
        }
        if new.get("Tags"):
            params["Tags"] = [{"Key": t["Key"], "Value": str(t["Value"])} for t in new["Tags"]]
        try:
            await call("cloudformation", "UpdateStack", params)
        except LaminaError as exc:
            if exc.message != "No updates are to be performed.":
                raise
            unchanged = self._made(await self._settle(call, made.physical_id))
            if PREVIOUS in made.attributes:
                unchanged.attributes[PREVIOUS] = made.attributes[PREVIOUS]
            return unchanged
        settled = await self._settle(call, made.physical_id)
        if settled["StackStatus"] != "UPDATE_COMPLETE":
            failed = ", ".join(await self._failed(call, made.physical_id))
            raise ProvisionFailed(
                f"Embedded stack {made.physical_id} was not successfully updated. Currently in "
                f"{settled['StackStatus']} with reason: The following resource(s) failed to update: [{failed}]. "
            )
        updated = self._made(settled)
        updated.attributes[PREVIOUS] = running
        return updated
