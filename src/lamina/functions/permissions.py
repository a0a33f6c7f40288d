"""Function permissions: the resource policies of functions, versions and aliases, kept durably
(spec/lambda-api.md §9). AddPermission / RemovePermission / GetPolicy are served from here, and
`allows()` answers, for the triggers and function URLs that enforce them, whether a caller may invoke.

Policies are documents of their own kind, one per function-and-qualifier (`""` for the unqualified
function). A change gives the policy a new revision id and gives the same id to the resource it belongs
to ($LATEST, the version or the alias), as AWS does; a `RevisionId` precondition names either.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from typing import Any

from lamina.errors import (
    Conflict,
    InvalidParameter,
    NotFound,
    PolicyLengthExceeded,
    PreconditionFailed,
    function_not_found,
)
from lamina.functions.control import REVISION_MISMATCH, FunctionEntry, FunctionService
from lamina.functions.names import FunctionRef
from lamina.functions.policy import MAX_POLICY_BYTES, ResourcePolicy, build_statement
from lamina.functions.record import FunctionConfig, new_revision
from lamina.store.documents import DocumentStore
from lamina.types import LATEST

KIND = "function-policy"
NO_RESOURCE = "The resource you requested does not exist."
POLICY_REVISION_MISMATCH = (
    "The Revision Id provided does not match the latest Revision Id. Call the GetPolicy API to retrieve the "
    "latest Revision Id"
)
_ALIAS_NAME = re.compile(r"^[a-zA-Z0-9-_]+$")


def _key(function_arn: str, qualifier: str | None) -> str:
    return f"{function_arn}#{qualifier or ''}"


class FunctionPolicies:
    def __init__(self, functions: FunctionService, store: DocumentStore) -> None:
        self._functions = functions
        self._store = store
        self._policies: dict[str, ResourcePolicy] = {
            key: ResourcePolicy.from_doc(doc) for key, doc in store.load(KIND).items()
        }

    # -- listeners -------------------------------------------------------------------------------------
    def function_changed(self, config: FunctionConfig | None, function_arn: str) -> None:
        if config is None:
            for key in [k for k in self._policies if k.startswith(f"{function_arn}#")]:
                self._forget(key)

    def version_deleted(self, function_arn: str, version: str) -> None:
        self._forget(_key(function_arn, version))

    def _forget(self, key: str) -> None:
        if self._policies.pop(key, None) is not None:
            self._store.delete(KIND, key)

    # -- resolution ------------------------------------------------------------------------------------
    @staticmethod
    def _qualifier_missing(entry: FunctionEntry, ref: FunctionRef) -> NotFound:
        qualifier = ref.qualifier or ""
        if _ALIAS_NAME.match(qualifier) and not qualifier.isdigit():
            return NotFound(f"Cannot find alias arn: {ref.qualified_arn}", Type="User")
        return function_not_found(ref.qualified_arn)

    def _resource_revision(self, entry: FunctionEntry, qualifier: str | None) -> str | None:
        if qualifier is None:
            return entry.config.revision_id
        if qualifier in entry.versions:
            return entry.versions[qualifier].revision_id
        alias = entry.aliases.get(qualifier)
        return None if alias is None else alias.revision_id

    def _check_revision(self, entry: FunctionEntry, ref: FunctionRef, revision_id: str | None) -> None:
        if revision_id is None:
            return
        policy = self._policies.get(_key(entry.config.arn, ref.qualifier))
        if revision_id in (self._resource_revision(entry, ref.qualifier), policy and policy.revision_id):
            return
        message = REVISION_MISMATCH if ref.qualifier is None else POLICY_REVISION_MISMATCH
        raise PreconditionFailed(message, Type="User")

    def _stamp(self, entry: FunctionEntry, qualifier: str | None, revision_id: str) -> None:
        """The resource the policy belongs to takes the policy's new revision id."""
        if qualifier is None:
            entry = replace(entry, config=replace(entry.config, revision_id=revision_id))
        elif qualifier in entry.versions:
            version = replace(entry.versions[qualifier], revision_id=revision_id)
            entry = replace(entry, versions={**entry.versions, qualifier: version})
        elif qualifier in entry.aliases:
            alias = replace(entry.aliases[qualifier], revision_id=revision_id)
            entry = replace(entry, aliases={**entry.aliases, qualifier: alias})
        self._functions.commit(entry, notify=False)

    def _save(self, key: str, policy: ResourcePolicy) -> None:
        if policy.statements:
            self._store.put(KIND, key, policy.to_doc())
            self._policies[key] = policy
        else:
            self._forget(key)

    # -- operations ------------------------------------------------------------------------------------
    def add(self, ref: FunctionRef, params: dict[str, Any]) -> dict[str, Any]:
        if ref.qualifier == LATEST:
            raise InvalidParameter("We currently do not support adding policies for $LATEST.", Type="User")
        entry = self._functions.lookup(ref)
        if entry is None:
            raise function_not_found(ref.qualified_arn if ref.qualifier else ref.arn)
        if ref.qualifier is not None and self._resource_revision(entry, ref.qualifier) is None:
            raise self._qualifier_missing(entry, ref)
        self._check_revision(entry, ref, params.get("RevisionId"))
        key = _key(entry.config.arn, ref.qualifier)
        current = self._policies.get(key) or ResourcePolicy()
        sid = params["StatementId"]
        if sid in current.sids():
            raise Conflict(
                f"The statement id ({sid}) provided already exists. Please provide a new statement id, "
                "or remove the existing statement.",
                Type="User",
            )
        resource = ref.qualified_arn if ref.qualifier else ref.arn
        statement = build_statement(resource, params)
        policy = ResourcePolicy([*current.statements, statement], new_revision())
        size = len(policy.text().encode())
        if size > MAX_POLICY_BYTES:
            raise PolicyLengthExceeded(
                f"The final policy size ({size}) is bigger than the limit ({MAX_POLICY_BYTES}).", Type="User"
            )
        self._save(key, policy)
        self._stamp(entry, ref.qualifier, policy.revision_id)
        return {"Statement": json.dumps(statement, separators=(",", ":"))}

    def remove(self, ref: FunctionRef, sid: str, revision_id: str | None) -> None:
        entry = self._functions.lookup(ref)
        if entry is None:
            raise NotFound(f"No policy found for: {ref.qualified_arn if ref.qualifier else ref.arn}", Type="User")
        if ref.qualifier is not None and self._resource_revision(entry, ref.qualifier) is None:
            raise self._qualifier_missing(entry, ref)
        key = _key(entry.config.arn, ref.qualifier)
        current = self._policies.get(key)
        if current is None:
            raise NotFound("No policy is associated with the given resource.", Type="User")
        self._check_revision(entry, ref, revision_id)
        if sid not in current.sids():
            raise NotFound(f"Statement {sid} is not found in resource policy.", Type="User")
        policy = ResourcePolicy([s for s in current.statements if s["Sid"] != sid], new_revision())
        self._save(key, policy)
        self._stamp(entry, ref.qualifier, policy.revision_id)

    def get(self, ref: FunctionRef) -> dict[str, Any]:
        entry = self._functions.lookup(ref)
        qualifier = None if ref.qualifier == LATEST else ref.qualifier
        if entry is None or (qualifier is not None and self._resource_revision(entry, qualifier) is None):
            raise NotFound(NO_RESOURCE, Type="User")
        policy = self._policies.get(_key(entry.config.arn, qualifier))
        if policy is None or not policy.statements:
            raise NotFound(NO_RESOURCE, Type="User")
        return {"Policy": policy.text(), "RevisionId": policy.revision_id}

    def policy(self, function_arn: str, qualifier: str | None = None) -> ResourcePolicy | None:
        return self._policies.get(_key(function_arn, None if qualifier == LATEST else qualifier))

    def allows(
        self,
        function_arn: str,
        principal: str,
        action: str = "lambda:InvokeFunction",
        source_arn: str | None = None,
        source_account: str | None = None,
        qualifier: str | None = None,
        **conditions: Any,
    ) -> bool:
        """Whether the policy of `function_arn` (qualified by `qualifier`: a call through an alias or
        version is judged by that alias's or version's policy) allows the request."""
        policy = self.policy(function_arn, qualifier)
        return policy is not None and policy.allows(
            principal, action, source_arn, source_account, None if qualifier == LATEST else qualifier, **conditions
        )
