"""Layers: immutable, numbered archives that functions stack into `/opt` (lambda-api.md §8).

A layer is a name with a version counter; each PublishLayerVersion stores the zip in the blob store,
extracts it once into a content-addressed folder (the same intake as deployment packages) and takes
the next number. Invariants:

- Version numbers are integers from 1 and never reused: the counter survives deleting every version.
- A version is immutable; only its permission policy changes (with its own RevisionId).
- Deleting a version hides it from the API, but its record, blob and folder stay, so functions that
  already reference it keep running it (AWS keeps a copy "until no functions refer to it").
- Functions reference versions by ARN; `check_references` enforces AWS's rules at Create/Update time
  and `folders` gives the executor the extracted folders in the function's order.

Durable as functions are: one document per layer (kind "layer", key "<region>/<name>"), written before
the cache and before the answer.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from botocore.session import get_session

from lamina.clock import Clock
from lamina.errors import Conflict, InvalidParameter, NotFound, PreconditionFailed, ValidationFailed
from lamina.functions import package
from lamina.functions.code_source import CodeSource
from lamina.functions.record import lambda_timestamp
from lamina.store.blobs import BlobStore
from lamina.store.documents import DocumentStore

log = logging.getLogger(__name__)

KIND = "layer"
MAX_LAYERS = 5  # per function (quotas)
MAX_LIST = 50

NOT_FOUND = "The resource you requested does not exist."
NO_POLICY = "No policy is associated with the given resource."
BELOW_ONE = "Layer Version Cannot be less than 1"
TOO_MANY = "Cannot reference more than 5 layers."
POLICY_REVISION_MISMATCH = (
    "The Revision Id provided does not match the latest Revision Id. "
    "Call the GetLayerPolicy API to retrieve the latest Revision Id"
)

_VERSION_ARN = re.compile(
    r"^arn:[^:]+:lambda:(?P<region>[^:]+):(?P<account>\d{12}):layer:(?P<name>[^:]+):(?P<version>\d+)$"
)
_LAYER_ARN = re.compile(r"^arn:[^:]+:lambda:(?P<region>[^:]+):(?P<account>\d{12}):layer:(?P<name>[a-zA-Z0-9-_]+)$")


def _runtime_enum() -> frozenset[str]:
    """The runtimes a layer may declare: the model's Runtime enum (deprecated ones included, as AWS
    accepts them for layers) plus the names AWS's ListLayers filter also knows."""
    shape = get_session().get_service_model("lambda").shape_for("Runtime")
    return frozenset(shape.enum) | frozenset(_LIST_FILTER_RUNTIMES.split(", "))


# AWS prints its enum sets in Java hash-set order, which no model reproduces; these are the sets as
# recorded from AWS (test_layer_exceptions), used only to word the ValidationException.
_LIST_FILTER_RUNTIMES = (
    "ruby3.5, ruby2.6, dotnetcore1.0, python3.7, nodejs8.10, nasa, ruby2.7, python2.7-greengrass, dotnetcore2.0, "
    "python3.8, java21, dotnet6, dotnetcore2.1, python3.9, java11, nodejs6.10, provided, dotnetcore3.1, dotnet8, "
    "java25, java17, nodejs, nodejs4.3, java8.al2, go1.x, dotnet10, nodejs20.x, go1.9, byol, nodejs10.x, "
    "provided.al2023, nodejs22.x, python3.10, java8, nodejs12.x, python3.11, nodejs24.x, nodejs8.x, python3.12, "
    "nodejs14.x, nodejs8.9, nodejs26.x, python3.13, python3.14, nodejs16.x, python3.15, provided.al2, "
    "nodejs4.3-edge, nodejs18.x, ruby3.2, python3.4, ruby3.3, ruby3.4, ruby2.5, python3.6, python2.7"
)
_PUBLISH_RUNTIMES = (
    "nodejs20.x, python3.14, provided.al2023, python3.12, python3.13, nodejs24.x, nodejs22.x, java25, python3.10, "
    "python3.11, java21, ruby3.3, ruby3.4, ruby3.2, python3.8, python3.9, java17, nodejs16.x, dotnet10, dotnet8, "
    "java11, dotnet6, nodejs18.x, provided.al2, java8.al2"
)
RUNTIMES = _runtime_enum()
MAX_ARCHITECTURES = 2  # the model's CompatibleArchitectures max


def _render(values: Iterable[str]) -> str:
    return "[" + ", ".join(values) + "]"


