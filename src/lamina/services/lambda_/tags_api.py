"""TagResource / UntagResource / ListTags for every taggable Lambda resource: functions, and event source
mappings (by their `…:event-source-mapping:<uuid>` ARN). Function tags stay with the function provider."""

from __future__ import annotations

from typing import Any

from lamina.errors import InvalidParameter
from lamina.functions.event_source_mappings import EventSourceMappings
from lamina.types import CallContext

_MAPPING = ":event-source-mapping:"


class TagsApi:
    def __init__(self, functions_api: Any, mappings: EventSourceMappings) -> None:
        self._functions_api = functions_api
        self._mappings = mappings

    def tag_resource(self, ctx: CallContext, params: dict[str, Any]) -> None:
        resource = params["Resource"]
        if _MAPPING not in resource:
            return self._functions_api.tag_resource(ctx, params)  # type: ignore[no-any-return]
        tags = params.get("Tags") or {}
        if not tags:
            raise InvalidParameter("An error occurred and the request cannot be processed.", Type="User")
        self._mappings.tag(resource, tags)
        return None

    def untag_resource(self, ctx: CallContext, params: dict[str, Any]) -> None:
        resource = params["Resource"]
        if _MAPPING not in resource:
            return self._functions_api.untag_resource(ctx, params)  # type: ignore[no-any-return]
        self._mappings.untag(resource, params["TagKeys"])
        return None

    def list_tags(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        resource = params["Resource"]
        if _MAPPING not in resource:
            return self._functions_api.list_tags(ctx, params)  # type: ignore[no-any-return]
        return {"Tags": self._mappings.tags(resource)}
