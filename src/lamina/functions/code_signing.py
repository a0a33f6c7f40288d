"""Code signing configurations (Create/Get/Update/Delete/ListCodeSigningConfigs) and the deployment check
they impose on the functions that name one (Put/Get/DeleteFunctionCodeSigningConfig, CreateFunction's
CodeSigningConfigArn, ListFunctionsByCodeSigningConfig).

A config lists the signing profile versions it trusts (`AllowedPublishers`) and what to do with an untrusted
package (`CodeSigningPolicies.UntrustedArtifactOnDeployment`: `Warn`, AWS's default, deploys and logs;
`Enforce` refuses with CodeVerificationFailedException). Lamina has no signing service yet, so no package
carries a signature: every package a function with a config deploys is untrusted. As on AWS the check runs
at deployment (CreateFunction, UpdateFunctionCode), never at invoke, and a config put on a function does not
touch the code it already runs.

Configs are documents of their own kind; the function's binding lives in its FunctionEntry (so it is
committed with CreateFunction and goes away with DeleteFunction). A config in use cannot be deleted.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass, field, replace
from typing import Any

from lamina.clock import Clock
from lamina.errors import CodeSigningConfigNotFound, CodeVerificationFailed, Conflict, NotFound
from lamina.functions.control import FunctionService
from lamina.functions.names import FunctionRef
from lamina.functions.record import lambda_timestamp
from lamina.store.documents import DocumentStore

log = logging.getLogger(__name__)

KIND = "code-signing-config"
WARN = "Warn"
ENFORCE = "Enforce"
MAX_LIST = 50


def _not_found(arn: str) -> NotFound:  # no `Type` member on these (recorded: test_code_signing_not_found_excs)
    return NotFound(f"The Lambda code signing configuration {arn} can not be found.", Type=None)


def _function_names_missing(arn: str) -> CodeSigningConfigNotFound:
    return CodeSigningConfigNotFound(
        f"The code signing configuration cannot be found. Check that the provided configuration is not deleted: {arn}.",
        Type="User",
    )


# Not compared with a recorded AWS response (none recorded); AWS's wording as CloudFormation relays it.
UNTRUSTED = (
    "Lambda cannot deploy the function. The function or layer might be signed using a signature that the client "
    "is not configured to accept. Check the provided signature for {name}."
)
IN_USE = "The code signing configuration cannot be deleted because it is used by one or more functions."  # ours


@dataclass(frozen=True)
class CodeSigningConfig:
    id: str
    region: str
    account: str
    publishers: tuple[str, ...]
    untrusted: str = WARN
    description: str = ""
    last_modified: float = 0.0
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def arn(self) -> str:
        return f"arn:aws:lambda:{self.region}:{self.account}:code-signing-config:{self.id}"

    def to_api(self) -> dict[str, Any]:
        return {
            "CodeSigningConfigId": self.id,
            "CodeSigningConfigArn": self.arn,
            "Description": self.description,
            "AllowedPublishers": {"SigningProfileVersionArns": list(self.publishers)},
            "CodeSigningPolicies": {"UntrustedArtifactOnDeployment": self.untrusted},
            "LastModified": lambda_timestamp(self.last_modified),
        }

    def to_doc(self) -> dict[str, Any]:
        doc = dict(self.__dict__)
        doc["publishers"] = list(self.publishers)
        return doc

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> CodeSigningConfig:
        return cls(**{**doc, "publishers": tuple(doc["publishers"])})


class CodeSigningConfigs:
    def __init__(self, store: DocumentStore, functions: FunctionService, clock: Clock) -> None:
        self._store = store
        self._functions = functions
        self._clock = clock
        self._configs = {doc["id"]: CodeSigningConfig.from_doc(doc) for doc in store.load(KIND).values()}

    # -- configs --------------------------------------------------------------------------------
    def create(self, region: str, account: str, params: dict[str, Any]) -> CodeSigningConfig:
        policies = params.get("CodeSigningPolicies") or {}
        config = CodeSigningConfig(
            id="csc-" + secrets.token_hex(9)[:17],
            region=region,
            account=account,
            publishers=tuple(params["AllowedPublishers"]["SigningProfileVersionArns"]),
            untrusted=policies.get("UntrustedArtifactOnDeployment", WARN),
            description=params.get("Description", ""),
            last_modified=self._clock.time(),
            tags=dict(params.get("Tags") or {}),
        )
        self._save(config)
        return config

    def _find(self, arn: str) -> CodeSigningConfig | None:
        found = self._configs.get(arn.rsplit(":", 1)[-1])
        return found if found is not None and found.arn == arn else None

    def get(self, arn: str) -> CodeSigningConfig:
        found = self._find(arn)
        if found is None:
            raise _not_found(arn)
        return found

    def update(self, arn: str, params: dict[str, Any]) -> CodeSigningConfig:
        config = self.get(arn)
        changes: dict[str, Any] = {}
        if "Description" in params:
            changes["description"] = params["Description"]
        if "AllowedPublishers" in params:
            changes["publishers"] = tuple(params["AllowedPublishers"]["SigningProfileVersionArns"])
        if "UntrustedArtifactOnDeployment" in (params.get("CodeSigningPolicies") or {}):
            changes["untrusted"] = params["CodeSigningPolicies"]["UntrustedArtifactOnDeployment"]
        if not changes:
            return config  # recorded: an update naming nothing answers the config unchanged
        updated = replace(config, last_modified=self._clock.time(), **changes)
        self._save(updated)
        return updated

    def delete(self, arn: str) -> None:
        config = self.get(arn)
        if self.functions_using(arn):
            raise Conflict(IN_USE, Type="User")
        self._store.delete(KIND, config.id)
        del self._configs[config.id]

    def listing(
        self, region: str, marker: str | None, max_items: int | None
    ) -> tuple[list[CodeSigningConfig], str | None]:
        configs = sorted((c for c in self._configs.values() if c.region == region), key=lambda c: c.id)
        return _page(configs, [c.id for c in configs], marker, max_items)

    def _save(self, config: CodeSigningConfig) -> None:
        self._store.put(KIND, config.id, config.to_doc())
        self._configs[config.id] = config

    # -- functions ------------------------------------------------------------------------------
    def put_for_function(self, ref: FunctionRef, arn: str) -> None:
        if self._find(arn) is None:
            raise _function_names_missing(arn)  # checked before the function (recorded: ..._invalid_both)
        entry = self._functions.entry(ref)
        self._functions.commit(replace(entry, code_signing_config_arn=arn), notify=False)

    def for_function(self, ref: FunctionRef) -> str | None:
        return self._functions.entry(ref).code_signing_config_arn

    def delete_for_function(self, ref: FunctionRef) -> None:
        entry = self._functions.entry(ref)
        if entry.code_signing_config_arn is not None:
            self._functions.commit(replace(entry, code_signing_config_arn=None), notify=False)

    def functions_using(self, arn: str) -> list[str]:
        return sorted(e.config.arn for e in self._functions.all_entries() if e.code_signing_config_arn == arn)

    def list_functions(self, arn: str, marker: str | None, max_items: int | None) -> tuple[list[str], str | None]:
        self.get(arn)
        arns = self.functions_using(arn)
        return _page(arns, arns, marker, max_items)

    # -- the deployment check -------------------------------------------------------------------
    def check_deployment(self, arn: str | None, name: str) -> None:
        """Before CreateFunction / UpdateFunctionCode of a function whose config is `arn`: the package is
        unsigned (Lamina has no signing service), so `Enforce` refuses it and `Warn` deploys it with a warning."""
        if arn is None:
            return
        config = self._find(arn)
        if config is None:
            raise _function_names_missing(arn)
        if config.untrusted == ENFORCE:
            raise CodeVerificationFailed(UNTRUSTED.format(name=name), Type="User")
        log.warning("code signing: %s deploys an unsigned package; %s says Warn, so the deployment proceeds", name, arn)


def _page(items: list[Any], keys: list[str], marker: str | None, max_items: int | None) -> tuple[list[Any], str | None]:
    start = 0
    if marker:
        start = next((i for i, k in enumerate(keys) if k >= marker), len(keys))
    size = min(max_items or MAX_LIST, MAX_LIST)
    following = start + size
    return items[start:following], keys[following] if following < len(keys) else None
