"""`aws cloudformation package` (local code zipped to Lamina's S3, CodeUri rewritten to s3://...) then `aws
cloudformation deploy --s3-bucket` (the template itself uploaded and deployed through TemplateURL), as users ship a
SAM application without SAM CLI, with a nested stack's local template; a code change re-packaged updates the
function."""

from __future__ import annotations

import json
import subprocess
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.aws_cli import AWS
from tests.cloudformation.conftest import CliDeploy
from tests.server import LaminaProcess

APP = """
Transform: AWS::Serverless-2016-10-31
Resources:
  Hello:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.12
      Handler: app.handler
      CodeUri: src/
  Queues:
    Type: AWS::CloudFormation::Stack
    Properties:
      TemplateURL: child.yaml
Outputs:
  Function:
    Value: !Ref Hello
  Queue:
    Value: !GetAtt Queues.Outputs.Queue
"""
CHILD = "Resources:\n  Q:\n    Type: AWS::SQS::Queue\nOutputs:\n  Queue:\n    Value: !Ref Q\n"


@pytest.fixture
def bucket(lamina: LaminaProcess) -> Iterator[str]:
    s3 = lamina.client("s3")
    name = f"pkg-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name)
    yield name
    for item in s3.list_objects_v2(Bucket=name).get("Contents", []):
        s3.delete_object(Bucket=name, Key=item["Key"])
    s3.delete_bucket(Bucket=name)


def test_package_and_deploy_through_s3(
    cli_deploy: Callable[[str, str], CliDeploy], lamina: LaminaProcess, bucket: str, tmp_path: Path
) -> None:
    deploy = cli_deploy(APP, "pkg")
    # --endpoint-url reaches only the cloudformation client; package's and deploy's S3 uploads find Lamina through
    # AWS_ENDPOINT_URL, as users point every client of the CLI at it
    deploy.env["AWS_ENDPOINT_URL"] = lamina.url
    source = tmp_path / "src"
    source.mkdir()
    packaged = tmp_path / "packaged.yaml"
    original = deploy.template
    (tmp_path / "child.yaml").write_text(CHILD)  # a nested stack's local template, uploaded by package

    def package(word: str) -> None:
        (source / "app.py").write_text(f"def handler(event, context):\n    return {word!r}\n")
        command = [str(AWS), "cloudformation", "package", "--template-file"]
        command += [str(original), "--s3-bucket", bucket, "--output-template-file", str(packaged)]
        done = subprocess.run(command, env=deploy.env, capture_output=True, text=True, timeout=120, check=False)
        assert done.returncode == 0, done.stderr
        assert f"CodeUri: s3://{bucket}/" in packaged.read_text()

    package("first")
    deploy.template = packaged
    deploy("--s3-bucket", bucket)
    lam = lamina.client()
    function = deploy.outputs()["Function"]
    assert json.loads(lam.invoke(FunctionName=function)["Payload"].read()) == "first"
    assert lamina.client("sqs").get_queue_attributes(QueueUrl=deploy.outputs()["Queue"], AttributeNames=["All"])[
        "Attributes"
    ]
    keys = [o["Key"] for o in lamina.client("s3").list_objects_v2(Bucket=bucket)["Contents"]]
    assert any(k.endswith(".template") for k in keys), keys  # the template went through S3 (TemplateURL)
    package("second")
    deploy("--s3-bucket", bucket)
    assert json.loads(lam.invoke(FunctionName=function)["Payload"].read()) == "second"
