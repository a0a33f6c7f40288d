"""A SAM application of the seeds' kind deployed with `aws cloudformation deploy`: an HttpApi route → a function
that sends to an SQS queue → a function (SQS event) that writes to a results queue; each function uses boto3 with
no endpoint configured (Lamina's AWS_ENDPOINT_URL and its role's STS credentials)."""

from __future__ import annotations

import time
from collections.abc import Callable

from tests.cloudformation.conftest import FAST, CliDeploy, http
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


def test_http_api_queue_function_chain(cli_deploy: Callable[[str, str], CliDeploy], lamina: LaminaProcess) -> None:
    deploy = cli_deploy(APP, "chain")
    deploy()
    out = deploy.outputs()
    host = f"{out['ApiId']}.execute-api.localhost"

    def submit(job: str) -> None:
        assert http(lamina, host, f"/jobs/{job}", method="POST") == (202, b"queued")

    submit("a1")
    body = _result(lamina, out["Results"])
    prefix, job, who = body.split(":", 2)
    assert (prefix, job) == ("done", "a1")
    assert who.startswith("arn:aws:sts::000000000000:assumed-role/") and who.count("/") == 2
    deploy("--parameter-overrides", "Prefix=finished")  # an update with a new value changes behaviour
    submit("b2")
    assert _result(lamina, out["Results"]).startswith("finished:b2:")
    cfn = lamina.client("cloudformation")
    cfn.delete_stack(StackName=deploy.name)
    cfn.get_waiter("stack_delete_complete").wait(StackName=deploy.name, WaiterConfig=FAST)
    assert not [q for q in lamina.client("sqs").list_queues(QueueNamePrefix=deploy.name).get("QueueUrls", [])]
    name = deploy.name
    assert not [f for f in lamina.client().list_functions()["Functions"] if f["FunctionName"].startswith(name)]
