"""`lamina deploy` / `lamina stacks` / `lamina destroy` against a running Lamina: a SAM template whose function
code (CodeUri) and layer (ContentUri) are local directories is packaged to Lamina's S3 (the managed stack's bucket,
or --s3-bucket) under content-addressed keys and deployed with each resource event shown; changed code updates the
function, unchanged code uploads nothing and is "No changes", destroy removes everything."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from lamina.cli.package import MANAGED_STACK, archive
from tests.cloudformation.conftest import outputs as stack_outputs
from tests.server import LaminaProcess

TEMPLATE = """
Transform: AWS::Serverless-2016-10-31
Parameters:
  Greeting:
    Type: String
    Default: hello
Globals:
  Function:
    Runtime: python3.12
    CodeUri: src/
Resources:
  Shared:
    Type: AWS::Serverless::LayerVersion
    Properties:
      ContentUri: layer/
      CompatibleRuntimes: [python3.12]
      RetentionPolicy: Delete
  Greeter:
    Type: AWS::Serverless::Function
    Properties:
      Handler: app.handler
      Layers: [!Ref Shared]
      Environment:
        Variables:
          GREETING: !Ref Greeting
Outputs:
  Function:
    Value: !Ref Greeter
  Layer:
    Value: !Ref Shared
"""


def _lamina(lamina: LaminaProcess, *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "lamina.cli.main", *args, "--endpoint-url", lamina.url, "--region", "us-east-1"]
    return subprocess.run(command, capture_output=True, text=True, timeout=180, check=False)


def _app(root: Path, version: str) -> Path:
    (root / "src").mkdir(exist_ok=True)
    (root / "layer" / "python").mkdir(parents=True, exist_ok=True)
    (root / "template.yaml").write_text(TEMPLATE)
    (root / "src" / "app.py").write_text(
        "import os\nimport names\nimport shared\n\n"
        "def handler(event, context):\n"
        "    return f\"{os.environ['GREETING']} {names.WHO} {shared.MARK}\"\n"
    )
    (root / "src" / "names.py").write_text(f"WHO = 'world-{version}'\n")
    (root / "layer" / "python" / "shared.py").write_text("MARK = 'via-layer'\n")
    return root / "template.yaml"


def _uploads(output: str) -> list[str]:
    return [line.split()[2] for line in output.splitlines() if line.startswith("Uploading to ")]


def test_lamina_deploy(tmp_path: Path, lamina: LaminaProcess) -> None:
    name = f"dep-{uuid.uuid4().hex[:8]}"
    template = _app(tmp_path, "1")
    lam = lamina.client()
    cfn = lamina.client("cloudformation")
    try:
        done = _lamina(lamina, "deploy", str(template), "--stack-name", name)
        assert done.returncode == 0, done.stderr
        lines = done.stdout.splitlines()
        # the code went to the managed stack's bucket, keyed by the MD5 of each archive under the stack's name
        bucket = stack_outputs(cfn.describe_stacks(StackName=MANAGED_STACK)["Stacks"][0])["SourceBucket"]
        code, layer = (hashlib.md5(archive(tmp_path / d)).hexdigest() for d in ("src", "layer"))
        assert sorted(_uploads(done.stdout)) == sorted([f"{name}/{code}", f"{name}/{layer}"]), done.stdout
        stored = cfn.get_template(StackName=name, TemplateStage="Original")["TemplateBody"]
        stored = stored if isinstance(stored, dict) else json.loads(stored)
        assert stored["Globals"]["Function"]["CodeUri"] == f"s3://{bucket}/{name}/{code}"
        assert stored["Resources"]["Shared"]["Properties"]["ContentUri"] == f"s3://{bucket}/{name}/{layer}"
        keys = {o["Key"] for o in lamina.client("s3").list_objects_v2(Bucket=bucket, Prefix=f"{name}/")["Contents"]}
        assert keys == {f"{name}/{code}", f"{name}/{layer}"}
        assert any("CREATE_COMPLETE" in line and "AWS::Lambda::Function" in line for line in lines), done.stdout
        assert any("AWS::Lambda::LayerVersion" in line for line in lines), done.stdout
        assert lines[-1] == f"Stack {name}: CREATE_COMPLETE"
        outputs = dict(line.split(": ", 1) for line in lines if line.startswith(("Function: ", "Layer: ")))
        function = outputs["Function"]
        assert lam.invoke(FunctionName=function)["Payload"].read() == b'"hello world-1 via-layer"'

        _app(tmp_path, "2")
        done = _lamina(lamina, "deploy", str(template), "--stack-name", name, "--parameter-overrides", "Greeting=hi")
        assert done.returncode == 0, done.stderr
        assert done.stdout.splitlines()[-1] == f"Stack {name}: UPDATE_COMPLETE"
        # only the changed archive went up; the layer's key already held its bytes
        assert _uploads(done.stdout) == [f"{name}/{hashlib.md5(archive(tmp_path / 'src')).hexdigest()}"]
        assert f"File with same data already exists at {name}/{layer}, skipping upload" in done.stdout
        assert lam.invoke(FunctionName=function)["Payload"].read() == b'"hi world-2 via-layer"'

        again = _lamina(lamina, "deploy", str(template), "--stack-name", name, "--parameter-overrides", "Greeting=hi")
        assert again.returncode == 0, again.stderr
        assert not _uploads(again.stdout), again.stdout
        assert again.stdout.splitlines()[-1] == f"No changes to deploy. Stack {name} is up to date"

        listed = _lamina(lamina, "stacks")
        assert any(line.split() == [name, "UPDATE_COMPLETE"] for line in listed.stdout.splitlines()), listed.stdout
    finally:
        gone = _lamina(lamina, "destroy", name)
    assert gone.returncode == 0, gone.stderr
    assert gone.stdout.splitlines()[-1] == f"Stack {name}: DELETE_COMPLETE"
    with pytest.raises(ClientError):
        lam.get_function(FunctionName=function)
    layer, version = outputs["Layer"].rsplit(":", 1)
    with pytest.raises(ClientError):
        lam.get_layer_version(LayerName=layer, VersionNumber=int(version))


def test_lamina_deploy_reports_failure(tmp_path: Path, lamina: LaminaProcess) -> None:
    template = tmp_path / "broken.yaml"
    template.write_text("Resources:\n  Odd:\n    Type: AWS::Nothing::Here\n")
    name = f"bad-{uuid.uuid4().hex[:8]}"
    try:
        done = _lamina(lamina, "deploy", str(template), "--stack-name", name)
        assert done.returncode == 1
        assert "Resource type AWS::Nothing::Here is not supported by Lamina" in done.stdout
        assert f"stack {name} ended ROLLBACK_COMPLETE" in done.stderr
    finally:
        _lamina(lamina, "destroy", name)


def test_archives_are_deterministic(tmp_path: Path) -> None:
    """Same files, same bytes (so the same MD5 key): no __pycache__, no mtimes."""
    import io
    import zipfile

    _app(tmp_path, "1")
    (tmp_path / "src" / "__pycache__").mkdir()
    (tmp_path / "src" / "__pycache__" / "app.cpython-312.pyc").write_bytes(b"stale")
    first = archive(tmp_path / "src")
    (tmp_path / "src" / "app.py").touch()  # a new mtime alone changes nothing
    assert archive(tmp_path / "src") == first
    assert sorted(zipfile.ZipFile(io.BytesIO(first)).namelist()) == ["app.py", "names.py"]
    _app(tmp_path, "2")
    assert archive(tmp_path / "src") != first


NESTED = """
Transform: AWS::Serverless-2016-10-31
Metadata:
  Padding: PADDING
