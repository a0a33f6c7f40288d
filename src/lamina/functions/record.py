"""A function's configuration as Lamina keeps it, and its FunctionConfiguration as the API shows it.

`FunctionConfig` is immutable: every change makes a new value (dataclasses.replace) with a new
RevisionId, so a reader never sees half an update.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from lamina.functions.states import State, UpdateStatus
from lamina.types import LATEST


def lambda_timestamp(epoch: float) -> str:
    """Lambda's `Timestamp` string: `2020-04-10T19:06:32.563+0000`."""
    dt = datetime.fromtimestamp(epoch, tz=UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}+0000"


def new_revision() -> str:
    return str(uuid.uuid4())


def runtime_version_arn(region: str, runtime: str) -> str:
    digest = hashlib.sha256(f"lamina:{runtime}".encode()).hexdigest()
    return f"arn:aws:lambda:{region}::runtime:{digest}"


@dataclass(frozen=True)
class FunctionConfig:
    name: str
    region: str
    account: str
    role: str
    code_digest: str  # hex SHA-256: the blob and the extracted folder
    code_sha256: str  # base64 SHA-256 (CodeSha256)
    code_size: int
    last_modified: float
    revision_id: str
    runtime: str | None = None
    handler: str | None = None
    description: str = ""
    timeout: int = 3
    memory_size: int = 128
    environment: dict[str, str] | None = None
    package_type: str = "Zip"
    architectures: tuple[str, ...] = ("x86_64",)
    ephemeral_storage: int = 512
    tracing_mode: str = "PassThrough"
    layers: tuple[str, ...] = ()  # layer version ARNs, in the order they stack into /opt
    layer_sizes: tuple[int, ...] = ()  # each layer's CodeSize when referenced (shown even once it is deleted)
    dead_letter_target: str | None = None
    kms_key_arn: str | None = None
    vpc_config: dict[str, Any] | None = None
    logging_config: dict[str, str] = field(default_factory=dict)
    snap_start: str = "None"
    image_config: dict[str, Any] | None = None
    file_system_configs: tuple[dict[str, str], ...] = ()
    state: State = State.PENDING
    state_reason: str | None = None
    state_reason_code: str | None = None
    last_update_status: UpdateStatus | None = None
    last_update_status_reason: str | None = None
    last_update_status_reason_code: str | None = None
    version: str = LATEST

    @property
    def arn(self) -> str:
        return f"arn:aws:lambda:{self.region}:{self.account}:function:{self.name}"

    @property
    def version_arn(self) -> str:
        return self.arn if self.version == LATEST else f"{self.arn}:{self.version}"

    @property
    def log_group(self) -> str:
        return self.logging_config.get("LogGroup") or f"/aws/lambda/{self.name}"

    def changed(self, now: float, **changes: Any) -> FunctionConfig:
        return dataclasses.replace(self, last_modified=now, revision_id=new_revision(), **changes)

    def runtime_key(self) -> str:
        """Changes exactly when what an execution environment sees changes (code or configuration),
        not on bookkeeping such as state transitions or tags."""
        doc = self.to_doc()
        for bookkeeping in (
            "revision_id", "last_modified", "state", "state_reason", "state_reason_code", "last_update_status",
            "last_update_status_reason", "last_update_status_reason_code", "description",
        ):  # fmt: skip
            doc.pop(bookkeeping, None)
        return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()[:32]

    # -- persistence ----------------------------------------------------------------------------
    def to_doc(self) -> dict[str, Any]:
        doc = dataclasses.asdict(self)
        doc["architectures"] = list(self.architectures)
        doc["layers"] = list(self.layers)
        doc["layer_sizes"] = list(self.layer_sizes)
        doc["file_system_configs"] = list(self.file_system_configs)
        return doc

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> FunctionConfig:
        known = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in doc.items() if k in known}
        values["architectures"] = tuple(values.get("architectures", ("x86_64",)))
        values["layers"] = tuple(values.get("layers", ()))
        values["layer_sizes"] = tuple(values.get("layer_sizes", ()))
        values["file_system_configs"] = tuple(values.get("file_system_configs", ()))
        values["state"] = State(values.get("state", State.ACTIVE))
        if values.get("last_update_status") is not None:
            values["last_update_status"] = UpdateStatus(values["last_update_status"])
        return cls(**values)

    # -- the API view ---------------------------------------------------------------------------
    def to_api(self, listing: bool = False, arn: str | None = None) -> dict[str, Any]:
        """FunctionConfiguration with every field AWS returns, in AWS's defaults. List entries omit
        the state fields and RuntimeVersionConfig, as ListFunctions does. `arn` overrides FunctionArn
        (GetFunction by alias shows the alias ARN; an explicit $LATEST shows `:$LATEST`)."""
        out: dict[str, Any] = {
            "FunctionName": self.name,
            "FunctionArn": arn or self.version_arn,
            "Role": self.role,
            "CodeSize": self.code_size,
            "Description": self.description,
            "Timeout": self.timeout,
            "MemorySize": self.memory_size,
            "LastModified": lambda_timestamp(self.last_modified),
            "CodeSha256": self.code_sha256,
            "Version": self.version,
            "TracingConfig": {"Mode": self.tracing_mode},
            "RevisionId": self.revision_id,
            "PackageType": self.package_type,
            "Architectures": list(self.architectures),
            "EphemeralStorage": {"Size": self.ephemeral_storage},
            "SnapStart": {"ApplyOn": self.snap_start, "OptimizationStatus": "Off"},
            "LoggingConfig": {"LogFormat": "Text", "LogGroup": f"/aws/lambda/{self.name}", **self.logging_config},
        }
        if self.package_type == "Zip":
            out["Runtime"] = self.runtime
            out["Handler"] = self.handler
        if self.environment is not None:
            out["Environment"] = {"Variables": dict(self.environment)}
        if self.layers:
            sizes = self.layer_sizes + (0,) * (len(self.layers) - len(self.layer_sizes))
            out["Layers"] = [{"Arn": arn, "CodeSize": size} for arn, size in zip(self.layers, sizes, strict=True)]
        if self.dead_letter_target:
            out["DeadLetterConfig"] = {"TargetArn": self.dead_letter_target}
        if self.kms_key_arn:
            out["KMSKeyArn"] = self.kms_key_arn
        if self.vpc_config is not None:
            out["VpcConfig"] = self.vpc_config
        if self.image_config is not None:
            out["ImageConfigResponse"] = {"ImageConfig": self.image_config}
        if self.file_system_configs:
            out["FileSystemConfigs"] = list(self.file_system_configs)
        if listing:
            return out
        out["State"] = str(self.state)
        if self.state_reason:
            out["StateReason"] = self.state_reason
        if self.state_reason_code:
            out["StateReasonCode"] = self.state_reason_code
        if self.last_update_status is not None:
            out["LastUpdateStatus"] = str(self.last_update_status)
        if self.last_update_status_reason:
            out["LastUpdateStatusReason"] = self.last_update_status_reason
        if self.last_update_status_reason_code:
            out["LastUpdateStatusReasonCode"] = self.last_update_status_reason_code
        if self.runtime and self.package_type == "Zip":
            out["RuntimeVersionConfig"] = {"RuntimeVersionArn": runtime_version_arn(self.region, self.runtime)}
        return out
