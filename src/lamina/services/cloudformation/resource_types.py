"""The resource types a stack can hold, each provisioned through Lamina's own API operations (`Call`: service,
operation, parameters → result; api/local_calls.py), so a stack's resources are exactly what the API makes.

A type turns resolved Properties into calls: `create` answers the physical id (what `Ref` gives) and the
attributes `Fn::GetAtt` reads; `delete` undoes it from what `create` recorded. Names CloudFormation generates
follow AWS's form `<stack>-<logical id>-<13 random characters>`, cut to each service's limit.
"""

from __future__ import annotations

import base64
import contextvars
import io
import json
import secrets
import string
import zipfile
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol

from lamina.clock import Clock
from lamina.errors import LaminaError, NotFound
from lamina.services.cloudformation import tagging
from lamina.services.sqs import attributes as queue_attributes

Call = Callable[[str, str, dict[str, Any]], Awaitable[dict[str, Any]]]
_RANDOM = string.ascii_uppercase + string.digits


@dataclass
class Made:
    physical_id: str
    attributes: dict[str, Any]


class ResourceType(Protocol):
    async def create(self, call: Call, stack: str, logical: str, props: dict[str, Any]) -> Made: ...
    async def delete(self, call: Call, made: Made) -> None: ...


class Recoverable(Protocol):
    """A type whose generated name finds what a create cut off by a crash made: `find` answers the resource
    `create` would have made under the same planned name (see `naming`), or None when there is none."""

    async def find(self, call: Call, stack: str, logical: str, props: dict[str, Any]) -> Made | None: ...


class Updatable(Protocol):
    """A type that changes some properties in place. `update` answers the resource as it now is, or None when
    the change needs a replacement (a new resource made, the old one deleted once the update succeeded)."""

    async def update(self, call: Call, made: Made, old: dict[str, Any], new: dict[str, Any]) -> Made | None: ...


NAME_PROPERTIES = {
    "AWS::SQS::Queue": "QueueName",
    "AWS::SNS::Topic": "TopicName",
    "AWS::IAM::Role": "RoleName",
    "AWS::Lambda::Function": "FunctionName",
    "AWS::DynamoDB::Table": "TableName",
    "AWS::Events::Rule": "Name",
    "AWS::Scheduler::Schedule": "Name",
    "AWS::Logs::LogGroup": "LogGroupName",
    "AWS::S3::Bucket": "BucketName",
    "AWS::Kinesis::Stream": "Name",
}


def _changed(old: dict[str, Any], new: dict[str, Any], *keys: str) -> bool:
    return any(old.get(key) != new.get(key) for key in keys)


class ProvisionFailed(Exception):
    """A resource could not be made; the message is the event's ResourceStatusReason."""


_TAIL: contextvars.ContextVar[str | None] = contextvars.ContextVar("cfn_name_tail", default=None)


def random_tail() -> str:
    return "".join(secrets.choice(_RANDOM) for _ in range(13))


@contextmanager
def naming(tail: str) -> Iterator[None]:
    """Names generated inside end with `tail`: the engine records the tail durably before a create, so after a
    crash the same name (and so what the create made) can be found again."""
    token = _TAIL.set(tail)
    try:
        yield
    finally:
        _TAIL.reset(token)


