"""`lamina deploy` / `lamina stacks` / `lamina destroy` against a running Lamina: a SAM template whose function
code (CodeUri) and layer (ContentUri) are local directories is packaged inline and deployed with each resource
event shown; changed code updates the function, unchanged code is "No changes", destroy removes everything."""

from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

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


def test_lamina_deploy(tmp_path: Path, lamina: LaminaProcess) -> None:
    name = f"dep-{uuid.uuid4().hex[:8]}"
    template = _app(tmp_path, "1")
    lam = lamina.client()
    try:
        done = _lamina(lamina, "deploy", str(template), "--stack-name", name)
        assert done.returncode == 0, done.stderr
        lines = done.stdout.splitlines()
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
        assert lam.invoke(FunctionName=function)["Payload"].read() == b'"hi world-2 via-layer"'

        again = _lamina(lamina, "deploy", str(template), "--stack-name", name, "--parameter-overrides", "Greeting=hi")
        assert again.returncode == 0, again.stderr
        assert again.stdout.strip() == f"No changes to deploy. Stack {name} is up to date"

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


def test_packaging_is_inline_and_deterministic(tmp_path: Path) -> None:
    import base64
    import io
    import json
    import zipfile

    from lamina.cli.package import package

    template = _app(tmp_path, "1")
    (tmp_path / "src" / "__pycache__").mkdir()
    (tmp_path / "src" / "__pycache__" / "app.cpython-312.pyc").write_bytes(b"stale")
    first = package(template)
    (tmp_path / "src" / "app.py").touch()  # a new mtime alone changes nothing
    assert package(template) == first
    packed = json.loads(first)
    assert "CodeUri" not in packed["Globals"]["Function"]
    code = packed["Resources"]["Greeter"]["Properties"]["InlineCode"]
    assert code.startswith("data:application/zip;base64,")
    names = zipfile.ZipFile(io.BytesIO(base64.b64decode(code.split(",", 1)[1]))).namelist()
    assert sorted(names) == ["app.py", "names.py"]
    layer = packed["Resources"]["Shared"]
    assert layer["Type"] == "AWS::Lambda::LayerVersion"
    assert layer["Properties"]["CompatibleRuntimes"] == ["python3.12"] and "DeletionPolicy" not in layer
    _app(tmp_path, "2")
    assert package(template) != first