@dataclass(frozen=True)
class Statement:
    sid: str
    principal: str
    organization_id: str | None = None

    def to_api(self, resource: str) -> dict[str, Any]:
        """AWS's statement: an account id or root ARN becomes `{"AWS": "arn:aws:iam::<acct>:root"}`;
        an organization grant is a condition on `aws:PrincipalOrgID`."""
        principal: Any = self.principal
        if principal.isdigit():
            principal = {"AWS": f"arn:aws:iam::{principal}:root"}
        elif principal.startswith("arn:"):
            principal = {"AWS": principal}
        out: dict[str, Any] = {
            "Sid": self.sid,
            "Effect": "Allow",
            "Principal": principal,
            "Action": "lambda:GetLayerVersion",
            "Resource": resource,
        }
        if self.organization_id:
            out["Condition"] = {"StringEquals": {"aws:PrincipalOrgID": self.organization_id}}
        return out


@dataclass(frozen=True)
class LayerVersion:
    """One published version. `compatible_*` is None when the request left the field out (AWS then
    omits it from responses), and an empty tuple when it sent an empty list (AWS shows `[]`)."""

    region: str
    account: str
    name: str
    version: int
    created: float
    digest: str  # hex SHA-256 of the zip: the blob and the extracted folder
    code_sha256: str
    code_size: int
    unzipped_size: int
    description: str = ""
    compatible_runtimes: tuple[str, ...] | None = None
    compatible_architectures: tuple[str, ...] | None = None
    license_info: str | None = None
    deleted: bool = False
    statements: tuple[Statement, ...] = ()
    policy_revision: str | None = None

    @property
    def layer_arn(self) -> str:
        return f"arn:aws:lambda:{self.region}:{self.account}:layer:{self.name}"

    @property
    def arn(self) -> str:
        return f"{self.layer_arn}:{self.version}"

    def matches(self, runtime: str | None, architecture: str | None) -> bool:
        if runtime is not None and runtime not in (self.compatible_runtimes or ()):
            return False
        return architecture is None or architecture in (self.compatible_architectures or ())

    def list_item(self) -> dict[str, Any]:
        """LayerVersionsListItem (also ListLayers' LatestMatchingVersion)."""
        out: dict[str, Any] = {
            "LayerVersionArn": self.arn,
            "Version": self.version,
            "Description": self.description,
            "CreatedDate": lambda_timestamp(self.created),
        }
        if self.compatible_runtimes is not None:
            out["CompatibleRuntimes"] = list(self.compatible_runtimes)
        if self.compatible_architectures is not None:
            out["CompatibleArchitectures"] = list(self.compatible_architectures)
        if self.license_info is not None:
            out["LicenseInfo"] = self.license_info
        return out

    def to_api(self, location: str) -> dict[str, Any]:
        """Publish/GetLayerVersion(ByArn) output; `location` is a signed download URL of the zip."""
        out = self.list_item()
        out.update(
            {
                "Content": {"Location": location, "CodeSha256": self.code_sha256, "CodeSize": self.code_size},
                "LayerArn": self.layer_arn,
            }
        )
        return out

    def policy(self) -> dict[str, Any]:
        return {
            "Version": "2012-10-17",
            "Id": "default",
            "Statement": [s.to_api(self.arn) for s in self.statements],
        }

    # -- persistence ----------------------------------------------------------------------------
    def to_doc(self) -> dict[str, Any]:
        return {
            "created": self.created,
            "digest": self.digest,
            "code_sha256": self.code_sha256,
            "code_size": self.code_size,
            "unzipped_size": self.unzipped_size,
            "description": self.description,
            "compatible_runtimes": None if self.compatible_runtimes is None else list(self.compatible_runtimes),
            "compatible_architectures": (
                None if self.compatible_architectures is None else list(self.compatible_architectures)
            ),
            "license_info": self.license_info,
            "deleted": self.deleted,
            "statements": [[s.sid, s.principal, s.organization_id] for s in self.statements],
            "policy_revision": self.policy_revision,
        }

    @classmethod
    def from_doc(cls, region: str, account: str, name: str, version: int, doc: dict[str, Any]) -> LayerVersion:
        runtimes, architectures = doc.get("compatible_runtimes"), doc.get("compatible_architectures")
        return cls(
            region=region,
            account=account,
            name=name,
            version=version,
            created=doc["created"],
            digest=doc["digest"],
            code_sha256=doc["code_sha256"],
            code_size=doc["code_size"],
            unzipped_size=doc.get("unzipped_size", 0),
            description=doc.get("description", ""),
            compatible_runtimes=None if runtimes is None else tuple(runtimes),
            compatible_architectures=None if architectures is None else tuple(architectures),
            license_info=doc.get("license_info"),
            deleted=doc.get("deleted", False),
            statements=tuple(Statement(*s) for s in doc.get("statements", [])),
            policy_revision=doc.get("policy_revision"),
        )


