"""Concurrency controls of functions: reserved concurrency and provisioned concurrency configs
(spec/lambda-api.md §10, README point 2 and 4).

Reserved concurrency lives on the `FunctionEntry` (it belongs to the function as a whole). Provisioned
concurrency configs are documents of their own kind, one per version or alias. Both are mirrored into the
`ConcurrencyLedger` the invoke path reads, and provisioned configs drive a `Provisioner` (the executor)
that initialises that many environments ahead of requests.

Provisioned config lifecycle (`Status`):

    Put --> IN_PROGRESS --all environments initialised--> READY
                        --some could not start----------> FAILED
    Put again (new count) --> IN_PROGRESS ...;  Delete, or its alias/version gone --> (no config)
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any, Protocol

from lamina.clock import Clock
from lamina.errors import Conflict, InvalidParameter, NotFound, ProvisionedConfigNotFound, function_not_found
from lamina.functions.control import FunctionEntry, FunctionService
from lamina.functions.names import FunctionRef
from lamina.functions.record import FunctionConfig
from lamina.invoke.concurrency import ConcurrencyLedger
from lamina.store.documents import DocumentStore
from lamina.types import LATEST, VersionSpec

log = logging.getLogger(__name__)

KIND = "provisioned-concurrency"
MAX_LIST = 50
ONLY_FUNCTIONS = (
    "This operation is permitted on Lambda functions only. Aliases and versions do not support this "
    "operation. Please specify either a function name or an unqualified function ARN."
)
NOT_PUBLISHED = "Provisioned Concurrency Configs cannot be applied to unpublished function versions."
ALIAS_OR_VERSION = "The function resource provided must be an alias or a published version."
NO_CONFIG = "No Provisioned Concurrency Config found for this function"
ALIAS_ON_PROVISIONED_VERSION = (
    "Alias can't be used for Provisioned Concurrency configuration on an already Provisioned version"
)
VERSION_UNDER_PROVISIONED_ALIAS = "Version is pointed by a Provisioned Concurrency alias"
ABOVE_RESERVED = (
    "Requested Provisioned Concurrency should not be greater than the reservedConcurrentExecution for function"
)


class ProvisionedStatus(StrEnum):
    IN_PROGRESS = "IN_PROGRESS"
    READY = "READY"
    FAILED = "FAILED"


class Provisioner(Protocol):
    async def provision(self, spec: VersionSpec, count: int) -> int: ...
    def unprovision(self, function_arn: str, version: str) -> None: ...


def _timestamp(epoch: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S+0000", time.gmtime(epoch))


@dataclass
class ProvisionedConfig:
    function_arn: str  # unqualified
    qualifier: str  # a version number or an alias name
    requested: int
    last_modified: float
    version: str = ""  # the version whose environments serve it (an alias's, when it was put)
    status: ProvisionedStatus = ProvisionedStatus.IN_PROGRESS
    available: int = 0
    reason: str | None = None

    @property
    def key(self) -> str:
        return f"{self.function_arn}:{self.qualifier}"

    def to_doc(self) -> dict[str, Any]:
        return {
            "function_arn": self.function_arn,
            "qualifier": self.qualifier,
            "requested": self.requested,
            "last_modified": self.last_modified,
        }

    def to_api(self, listing: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {
            "RequestedProvisionedConcurrentExecutions": self.requested,
            "AvailableProvisionedConcurrentExecutions": self.available,
            "AllocatedProvisionedConcurrentExecutions": self.available,
            "Status": self.status.value,
            "LastModified": _timestamp(self.last_modified),
        }
        if self.reason:
            out["StatusReason"] = self.reason
        if listing:
            out = {"FunctionArn": self.key, **out}
        return out


class ConcurrencyControls:
    def __init__(
        self,
        functions: FunctionService,
        store: DocumentStore,
        ledger: ConcurrencyLedger,
        provisioner: Provisioner,
        clock: Clock,
    ) -> None:
        self._functions = functions
        self._store = store
        self.ledger = ledger
        self._provisioner = provisioner
        self._clock = clock
        self._configs: dict[str, ProvisionedConfig] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        for doc in store.load(KIND).values():
            config = ProvisionedConfig(doc["function_arn"], doc["qualifier"], doc["requested"], doc["last_modified"])
            self._configs[config.key] = config
        for entry in functions.all_entries():
            ledger.set_reserved(entry.config.arn, entry.reserved_concurrency)

    def start(self) -> None:
        """Re-provisions the configs that survived a restart."""
        for config in list(self._configs.values()):
            entry = self._functions.lookup(self._ref_of(config))
            target = None if entry is None else self._target_version(entry, config.qualifier)
            if target is None:
                self._drop(config)
                continue
            self._begin(config, target)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    def function_changed(self, config: FunctionConfig | None, function_arn: str) -> None:
        """A FunctionService listener: a deleted function takes its concurrency settings with it."""
        if config is None:
            for found in [c for c in self._configs.values() if c.function_arn == function_arn]:
                self._drop(found)
            self.ledger.forget(function_arn)

    def version_deleted(self, function_arn: str, version: str) -> None:
        for found in [c for c in self._configs.values() if c.function_arn == function_arn and c.version == version]:
            self._drop(found)

    # -- reserved concurrency --------------------------------------------------------------------------
    def _unqualified_entry(self, ref: FunctionRef) -> FunctionEntry:
        entry = self._functions.lookup(ref)
        if entry is None:
            raise function_not_found(f"{ref.arn}:{LATEST}")
        if ref.qualifier is not None:
            raise InvalidParameter(ONLY_FUNCTIONS, Type="User")
        return entry

    def put_reserved(self, ref: FunctionRef, reserved: int) -> int:
        entry = self._unqualified_entry(ref)
        arn, region = entry.config.arn, ref.region
        ledger = self.ledger
        others = ledger.reserved_total(region, excluding=arn)
        unreserved_provisioned = ledger.unreserved_provisioned(region, excluding=arn)
        if ledger.limit - others - unreserved_provisioned - reserved < ledger.min_unreserved:
            raise InvalidParameter(
                "Specified ReservedConcurrentExecutions for function decreases account's "
                f"UnreservedConcurrentExecution below its minimum value of [{ledger.min_unreserved}].",
                Type=None,  # AWS sends these without a Type
            )
        self._functions.commit(replace(entry, reserved_concurrency=reserved), notify=False)
        ledger.set_reserved(arn, reserved)
        return reserved

    def get_reserved(self, ref: FunctionRef) -> int | None:
        entry = self._functions.lookup(ref)
        if entry is None:
            raise function_not_found(ref.arn)
        return entry.reserved_concurrency

    def delete_reserved(self, ref: FunctionRef) -> None:
        entry = self._functions.lookup(ref)
        if entry is None:
            raise function_not_found(ref.arn)
        if ref.qualifier is not None:
            raise InvalidParameter(ONLY_FUNCTIONS, Type="User")
        self._functions.commit(replace(entry, reserved_concurrency=None), notify=False)
        self.ledger.set_reserved(entry.config.arn, None)

    # -- provisioned concurrency -----------------------------------------------------------------------
    @staticmethod
    def _ref_of(config: ProvisionedConfig) -> FunctionRef:
        parts = config.function_arn.split(":")
        return FunctionRef(parts[6], config.qualifier, parts[3], parts[4])

    @staticmethod
    def _target_version(entry: FunctionEntry, qualifier: str) -> str | None:
        if qualifier in entry.versions:
            return qualifier
        alias = entry.aliases.get(qualifier)
        if alias is not None and alias.function_version in entry.versions:
            return alias.function_version
        return None

    def _resolve(self, ref: FunctionRef, latest_message: str) -> tuple[FunctionEntry, str, str]:
        """(entry, qualifier, version it runs) for a provisioned-concurrency target, with AWS's errors."""
        qualifier = ref.qualifier or LATEST
        if qualifier == LATEST:
            if self._functions.lookup(ref) is None:
                raise function_not_found(ref.arn)
            raise InvalidParameter(latest_message, Type="User")
        entry = self._functions.lookup(ref)
        is_version = qualifier.isdigit()
        if entry is not None:
            version = self._target_version(entry, qualifier)
            if version is not None:
                return entry, qualifier, version
        if is_version:
            raise function_not_found(ref.qualified_arn)
        raise NotFound(f"Cannot find alias arn: {ref.qualified_arn}", Type="User")

    def _sweep(self, function_arn: str) -> None:
        """Configs whose alias or version is gone go with them (AWS deletes them along)."""
        for config in [c for c in self._configs.values() if c.function_arn == function_arn]:
            entry = self._functions.lookup(self._ref_of(config))
            version = None if entry is None else self._target_version(entry, config.qualifier)
            if version is None:
                self._drop(config)

    def put_provisioned(self, ref: FunctionRef, requested: int) -> dict[str, Any]:
        entry, qualifier, version = self._resolve(ref, NOT_PUBLISHED)
        arn = entry.config.arn
        self._sweep(arn)
        for other in self._configs.values():
            if other.function_arn != arn or other.qualifier == qualifier or other.version != version:
                continue
            if qualifier in entry.aliases:
                raise Conflict(ALIAS_ON_PROVISIONED_VERSION, Type="User")
            raise Conflict(VERSION_UNDER_PROVISIONED_ALIAS, Type="User")
        self._check_provisioned_limits(entry, qualifier, requested)
        existing = self._configs.get(f"{arn}:{qualifier}")
        if existing is not None and existing.version != version:
            self._provisioner.unprovision(arn, existing.version)
        config = ProvisionedConfig(arn, qualifier, requested, self._clock.time(), version)
        self._store.put(KIND, config.key, config.to_doc())
        self._configs[config.key] = config
        self._begin(config, version)
        return config.to_api()

    def _check_provisioned_limits(self, entry: FunctionEntry, qualifier: str, requested: int) -> None:
        ledger, arn, region = self.ledger, entry.config.arn, entry.config.region
        others = ledger.provisioned_total(arn, excluding=qualifier)
        if entry.reserved_concurrency is not None:
            if others + requested > entry.reserved_concurrency:
                raise InvalidParameter(ABOVE_RESERVED, Type="User")
            return
        available = (
            ledger.limit - ledger.reserved_total(region) - ledger.unreserved_provisioned(region, excluding=arn) - others
        )
        if requested > available:
            raise InvalidParameter(
                f"Specified ConcurrentExecutions for function is greater than account's unreserved concurrency "
                f"[{available}].",
                Type=None,
            )
        if available - requested < ledger.min_unreserved:
            raise InvalidParameter(
                "Specified ConcurrentExecutions for function decreases account's UnreservedConcurrentExecution "
                f"below its minimum value of [{ledger.min_unreserved}].",
                Type=None,  # AWS sends these without a Type
            )

    def _begin(self, config: ProvisionedConfig, version: str) -> None:
        config.version = version
        config.status = ProvisionedStatus.IN_PROGRESS
        config.available = 0
        self.ledger.set_provisioned(config.function_arn, config.qualifier, config.requested, 0)
        task = asyncio.get_running_loop().create_task(self._provision(config))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _provision(self, config: ProvisionedConfig) -> None:
        entry = self._functions.lookup(self._ref_of(config))
        spec_config = None if entry is None else entry.versions.get(config.version)
        if spec_config is None:
            return
        try:
            ready = await self._provisioner.provision(self._functions.spec(spec_config), config.requested)
        except Exception as exc:  # a runtime that cannot start, the executor closing
            log.warning("provisioning %s failed: %s", config.key, exc)
            ready = 0
        if self._configs.get(config.key) is not config:
            return  # replaced or deleted meanwhile
        config.available = min(ready, config.requested)
        if config.available >= config.requested:
            config.status, config.reason = ProvisionedStatus.READY, None
        else:
            config.status = ProvisionedStatus.FAILED
            config.reason = "FUNCTION_ERROR_INIT_FAILURE"
        self.ledger.set_provisioned(config.function_arn, config.qualifier, config.requested, config.available)

    def _drop(self, config: ProvisionedConfig) -> None:
        if self._configs.get(config.key) is config:
            del self._configs[config.key]
            self._store.delete(KIND, config.key)
        self.ledger.set_provisioned(config.function_arn, config.qualifier, None)
        if config.version and not any(
            c.function_arn == config.function_arn and c.version == config.version for c in self._configs.values()
        ):
            self._provisioner.unprovision(config.function_arn, config.version)

    def get_provisioned(self, ref: FunctionRef) -> dict[str, Any]:
        entry, qualifier, _version = self._resolve(ref, ALIAS_OR_VERSION)
        self._sweep(entry.config.arn)
        config = self._configs.get(f"{entry.config.arn}:{qualifier}")
        if config is None:
            raise ProvisionedConfigNotFound(NO_CONFIG, Type="User")
        return config.to_api()

    def delete_provisioned(self, ref: FunctionRef) -> None:
        entry, qualifier, _version = self._resolve(ref, ALIAS_OR_VERSION)
        config = self._configs.get(f"{entry.config.arn}:{qualifier}")
        if config is not None:
            self._drop(config)

    def list_provisioned(self, ref: FunctionRef, marker: str | None, max_items: int | None) -> dict[str, Any]:
        entry = self._functions.lookup(ref)
        if entry is None:
            raise function_not_found(ref.arn)
        self._sweep(entry.config.arn)
        configs = sorted((c for c in self._configs.values() if c.function_arn == entry.config.arn), key=lambda c: c.key)
        start = int(marker) if marker and marker.isdigit() else 0
        size = min(max_items or MAX_LIST, MAX_LIST)
        out: dict[str, Any] = {
            "ProvisionedConcurrencyConfigs": [c.to_api(listing=True) for c in configs[start : start + size]]
        }
        if start + size < len(configs):
            out["NextMarker"] = str(start + size)
        return out

    def provisioned_of_unreserved(self, region: str) -> int:
        return self.ledger.unreserved_provisioned(region)
