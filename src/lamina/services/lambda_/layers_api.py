"""The Lambda API operations for layers and layer version permissions (lambda-api.md §8).

Thin as every provider: resolve the LayerName, call `LayerService`, shape the output. Content.Location
is a signed Lamina URL, made by the same signer as function code URLs (both point into the blob store).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from lamina.functions.layers import LayerName, LayerService, parse_layer_name, policy_json
from lamina.types import CallContext

CodeUrl = Callable[[str, str], str]  # (base_url, digest) → signed download URL


class LayersApi:
    def __init__(self, layers: LayerService, code_url: CodeUrl) -> None:
        self._layers = layers
        self._code_url = code_url

    @staticmethod
    def _ref(ctx: CallContext, params: dict[str, Any]) -> LayerName:
        return parse_layer_name(params["LayerName"], ctx.region, ctx.account_id)

    async def publish_layer_version(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        version = await self._layers.publish(self._ref(ctx, params), params)
        return version.to_api(self._code_url(ctx.base_url, version.digest))

    def get_layer_version(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        version = self._layers.get(self._ref(ctx, params), params["VersionNumber"])
        return version.to_api(self._code_url(ctx.base_url, version.digest))

    def get_layer_version_by_arn(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        version = self._layers.get_by_arn(params["Arn"])
        return version.to_api(self._code_url(ctx.base_url, version.digest))

    def list_layer_versions(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        page, marker = self._layers.list_versions(
            self._ref(ctx, params),
            params.get("CompatibleRuntime"),
            params.get("CompatibleArchitecture"),
            params.get("Marker"),
            params.get("MaxItems"),
        )
        out: dict[str, Any] = {"LayerVersions": [v.list_item() for v in page]}
        if marker is not None:
            out["NextMarker"] = marker
        return out

    def list_layers(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        page, marker = self._layers.list_layers(
            ctx.region,
            params.get("CompatibleRuntime"),
            params.get("CompatibleArchitecture"),
            params.get("Marker"),
            params.get("MaxItems"),
        )
        out: dict[str, Any] = {
            "Layers": [
                {"LayerName": layer.name, "LayerArn": latest.layer_arn, "LatestMatchingVersion": latest.list_item()}
                for layer, latest in page
            ]
        }
        if marker is not None:
            out["NextMarker"] = marker
        return out

    def delete_layer_version(self, ctx: CallContext, params: dict[str, Any]) -> None:
        self._layers.delete(self._ref(ctx, params), params["VersionNumber"])

    def add_layer_version_permission(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        statement, version = self._layers.add_permission(self._ref(ctx, params), params["VersionNumber"], params)
        return {
            "Statement": json.dumps(statement.to_api(version.arn), separators=(",", ":")),
            "RevisionId": version.policy_revision,
        }

    def get_layer_version_policy(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        version = self._layers.policy(self._ref(ctx, params), params["VersionNumber"])
        return {"Policy": policy_json(version), "RevisionId": version.policy_revision}

    def remove_layer_version_permission(self, ctx: CallContext, params: dict[str, Any]) -> None:
        self._layers.remove_permission(
            self._ref(ctx, params), params["VersionNumber"], params["StatementId"], params.get("RevisionId")
        )
