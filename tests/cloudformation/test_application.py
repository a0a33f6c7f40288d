"""A SAM application of the seeds' kind deployed with `aws cloudformation deploy`: an HttpApi route → a function
that sends to an SQS queue → a function (SQS event) that writes to a results queue; each function uses boto3 with
no endpoint configured (Lamina's AWS_ENDPOINT_URL and its role's STS credentials)."""

from __future__ import annotations

import subprocess
import time
import urllib.request
import uuid
from pathlib import Path

import pytest

from tests.aws_cli import AWS, cli_environment
from tests.cloudformation.conftest import FAST
from tests.server import LaminaProcess

APP = """
Transform: AWS::Serverless-2016-10-31
Parameters:
  Prefix:
    Type: String
    Default: done
Resources:
  Jobs:
    Type: AWS::SQS::Queue
  Results:
    Type: AWS::SQS::Queue
  Front:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.12
      Handler: index.handler
      Environment:
        Variables:
          JOBS: !Ref Jobs
      Policies:
        - SQSSendMessagePolicy:
            QueueName: !GetAtt Jobs.QueueName
      InlineCode: |
        import os, boto3
        def handler(event, context):
            boto3.client("sqs").send_message(QueueUrl=os.environ["JOBS"], MessageBody=event["pathParameters"]["id"])
            return {"statusCode": 202, "body": "queued"}
      Events:
        Submit:
          Type: HttpApi
          Properties:
            Path: /jobs/{id}
            Method: POST
  Worker:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.12
      Handler: index.handler
      Environment:
        Variables:
          RESULTS: !Ref Results
          PREFIX: !Ref Prefix
      InlineCode: |
        import os, boto3
        def handler(event, context):
            sqs = boto3.client("sqs")
            who = boto3.client("sts").get_caller_identity()["Arn"]
            for record in event["Records"]:
                body = os.environ["PREFIX"] + ":" + record["body"] + ":" + who
                sqs.send_message(QueueUrl=os.environ["RESULTS"], MessageBody=body)
      Events:
        Work:
          Type: SQS
          Properties:
            Queue: !GetAtt Jobs.Arn
            BatchSize: 1
Outputs:
  ApiId:
    Value: !Ref ServerlessHttpApi
  Results:
    Value: !Ref Results
"""


def _result(lamina: LaminaProcess, queue: str, timeout: float = 60.0) -> str:
    sqs = lamina.client("sqs")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        messages = sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=2).get("Messages", [])
        if messages:
            sqs.delete_message(QueueUrl=queue, ReceiptHandle=messages[0]["ReceiptHandle"])
            return str(messages[0]["Body"])
    raise AssertionError("no result arrived")


@pytest.mark.skipif(not AWS.exists(), reason="the aws CLI is not installed in this environment")
def test_http_api_queue_function_chain(tmp_path: Path, lamina: LaminaProcess) -> None:
    template = tmp_path / "template.yaml"
    template.write_text(APP)
    name = f"chain-{uuid.uuid4().hex[:8]}"
    env = cli_environment(tmp_path)

    def deploy(*extra: str) -> None:
        done = subprocess.run(
            [
                str(AWS),
                "--endpoint-url",
                lamina.url,
                "cloudformation",
                "deploy",
                "--template-file",
                str(template),
                "--stack-name",
                name,
                "--capabilities",
                "CAPABILITY_IAM",
                *extra,
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
        assert done.returncode == 0, done.stderr

    cfn = lamina.client("cloudformation")
    try:
        deploy()
        outputs = {
            o["OutputKey"]: o["OutputValue"] for o in cfn.describe_stacks(StackName=name)["Stacks"][0]["Outputs"]
        }
        host = f"{outputs['ApiId']}.execute-api.localhost"

        def submit(job: str) -> None:
            request = urllib.request.Request(f"{lamina.url}/jobs/{job}", method="POST", headers={"Host": host})
            with urllib.request.urlopen(request, timeout=30) as response:
                assert (response.status, response.read()) == (202, b"queued")

        submit("a1")
        body = _result(lamina, outputs["Results"])
        prefix, job, who = body.split(":", 2)
        assert (prefix, job) == ("done", "a1")
        assert who.startswith("arn:aws:sts::000000000000:assumed-role/") and who.count("/") == 2
        deploy("--parameter-overrides", "Prefix=finished")  # an update with a new value changes behaviour
        submit("b2")
        assert _result(lamina, outputs["Results"]).startswith("finished:b2:")
    finally:
        cfn.delete_stack(StackName=name)
        cfn.get_waiter("stack_delete_complete").wait(StackName=name, WaiterConfig=FAST)
    assert not [q for q in lamina.client("sqs").list_queues(QueueNamePrefix=name).get("QueueUrls", [])]
    assert not [f for f in lamina.client().list_functions()["Functions"] if f["FunctionName"].startswith(name)]
