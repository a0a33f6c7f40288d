"""Packaging for `lamina deploy`, as `sam package` / `aws cloudformation package` do it: the template's local
artifacts (a SAM function's CodeUri, a Lambda function's Code, a layer's Content/ContentUri, an API's
DefinitionUri, a nested stack's TemplateURL or a SAM application's Location given as a path) zipped or read,
uploaded to Lamina's S3 under content-addressed keys (`<prefix>/<MD5 of the bytes>`, `.template` for templates),
and the template rewritten to point at them. An object already there under its key is not uploaded again, and
archives are built deterministically (sorted entries, fixed timestamps), so unchanged code gives the same keys and
an unchanged template."""

from __future__ import annotations

import hashlib
import io
import json
import os
import sys
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lamina.services.cloudformation.template import parse
from lamina.services.cloudformation.template_source import MAX_URL_BODY

_EPOCH = (1980, 1, 1, 0, 0, 0)
# what CloudFormation takes as a TemplateBody; a larger packaged template goes up to S3 and in by TemplateURL
MAX_BODY = 51_200


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


@dataclass
class Uploader:
    """Puts bytes into one bucket under `<prefix>/<md5>[.ext]`, skipping keys that already hold them."""

    s3: Any
    bucket: str
    prefix: str
    region: str
    out: Any = sys.stdout
    uploaded: list[str] = field(default_factory=list)

    def put(self, data: bytes, extension: str = "") -> str:
        from botocore.exceptions import ClientError

        key = f"{self.prefix}/{hashlib.md5(data).hexdigest()}{extension}".lstrip("/")
        try:
            self.s3.head_object(Bucket=self.bucket, Key=key)
            print(f"File with same data already exists at {key}, skipping upload", file=self.out, flush=True)
            return key
        except ClientError as exc:
            if exc.response["Error"]["Code"] not in ("404", "NoSuchKey", "NotFound"):
                raise
        print(f"Uploading to {key}  {len(data)} bytes", file=self.out, flush=True)
        self.s3.put_object(Bucket=self.bucket, Key=key, Body=data)
        self.uploaded.append(key)
        return key

    def uri(self, key: str) -> str:
        return f"s3://{self.bucket}/{key}"

    def url(self, key: str) -> str:
        """The path-style URL `aws cloudformation package` writes for a template."""
        host = "s3.amazonaws.com" if self.region == "us-east-1" else f"s3.{self.region}.amazonaws.com"
        return f"https://{host}/{self.bucket}/{key}"


def _local(value: Any) -> bool:
    return isinstance(value, str) and "://" not in value


def _code(uploader: Uploader, base: Path, value: str) -> str:
    return uploader.put(archive((base / value).resolve()))


def _location(uploader: Uploader, base: Path, value: str) -> dict[str, str]:
    return {"S3Bucket": uploader.bucket, "S3Key": _code(uploader, base, value)}


def _definition(uploader: Uploader, base: Path, value: str) -> str:
    return uploader.uri(uploader.put((base / value).resolve().read_bytes()))


def _nested(uploader: Uploader, base: Path, value: str) -> str:
    child = (base / value).resolve()
    return uploader.url(uploader.put(package(child, uploader).encode(), ".template"))


def package(template_path: Path, uploader: Uploader) -> str:
    """The template as JSON, its local artifacts uploaded and referenced by their S3 locations."""
    template = parse(template_path.read_text(), MAX_URL_BODY)  # may go up to S3 and in by TemplateURL
    base = template_path.parent
    function_globals = (template.get("Globals") or {}).get("Function") or {}
    if _local(function_globals.get("CodeUri")):
        function_globals["CodeUri"] = uploader.uri(_code(uploader, base, function_globals["CodeUri"]))
    for resource in (template.get("Resources") or {}).values():
        kind, props = resource.get("Type"), resource.get("Properties") or {}
        if kind == "AWS::Serverless::Function" and _local(props.get("CodeUri")):
            props["CodeUri"] = uploader.uri(_code(uploader, base, props["CodeUri"]))
        elif kind == "AWS::Lambda::Function" and _local(props.get("Code")):
            props["Code"] = _location(uploader, base, props["Code"])
        elif kind == "AWS::Lambda::LayerVersion" and _local(props.get("Content")):
            props["Content"] = _location(uploader, base, props["Content"])
        elif kind == "AWS::Serverless::LayerVersion" and _local(props.get("ContentUri")):
            props["ContentUri"] = uploader.uri(_code(uploader, base, props["ContentUri"]))
        elif kind in ("AWS::Serverless::Api", "AWS::Serverless::HttpApi") and _local(props.get("DefinitionUri")):
            props["DefinitionUri"] = _definition(uploader, base, props["DefinitionUri"])
        elif kind == "AWS::CloudFormation::Stack" and _local(props.get("TemplateURL")):
            props["TemplateURL"] = _nested(uploader, base, props["TemplateURL"])
        elif kind == "AWS::Serverless::Application" and _local(props.get("Location")):
            props["Location"] = _nested(uploader, base, props["Location"])
    return json.dumps(template, separators=(",", ":"))


MANAGED_STACK = "lamina-managed-default"
MANAGED_TEMPLATE = json.dumps(
    {
        "Description": "Managed stack for lamina deploy: the bucket its packaged artifacts go to",
        "Resources": {"SourceBucket": {"Type": "AWS::S3::Bucket", "DeletionPolicy": "Retain"}},
        "Outputs": {"SourceBucket": {"Value": {"Ref": "SourceBucket"}}},
    }
)


def managed_bucket(cfn: Any, out: Any = sys.stdout) -> str:
    """The bucket of the `lamina-managed-default` stack (as SAM CLI's `aws-sam-cli-managed-default` for
    `--resolve-s3`), the stack created first when there is none."""
    import time

    from botocore.exceptions import ClientError

    try:
        stack = cfn.describe_stacks(StackName=MANAGED_STACK)["Stacks"][0]
    except ClientError:
        stack = None
    if stack is None or stack["StackStatus"] in ("ROLLBACK_COMPLETE", "DELETE_COMPLETE"):
        if stack is not None and stack["StackStatus"] == "ROLLBACK_COMPLETE":
            cfn.delete_stack(StackName=MANAGED_STACK)
            cfn.get_waiter("stack_delete_complete").wait(StackName=MANAGED_STACK, WaiterConfig={"Delay": 1})
        print(f"Creating the managed stack {MANAGED_STACK} for packaged artifacts", file=out, flush=True)
        cfn.create_stack(StackName=MANAGED_STACK, TemplateBody=MANAGED_TEMPLATE)
    while (stack := cfn.describe_stacks(StackName=MANAGED_STACK)["Stacks"][0])["StackStatus"].endswith("_PROGRESS"):
        time.sleep(0.2)
    found = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
    if "SourceBucket" not in found:
        raise SystemExit(f"lamina: error: stack {MANAGED_STACK} is {stack['StackStatus']} and names no SourceBucket")
    return str(found["SourceBucket"])
