"""Function URL configurations (spec/lambda-api.md §13): one per function and qualifier ($LATEST or an
alias), durable as documents of their own kind, each with a 32-character url id that never changes.

Kept apart from the function record: GetFunction / GetFunctionConfiguration do not show URLs. A deleted
function takes its URL configs with it; a deleted alias does not (AWS keeps the config: the URL then fails).
"""

from __future__ import annotations

import secrets
import string
from dataclasses import dataclass, replace
from typing import Any

from lamina.clock import Clock
from lamina.errors import Conflict, NotFound
from lamina.functions.control import FunctionService
from lamina.functions.names import FunctionRef, function_arn
from lamina.functions.record import FunctionConfig, lambda_timestamp
from lamina.store.documents import DocumentStore
from lamina.types import LATEST

KIND = "function-url"
NO_RESOURCE = "The resource you requested does not exist."
NO_FUNCTION = "Function does not exist"
_ID_CHARS = string.ascii_lowercase + string.digits


@dataclass(frozen=True, slots=True)
class UrlConfig:
    url_id: str
    region: str
    account: str
    function_name: str
    qualifier: str | None  # None: $LATEST (the unqualified function)
    auth_type: str
    cors: dict[str, Any] | None
    invoke_mode: str | None  # None: never given (BUFFERED)
    created: float
    modified: float

    @property
    def key(self) -> str:
        return _key(self.region, self.function_name, self.qualifier)

    @property
    def function_arn(self) -> str:
        return function_arn(self.region, self.account, self.function_name, self.qualifier)

    @property
    def mode(self) -> str:
        return self.invoke_mode or "BUFFERED"

    def host(self) -> str:
        return f"{self.url_id}.lambda-url.{self.region}.localhost"

    def to_api(self, port: int, *, listed: bool = True) -> dict[str, Any]:
        """The output members; Create and Update leave out what the caller never set, as AWS does."""
        out: dict[str, Any] = {
            "FunctionUrl": f"http://{self.host()}:{port}/",
            "FunctionArn": self.function_arn,
            "AuthType": self.auth_type,
        }
        if self.cors is not None:
            out["Cors"] = self.cors
        out["CreationTime"] = lambda_timestamp(self.created)
        if listed or self.modified != self.created:
            out["LastModifiedTime"] = lambda_timestamp(self.modified)
        if listed or self.invoke_mode is not None:
            out["InvokeMode"] = self.mode
        return out

    def to_doc(self) -> dict[str, Any]:
        return {
            "url_id": self.url_id,
            "region": self.region,
            "account": self.account,
            "function_name": self.function_name,
            "qualifier": self.qualifier,
            "auth_type": self.auth_type,
            "cors": self.cors,
            "invoke_mode": self.invoke_mode,
            "created": self.created,
            "modified": self.modified,
        }

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> UrlConfig:
        return cls(**doc)


def _key(region: str, name: str, qualifier: str | None) -> str:
    return f"{region}/{name}#{qualifier or ''}"


class FunctionUrls:
    def __init__(self, store: DocumentStore, functions: FunctionService, clock: Clock) -> None:
        self._store = store
        self._functions = functions
        self._clock = clock
        self._configs = {key: UrlConfig.from_doc(doc) for key, doc in store.load(KIND).items()}
        self._by_id = {config.url_id: config for config in self._configs.values()}

    def by_id(self, url_id: str) -> UrlConfig | None:
        return self._by_id.get(url_id)

    def _target(self, ref: FunctionRef) -> str | None:
        """The qualifier the config belongs to; NotFound when the function or alias does not exist."""
        entry = self._functions.lookup(ref)
        qualifier = None if ref.qualifier == LATEST else ref.qualifier
        if entry is None or (qualifier is not None and qualifier not in entry.aliases):
            raise NotFound(NO_FUNCTION, Type="User")
        return qualifier

    def _existing(self, ref: FunctionRef) -> UrlConfig:
        qualifier = None if ref.qualifier == LATEST else ref.qualifier
        config = self._configs.get(_key(ref.region, ref.name, qualifier))
        if config is None or self._functions.lookup(ref) is None:
            raise NotFound(NO_RESOURCE, Type="User")
        return config

    def _save(self, config: UrlConfig) -> UrlConfig:
        self._store.put(KIND, config.key, config.to_doc())
        self._configs[config.key] = config
        self._by_id[config.url_id] = config
        return config

    def create(self, ref: FunctionRef, params: dict[str, Any]) -> UrlConfig:
        qualifier = self._target(ref)
        if _key(ref.region, ref.name, qualifier) in self._configs:
            arn = function_arn(ref.region, ref.account, ref.name, qualifier)
            raise Conflict(
                f"Failed to create function url config for [functionArn = {arn}]. Error message:  "
                "FunctionUrlConfig exists for this Lambda function",
                Type="User",
            )
        url_id = "".join(secrets.choice(_ID_CHARS) for _ in range(32))
        while url_id in self._by_id:
            url_id = "".join(secrets.choice(_ID_CHARS) for _ in range(32))
        now = self._clock.time()
        config = UrlConfig(
            url_id,
            ref.region,
            ref.account,
            ref.name,
            qualifier,
            params["AuthType"],
            params.get("Cors"),
            params.get("InvokeMode"),
            now,
            now,
        )
        return self._save(config)

    def get(self, ref: FunctionRef) -> UrlConfig:
        return self._existing(ref)

    def update(self, ref: FunctionRef, params: dict[str, Any]) -> UrlConfig:
        self._target(ref)
        config = self._existing(ref)
        changes: dict[str, Any] = {"modified": max(self._clock.time(), config.created + 0.001)}
        if "AuthType" in params:
            changes["auth_type"] = params["AuthType"]
        if "Cors" in params:
            changes["cors"] = params["Cors"]
        if "InvokeMode" in params:
            changes["invoke_mode"] = params["InvokeMode"]
        return self._save(replace(config, **changes))

    def delete(self, ref: FunctionRef) -> None:
        self._forget(self._existing(ref).key)

    def list(self, ref: FunctionRef) -> list[UrlConfig]:
        if self._functions.lookup(ref) is None:
            raise NotFound(NO_RESOURCE, Type="User")
        prefix = f"{ref.region}/{ref.name}#"
        return sorted((c for k, c in self._configs.items() if k.startswith(prefix)), key=lambda c: c.created)

    def _forget(self, key: str) -> None:
        config = self._configs.pop(key, None)
        if config is not None:
            self._by_id.pop(config.url_id, None)
            self._store.delete(KIND, key)

    def function_changed(self, config: FunctionConfig | None, arn: str) -> None:
        """`FunctionService.on_change` listener: a deleted function takes its URL configs with it."""
        if config is not None:
            return
        *_, region, _account, _kind, name = arn.split(":")
        prefix = f"{region}/{name}#"
        for key in [k for k in self._configs if k.startswith(prefix)]:
            self._forget(key)
