"""A template's change of a resource's Tags applied through the service's own tag operations: the keys removed
from the template untagged, the new and changed ones tagged (what CloudFormation does on an update)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

Call = Callable[[str, str, dict[str, Any]], Awaitable[dict[str, Any]]]


def tag_map(props: dict[str, Any]) -> dict[str, str]:
    """A template's Tags ([{Key, Value}]) as {key: value}."""
    return {t["Key"]: str(t["Value"]) for t in props.get("Tags") or []}


def tag_changes(old: dict[str, Any], new: dict[str, Any]) -> tuple[dict[str, str], list[str]]:
    """When a resource's Tags go from `old` to `new`: the tags to set (new or changed) and the keys to remove."""
    before, after = tag_map(old), tag_map(new)
    return {k: v for k, v in after.items() if before.get(k) != v}, [k for k in before if k not in after]


@dataclass(frozen=True)
class Tagging:
    """How one service's tag operations name a resource and take its tags."""

    service: str
    target: str  # the member naming the resource (ResourceArn, QueueUrl, RoleName …)
    listed: bool = False  # tags as [{Key, Value}] rather than {key: value}
    tag: str = "TagResource"
    untag: str = "UntagResource"
    tags: str = "Tags"
    keys: str = "TagKeys"

    async def apply(self, call: Call, resource: str, old: dict[str, Any], new: dict[str, Any]) -> None:
        added, removed = tag_changes(old, new)
        if removed:
            await call(self.service, self.untag, {self.target: resource, self.keys: removed})
        if added:
            tags: Any = [{"Key": k, "Value": v} for k, v in added.items()] if self.listed else added
            await call(self.service, self.tag, {self.target: resource, self.tags: tags})


QUEUE = Tagging("sqs", "QueueUrl", tag="TagQueue", untag="UntagQueue")
TOPIC = Tagging("sns", "ResourceArn", listed=True)
ROLE = Tagging("iam", "RoleName", listed=True, tag="TagRole", untag="UntagRole")
LAMBDA = Tagging("lambda", "Resource")  # functions and event source mappings
TABLE = Tagging("dynamodb", "ResourceArn", listed=True)
EVENTS = Tagging("events", "ResourceARN", listed=True)  # rules and buses
SCHEDULER = Tagging("scheduler", "ResourceArn", listed=True)
LOG_GROUP = Tagging("logs", "resourceArn", tags="tags", keys="tagKeys")
STREAM = Tagging("kinesis", "StreamName", tag="AddTagsToStream", untag="RemoveTagsFromStream")
