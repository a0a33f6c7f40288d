"""Releases: publishing immutable versions and pointing aliases at them (spec/lambda-api.md §6, §7).

A version is a frozen copy of $LATEST's code and configuration with its own number (never reused,
even after a delete). An alias names a version, optionally with weighted routing to a second one.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from lamina.clock import Clock
from lamina.errors import Conflict, InvalidParameter, NotFound, PreconditionFailed, function_not_found
from lamina.functions.alias import AliasConfig, check_routing
from lamina.functions.control import REVISION_MISMATCH, FunctionEntry, FunctionService
from lamina.functions.names import FunctionRef
from lamina.functions.record import FunctionConfig, new_revision
from lamina.functions.states import CREATING_CODE, CREATING_REASON, State, UpdateStatus
from lamina.types import LATEST

MAX_LIST = 50


class Releases:
    def __init__(self, functions: FunctionService, clock: Clock) -> None:
        self._functions = functions
        self._clock = clock

    # -- versions -------------------------------------------------------------------------------
    def publish(self, ref: FunctionRef, params: dict[str, Any]) -> FunctionConfig:
        entry = self._functions.entry(ref)
        latest = entry.config
        if params.get("RevisionId") is not None and params["RevisionId"] != latest.revision_id:
            raise PreconditionFailed(REVISION_MISMATCH, Type="User")
        self._functions.check_settled(entry)
        sha = params.get("CodeSha256")
        if sha is not None and sha != latest.code_sha256:
            raise InvalidParameter(
                f"CodeSHA256 ({sha}) is different from current CodeSHA256 in $LATEST ({latest.code_sha256}). "
                "Please try again with the CodeSHA256 in $LATEST.",
                Type="User",
            )
        if entry.published_changes == entry.changes and entry.versions:
            return entry.versions[max(entry.versions, key=int)]
        version = self.snapshot(entry, params.get("Description"))
        return version

    def snapshot(self, entry: FunctionEntry, description: str | None, pending: bool = False) -> FunctionConfig:
        """Freezes $LATEST as the next version and commits it. `pending`: $LATEST's code is still being
        prepared (UpdateFunctionCode with Publish), so the version is Pending until it settles."""
        number = str(entry.next_version)
        latest = entry.config
        state: dict[str, Any] = (
            {
                "state": State.PENDING,
                "state_reason": CREATING_REASON,
                "state_reason_code": CREATING_CODE,
                "last_update_status": None,
            }
            if pending
            else {"state": State.ACTIVE, "state_reason": None, "state_reason_code": None}
        )
        if not pending:
            state["last_update_status"] = UpdateStatus.SUCCESSFUL
        version = replace(
            latest,
            version=number,
            revision_id=new_revision(),
            description=latest.description if description is None else description,
            last_update_status_reason=None,
            last_update_status_reason_code=None,
            **state,
        )
        versions = {**entry.versions, number: version}
        # AWS gives $LATEST a new revision on publish; a pending $LATEST gets one when it settles (and its
        # settling is keyed on the revision it has now).
        published = latest if pending else replace(latest, revision_id=new_revision())
        self._functions.commit(
            replace(
                entry,
                config=published,
                versions=versions,
                next_version=entry.next_version + 1,
                published_changes=entry.changes,
            ),
            notify=False,
        )
        return version

    def list_versions(self, ref: FunctionRef, marker: str | None, max_items: int | None) -> dict[str, Any]:
        entry = self._functions.entry(ref)
        items = [entry.config] + [entry.versions[n] for n in sorted(entry.versions, key=int)]
        start = int(marker) if marker and marker.isdigit() else 0
        size = min(max_items or MAX_LIST, MAX_LIST)
        page = items[start : start + size]
        out: dict[str, Any] = {
            "Versions": [c.to_api(listing=True, arn=f"{c.arn}:{LATEST}" if c.version == LATEST else None) for c in page]
        }
        if start + size < len(items):
            out["NextMarker"] = str(start + size)
        return out

    # -- aliases --------------------------------------------------------------------------------
    def _check_version(self, entry: FunctionEntry, version: str) -> None:
        if version != LATEST and version not in entry.versions:
            raise function_not_found(f"{entry.config.arn}:{version}")

    def _alias(self, entry: FunctionEntry, name: str) -> AliasConfig:
        alias = entry.aliases.get(name)
        if alias is None:
            raise NotFound(f"Cannot find alias arn: {entry.config.arn}:{name}", Type="User")
        return alias

    def create_alias(self, ref: FunctionRef, params: dict[str, Any]) -> AliasConfig:
        entry = self._functions.lookup(ref)
        if entry is None:  # AWS names the version the alias was to point at
            raise function_not_found(f"{ref.arn}:{params['FunctionVersion']}")
        name = params["Name"]
        weights = dict((params.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {})
        version = params["FunctionVersion"]
        check_routing(version, weights)
        self._check_version(entry, version)
        for extra in weights:
            self._check_version(entry, extra)
        if name in entry.aliases:
            raise Conflict(f"Alias already exists: {entry.config.arn}:{name}", Type="User")
        alias = AliasConfig(name, entry.config.arn, version, new_revision(), params.get("Description", ""), weights)
        self._functions.commit(replace(entry, aliases={**entry.aliases, name: alias}), notify=False)
        return alias

    def get_alias(self, ref: FunctionRef, name: str) -> AliasConfig:
        return self._alias(self._functions.entry(ref), name)

    def update_alias(self, ref: FunctionRef, name: str, params: dict[str, Any]) -> AliasConfig:
        entry = self._functions.entry(ref)
        alias = entry.aliases.get(name)
        if alias is None:  # UpdateAlias words it differently from GetAlias
            raise NotFound(f"Alias not found: {entry.config.arn}:{name}", Type="User")
        if params.get("RevisionId") is not None and params["RevisionId"] != alias.revision_id:
            raise PreconditionFailed(REVISION_MISMATCH, Type="User")
        version = params.get("FunctionVersion", alias.function_version)
        if "RoutingConfig" in params:
            weights = dict((params["RoutingConfig"] or {}).get("AdditionalVersionWeights") or {})
        else:
            weights = dict(alias.weights)
        check_routing(version, weights)
        self._check_version(entry, version)
        for extra in weights:
            self._check_version(entry, extra)
        updated = replace(
            alias,
            function_version=version,
            weights=weights,
            description=params.get("Description", alias.description),
            revision_id=new_revision(),
        )
        self._functions.commit(replace(entry, aliases={**entry.aliases, name: updated}), notify=False)
        return updated

    def delete_alias(self, ref: FunctionRef, name: str) -> None:
        entry = self._functions.entry(ref)
        if name in entry.aliases:
            remaining = {n: a for n, a in entry.aliases.items() if n != name}
            self._functions.commit(replace(entry, aliases=remaining), notify=False)

    def list_aliases(
        self, ref: FunctionRef, version: str | None, marker: str | None, max_items: int | None
    ) -> dict[str, Any]:
        entry = self._functions.entry(ref)
        aliases = sorted(entry.aliases.values(), key=lambda a: a.name)
        if version is not None:
            aliases = [a for a in aliases if a.function_version == version]
        start = int(marker) if marker and marker.isdigit() else 0
        size = min(max_items or MAX_LIST, MAX_LIST)
        out: dict[str, Any] = {"Aliases": [a.to_api() for a in aliases[start : start + size]]}
        if start + size < len(aliases):
            out["NextMarker"] = str(start + size)
        return out
