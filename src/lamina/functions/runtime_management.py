"""Runtime management configs (PutRuntimeManagementConfig / GetRuntimeManagementConfig): how a function's
version follows runtime updates. One per (function, qualifier); the unqualified one is `$LATEST`'s.

Lamina runs the runtime the host provides, so the setting is recorded and answered, not acted upon:
`Auto` (the default, also what Get answers when nothing was put) and `FunctionUpdate` carry no runtime
version; `Manual` pins the `RuntimeVersionArn` the request names (required with `Manual`, refused otherwise).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lamina.errors import InvalidParameter
from lamina.functions.control import FunctionService
from lamina.functions.names import FunctionRef, function_arn
from lamina.functions.record import FunctionConfig
from lamina.store.documents import DocumentStore
from lamina.types import LATEST

KIND = "runtime-management"
AUTO = "Auto"
MANUAL = "Manual"
MANUAL_NEEDS_ARN = "RuntimeVersionArn must be provided when UpdateRuntimeOn is Manual."
ARN_NEEDS_MANUAL = "RuntimeVersionArn can only be provided when UpdateRuntimeOn is Manual."


@dataclass(frozen=True)
class RuntimeManagementConfig:
    region: str
    account: str
    name: str
    qualifier: str
    update_runtime_on: str = AUTO
    runtime_version_arn: str | None = None

    @property
    def key(self) -> str:
        return f"{self.region}/{self.name}/{self.qualifier}"

    def to_api(self) -> dict[str, Any]:
        qualifier = None if self.qualifier == LATEST else self.qualifier
        out: dict[str, Any] = {
            "UpdateRuntimeOn": self.update_runtime_on,
            "FunctionArn": function_arn(self.region, self.account, self.name, qualifier),
        }
        if self.runtime_version_arn is not None:
            out["RuntimeVersionArn"] = self.runtime_version_arn
        return out


class RuntimeManagementConfigs:
    def __init__(self, store: DocumentStore, functions: FunctionService) -> None:
        self._store = store
        self._functions = functions
        self._configs = {key: RuntimeManagementConfig(**doc) for key, doc in store.load(KIND).items()}

    def put(self, ref: FunctionRef, params: dict[str, Any]) -> RuntimeManagementConfig:
        self._functions.config(ref)  # ResourceNotFoundException for a missing function, version or alias
        mode, arn = params["UpdateRuntimeOn"], params.get("RuntimeVersionArn")
        if mode == MANUAL and not arn:
            raise InvalidParameter(MANUAL_NEEDS_ARN, Type="User")
        if mode != MANUAL and arn:
            raise InvalidParameter(ARN_NEEDS_MANUAL, Type="User")
        config = RuntimeManagementConfig(ref.region, ref.account, ref.name, ref.qualifier or LATEST, mode, arn)
        self._store.put(KIND, config.key, dict(config.__dict__))
        self._configs[config.key] = config
        return config

    def get(self, ref: FunctionRef) -> RuntimeManagementConfig:
        self._functions.config(ref)
        qualifier = ref.qualifier or LATEST
        found = self._configs.get(f"{ref.region}/{ref.name}/{qualifier}")
        return found or RuntimeManagementConfig(ref.region, ref.account, ref.name, qualifier)

    def function_changed(self, config: FunctionConfig | None, arn: str) -> None:
        """`FunctionService.on_change` listener: a deleted function takes its configs with it."""
        if config is not None:
            return
        *_, region, _account, _kind, name = arn.split(":")
        for found in [c for c in self._configs.values() if c.region == region and c.name == name]:
            self._store.delete(KIND, found.key)
            del self._configs[found.key]

    def version_deleted(self, arn: str, version: str) -> None:
        """`FunctionService.on_version_deleted` listener: a deleted version takes its config with it."""
        *_, region, _account, _kind, name = arn.split(":")
        key = f"{region}/{name}/{version}"
        if self._configs.pop(key, None) is not None:
            self._store.delete(KIND, key)
