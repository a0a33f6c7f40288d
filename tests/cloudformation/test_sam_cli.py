"""`sam build && sam deploy --resolve-s3` against Lamina, with SAM CLI from PyPI in its own virtualenv (it pins
its own aws-sam-translator and boto3; cached under .cache/ so reruns are fast). SAM CLI finds Lamina through
AWS_ENDPOINT_URL, as every boto3 client does. `--resolve-s3` makes the aws-sam-cli-managed-default stack (an S3
bucket and its policy); the deployed REST API stage answers over HTTP; `sam remote invoke`, `sam logs` and
`sam delete` work against the stack, and a code change deploys as an update."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from tests.cloudformation.conftest import http_json, outputs
from tests.server import LaminaProcess

pytestmark = pytest.mark.slow

SAM_CLI = "aws-sam-cli==1.170.0"  # the release these tests were written against
VENV = Path(__file__).resolve().parents[2] / ".cache" / "sam-cli"
RUNTIME = f"python{sys.version_info.major}.{sys.version_info.minor}"  # sam build needs this python on PATH

TEMPLATE = f"""
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Resources:
  Hello:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: {RUNTIME}
      Handler: app.handler
      CodeUri: src/
      Events:
        Get:
          Type: Api
          Properties:
            Path: /hello/{{name}}
            Method: GET
Outputs:
  Api:
    Value: !Ref ServerlessRestApi
  Function:
    Value: !Ref Hello
"""
APP = """import json

def handler(event, context):
    print("hello from sam")
    return {"statusCode": 200, "body": json.dumps({"hello": (event.get("pathParameters") or {}).get("name")})}
"""


def _sam() -> Path:
    sam = VENV / "bin" / "sam"
    if not sam.exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True, timeout=120)
        pip = [str(VENV / "bin" / "pip"), "install", "-q", SAM_CLI]
        done = subprocess.run(pip, capture_output=True, text=True, timeout=900, check=False)
        if done.returncode != 0:
            pytest.skip(f"{SAM_CLI} could not be installed here: {done.stderr[-500:]}")
    return sam


def test_sam_build_deploy_invoke_logs_delete(lamina: LaminaProcess, tmp_path: Path) -> None:
    sam = _sam()
    app = tmp_path / "app"
    (app / "src").mkdir(parents=True)
    (app / "template.yaml").write_text(TEMPLATE)
    (app / "src" / "app.py").write_text(APP)
    (app / "src" / "requirements.txt").write_text("")
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("AWS_")},
        "AWS_ENDPOINT_URL": lamina.url,  # how SAM CLI (boto3) is pointed at Lamina
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": str(tmp_path / "config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "credentials"),
        "SAM_CLI_TELEMETRY": "0",
        "HOME": str(tmp_path),
    }
    name = f"sam-{uuid.uuid4().hex[:8]}"

    def run(*args: str) -> str:
        done = subprocess.run(
            [str(sam), *args], cwd=app, env=env, capture_output=True, text=True, timeout=600, check=False
        )
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout + done.stderr

    run("build")
    deployed = run(
        "deploy",
        "--resolve-s3",
        "--stack-name",
        name,
        "--capabilities",
        "CAPABILITY_IAM",
        "--no-confirm-changeset",
        "--no-fail-on-empty-changeset",
    )
    assert f"Successfully created/updated stack - {name}" in deployed
    cfn = lamina.client("cloudformation")
    managed = cfn.describe_stack_resources(StackName="aws-sam-cli-managed-default")["StackResources"]
    assert {r["ResourceType"] for r in managed} == {"AWS::S3::Bucket", "AWS::S3::BucketPolicy"}
    bucket = outputs(cfn.describe_stacks(StackName="aws-sam-cli-managed-default")["Stacks"][0])["SourceBucket"]
    assert lamina.client("s3").list_objects_v2(Bucket=bucket)["KeyCount"] >= 1  # the code, uploaded by sam deploy

    out = outputs(cfn.describe_stacks(StackName=name)["Stacks"][0])
    assert http_json(lamina, f"{out['Api']}.execute-api.localhost", "/Prod/hello/ana") == (200, {"hello": "ana"})

    invoked = run("remote", "invoke", "Hello", "--stack-name", name, "--event", '{"pathParameters": {"name": "bo"}}')
    assert json.dumps({"hello": "bo"}).replace('"', '\\"') in invoked, invoked
    deadline = time.monotonic() + 60
    logs = ""
    while time.monotonic() < deadline and logs.count("hello from sam") < 2:  # the HTTP call's and the invoke's
        logs = run("logs", "-n", "Hello", "--stack-name", name)
    assert logs.count("hello from sam") >= 2, logs

    # a code change, built and deployed again, updates the function in place (a change set on the same stack)
    (app / "src" / "app.py").write_text(APP.replace('{"hello":', '{"again":'))
    run("build")
    run("deploy", "--resolve-s3", "--stack-name", name, "--capabilities", "CAPABILITY_IAM", "--no-confirm-changeset")
    assert cfn.describe_stacks(StackName=name)["Stacks"][0]["StackStatus"] == "UPDATE_COMPLETE"
    assert http_json(lamina, f"{out['Api']}.execute-api.localhost", "/Prod/hello/cy") == (200, {"again": "cy"})

    run("delete", "--stack-name", name, "--no-prompts")
    assert not [f for f in lamina.client().list_functions()["Functions"] if f["FunctionName"].startswith(name)]