@dataclass
class Layer:
    """A layer name in one region: its versions (deleted ones included) and the next number to give."""

    region: str
    account: str
    name: str
    next_version: int = 1
    versions: dict[int, LayerVersion] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return f"{self.region}/{self.name}"

    def live(self) -> list[LayerVersion]:
        """Versions the API shows, newest first."""
        return sorted((v for v in self.versions.values() if not v.deleted), key=lambda v: -v.version)

    def to_doc(self) -> dict[str, Any]:
        return {
            "account": self.account,
            "next_version": self.next_version,
            "versions": {str(n): v.to_doc() for n, v in self.versions.items()},
        }

    @classmethod
    def from_doc(cls, key: str, doc: dict[str, Any]) -> Layer:
        region, name = key.split("/", 1)
        account = doc["account"]
        versions = {int(n): LayerVersion.from_doc(region, account, name, int(n), v) for n, v in doc["versions"].items()}
        return cls(region, account, name, doc["next_version"], versions)


@dataclass(frozen=True)
class LayerName:
    """A LayerName parameter resolved: a bare name is in the caller's region and account."""

    region: str
    account: str
    name: str

    def version_arn(self, version: int) -> str:
        return f"arn:aws:lambda:{self.region}:{self.account}:layer:{self.name}:{version}"


def parse_layer_name(value: str, region: str, account: str) -> LayerName:
    m = _LAYER_ARN.match(value)
    if m:
        return LayerName(m["region"], m["account"], m["name"])
    return LayerName(region, account, value)


