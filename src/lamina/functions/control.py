"""The control plane for functions: create, read, list, update, delete and tag, with durable state.

Every change is validated completely, then committed to the store, then applied to the in-memory
cache, and only then answered; so a request that fails changes nothing, and anything acknowledged
survives a crash. The cache is what the invoke path reads: no database access on a warm invoke.

Creation and updates are asynchronous as on AWS: the answer says Pending / InProgress, and the
function becomes Active / Successful once its package is ready (plus `state_transition_delay`).
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from lamina.clock import Clock
from lamina.config import Settings
from lamina.errors import Conflict, InvalidParameter, NotFound, PreconditionFailed, function_not_found
from lamina.functions import package, rules
from lamina.functions.alias import AliasConfig
from lamina.functions.code_source import CodeSource
from lamina.functions.layers import LayerService
from lamina.functions.names import FunctionRef, parse_function
from lamina.functions.record import FunctionConfig, new_revision
from lamina.functions.states import CREATING_CODE, CREATING_REASON, State, UpdateStatus, check_transition
from lamina.store.blobs import BlobStore
from lamina.store.documents import DocumentStore
from lamina.types import LATEST, VersionSpec

log = logging.getLogger(__name__)

KIND = "function"
_ALIAS_NAME = re.compile(r"^[a-zA-Z0-9-_]+$")
REVISION_MISMATCH = (
    "The Revision Id provided does not match the latest Revision Id. "
    "Call the GetFunction/GetAlias API to retrieve the latest Revision Id"
)


@dataclass
class FunctionEntry:
    """A function: its $LATEST configuration, its published versions and aliases, and the settings that
    belong to the function as a whole.

    `changes` counts UpdateFunctionCode/Configuration calls; `published_changes` is its value at the
    last PublishVersion, so a publish with nothing changed returns the latest version (spec §6).
    """

    config: FunctionConfig
    tags: dict[str, str] = field(default_factory=dict)
    reserved_concurrency: int | None = None
    versions: dict[str, FunctionConfig] = field(default_factory=dict)
    aliases: dict[str, AliasConfig] = field(default_factory=dict)
    next_version: int = 1
    changes: int = 0
    published_changes: int = -1
    code_signing_config_arn: str | None = None  # Put/DeleteFunctionCodeSigningConfig, or CreateFunction's

    @property
    def key(self) -> str:
        return f"{self.config.region}/{self.config.name}"

    def to_doc(self) -> dict[str, Any]:
        return {
            "config": self.config.to_doc(),
            "tags": self.tags,
            "reserved_concurrency": self.reserved_concurrency,
            "versions": {n: v.to_doc() for n, v in self.versions.items()},
            "aliases": {n: a.to_doc() for n, a in self.aliases.items()},
            "next_version": self.next_version,
            "changes": self.changes,
            "published_changes": self.published_changes,
            "code_signing_config_arn": self.code_signing_config_arn,
        }

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> FunctionEntry:
        return cls(
            FunctionConfig.from_doc(doc["config"]),
            dict(doc.get("tags", {})),
            doc.get("reserved_concurrency"),
            {n: FunctionConfig.from_doc(v) for n, v in doc.get("versions", {}).items()},
            {n: AliasConfig.from_doc(a) for n, a in doc.get("aliases", {}).items()},
            doc.get("next_version", 1),
            doc.get("changes", 0),
            doc.get("published_changes", -1),
            doc.get("code_signing_config_arn"),
        )


Listener = Callable[[FunctionConfig | None, str], None]
VersionListener = Callable[[str, str], None]  # (function_arn, version) of a deleted version


class FunctionService:
    def __init__(
        self,
        settings: Settings,
        store: DocumentStore,
        blobs: BlobStore,
        clock: Clock,
        layers: LayerService | None = None,
    ) -> None:
        self._settings = settings
        self._layers = layers  # None: no layer control plane, so any `Layers` reference does not exist
        self.code_source = CodeSource(
            "Please provide a source for function code.",
            "Lamina does not serve S3 here: upload the deployment package with Code.ZipFile.",
        )
        self._store = store
        self._blobs = blobs
        self._clock = clock
        self.code_root = settings.data_dir / "code"
        self.code_root.mkdir(parents=True, exist_ok=True)
        self._functions: dict[str, FunctionEntry] = {}
        self._timers: set[asyncio.TimerHandle] = set()
        self._listeners: list[Listener] = []
        self._specs: dict[str, VersionSpec] = {}
        self._version_listeners: list[VersionListener] = []
        for key, doc in store.load(KIND).items():
            self._functions[key] = FunctionEntry.from_doc(doc)

    def on_change(self, listener: Listener) -> None:
        """`listener(new_config_or_None, function_arn)` runs after every committed change an execution
        environment of $LATEST would see, and after a delete (None): the data plane retires environments
        of the old configuration."""
        self._listeners.append(listener)

    def on_version_deleted(self, listener: VersionListener) -> None:
        self._version_listeners.append(listener)

    async def start(self) -> None:
        """Finishes transitions interrupted by a stop or crash: Pending/InProgress become settled."""
        for entry in list(self._functions.values()):
            config = entry.config
            if not (self.code_root / config.code_digest).exists() and self._blobs.exists(config.code_digest):
                await asyncio.to_thread(package.unpack, self._blobs.read(config.code_digest), self.code_root)
            if config.state == State.PENDING or config.last_update_status == UpdateStatus.IN_PROGRESS:
                self._settle(entry.key, config.revision_id)

    def close(self) -> None:
        for timer in self._timers:
            timer.cancel()
        self._timers.clear()

    # -- lookups --------------------------------------------------------------------------------
    def resolve(self, name: str, region: str, account: str, qualifier: str | None = None) -> FunctionRef:
        return parse_function(name, region, account, qualifier)

    def entry(self, ref: FunctionRef) -> FunctionEntry:
        entry = self._functions.get(f"{ref.region}/{ref.name}")
        if entry is None:
            raise function_not_found(ref.arn)
        return entry

    def config(self, ref: FunctionRef) -> FunctionConfig:
        """The configuration a qualifier names: $LATEST, a published version, or an alias's primary version."""
        entry = self._functions.get(f"{ref.region}/{ref.name}")
        if entry is None:
            raise function_not_found(ref.arn if ref.qualifier is None else ref.qualified_arn)
        qualifier = ref.qualifier
        if qualifier is None or qualifier == LATEST:
            return entry.config
        if qualifier in entry.versions:
            return entry.versions[qualifier]
        alias = entry.aliases.get(qualifier)
        if alias is not None and alias.function_version in entry.versions:
            return entry.versions[alias.function_version]
        if alias is not None and alias.function_version == LATEST:
            return entry.config
        raise function_not_found(ref.qualified_arn)

    def invocation_target(self, ref: FunctionRef) -> FunctionConfig:
        """The configuration one invocation runs: an alias's weighted routing picks the version per call."""
        entry = self._functions.get(f"{ref.region}/{ref.name}")
        qualifier = ref.qualifier
        if entry is None:  # Invoke, unlike GetFunction, names the version it looked for
            raise function_not_found(ref.qualified_arn if qualifier is not None else f"{ref.arn}:{LATEST}")
        if qualifier is not None and qualifier in entry.aliases:
            version = entry.aliases[qualifier].pick_version()
            if version == LATEST:
                return entry.config
            config = entry.versions.get(version)
            if config is not None:
                return config
        return self.config(ref)

    def lookup(self, ref: FunctionRef) -> FunctionEntry | None:
        return self._functions.get(f"{ref.region}/{ref.name}")

    def functions(self, region: str) -> list[FunctionEntry]:
        return sorted((e for e in self._functions.values() if e.config.region == region), key=lambda e: e.config.name)

    def all_entries(self) -> Iterable[FunctionEntry]:
        return self._functions.values()

    def cached_spec(self, config: FunctionConfig) -> VersionSpec:
        """`spec(config)`, built once per configuration revision: the invoke paths ask on every call."""
        key = f"{config.region}/{config.name}/{config.version}/{config.revision_id}"
        spec = self._specs.get(key)
        if spec is None:
            if len(self._specs) > 4096:
                self._specs.clear()
            spec = self._specs[key] = self.spec(config)
        return spec

    def spec(self, config: FunctionConfig) -> VersionSpec:
        return VersionSpec(
            function_name=config.name,
            function_arn=config.arn,
            version=config.version,
            runtime=config.runtime,
            handler=config.handler,
            code_dir=self.code_root / config.code_digest,
            layer_dirs=self._layers.folders(config.layers) if self._layers is not None else (),
            memory_mb=config.memory_size,
            timeout_s=config.timeout,
            ephemeral_mb=config.ephemeral_storage,
            environment=tuple((config.environment or {}).items()),
            region=config.region,
            account_id=config.account,
            log_group=config.log_group,
            log_format=config.logging_config.get("LogFormat", "Text"),
            application_log_level=config.logging_config.get("ApplicationLogLevel"),
            system_log_level=config.logging_config.get("SystemLogLevel"),
            config_key=config.runtime_key(),
            tracing_mode=config.tracing_mode,
        )

    # -- create ---------------------------------------------------------------------------------
    async def create(self, ref: FunctionRef, params: dict[str, Any]) -> FunctionConfig:
        rules.check_name_length(ref.name)
        package_type = params.get("PackageType", "Zip")
        code = params.get("Code", {})
        if package_type == "Image" or "ImageUri" in code:
            raise InvalidParameter(
                "Lamina runs Zip deployment packages; container images (PackageType Image) are not supported.",
                Type="User",
            )
        runtime, handler = params.get("Runtime"), params.get("Handler")
        if runtime is None or handler is None:
            raise InvalidParameter(
                "Runtime and Handler are mandatory parameters for functions created with deployment packages.",
                Type="User",
            )
        rules.check_runtime(runtime)
        self._check_settings(params, ref.region)
        tags = params.get("Tags") or {}
        rules.check_tags(tags)
        self._check_absent(ref)
        data = await self.code_source.zip_bytes(code)
        pkg = await asyncio.to_thread(package.unpack, data, self.code_root)
        self._check_absent(ref)  # another request may have created it while the package unpacked
        self._blobs.put(data)
        now = self._clock.time()
        config = FunctionConfig(
            name=ref.name,
            region=ref.region,
            account=ref.account,
            role=params["Role"],
            code_digest=pkg.digest,
            code_sha256=pkg.code_sha256,
            code_size=pkg.size,
            last_modified=now,
            revision_id=new_revision(),
            runtime=runtime,
            handler=handler,
            state=State.PENDING,
            state_reason=CREATING_REASON,
            state_reason_code=CREATING_CODE,
            **self._settings_from(params, None),
        )
        entry = FunctionEntry(config, dict(tags), code_signing_config_arn=params.get("CodeSigningConfigArn"))
        self._commit(entry)
        self._settle(entry.key, config.revision_id)
        return config

    def _check_absent(self, ref: FunctionRef) -> None:
        if f"{ref.region}/{ref.name}" in self._functions:
            raise Conflict(f"Function already exist: {ref.name}", Type="User")

    def _check_settings(self, params: dict[str, Any], region: str) -> None:
        ephemeral = (params.get("EphemeralStorage") or {}).get("Size")
        rules.check_limits(params.get("MemorySize"), params.get("Timeout"), ephemeral)
        environment = params.get("Environment")
        if environment is not None:
            rules.check_environment(environment.get("Variables") or {})
        layers = params.get("Layers")
        if layers:
            if len(layers) > rules.MAX_LAYERS:
                raise InvalidParameter("Cannot reference more than 5 layers.", Type="User")
            if self._layers is None:
                raise InvalidParameter(f"Layer version {layers[0]} does not exist.", Type="User")
            self._layers.check_references(layers, region)

    def _settings_from(self, params: dict[str, Any], base: FunctionConfig | None) -> dict[str, Any]:
        """The configuration fields a Create/UpdateFunctionConfiguration request sets."""
        out: dict[str, Any] = {}
        simple = {
            "Description": "description",
            "Timeout": "timeout",
            "MemorySize": "memory_size",
            "KMSKeyArn": "kms_key_arn",
            "Role": "role",
            "Handler": "handler",
            "Runtime": "runtime",
        }
        for key, attr in simple.items():
            if key in params and (base is not None or key not in ("Role", "Handler", "Runtime")):
                out[attr] = params[key]
        if "Environment" in params:
            out["environment"] = dict(params["Environment"].get("Variables") or {})
        if "Architectures" in params:
            out["architectures"] = tuple(params["Architectures"])
        if "Layers" in params:  # checked by _check_settings
            out["layers"] = tuple(params["Layers"])
            out["layer_sizes"] = self._layers.code_sizes(params["Layers"]) if self._layers is not None else ()
        if "EphemeralStorage" in params:
            out["ephemeral_storage"] = params["EphemeralStorage"]["Size"]
        if "TracingConfig" in params:
            out["tracing_mode"] = params["TracingConfig"].get("Mode", "PassThrough")
        if "DeadLetterConfig" in params:
            out["dead_letter_target"] = params["DeadLetterConfig"].get("TargetArn") or None
        if "VpcConfig" in params:
            vpc = params["VpcConfig"]
            subnets, groups = vpc.get("SubnetIds") or [], vpc.get("SecurityGroupIds") or []
            # Once given, AWS shows VpcConfig for good, cleared lists included (recorded: test_vpc_config).
            # VpcId stays "": without EC2 Lamina cannot know the subnets' VPC.
            out["vpc_config"] = {
                "SubnetIds": subnets,
                "SecurityGroupIds": groups,
                "VpcId": "",
                "Ipv6AllowedForDualStack": bool(vpc.get("Ipv6AllowedForDualStack")),
            }
        if "LoggingConfig" in params:
            merged = dict(base.logging_config) if base is not None else {}
            merged.update(params["LoggingConfig"])
            out["logging_config"] = rules.logging_levels(merged)
        if "SnapStart" in params:
            out["snap_start"] = params["SnapStart"].get("ApplyOn", "None")
        if "ImageConfig" in params:
            out["image_config"] = params["ImageConfig"]
        if "FileSystemConfigs" in params:
            out["file_system_configs"] = tuple(params["FileSystemConfigs"])
        return out

    # -- updates --------------------------------------------------------------------------------
    def _check_updatable(self, entry: FunctionEntry, revision_id: str | None) -> None:
        if revision_id is not None and revision_id != entry.config.revision_id:
            raise PreconditionFailed(REVISION_MISMATCH, Type="User")
        self.check_settled(entry)

    def check_settled(self, entry: FunctionEntry) -> None:
        """Updates and publishing wait until creation or the previous update has finished (409)."""
        config = entry.config
        if config.state == State.PENDING:
            raise Conflict(
                "The operation cannot be performed at this time. The resource "
                f"{config.arn} is currently in the following state: 'Pending'. StateReasonCode: 'Creating'",
                Type="User",
            )
        if config.last_update_status == UpdateStatus.IN_PROGRESS:
            raise Conflict(
                f"The operation cannot be performed at this time. An update is in progress for resource: {config.arn}",
                Type="User",
            )

    async def update_code(self, ref: FunctionRef, params: dict[str, Any]) -> FunctionConfig:
        entry = self.entry(ref)
        self._check_updatable(entry, params.get("RevisionId"))
        if "ImageUri" in params:
            raise InvalidParameter(
                "Please don't provide ImageUri when updating a function with packageType Zip.", Type="User"
            )
        data = await self.code_source.zip_bytes(params)
        before = entry.config.revision_id
        pkg = await asyncio.to_thread(package.unpack, data, self.code_root)
        entry = self.entry(ref)
        if entry.config.revision_id != before:
            self._check_updatable(entry, None)
        changes: dict[str, Any] = {"code_digest": pkg.digest, "code_sha256": pkg.code_sha256, "code_size": pkg.size}
        if "Architectures" in params:
            changes["architectures"] = tuple(params["Architectures"])
        updated = self._in_progress(entry.config, changes)
        if params.get("DryRun"):
            return updated
        self._blobs.put(data)
        self._commit(replace(entry, config=updated, changes=entry.changes + 1))
        self._settle(entry.key, updated.revision_id)
        return updated

    def update_configuration(self, ref: FunctionRef, params: dict[str, Any]) -> FunctionConfig:
        entry = self.entry(ref)
        self._check_updatable(entry, params.get("RevisionId"))
        if "Runtime" in params:
            rules.check_runtime(params["Runtime"])
        self._check_settings(params, ref.region)
        updated = self._in_progress(entry.config, self._settings_from(params, entry.config))
        self._commit(replace(entry, config=updated, changes=entry.changes + 1))
        self._settle(entry.key, updated.revision_id)
        return updated

    def _in_progress(self, config: FunctionConfig, changes: dict[str, Any]) -> FunctionConfig:
        return config.changed(
            self._clock.time(),
            last_update_status=UpdateStatus.IN_PROGRESS,
            last_update_status_reason=CREATING_REASON,
            last_update_status_reason_code=CREATING_CODE,
            **changes,
        )

    # -- settling (Pending → Active, InProgress → Successful) ------------------------------------
    def _settle(self, key: str, revision_id: str) -> None:
        loop = asyncio.get_running_loop()
        delay = self._settings.state_transition_delay
        timer: asyncio.TimerHandle

        def fire() -> None:
            self._timers.discard(timer)
            self._finish(key, revision_id)

        timer = loop.call_later(delay, fire) if delay > 0 else loop.call_soon(fire)  # type: ignore[assignment]
        self._timers.add(timer)

    def _finish(self, key: str, revision_id: str) -> None:
        entry = self._functions.get(key)
        if entry is None or entry.config.revision_id != revision_id:
            return  # deleted or changed again; the newer change settles itself
        config = entry.config
        if not (self.code_root / config.code_digest).exists():
            log.error("package of %s is missing; function marked Failed", config.arn)
            check_transition(config.state, State.FAILED)
            settled = config.changed(
                config.last_modified,
                state=State.FAILED,
                state_reason="Code is missing",
                state_reason_code="InternalError",
            )
        elif config.state == State.PENDING:
            check_transition(config.state, State.ACTIVE)
            settled = config.changed(
                config.last_modified,
                state=State.ACTIVE,
                state_reason=None,
                state_reason_code=None,
                last_update_status=UpdateStatus.SUCCESSFUL,
            )
        else:
            settled = config.changed(
                config.last_modified,
                last_update_status=UpdateStatus.SUCCESSFUL,
                last_update_status_reason=None,
                last_update_status_reason_code=None,
            )
        versions = {
            number: version.changed(
                version.last_modified,
                state=State.ACTIVE,
                state_reason=None,
                state_reason_code=None,
                last_update_status=UpdateStatus.SUCCESSFUL,
            )
            if version.state == State.PENDING and version.code_digest == settled.code_digest
            else version
            for number, version in entry.versions.items()
        }
        self._commit(replace(entry, config=settled, versions=versions))

    # -- delete and tags ------------------------------------------------------------------------
    def delete(self, ref: FunctionRef) -> None:
        """Deletes the function; with a version qualifier, that version (deleting a version that does
        not exist succeeds, as on AWS)."""
        if ref.qualifier == LATEST:
            raise InvalidParameter("$LATEST version cannot be deleted without deleting the function.", Type="User")
        if ref.qualifier is not None and not ref.qualifier.isdigit() and _ALIAS_NAME.match(ref.qualifier):
            raise InvalidParameter("Deletion of aliases is not currently supported.", Type="User")
        entry = self._functions.get(f"{ref.region}/{ref.name}")
        if entry is None:
            raise function_not_found(ref.arn)
        if ref.qualifier is not None:
            self._delete_version(entry, ref.qualifier)
            return
        self._store.delete(KIND, entry.key)
        del self._functions[entry.key]
        self._notify(None, entry.config.arn)

    def _delete_version(self, entry: FunctionEntry, version: str) -> None:
        if version not in entry.versions:
            return
        users = sorted(a.name for a in entry.aliases.values() if a.references(version))
        if users:
            raise Conflict(
                f"Unable to delete version because the following aliases reference it: [{', '.join(users)}]",
                Type="User",
            )
        remaining = {n: v for n, v in entry.versions.items() if n != version}
        self._commit(replace(entry, versions=remaining), notify=False)
        for listener in self._version_listeners:
            listener(entry.config.arn, version)

    def tag(self, ref: FunctionRef, tags: dict[str, str]) -> None:
        entry = self._taggable(ref)
        merged = {**entry.tags, **tags}
        rules.check_tags(tags)
        if len(merged) > rules.MAX_TAGS:
            raise InvalidParameter("Number of tags exceeds resource tag limit.", Type="User")
        self._commit(
            replace(entry, tags=merged, config=replace(entry.config, revision_id=new_revision())), notify=False
        )

    def untag(self, ref: FunctionRef, keys: list[str]) -> None:
        entry = self._taggable(ref)
        kept = {k: v for k, v in entry.tags.items() if k not in keys}
        self._commit(replace(entry, tags=kept, config=replace(entry.config, revision_id=new_revision())), notify=False)

    def tags(self, ref: FunctionRef) -> dict[str, str]:
        return dict(self._taggable(ref).tags)

    def _taggable(self, ref: FunctionRef) -> FunctionEntry:
        if ref.qualifier is not None:
            raise InvalidParameter(
                "Tags on function aliases and versions are not supported. Please specify a function ARN.",
                Type="User",
            )
        entry = self._functions.get(f"{ref.region}/{ref.name}")
        if entry is None:
            raise NotFound(f"Function not found: {ref.arn}", Type="User")
        return entry

    # -- persistence ----------------------------------------------------------------------------
    def commit(self, entry: FunctionEntry, notify: bool = True) -> None:
        self._commit(entry, notify)

    def _commit(self, entry: FunctionEntry, notify: bool = True) -> None:
        """Store first, then cache; listeners hear only of changes an execution environment would see."""
        self._store.put(KIND, entry.key, entry.to_doc())
        previous = self._functions.get(entry.key)
        self._functions[entry.key] = entry
        if notify and previous is not None and previous.config.runtime_key() != entry.config.runtime_key():
            self._notify(entry.config, entry.config.arn)

    def _notify(self, config: FunctionConfig | None, arn: str) -> None:
        for listener in self._listeners:
            listener(config, arn)

    def total_code_size(self, region: str) -> int:
        """AccountUsage.TotalCodeSize's functions part: $LATEST's package and every published version's, each
        counted even when versions share one package, as AWS counts them (recorded:
        test_account_settings_total_code_size_config_update)."""
        return sum(
            e.config.code_size + sum(v.code_size for v in e.versions.values())
            for e in self._functions.values()
            if e.config.region == region
        )

    def code_path(self, digest: str) -> Path:
        return self._blobs.path(digest)
