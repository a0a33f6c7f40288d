"""The Lambda API operations for event source mappings (spec/lambda-api.md §12). Thin: call
`EventSourceMappings`, shape the output."""

from __future__ import annotations

from typing import Any

from lamina.functions.event_source_mappings import EventSourceMappings
from lamina.types import CallContext


class EventSourceMappingApi:
    def __init__(self, mappings: EventSourceMappings) -> None:
        self._mappings = mappings

    def create_event_source_mapping(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        return self._mappings.api(self._mappings.create(ctx.region, ctx.account_id, params))

    def get_event_source_mapping(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        return self._mappings.api(self._mappings.get(params["UUID"]))

    def update_event_source_mapping(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        return self._mappings.api(self._mappings.update(params["UUID"], params))

    def delete_event_source_mapping(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        return self._mappings.api(self._mappings.delete(params["UUID"]))

    def list_event_source_mappings(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        page, marker = self._mappings.list(
            params.get("EventSourceArn"),
            params.get("FunctionName"),
            ctx.region,
            ctx.account_id,
            params.get("Marker"),
            params.get("MaxItems"),
        )
        out: dict[str, Any] = {"EventSourceMappings": [self._mappings.api(m) for m in page]}
        if marker is not None:
            out["NextMarker"] = marker
        return out
