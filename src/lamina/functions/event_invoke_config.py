"""Event invoke configs: a function's (or qualifier's) async settings, durable, validated as AWS validates them
(lambda-api.md §11; messages compared with the recorded TestLambdaEventInvokeConfig responses).

One config per (function, qualifier); the unqualified config is the `$LATEST` one. Versions and aliases do
not exist yet, so other qualifiers answer as AWS does for a qualifier that does not resolve. Configs are
deleted with their function (`function_changed`, an `on_change` listener).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from lamina.clock import Clock
from lamina.errors import InvalidParameter, NotFound
from lamina.functions.control import FunctionService
from lamina.functions.names import FunctionRef, function_arn, parse_function
from lamina.functions.record import FunctionConfig
from lamina.invoke.retry_policy import DEFAULT_MAX_EVENT_AGE_S, DEFAULT_MAX_RETRY_ATTEMPTS, RetrySettings
from lamina.store.documents import DocumentStore
from lamina.types import LATEST

KIND = "event-invoke-config"
MAX_LIST = 50
DESTINATION_SERVICES = frozenset({"lambda", "sqs", "sns", "events", "s3"})
FUNCTION_MISSING = "The function doesn't exist."


@dataclass(frozen=True)
class EventInvokeConfig:
    region: str
    account: str
    name: str
    qualifier: str
    last_modified: float
    created: float
    max_retry_attempts: int | None = None
    max_event_age_s: int | None = None
    on_success: str | None = None
    on_failure: str | None = None

    @property
    def key(self) -> str:
        return f"{self.region}/{self.name}/{self.qualifier}"

    @property
    def function_arn(self) -> str:
        return function_arn(self.region, self.account, self.name, self.qualifier)

    def to_api(self) -> dict[str, Any]:
        out: dict[str, Any] = {"LastModified": self.last_modified, "FunctionArn": self.function_arn}
        if self.max_retry_attempts is not None:
            out["MaximumRetryAttempts"] = self.max_retry_attempts
        if self.max_event_age_s is not None:
            out["MaximumEventAgeInSeconds"] = self.max_event_age_s
        out["DestinationConfig"] = {
            "OnSuccess": {"Destination": self.on_success} if self.on_success else {},
            "OnFailure": {"Destination": self.on_failure} if self.on_failure else {},
        }
        return out

    @property
    def retry_settings(self) -> RetrySettings:
        return RetrySettings(
            DEFAULT_MAX_RETRY_ATTEMPTS if self.max_retry_attempts is None else self.max_retry_attempts,
            DEFAULT_MAX_EVENT_AGE_S if self.max_event_age_s is None else self.max_event_age_s,
        )

    def to_doc(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items()}

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> EventInvokeConfig:
        return cls(**doc)


class EventInvokeConfigs:
    def __init__(self, store: DocumentStore, functions: FunctionService, clock: Clock) -> None:
        self._store = store
        self._functions = functions
        self._clock = clock
        self._configs = {key: EventInvokeConfig.from_doc(doc) for key, doc in store.load(KIND).items()}

    # -- what the async invoker reads -----------------------------------------------------------
    def lookup(self, region: str, name: str, qualifier: str | None) -> EventInvokeConfig | None:
        return self._configs.get(f"{region}/{name}/{qualifier or LATEST}")

    # -- the API --------------------------------------------------------------------------------
    def put(self, ref: FunctionRef, params: dict[str, Any]) -> EventInvokeConfig:
        """Replaces every setting: the ones the request leaves out are removed."""
        _require_something(params)  # before the function lookup, as AWS orders it
        config = self._function_for_write(ref)
        on_success, on_failure = self._destinations(config, params.get("DestinationConfig") or {})
        now = self._clock.time()
        existing = self._configs.get(self._key(ref))
        updated = EventInvokeConfig(
            region=ref.region,
            account=ref.account,
            name=ref.name,
            qualifier=ref.qualifier or LATEST,
            last_modified=now,
            created=existing.created if existing else now,
            max_retry_attempts=params.get("MaximumRetryAttempts"),
            max_event_age_s=params.get("MaximumEventAgeInSeconds"),
            on_success=on_success,
            on_failure=on_failure,
        )
        return self._commit(updated)

    def update(self, ref: FunctionRef, params: dict[str, Any]) -> EventInvokeConfig:
        """Merges: settings the request leaves out keep their values."""
        config = self._function_for_write(ref)
        existing = self._configs.get(self._key(ref))
        if existing is None:
            raise self._no_config(ref)
        _require_something(params)
        destinations = params.get("DestinationConfig") or {}
        on_success, on_failure = self._destinations(config, destinations)
        changes: dict[str, Any] = {"last_modified": self._clock.time()}
        if "MaximumRetryAttempts" in params:
            changes["max_retry_attempts"] = params["MaximumRetryAttempts"]
        if "MaximumEventAgeInSeconds" in params:
            changes["max_event_age_s"] = params["MaximumEventAgeInSeconds"]
        if "OnSuccess" in destinations:
            changes["on_success"] = on_success
        if "OnFailure" in destinations:
            changes["on_failure"] = on_failure
        return self._commit(replace(existing, **changes))

    def get(self, ref: FunctionRef) -> EventInvokeConfig:
        found = self._configs.get(self._key(ref))
        if found is None:
            raise self._no_config(ref)
        return found

    def delete(self, ref: FunctionRef) -> None:
        found = self.get(ref)
        self._store.delete(KIND, found.key)
        del self._configs[found.key]

    def list(
        self, ref: FunctionRef, marker: str | None, max_items: int | None
    ) -> tuple[list[EventInvokeConfig], str | None]:
        if ref.qualifier is not None or not self._exists(ref):
            raise NotFound(FUNCTION_MISSING, Type="User")
        configs = sorted(
            (c for c in self._configs.values() if c.region == ref.region and c.name == ref.name),
            key=lambda c: c.created,
        )
        start = int(marker) if marker and marker.isdigit() else 0
        size = min(max_items or MAX_LIST, MAX_LIST)
        page = configs[start : start + size]
        return page, (str(start + size) if start + size < len(configs) else None)

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
        if key in self._configs:
            self._store.delete(KIND, key)
            del self._configs[key]

    def _commit(self, config: EventInvokeConfig) -> EventInvokeConfig:
        """Store first, then cache: an acknowledged config survives a crash."""
        self._store.put(KIND, config.key, config.to_doc())
        self._configs[config.key] = config
        return config

    # -- rules ----------------------------------------------------------------------------------
    @staticmethod
    def _key(ref: FunctionRef) -> str:
        return f"{ref.region}/{ref.name}/{ref.qualifier or LATEST}"

    def _exists(self, ref: FunctionRef) -> bool:
        try:
            self._functions.entry(ref)
        except NotFound:
            return False
        return True

    def _function_for_write(self, ref: FunctionRef) -> FunctionConfig:
        try:
            return self._functions.config(ref)
        except NotFound:
            raise NotFound(FUNCTION_MISSING, Type="User") from None

    @staticmethod
    def _no_config(ref: FunctionRef) -> NotFound:
        arn = function_arn(ref.region, ref.account, ref.name, ref.qualifier or LATEST)
        return NotFound(f"The function {arn} doesn't have an EventInvokeConfig", Type="User")

    def _destinations(self, config: FunctionConfig, destinations: dict[str, Any]) -> tuple[str | None, str | None]:
        on_success = (destinations.get("OnSuccess") or {}).get("Destination") or None
        on_failure = (destinations.get("OnFailure") or {}).get("Destination") or None
        for target in (on_success, on_failure):
            if target is None:
                continue
            parts = target.split(":")
            if len(parts) < 6 or parts[2] not in DESTINATION_SERVICES:
                raise InvalidParameter(
                    f"The provided destination config {_describe(on_success, on_failure)} is invalid.", Type="User"
                )
            if parts[2] == "lambda":
                self._check_lambda_target(config, target)
        return on_success, on_failure

    def _check_lambda_target(self, config: FunctionConfig, target: str) -> None:
        invalid = InvalidParameter(f"The destination ARN {target} is invalid.", Type="User")
        try:
            ref = parse_function(target, config.region, config.account)
        except (InvalidParameter, NotFound):
            raise invalid from None
        if ref.name == config.name:
            raise InvalidParameter("You can't specify the function as a destination for itself.", Type="User")
        if not self._exists(ref):
            raise invalid


def _require_something(params: dict[str, Any]) -> None:
    if not any(k in params for k in ("MaximumRetryAttempts", "MaximumEventAgeInSeconds", "DestinationConfig")):
        raise InvalidParameter("You must specify at least one of error handling or destination setting.", Type="User")


def _describe(on_success: str | None, on_failure: str | None) -> str:
    """AWS echoes the config in its Java toString form."""
    success = f"OnSuccess(destination={on_success})" if on_success else "null"
    failure = f"OnFailure(destination={on_failure})" if on_failure else "null"
    return f"DestinationConfig(onSuccess={success}, onFailure={failure})"
