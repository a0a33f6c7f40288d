"""Packaging for `lamina deploy`: the template's local code (a SAM function's CodeUri, a Lambda function's
Code, a layer's Content/ContentUri given as a path) zipped and written into the template inline, as a
`data:application/zip;base64,` URI (services/cloudformation/resource_types.py reads it back).

Lamina has no S3 yet, so this stands in for `sam package` / `aws cloudformation package`; the whole template,
code included, must stay within the 51,200 bytes CloudFormation accepts as a TemplateBody. Archives are built
deterministically (sorted entries, fixed timestamps), so unchanged code gives an unchanged template."""

from __future__ import annotations

import base64
import io
import json
import os
import zipfile
from pathlib import Path
from typing import Any

from lamina.services.cloudformation.resource_types import ZIP_DATA
from lamina.services.cloudformation.template import parse

_EPOCH = (1980, 1, 1, 0, 0, 0)


def archive(path: Path) -> bytes:
    """A directory zipped (a .zip file is taken as it is)."""
    if path.is_file():
        return path.read_bytes()
    if not path.is_dir():
        raise FileNotFoundError(f"{path} is neither a directory nor a zip file")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as packed:
        for root, dirs, files in os.walk(path):
            dirs[:] = sorted(d for d in dirs if d != "__pycache__")
            for name in sorted(files):
                full = Path(root) / name
                entry = zipfile.ZipInfo(str(full.relative_to(path)), _EPOCH)
                entry.external_attr = (full.stat().st_mode & 0o777) << 16
                entry.compress_type = zipfile.ZIP_DEFLATED
                packed.writestr(entry, full.read_bytes())
    return buffer.getvalue()


def _local(value: Any) -> bool:
    return isinstance(value, str) and not value.startswith("s3://")


def _inline(base: Path, value: str) -> str:
    return ZIP_DATA + base64.b64encode(archive((base / value).resolve())).decode()


def package(template_path: Path) -> str:
    """The template as JSON, its local code inline."""
    template = parse(template_path.read_text())
    base = template_path.parent
    shared = (template.get("Globals") or {}).get("Function") or {}
    shared_code = shared.pop("CodeUri", None)
    for logical, resource in list((template.get("Resources") or {}).items()):
        kind, props = resource.get("Type"), resource.setdefault("Properties", {})
        if kind == "AWS::Serverless::Function":
            code = props.get("CodeUri", shared_code if "InlineCode" not in props else None)
            if _local(code):
                props.pop("CodeUri", None)
                props["InlineCode"] = _inline(base, code)
            elif code is not None and "CodeUri" not in props:
                props["CodeUri"] = code
        elif kind == "AWS::Lambda::Function" and _local(props.get("Code")):
            props["Code"] = {"ZipFile": _inline(base, props["Code"])}
        elif kind == "AWS::Lambda::LayerVersion" and _local(props.get("Content")):
            props["Content"] = {"ZipFile": _inline(base, props["Content"])}
        elif kind == "AWS::Serverless::LayerVersion" and _local(props.get("ContentUri")):
            # what the transform would make of it, with the archive inline instead of in S3
            layer = {
                k: props[k] for k in ("Description", "CompatibleRuntimes", "CompatibleArchitectures") if k in props
            }
            layer["LayerName"] = props.get("LayerName", logical)
            if "LicenseInfo" in props:
                layer["LicenseInfo"] = props["LicenseInfo"]
            layer["Content"] = {"ZipFile": _inline(base, props["ContentUri"])}
            converted: dict[str, Any] = {"Type": "AWS::Lambda::LayerVersion", "Properties": layer}
            if props.get("RetentionPolicy", "Retain") == "Retain":
                converted["DeletionPolicy"] = "Retain"
            for key in ("DependsOn", "Condition"):
                if key in resource:
                    converted[key] = resource[key]
            template["Resources"][logical] = converted
    return json.dumps(template, separators=(",", ":"))