Resources:
  Inner:
    Type: AWS::CloudFormation::Stack
    Properties:
      TemplateURL: child/template.yaml
Outputs:
  Function:
    Value: !GetAtt Inner.Outputs.Function
"""
NESTED_CHILD = """
Transform: AWS::Serverless-2016-10-31
Resources:
  Hello:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.12
      Handler: app.handler
      CodeUri: code/
Outputs:
  Function:
    Value: !Ref Hello
"""


def test_lamina_deploy_nested_to_a_given_bucket(tmp_path: Path, lamina: LaminaProcess) -> None:
    """--s3-bucket: a nested stack's local template is packaged in turn (its own CodeUri too) and goes up as
    `<md5>.template`; a packaged template over TemplateBody's 51,200 bytes is deployed through TemplateURL."""
    s3 = lamina.client("s3")
    bucket = f"ship-{uuid.uuid4().hex[:10]}"
    s3.create_bucket(Bucket=bucket)
    (tmp_path / "child" / "code").mkdir(parents=True)
    (tmp_path / "child" / "template.yaml").write_text(NESTED_CHILD)
    (tmp_path / "child" / "code" / "app.py").write_text("def handler(event, context):\n    return 'nested'\n")
    (tmp_path / "template.yaml").write_text(NESTED.replace("PADDING", "x" * 60_000))
    name = f"nest-{uuid.uuid4().hex[:8]}"
    try:
        args = ["deploy", str(tmp_path / "template.yaml"), "--stack-name", name, "--s3-bucket", bucket]
        done = _lamina(lamina, *args, "--s3-prefix", "apps")
        assert done.returncode == 0, done.stderr + done.stdout
        uploads = _uploads(done.stdout)
        code = hashlib.md5(archive(tmp_path / "child" / "code")).hexdigest()
        assert uploads[0] == f"apps/{code}" and len(uploads) == 3, done.stdout
        assert all(k.startswith("apps/") and k.endswith(".template") for k in uploads[1:]), uploads
        assert any(
            "AWS::CloudFormation::Stack" in line and "CREATE_COMPLETE" in line for line in done.stdout.splitlines()
        )
        function = done.stdout.split("Function: ", 1)[1].split()[0]
        assert lamina.client().invoke(FunctionName=function)["Payload"].read() == b'"nested"'
        again = _lamina(lamina, *args, "--s3-prefix", "apps")
        assert again.returncode == 0 and not _uploads(again.stdout), again.stdout
        assert again.stdout.splitlines()[-1] == f"No changes to deploy. Stack {name} is up to date"
    finally:
        _lamina(lamina, "destroy", name)
        for item in s3.list_objects_v2(Bucket=bucket).get("Contents", []):
            s3.delete_object(Bucket=bucket, Key=item["Key"])
        s3.delete_bucket(Bucket=bucket)