def generated_name(stack: str, logical: str, limit: int, suffix: str = "") -> str:
    tail = _TAIL.get() or random_tail()
    room = limit - len(tail) - len(suffix) - 2
    stack_part = stack[: max(1, room // 2)] if len(stack) + len(logical) > room else stack
    logical_part = logical[: max(1, room - len(stack_part))]
    return f"{stack_part}-{logical_part}-{tail}{suffix}"


def _json(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _string(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return _json(value) if isinstance(value, dict | list) else str(value)


async def quietly(call: Call, service: str, operation: str, params: dict[str, Any]) -> None:
    """A delete that finds nothing to delete has done its job."""
    try:
        await call(service, operation, params)
    except NotFound:
        pass
    except LaminaError as exc:
        if "NoSuch" not in getattr(exc, "code", "") and "does not exist" not in exc.message:
            raise


class Queue:
    ATTRIBUTES = (
        "DelaySeconds",
        "MaximumMessageSize",
        "MessageRetentionPeriod",
        "ReceiveMessageWaitTimeSeconds",
        "VisibilityTimeout",
        "FifoQueue",
        "ContentBasedDeduplication",
        "DeduplicationScope",
        "FifoThroughputLimit",
        "RedrivePolicy",
        "RedriveAllowPolicy",
        "KmsMasterKeyId",
        "KmsDataKeyReusePeriodSeconds",
        "SqsManagedSseEnabled",
    )

    async def create(self, call: Call, stack: str, logical: str, props: dict[str, Any]) -> Made:
        fifo = bool(props.get("FifoQueue"))
        name = props.get("QueueName") or generated_name(stack, logical, 80, ".fifo" if fifo else "")
        attributes = {key: _string(props[key]) for key in self.ATTRIBUTES if key in props}
        params: dict[str, Any] = {"QueueName": name, "Attributes": attributes}
        if props.get("Tags"):
            params["tags"] = tagging.tag_map(props)
        url = (await call("sqs", "CreateQueue", params))["QueueUrl"]
        found = await call("sqs", "GetQueueAttributes", {"QueueUrl": url, "AttributeNames": ["QueueArn"]})
        return Made(url, {"Arn": found["Attributes"]["QueueArn"], "QueueName": name, "QueueUrl": url})

    async def delete(self, call: Call, made: Made) -> None:
        await quietly(call, "sqs", "DeleteQueue", {"QueueUrl": made.physical_id})

    async def find(self, call: Call, stack: str, logical: str, props: dict[str, Any]) -> Made | None:
        if props.get("QueueName"):
            return None  # a name the user chose may be a queue the stack never made
        name = generated_name(stack, logical, 80, ".fifo" if props.get("FifoQueue") else "")
        try:
            url = (await call("sqs", "GetQueueUrl", {"QueueName": name}))["QueueUrl"]
        except LaminaError:
            return None
        return Made(url, {})

    @staticmethod
    def _default(key: str, new: dict[str, Any]) -> str | None:
        """What a property removed from the template goes back to: SQS's default, "" for a policy or key
        (which SetQueueAttributes takes as "remove it"), None when nothing is to be set."""
        kms = bool(new.get("KmsMasterKeyId"))
        if key == "SqsManagedSseEnabled":
            return "false" if kms else "true"
        if key == "KmsDataKeyReusePeriodSeconds":  # removing the key removes its reuse period with it
            return "300" if kms else None
        if key in ("RedrivePolicy", "RedriveAllowPolicy", "KmsMasterKeyId"):
            return ""
        return queue_attributes.DEFAULTS.get(key) or queue_attributes.FIFO_DEFAULTS.get(key)

    async def update(self, call: Call, made: Made, old: dict[str, Any], new: dict[str, Any]) -> Made | None:
        if _changed(old, new, "QueueName", "FifoQueue"):
            return None
        attributes: dict[str, str] = {}
        for key in self.ATTRIBUTES:
            if key == "FifoQueue":
                continue
            if key in new:
                attributes[key] = _string(new[key])
            elif key in old and (default := self._default(key, new)) is not None:
                attributes[key] = default
        url = made.physical_id
        if attributes:
            await call("sqs", "SetQueueAttributes", {"QueueUrl": url, "Attributes": attributes})
        await tagging.QUEUE.apply(call, url, old, new)
        return made


class Topic:
    # the attributes an update sets, each with SNS's value for it when the template no longer gives it
    RESET = {
        "DisplayName": "",
        "ContentBasedDeduplication": "false",
        "KmsMasterKeyId": "",
        "SignatureVersion": "1",
        "TracingConfig": "PassThrough",
    }

    async def create(self, call: Call, stack: str, logical: str, props: dict[str, Any]) -> Made:
        fifo = bool(props.get("FifoTopic"))
        name = props.get("TopicName") or generated_name(stack, logical, 256, ".fifo" if fifo else "")
        attributes = {key: _string(props[key]) for key in ("FifoTopic", *self.RESET) if key in props}
        params: dict[str, Any] = {"Name": name, "Attributes": attributes}
        if props.get("Tags"):
            params["Tags"] = props["Tags"]
        arn = (await call("sns", "CreateTopic", params))["TopicArn"]
        for subscription in props.get("Subscription") or []:
            await call(
                "sns",
                "Subscribe",
                {"TopicArn": arn, "Protocol": subscription["Protocol"], "Endpoint": subscription["Endpoint"]},
            )
        return Made(arn, {"TopicArn": arn, "TopicName": name})

    async def delete(self, call: Call, made: Made) -> None:
        await quietly(call, "sns", "DeleteTopic", {"TopicArn": made.physical_id})

    async def find(self, call: Call, stack: str, logical: str, props: dict[str, Any]) -> Made | None:
        if props.get("TopicName"):
            return None
        name = generated_name(stack, logical, 256, ".fifo" if props.get("FifoTopic") else "")
        for topic in (await call("sns", "ListTopics", {})).get("Topics", []):
            if topic["TopicArn"].rsplit(":", 1)[1] == name:
                return Made(topic["TopicArn"], {})
        return None

    async def update(self, call: Call, made: Made, old: dict[str, Any], new: dict[str, Any]) -> Made | None:
        if _changed(old, new, "TopicName", "FifoTopic", "Subscription"):
            return None
        arn = made.physical_id
        for key, default in self.RESET.items():
            if old.get(key) != new.get(key):
                value = _string(new[key]) if key in new else default
                params = {"TopicArn": arn, "AttributeName": key, "AttributeValue": value}
                await call("sns", "SetTopicAttributes", params)
        await tagging.TOPIC.apply(call, arn, old, new)
        return made


class Subscription:
    ATTRIBUTES = ("FilterPolicy", "FilterPolicyScope", "RawMessageDelivery", "RedrivePolicy", "DeliveryPolicy")

    async def create(self, call: Call, stack: str, logical: str, props: dict[str, Any]) -> Made:
        attributes = {key: _string(props[key]) for key in self.ATTRIBUTES if key in props}
        params = {
            "TopicArn": props["TopicArn"],
            "Protocol": props["Protocol"],
            "Endpoint": props.get("Endpoint", ""),
            "Attributes": attributes,
            "ReturnSubscriptionArn": True,
        }
        arn = (await call("sns", "Subscribe", params))["SubscriptionArn"]
        return Made(arn, {"Arn": arn})

    async def delete(self, call: Call, made: Made) -> None:
        await quietly(call, "sns", "Unsubscribe", {"SubscriptionArn": made.physical_id})


class Role:
    async def create(self, call: Call, stack: str, logical: str, props: dict[str, Any]) -> Made:
        name = props.get("RoleName") or generated_name(stack, logical, 64)
        params: dict[str, Any] = {
            "RoleName": name,
            "AssumeRolePolicyDocument": _json(props["AssumeRolePolicyDocument"]),
            "Path": props.get("Path", "/"),
        }
        for key in ("Description", "MaxSessionDuration", "Tags"):
            if key in props:
                params[key] = props[key]
        role = (await call("iam", "CreateRole", params))["Role"]
        made = Made(name, {"Arn": role["Arn"], "RoleId": role["RoleId"]})
        try:
            for policy in props.get("Policies") or []:
                await call(
                    "iam",
                    "PutRolePolicy",
                    {
                        "RoleName": name,
                        "PolicyName": policy["PolicyName"],
                        "PolicyDocument": _json(policy["PolicyDocument"]),
                    },
                )
            for arn in props.get("ManagedPolicyArns") or []:
                await call("iam", "AttachRolePolicy", {"RoleName": name, "PolicyArn": arn})
        except LaminaError:
            await self.delete(call, made)
            raise
        return made

    async def delete(self, call: Call, made: Made) -> None:
        name = made.physical_id
        try:
            attached = await call("iam", "ListAttachedRolePolicies", {"RoleName": name})
        except LaminaError:
            return
        for policy in attached.get("AttachedPolicies", []):
            await call("iam", "DetachRolePolicy", {"RoleName": name, "PolicyArn": policy["PolicyArn"]})
        for policy_name in (await call("iam", "ListRolePolicies", {"RoleName": name})).get("PolicyNames", []):
            await call("iam", "DeleteRolePolicy", {"RoleName": name, "PolicyName": policy_name})
        await quietly(call, "iam", "DeleteRole", {"RoleName": name})

    async def find(self, call: Call, stack: str, logical: str, props: dict[str, Any]) -> Made | None:
        if props.get("RoleName"):
            return None
        name = generated_name(stack, logical, 64)
        try:
            await call("iam", "GetRole", {"RoleName": name})
        except LaminaError:
            return None
        return Made(name, {})

    async def update(self, call: Call, made: Made, old: dict[str, Any], new: dict[str, Any]) -> Made | None:
        if _changed(old, new, "RoleName", "Path"):
            return None
        name = made.physical_id
        if old.get("AssumeRolePolicyDocument") != new.get("AssumeRolePolicyDocument"):
            document = _json(new["AssumeRolePolicyDocument"])
            await call("iam", "UpdateAssumeRolePolicy", {"RoleName": name, "PolicyDocument": document})
        if _changed(old, new, "Description", "MaxSessionDuration"):  # removed: IAM's defaults
            change = {
                "Description": new.get("Description", ""),
                "MaxSessionDuration": new.get("MaxSessionDuration", 3600),
            }
            await call("iam", "UpdateRole", {"RoleName": name, **change})
        await tagging.ROLE.apply(call, name, old, new)
        old_inline = {p["PolicyName"]: p["PolicyDocument"] for p in old.get("Policies") or []}
        new_inline = {p["PolicyName"]: p["PolicyDocument"] for p in new.get("Policies") or []}
        for policy, document in new_inline.items():
            if old_inline.get(policy) != document:
                await call(
                    "iam", "PutRolePolicy", {"RoleName": name, "PolicyName": policy, "PolicyDocument": _json(document)}
                )
        for policy in old_inline.keys() - new_inline.keys():
            await call("iam", "DeleteRolePolicy", {"RoleName": name, "PolicyName": policy})
        old_arns, new_arns = set(old.get("ManagedPolicyArns") or []), set(new.get("ManagedPolicyArns") or [])
        for arn in sorted(new_arns - old_arns):
            await call("iam", "AttachRolePolicy", {"RoleName": name, "PolicyArn": arn})
        for arn in sorted(old_arns - new_arns):
            await call("iam", "DetachRolePolicy", {"RoleName": name, "PolicyArn": arn})
        return made


ZIP_DATA = "data:application/zip;base64,"  # an archive inline (Lamina's extension, still read)


def inline_zip(source: str, runtime: str) -> bytes:
    """`Code.ZipFile`: the source as `index.py` or `index.js`, as CloudFormation packages it; or, when it is a
    `data:application/zip;base64,` URI (what `lamina deploy` makes of a local CodeUri), that archive itself."""
    if source.startswith(ZIP_DATA):
        return base64.b64decode(source[len(ZIP_DATA) :])
    buffer = io.BytesIO()
    name = "index.js" if runtime.startswith("nodejs") else "index.py"
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(name, source)
    return buffer.getvalue()


S3_CODE = ("S3Bucket", "S3Key", "S3ObjectVersion")


def function_code(props: dict[str, Any]) -> dict[str, Any]:
    """A function's Code as CreateFunction takes it: the inline ZipFile zipped, or the S3 location (Lambda reads
    the object from Lamina's S3 and answers AWS's error when it is missing)."""
    code = props.get("Code") or {}
    if "ZipFile" in code:
        return {"ZipFile": inline_zip(code["ZipFile"], str(props.get("Runtime", "")))}
    if "S3Bucket" in code or "S3Key" in code:
        return {key: code[key] for key in S3_CODE if key in code}
    if "ImageUri" in code:
        raise ProvisionFailed("Lamina runs zip functions only: AWS::Lambda::Function Code.ImageUri is not supported")
    raise ProvisionFailed("Properties validation failed for resource: #/Code: required key [S3Bucket] not found")


class Function:
    PASSED = (
        "Handler",
        "Runtime",
        "Role",
        "MemorySize",
        "Timeout",
        "Description",
        "Environment",
        "Layers",
        "Architectures",
        "DeadLetterConfig",
        "TracingConfig",
        "EphemeralStorage",
        "LoggingConfig",
        "PackageType",
        "KmsKeyArn",
    )

    def __init__(self, clock: Clock) -> None:
        self._clock = clock

    # UpdateFunctionConfiguration's values for a property removed from the template: Lambda's defaults
    RESET: dict[str, Any] = {
        "Description": "",
        "Timeout": 3,
        "MemorySize": 128,
        "Environment": {"Variables": {}},
        "Layers": [],
        "DeadLetterConfig": {"TargetArn": ""},
        "TracingConfig": {"Mode": "PassThrough"},
        "EphemeralStorage": {"Size": 512},
        "KmsKeyArn": "",
    }
    CODE_LEVEL = ("PackageType", "Architectures")  # not UpdateFunctionConfiguration's: create or UpdateFunctionCode

    @staticmethod
    def _api(params: dict[str, Any]) -> dict[str, Any]:
        """CloudFormation's KmsKeyArn is the API's KMSKeyArn."""
        if "KmsKeyArn" in params:
            params["KMSKeyArn"] = params.pop("KmsKeyArn")
        return params

    async def create(self, call: Call, stack: str, logical: str, props: dict[str, Any]) -> Made:
        name = props.get("FunctionName") or generated_name(stack, logical, 64)
        params: dict[str, Any] = self._api({key: props[key] for key in self.PASSED if key in props})
        params["FunctionName"] = name
        params["Code"] = function_code(props)
        if props.get("Tags"):
            params["Tags"] = tagging.tag_map(props)
        created = await call("lambda", "CreateFunction", params)
        made = Made(name, {"Arn": created["FunctionArn"]})
        if "ReservedConcurrentExecutions" in props:
            concurrency = int(props["ReservedConcurrentExecutions"])
            await call(
                "lambda", "PutFunctionConcurrency", {"FunctionName": name, "ReservedConcurrentExecutions": concurrency}
            )
        for _ in range(600):  # CloudFormation waits for the function to leave Pending
            state = (await call("lambda", "GetFunctionConfiguration", {"FunctionName": name})).get("State")
            if state != "Pending":
                if state == "Failed":
                    raise ProvisionFailed(f"Function {name} failed to become active")
                break
            await self._clock.sleep(0.05)
        return made

    async def delete(self, call: Call, made: Made) -> None:
        await quietly(call, "lambda", "DeleteFunction", {"FunctionName": made.physical_id})

    async def find(self, call: Call, stack: str, logical: str, props: dict[str, Any]) -> Made | None:
        if props.get("FunctionName"):
            return None
        name = generated_name(stack, logical, 64)
        try:
            await call("lambda", "GetFunctionConfiguration", {"FunctionName": name})
        except LaminaError:
            return None
        return Made(name, {})

    async def _settle(self, call: Call, name: str) -> None:
        """CloudFormation waits for each change of a function to finish (LastUpdateStatus) before the next."""
        for _ in range(600):
            config = await call("lambda", "GetFunctionConfiguration", {"FunctionName": name})
            if config.get("State") != "Pending" and config.get("LastUpdateStatus") != "InProgress":
                if config.get("LastUpdateStatus") == "Failed":
                    raise ProvisionFailed(str(config.get("LastUpdateStatusReason", f"Function {name} update failed")))
                return
            await self._clock.sleep(0.05)

    async def update(self, call: Call, made: Made, old: dict[str, Any], new: dict[str, Any]) -> Made | None:
        if _changed(old, new, "FunctionName", "PackageType"):
            return None
        name = made.physical_id
        code = function_code(new)
        changed: dict[str, Any] = {}
        for key in self.PASSED:
            if key in self.CODE_LEVEL or old.get(key) == new.get(key):
                continue
            if key in new:
                changed[key] = new[key]
            elif key == "LoggingConfig":
                changed[key] = {"LogFormat": "Text", "LogGroup": f"/aws/lambda/{name}"}
            elif key in self.RESET:
                changed[key] = self.RESET[key]
        if changed:
            await call("lambda", "UpdateFunctionConfiguration", {"FunctionName": name, **self._api(changed)})
            await self._settle(call, name)
        if _changed(old, new, "Code", "Runtime", "Architectures"):
            code["Architectures"] = new.get("Architectures") or ["x86_64"]
            await call("lambda", "UpdateFunctionCode", {"FunctionName": name, **code})
            await self._settle(call, name)
        if _changed(old, new, "Tags"):
            arn = (
                made.attributes.get("Arn")
                or (await call("lambda", "GetFunction", {"FunctionName": name}))["Configuration"]["FunctionArn"]
            )
            await tagging.LAMBDA.apply(call, arn, old, new)
        if old.get("ReservedConcurrentExecutions") != new.get("ReservedConcurrentExecutions"):
            if "ReservedConcurrentExecutions" in new:
                concurrency = int(new["ReservedConcurrentExecutions"])
                params = {"FunctionName": name, "ReservedConcurrentExecutions": concurrency}
                await call("lambda", "PutFunctionConcurrency", params)
            else:
                await call("lambda", "DeleteFunctionConcurrency", {"FunctionName": name})
        return made


class Permission:
    PASSED = (
        "Action",
        "Principal",
        "SourceArn",
        "SourceAccount",
        "EventSourceToken",
        "FunctionUrlAuthType",
        "InvokedViaFunctionUrl",
        "PrincipalOrgID",
    )

    async def create(self, call: Call, stack: str, logical: str, props: dict[str, Any]) -> Made:
        statement = generated_name(stack, logical, 100)
        params = {key: props[key] for key in self.PASSED if key in props}
        function = str(props["FunctionName"])
        params.update({"FunctionName": function, "StatementId": statement})
        await call("lambda", "AddPermission", params)
        return Made(statement, {"FunctionName": function})

    async def delete(self, call: Call, made: Made) -> None:
        params = {"FunctionName": made.attributes["FunctionName"], "StatementId": made.physical_id}
        await quietly(call, "lambda", "RemovePermission", params)


class Version:
    async def create(self, call: Call, stack: str, logical: str, props: dict[str, Any]) -> Made:
        params: dict[str, Any] = {k: props[k] for k in ("FunctionName", "Description", "CodeSha256") if k in props}
        published = await call("lambda", "PublishVersion", params)
        arn = published["FunctionArn"]
        return Made(arn, {"Version": published["Version"], "FunctionArn": arn})

    async def delete(self, call: Call, made: Made) -> None:
        function, version = made.physical_id.rsplit(":", 1)
        await quietly(call, "lambda", "DeleteFunction", {"FunctionName": function, "Qualifier": version})


class Alias:
    async def create(self, call: Call, stack: str, logical: str, props: dict[str, Any]) -> Made:
        params: dict[str, Any] = {
            k: props[k]
            for k in ("FunctionName", "FunctionVersion", "Name", "Description", "RoutingConfig")
            if k in props
        }
        arn = (await call("lambda", "CreateAlias", params))["AliasArn"]
        return Made(arn, {"AliasArn": arn})

    async def delete(self, call: Call, made: Made) -> None:
        function, name = made.physical_id.rsplit(":", 1)
        await quietly(call, "lambda", "DeleteAlias", {"FunctionName": function, "Name": name})

    async def update(self, call: Call, made: Made, old: dict[str, Any], new: dict[str, Any]) -> Made | None:
        if _changed(old, new, "FunctionName", "Name"):
            return None
        function, name = made.physical_id.rsplit(":", 1)
        change: dict[str, Any] = {k: new[k] for k in ("FunctionVersion", "Description", "RoutingConfig") if k in new}
        if "RoutingConfig" in old and "RoutingConfig" not in new:
            change["RoutingConfig"] = {"AdditionalVersionWeights": {}}
        if "Description" in old and "Description" not in new:
            change["Description"] = ""
        await call("lambda", "UpdateAlias", {"FunctionName": function, "Name": name, **change})
        return made


class EventSourceMapping:
    PASSED = (
        "FunctionName",
        "EventSourceArn",
        "BatchSize",
        "Enabled",
        "MaximumBatchingWindowInSeconds",
        "FilterCriteria",
        "FunctionResponseTypes",
        "ScalingConfig",
        "StartingPosition",
        "MaximumRetryAttempts",
        "BisectBatchOnFunctionError",
        "DestinationConfig",
        "ParallelizationFactor",
        "MaximumRecordAgeInSeconds",
        "TumblingWindowInSeconds",
    )

    async def create(self, call: Call, stack: str, logical: str, props: dict[str, Any]) -> Made:
        params = {key: props[key] for key in self.PASSED if key in props}
        if props.get("Tags"):
            params["Tags"] = tagging.tag_map(props)
        mapping = await call("lambda", "CreateEventSourceMapping", params)
        uuid = mapping["UUID"]
        return Made(uuid, {"Id": uuid, "EventSourceMappingArn": mapping.get("EventSourceMappingArn", "")})

    async def delete(self, call: Call, made: Made) -> None:
        await quietly(call, "lambda", "DeleteEventSourceMapping", {"UUID": made.physical_id})

    # what UpdateEventSourceMapping is given for a property removed from the template: Lambda's default
    RESET: dict[str, Any] = {
        "Enabled": True,
        "MaximumBatchingWindowInSeconds": 0,
        "FilterCriteria": {},
        "FunctionResponseTypes": [],
        "ScalingConfig": {},
    }
    STREAM_RESET: dict[str, Any] = {  # the settings only stream (Kinesis, DynamoDB) mappings have
        "MaximumRetryAttempts": -1,
        "BisectBatchOnFunctionError": False,
        "DestinationConfig": {"OnFailure": {}},
        "ParallelizationFactor": 1,
        "MaximumRecordAgeInSeconds": -1,
        "TumblingWindowInSeconds": 0,
    }

    async def update(self, call: Call, made: Made, old: dict[str, Any], new: dict[str, Any]) -> Made | None:
        if _changed(old, new, "EventSourceArn", "StartingPosition"):
            return None
        stream = ":sqs:" not in str(new.get("EventSourceArn", ""))
        defaults = {"BatchSize": 100 if stream else 10, **self.RESET, **(self.STREAM_RESET if stream else {})}
        change = {k: new[k] for k in ("FunctionName", *defaults) if k in new and old.get(k) != new.get(k)}
        change.update({k: v for k, v in defaults.items() if k in old and k not in new})
        if change:
            await call("lambda", "UpdateEventSourceMapping", {"UUID": made.physical_id, **change})
        if _changed(old, new, "Tags"):
            arn = made.attributes.get("EventSourceMappingArn") or (
                await call("lambda", "GetEventSourceMapping", {"UUID": made.physical_id})
            ).get("EventSourceMappingArn", "")
            await tagging.LAMBDA.apply(call, arn, old, new)
        return made


class RolePolicy:
    """AWS::IAM::Policy: one inline policy put on each of its roles."""

    async def create(self, call: Call, stack: str, logical: str, props: dict[str, Any]) -> Made:
        name, document = props["PolicyName"], _json(props["PolicyDocument"])
        roles = [str(r) for r in props.get("Roles") or []]
        if props.get("Users") or props.get("Groups"):
            raise ProvisionFailed("Lamina has no IAM users or groups yet: AWS::IAM::Policy must name Roles")
        for role in roles:
            await call("iam", "PutRolePolicy", {"RoleName": role, "PolicyName": name, "PolicyDocument": document})
        return Made(generated_name(stack, logical, 128), {"PolicyName": name, "Roles": roles})

    async def delete(self, call: Call, made: Made) -> None:
        for role in made.attributes.get("Roles", []):
            params = {"RoleName": role, "PolicyName": made.attributes["PolicyName"]}
            await quietly(call, "iam", "DeleteRolePolicy", params)


class ManagedPolicy:
    """AWS::IAM::ManagedPolicy: a customer managed policy, attached to its roles."""

    async def create(self, call: Call, stack: str, logical: str, props: dict[str, Any]) -> Made:
        name = props.get("ManagedPolicyName") or generated_name(stack, logical, 128)
        params: dict[str, Any] = {"PolicyName": name, "PolicyDocument": _json(props["PolicyDocument"])}
        for key in ("Path", "Description"):
            if key in props:
                params[key] = props[key]
        arn = (await call("iam", "CreatePolicy", params))["Policy"]["Arn"]
        roles = [str(r) for r in props.get("Roles") or []]
        made = Made(arn, {"PolicyArn": arn, "Roles": roles})
        try:
            for role in roles:
                await call("iam", "AttachRolePolicy", {"RoleName": role, "PolicyArn": arn})
        except LaminaError:
            await self.delete(call, made)
            raise
        return made

    async def delete(self, call: Call, made: Made) -> None:
        for role in made.attributes.get("Roles", []):
            await quietly(call, "iam", "DetachRolePolicy", {"RoleName": role, "PolicyArn": made.physical_id})
        await quietly(call, "iam", "DeletePolicy", {"PolicyArn": made.physical_id})


class QueuePolicy:
    """AWS::SQS::QueuePolicy: the Policy attribute of each of its queues (by URL)."""

    async def create(self, call: Call, stack: str, logical: str, props: dict[str, Any]) -> Made:
        queues = [str(q) for q in props.get("Queues") or []]
        for url in queues:
            attributes = {"Policy": _json(props["PolicyDocument"])}
            await call("sqs", "SetQueueAttributes", {"QueueUrl": url, "Attributes": attributes})
        return Made(generated_name(stack, logical, 128), {"Queues": queues})

    async def delete(self, call: Call, made: Made) -> None:
        for url in made.attributes.get("Queues", []):
            await quietly(call, "sqs", "SetQueueAttributes", {"QueueUrl": url, "Attributes": {"Policy": ""}})


class TopicPolicy:
    """AWS::SNS::TopicPolicy: the Policy attribute of each of its topics."""

    async def create(self, call: Call, stack: str, logical: str, props: dict[str, Any]) -> Made:
        topics = [str(t) for t in props.get("Topics") or []]
        for arn in topics:
            params = {"TopicArn": arn, "AttributeName": "Policy", "AttributeValue": _json(props["PolicyDocument"])}
            await call("sns", "SetTopicAttributes", params)
        return Made(generated_name(stack, logical, 128), {"Topics": topics})

    async def delete(self, call: Call, made: Made) -> None:
        return  # the topics keep the policy until they go, as CloudFormation leaves them


class FunctionUrl:
    """AWS::Lambda::Url (what SAM's FunctionUrlConfig makes)."""

    async def create(self, call: Call, stack: str, logical: str, props: dict[str, Any]) -> Made:
        target = str(props["TargetFunctionArn"])
        params: dict[str, Any] = {"FunctionName": target, "AuthType": props["AuthType"]}
        if props.get("Qualifier"):
            params["Qualifier"] = props["Qualifier"]
        for key in ("Cors", "InvokeMode"):
            if key in props:
                params[key] = props[key]
        created = await call("lambda", "CreateFunctionUrlConfig", params)
        arn = created["FunctionArn"]
        return Made(
            arn, {"FunctionUrl": created["FunctionUrl"], "FunctionArn": arn, "Qualifier": props.get("Qualifier")}
        )

    async def delete(self, call: Call, made: Made) -> None:
        params: dict[str, Any] = {"FunctionName": made.physical_id.split(":")[6]}
        if made.attributes.get("Qualifier"):
            params["Qualifier"] = made.attributes["Qualifier"]
        await quietly(call, "lambda", "DeleteFunctionUrlConfig", params)


class EventInvokeConfig:
    """AWS::Lambda::EventInvokeConfig (what SAM's EventInvokeConfig makes)."""

    async def create(self, call: Call, stack: str, logical: str, props: dict[str, Any]) -> Made:
        function, qualifier = str(props["FunctionName"]), str(props.get("Qualifier") or "$LATEST")
        params: dict[str, Any] = {"FunctionName": function, "Qualifier": qualifier}
        for key in ("MaximumEventAgeInSeconds", "MaximumRetryAttempts", "DestinationConfig"):
            if key in props:
                params[key] = props[key]
        await call("lambda", "PutFunctionEventInvokeConfig", params)
        return Made(f"{function}:{qualifier}", {"FunctionName": function, "Qualifier": qualifier})

    async def delete(self, call: Call, made: Made) -> None:
        params = {"FunctionName": made.attributes["FunctionName"], "Qualifier": made.attributes["Qualifier"]}
        await quietly(call, "lambda", "DeleteFunctionEventInvokeConfig", params)


class LayerVersion:
    """AWS::Lambda::LayerVersion. Content is an S3 location in Lamina's S3 (S3Bucket/S3Key/S3ObjectVersion) or,
    Lamina's extension, the zip inline: `ZipFile`, the archive in base64 or as a `data:application/zip;base64,` URI
    (`lamina deploy` writes it), or `Files`, a map of path → text."""

    GETATT = ("LayerVersionArn",)  # what Fn::GetAtt gives, as AWS documents it

    async def create(self, call: Call, stack: str, logical: str, props: dict[str, Any]) -> Made:
        name = str(props.get("LayerName") or generated_name(stack, logical, 140))
        content = props.get("Content") or {}
        if "ZipFile" in content:
            archive = base64.b64decode(str(content["ZipFile"]).removeprefix(ZIP_DATA))
        elif "S3Bucket" in content or "S3Key" in content:
            archive = b""
        elif "Files" in content:
            buffer = io.BytesIO()
            with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as packed:
                for path, text in content["Files"].items():
                    packed.writestr(str(path), str(text))
            archive = buffer.getvalue()
        else:
            raise ProvisionFailed(
                "Properties validation failed for resource: #/Content: required key [S3Bucket] not found"
            )
        located = {key: content[key] for key in S3_CODE if key in content}
        params: dict[str, Any] = {"LayerName": name, "Content": located or {"ZipFile": archive}}
        for key in ("Description", "CompatibleRuntimes", "CompatibleArchitectures", "LicenseInfo"):
            if key in props:
                params[key] = props[key]
        arn = (await call("lambda", "PublishLayerVersion", params))["LayerVersionArn"]
        return Made(arn, {"LayerVersionArn": arn})

    async def delete(self, call: Call, made: Made) -> None:
        layer, version = made.physical_id.rsplit(":", 1)
        await quietly(call, "lambda", "DeleteLayerVersion", {"LayerName": layer, "VersionNumber": int(version)})

    async def find(self, call: Call, stack: str, logical: str, props: dict[str, Any]) -> Made | None:
        if props.get("LayerName"):
            return None  # a layer the user names may have versions of its own
        try:
            found = await call("lambda", "ListLayerVersions", {"LayerName": generated_name(stack, logical, 140)})
        except LaminaError:
            return None
        versions = found.get("LayerVersions") or []
        if not versions:
            return None
        arn = versions[0]["LayerVersionArn"]
        return Made(arn, {"LayerVersionArn": arn})


def resource_types(clock: Clock, region: str = "us-east-1") -> dict[str, ResourceType]:
    # the other modules build on this one, so they are imported here
    from lamina.services.cloudformation import (
        event_types,
        kinesis_types,
        log_types,
        nested_types,
        rest_api_types,
        s3_types,
    )
    from lamina.services.cloudformation.http_api_types import HttpApi, HttpApiStage
    from lamina.services.cloudformation.table_types import Table

    return {
        "AWS::SQS::Queue": Queue(),
        "AWS::SNS::Topic": Topic(),
        "AWS::SNS::Subscription": Subscription(),
        "AWS::IAM::Role": Role(),
        "AWS::Lambda::Function": Function(clock),
        "AWS::Lambda::Permission": Permission(),
        "AWS::Lambda::Version": Version(),
        "AWS::Lambda::Alias": Alias(),
        "AWS::Lambda::EventSourceMapping": EventSourceMapping(),
        "AWS::Lambda::Url": FunctionUrl(),
        "AWS::Lambda::EventInvokeConfig": EventInvokeConfig(),
        "AWS::IAM::Policy": RolePolicy(),
        "AWS::IAM::ManagedPolicy": ManagedPolicy(),
        "AWS::SQS::QueuePolicy": QueuePolicy(),
        "AWS::SNS::TopicPolicy": TopicPolicy(),
        "AWS::ApiGatewayV2::Api": HttpApi(),
        "AWS::ApiGatewayV2::Stage": HttpApiStage(),
        "AWS::Lambda::LayerVersion": LayerVersion(),
        "AWS::DynamoDB::Table": Table(clock),
        "AWS::Events::Rule": event_types.Rule(),
        "AWS::Events::EventBus": event_types.EventBus(),
        "AWS::Scheduler::Schedule": event_types.Schedule(),
        "AWS::Scheduler::ScheduleGroup": event_types.ScheduleGroup(),
        "AWS::Logs::LogGroup": log_types.LogGroup(),
        "AWS::Logs::SubscriptionFilter": log_types.SubscriptionFilter(),
        "AWS::ApiGateway::RestApi": rest_api_types.RestApi(),
        "AWS::ApiGateway::Resource": rest_api_types.Resource(),
        "AWS::ApiGateway::Method": rest_api_types.Method(),
        "AWS::ApiGateway::Deployment": rest_api_types.Deployment(),
        "AWS::ApiGateway::Stage": rest_api_types.Stage(),
        "AWS::S3::Bucket": s3_types.Bucket(region),
        "AWS::S3::BucketPolicy": s3_types.BucketPolicy(),
        "AWS::Kinesis::Stream": kinesis_types.Stream(),
        "AWS::CloudFormation::Stack": nested_types.NestedStack(clock),
    }