class LayerService:
    """The layer control plane: publish, read, list, delete, permissions; and the references functions
    make to layer versions."""

    def __init__(self, store: DocumentStore, blobs: BlobStore, root: Path, clock: Clock) -> None:
        self._store = store
        self._blobs = blobs
        self._clock = clock
        self.code_source = CodeSource(
            "Please provide a source for layer content (Content.ZipFile).",
            "Lamina does not serve S3 here: upload the layer content with Content.ZipFile.",
        )
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self._layers: dict[str, Layer] = {}
        for key, doc in store.load(KIND).items():
            self._layers[key] = Layer.from_doc(key, doc)
        self._restore_folders()

    def _restore_folders(self) -> None:
        """Extracted folders are a cache of the blobs: re-extract any that went missing."""
        for layer in self._layers.values():
            for version in layer.versions.values():
                if not (self.root / version.digest).exists() and self._blobs.exists(version.digest):
                    package.unpack(self._blobs.read(version.digest), self.root)

    # -- publish --------------------------------------------------------------------------------
    async def publish(self, ref: LayerName, params: dict[str, Any]) -> LayerVersion:
        runtimes = params.get("CompatibleRuntimes")
        architectures = params.get("CompatibleArchitectures")
        self._check_compatibility(runtimes, architectures)
        data = await self.code_source.zip_bytes(params.get("Content") or {})
        pkg = await asyncio.to_thread(package.unpack, data, self.root)
        self._blobs.put(data)
        layer = self._layers.get(f"{ref.region}/{ref.name}") or Layer(ref.region, ref.account, ref.name)
        version = LayerVersion(
            region=ref.region,
            account=ref.account,
            name=ref.name,
            version=layer.next_version,
            created=self._clock.time(),
            digest=pkg.digest,
            code_sha256=pkg.code_sha256,
            code_size=pkg.size,
            unzipped_size=pkg.unzipped_size,
            description=params.get("Description") or "",
            compatible_runtimes=None if runtimes is None else tuple(runtimes),
            compatible_architectures=None if architectures is None else tuple(architectures),
            license_info=params.get("LicenseInfo"),
        )
        updated = replace(
            layer, next_version=layer.next_version + 1, versions={**layer.versions, version.version: version}
        )
        self._commit(updated)
        return version

    @staticmethod
    def _check_compatibility(runtimes: list[str] | None, architectures: list[str] | None) -> None:
        """Runtimes and architectures are checked here, not by the gateway (the Runtime enum is the
        service's, and AWS reports bad architectures in the same ValidationException as bad runtimes)."""
        errors = []
        if runtimes and any(r not in RUNTIMES for r in runtimes):
            errors.append(
                f"Value '{_render(runtimes)}' at 'compatibleRuntimes' failed to satisfy constraint: "
                f"Member must satisfy enum value set: [{_PUBLISH_RUNTIMES}]"
            )
        if architectures and len(architectures) > MAX_ARCHITECTURES:
            errors.append(
                f"Value '{_render(architectures)}' at 'compatibleArchitectures' failed to satisfy constraint: "
                f"Member must have length less than or equal to {MAX_ARCHITECTURES}"
            )
        elif architectures and any(a not in ("x86_64", "arm64") for a in architectures):
            errors.append(
                f"Value '{_render(architectures)}' at 'compatibleArchitectures' failed to satisfy constraint: "
                "Member must satisfy constraint: [Member must satisfy enum value set: [x86_64, arm64], "
                "Member must not be null]"
            )
        if errors:
            noun = "error" if len(errors) == 1 else "errors"
            raise ValidationFailed(f"{len(errors)} validation {noun} detected: " + "; ".join(errors))

    # -- read -----------------------------------------------------------------------------------
    def get(self, ref: LayerName, number: int) -> LayerVersion:
        found = self._find(ref, number)
        if found is None:
            raise NotFound(NOT_FOUND, Type="User")
        return found

    def get_by_arn(self, arn: str) -> LayerVersion:
        m = _VERSION_ARN.match(arn)
        if m is None:
            raise NotFound(NOT_FOUND, Type="User")  # `awslayer` ARNs name AWS-managed layers: none here
        return self.get(LayerName(m["region"], m["account"], m["name"]), int(m["version"]))

    def _find(self, ref: LayerName, number: int) -> LayerVersion | None:
        if number < 1:
            raise InvalidParameter(BELOW_ONE, Type="User")
        layer = self._layers.get(f"{ref.region}/{ref.name}")
        if layer is None or layer.account != ref.account:
            return None
        version = layer.versions.get(number)
        return None if version is None or version.deleted else version

    def list_versions(
        self, ref: LayerName, runtime: str | None, architecture: str | None, marker: str | None, max_items: int | None
    ) -> tuple[list[LayerVersion], str | None]:
        self._check_filters(runtime)
        layer = self._layers.get(f"{ref.region}/{ref.name}")
        found = [v for v in layer.live() if v.matches(runtime, architecture)] if layer else []
        return _page(found, marker, max_items, lambda v: str(v.version))

    def list_layers(
        self, region: str, runtime: str | None, architecture: str | None, marker: str | None, max_items: int | None
    ) -> tuple[list[tuple[Layer, LayerVersion]], str | None]:
        """Every layer with a live version matching the filters, by name, with its newest match."""
        self._check_filters(runtime)
        found = []
        for layer in sorted(self._layers.values(), key=lambda item: item.name):
            if layer.region != region:
                continue
            latest = next((v for v in layer.live() if v.matches(runtime, architecture)), None)
            if latest is not None:
                found.append((layer, latest))
        return _page(found, marker, max_items, lambda pair: pair[0].name)

    @staticmethod
    def _check_filters(runtime: str | None) -> None:
        if runtime is not None and runtime not in RUNTIMES:
            raise ValidationFailed(
                f"1 validation error detected: Value '{runtime}' at 'compatibleRuntime' failed to satisfy "
                f"constraint: Member must satisfy enum value set: [{_LIST_FILTER_RUNTIMES}]"
            )

    # -- delete ---------------------------------------------------------------------------------
    def delete(self, ref: LayerName, number: int) -> None:
        """Idempotent, as on AWS. The version is only hidden: functions using it keep their copy."""
        version = self._find(ref, number)
        if version is None:
            return
        layer = self._layers[f"{ref.region}/{ref.name}"]
        self._commit(replace(layer, versions={**layer.versions, number: replace(version, deleted=True)}))

    # -- permissions ----------------------------------------------------------------------------
    def _for_policy(self, ref: LayerName, number: int) -> LayerVersion:
        version = self._find(ref, number)
        if version is None:
            raise NotFound(f"Layer version {ref.version_arn(number)} does not exist.", Type="User")
        return version

    def add_permission(self, ref: LayerName, number: int, params: dict[str, Any]) -> tuple[Statement, LayerVersion]:
        version = self._for_policy(ref, number)
        revision = params.get("RevisionId")
        if revision is not None and revision != version.policy_revision:
            raise PreconditionFailed(POLICY_REVISION_MISMATCH, Type="User")
        sid = params["StatementId"]
        if any(s.sid == sid for s in version.statements):
            raise Conflict(
                f"The statement id ({sid}) provided already exists. "
                "Please provide a new statement id, or remove the existing statement.",
                Type="User",
            )
        statement = Statement(sid, params["Principal"], params.get("OrganizationId"))
        updated = replace(version, statements=(*version.statements, statement), policy_revision=str(uuid.uuid4()))
        self._replace(updated)
        return statement, updated

    def policy(self, ref: LayerName, number: int) -> LayerVersion:
        version = self._for_policy(ref, number)
        if not version.statements:
            raise NotFound(NO_POLICY, Type="User")
        return version

    def remove_permission(self, ref: LayerName, number: int, sid: str, revision: str | None) -> None:
        version = self._for_policy(ref, number)
        if revision is not None and revision != version.policy_revision:
            raise PreconditionFailed(POLICY_REVISION_MISMATCH, Type="User")
        if not any(s.sid == sid for s in version.statements):
            raise NotFound(f"Statement {sid} is not found in resource policy.", Type="User")
        kept = tuple(s for s in version.statements if s.sid != sid)
        self._replace(replace(version, statements=kept, policy_revision=str(uuid.uuid4())))

    # -- references from functions --------------------------------------------------------------
    def check_references(self, arns: list[str], region: str) -> tuple[LayerVersion, ...]:
        """The versions a function's `Layers` names, in order, or AWS's error for the first rule broken:
        at most five, all in the function's region, one version per layer, each existing (not deleted)."""
        if len(arns) > MAX_LAYERS:
            raise InvalidParameter(TOO_MANY, Type="User")
        parsed = []
        for arn in arns:
            m = _VERSION_ARN.match(arn)
            if m is None:
                raise InvalidParameter(f"Layer version {arn} does not exist.", Type="User")
            if m["region"] != region:
                raise InvalidParameter(
                    f"Layers are not in the same region as the function. Layers are expected to be in region {region}.",
                    Type="User",
                )
            parsed.append((arn, LayerName(m["region"], m["account"], m["name"]), int(m["version"])))
        seen: dict[LayerName, str] = {}
        for arn, ref, _ in parsed:
            if ref in seen:
                raise InvalidParameter(
                    "Two different versions of the same layer are not allowed to be referenced in the same "
                    f"function. {seen[ref]} and {arn} are versions of the same layer.",
                    Type="User",
                )
            seen[ref] = arn
        found = []
        for arn, ref, number in parsed:
            version = self._find(ref, number) if number >= 1 else None
            if version is None:
                raise InvalidParameter(f"Layer version {arn} does not exist.", Type="User")
            found.append(version)
        return tuple(found)

    def _version(self, arn: str) -> LayerVersion | None:
        """A version by ARN, deleted or not."""
        m = _VERSION_ARN.match(arn)
        layer = self._layers.get(f"{m['region']}/{m['name']}") if m else None
        return layer.versions.get(int(m["version"])) if layer is not None and m else None

    def code_sizes(self, arns: Iterable[str]) -> tuple[int, ...]:
        """Each referenced version's zip size, recorded with the reference: AWS keeps showing it in
        FunctionConfiguration.Layers after the version is deleted."""
        return tuple(v.code_size if (v := self._version(arn)) is not None else 0 for arn in arns)

    def folders(self, arns: Iterable[str]) -> tuple[Path, ...]:
        """Extracted folders of the versions a function references, in its order; deleted versions
        included (a function keeps running a layer version deleted after it was configured)."""
        out = []
        for arn in arns:
            version = self._version(arn)
            if version is None:
                log.error("layer version %s is unknown; the function runs without it", arn)
                continue
            out.append(self.root / version.digest)
        return tuple(out)

    # -- persistence ----------------------------------------------------------------------------
    def _replace(self, version: LayerVersion) -> None:
        layer = self._layers[f"{version.region}/{version.name}"]
        self._commit(replace(layer, versions={**layer.versions, version.version: version}))

    def _commit(self, layer: Layer) -> None:
        """Store first, then cache: anything answered survives a crash."""
        self._store.put(KIND, layer.key, layer.to_doc())
        self._layers[layer.key] = layer


def _page(items: list[Any], marker: str | None, max_items: int | None, key: Any) -> tuple[list[Any], str | None]:
    """One page from the item whose key is `marker`; the next page's first key, if any, is the marker."""
    start = 0
    if marker:
        keys = [key(item) for item in items]
        start = keys.index(marker) if marker in keys else len(items)
    size = min(max_items or MAX_LIST, MAX_LIST)
    page = items[start : start + size]
    following = items[start + size] if start + size < len(items) else None
    return page, None if following is None else key(following)


def policy_json(version: LayerVersion) -> str:
    return json.dumps(version.policy(), separators=(",", ":"))
