"""SAM's event sources through CloudFormation: Schedule, ScheduleV2, EventBridgeRule, DynamoDB, SQS, SNS, Api
and HttpApi events on one function each become what the transform emits (rules, schedules, mappings,
subscriptions, REST and HTTP APIs, permissions), made through Lamina's services, and go when the stack goes."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.cloudformation.conftest import FAST, failures, http_json, outputs
from tests.server import LaminaProcess

SAM = """
Transform: AWS::Serverless-2016-10-31
Resources:
  Table:
    Type: AWS::DynamoDB::Table
    Properties:
      AttributeDefinitions: [{AttributeName: id, AttributeType: S}]
      KeySchema: [{AttributeName: id, KeyType: HASH}]
      BillingMode: PAY_PER_REQUEST
      StreamSpecification: {StreamViewType: NEW_IMAGE}
  Queue:
    Type: AWS::SQS::Queue
  Topic:
    Type: AWS::SNS::Topic
  Seen:
    Type: AWS::SQS::Queue
  Handler:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.12
      Handler: index.handler
      Environment:
        Variables:
          SEEN: !Ref Seen
      InlineCode: |
        import json, os, boto3
        def handler(event, context):
            if event.get("source") == "orders":  # from the EventBridgeRule event
                boto3.client("sqs").send_message(QueueUrl=os.environ["SEEN"], MessageBody=json.dumps(event["detail"]))
            return {"statusCode": 200, "body": json.dumps({"path": event.get("path") or event.get("rawPath")})}
      Events:
        Every:
          Type: Schedule
          Properties:
            Schedule: rate(1 hour)
            Enabled: false
        Later:
          Type: ScheduleV2
          Properties:
            ScheduleExpression: rate(2 hours)
            State: DISABLED
        OnOrder:
          Type: EventBridgeRule
          Properties:
            Pattern:
              source: [orders]
        Jobs:
          Type: SQS
          Properties:
            Queue: !GetAtt Queue.Arn
            BatchSize: 5
        News:
          Type: SNS
          Properties:
            Topic: !Ref Topic
        Rest:
          Type: Api
          Properties:
            Path: /items/{id}
            Method: GET
        Http:
          Type: HttpApi
          Properties:
            Path: /things
            Method: GET
Outputs:
  Function:
    Value: !Ref Handler
  RestApi:
    Value: !Ref ServerlessRestApi
  HttpApi:
    Value: !Ref ServerlessHttpApi
  Seen:
    Value: !Ref Seen
"""


def _get(lamina: LaminaProcess, host: str, path: str) -> Any:
    status, body = http_json(lamina, host, path)
    assert status == 200, body
    return body


def test_sam_events(cfn: Any, deploy: Callable[..., dict[str, Any]], lamina: LaminaProcess) -> None:
    stack = deploy(SAM)
    name = stack["StackName"]
    assert stack["StackStatus"] == "CREATE_COMPLETE", failures(cfn, name)
    out = outputs(stack)
    function = out["Function"]
    resources = {r["LogicalResourceId"]: r for r in cfn.list_stack_resources(StackName=name)["StackResourceSummaries"]}
    kinds = {r["ResourceType"] for r in resources.values()}
    assert {
        "AWS::Events::Rule",
        "AWS::Scheduler::Schedule",
        "AWS::Lambda::EventSourceMapping",
        "AWS::SNS::Subscription",
        "AWS::ApiGateway::RestApi",
        "AWS::ApiGateway::Deployment",
        "AWS::ApiGateway::Stage",
        "AWS::ApiGatewayV2::Api",
    } <= kinds

    ev = lamina.client("events")
    every = ev.describe_rule(Name=resources["HandlerEvery"]["PhysicalResourceId"])
    assert (every["ScheduleExpression"], every["State"]) == ("rate(1 hour)", "DISABLED")
    on_order = ev.describe_rule(Name=resources["HandlerOnOrder"]["PhysicalResourceId"])
    assert json.loads(on_order["EventPattern"]) == {"source": ["orders"]}
    targets = ev.list_targets_by_rule(Rule=on_order["Name"])["Targets"]
    assert [t["Arn"].split(":")[-1] for t in targets] == [function]
    entry = {"Source": "orders", "DetailType": "placed", "Detail": json.dumps({"order": 7})}
    assert ev.put_events(Entries=[entry])["FailedEntryCount"] == 0
    sqs = lamina.client("sqs")
    deadline = time.monotonic() + 60
    received: list[dict[str, Any]] = []
    while not received and time.monotonic() < deadline:
        received = sqs.receive_message(QueueUrl=out["Seen"], WaitTimeSeconds=2).get("Messages", [])
    assert [json.loads(m["Body"]) for m in received] == [{"order": 7}]  # the rule invoked the function
    later = lamina.client("scheduler").get_schedule(Name=resources["HandlerLater"]["PhysicalResourceId"])
    assert later["Target"]["Arn"].endswith(f":function:{function}") and later["State"] == "DISABLED"

    lam = lamina.client("lambda")
    mappings = lam.list_event_source_mappings(FunctionName=function)["EventSourceMappings"]
    sources = sorted(m["EventSourceArn"].split(":")[2] for m in mappings)
    assert sources == ["sqs"]
    subscriptions = lamina.client("sns").list_subscriptions()["Subscriptions"]
    assert any(s["Endpoint"].endswith(f":function:{function}") for s in subscriptions)

    api = out["RestApi"]
    stages = lamina.client("apigateway").get_stages(restApiId=api)["item"]
    assert "Prod" in {s["stageName"] for s in stages}
    assert _get(lamina, f"{api}.execute-api.localhost", "/Prod/items/7") == {"path": "/items/7"}
    assert _get(lamina, f"{out['HttpApi']}.execute-api.localhost", "/things") == {"path": "/things"}

    cfn.delete_stack(StackName=name)
    cfn.get_waiter("stack_delete_complete").wait(StackName=name, WaiterConfig=FAST)
    with pytest.raises(ClientError):
        lamina.client("apigateway").get_rest_api(restApiId=api)
    with pytest.raises(ClientError):
        ev.describe_rule(Name=on_order["Name"])
    with pytest.raises(ClientError):
        lam.get_function(FunctionName=function)
    assert lam.list_event_source_mappings(FunctionName=function)["EventSourceMappings"] == []


STREAM_EVENT = """
Transform: AWS::Serverless-2016-10-31
Resources:
  Table:
    Type: AWS::Serverless::SimpleTable
    Properties:
      PrimaryKey: {Name: id, Type: String}
  Orders:
    Type: AWS::DynamoDB::Table
    Properties:
      AttributeDefinitions: [{AttributeName: id, AttributeType: S}]
      KeySchema: [{AttributeName: id, KeyType: HASH}]
      BillingMode: PAY_PER_REQUEST
      StreamSpecification: {StreamViewType: NEW_IMAGE}
  Handler:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.12
      Handler: index.handler
      InlineCode: "def handler(event, context):\n    return None\n"
      Events:
        Changes:
          Type: DynamoDB
          Properties:
            Stream: !GetAtt Orders.StreamArn
            StartingPosition: LATEST
"""


def test_sam_dynamodb_event(cfn: Any, deploy: Callable[..., dict[str, Any]], lamina: LaminaProcess) -> None:
    stack = deploy(STREAM_EVENT)
    assert stack["StackStatus"] == "CREATE_COMPLETE", failures(cfn, stack["StackName"])


LOGS_AND_API = """
Transform: AWS::Serverless-2016-10-31
Resources:
  Trail:
    Type: AWS::Logs::LogGroup
  Seen:
    Type: AWS::SQS::Queue
  Api:
    Type: AWS::Serverless::Api
    Properties:
      StageName: v1
  Reader:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.12
      Handler: index.handler
      Environment:
        Variables:
          SEEN: !Ref Seen
      InlineCode: |
        import base64, gzip, json, os, boto3
        def handler(event, context):
            if "awslogs" in event:
                data = json.loads(gzip.decompress(base64.b64decode(event["awslogs"]["data"])))
                messages = [e["message"] for e in data["logEvents"]]
                boto3.client("sqs").send_message(QueueUrl=os.environ["SEEN"], MessageBody=json.dumps(messages))
                return None
            return {"statusCode": 200, "body": json.dumps({"resource": event["resource"]})}
      Events:
        Lines:
          Type: CloudWatchLogs
          Properties:
            LogGroupName: !Ref Trail
            FilterPattern: ERROR
        Ping:
          Type: Api
          Properties:
            RestApiId: !Ref Api
            Path: /ping
            Method: GET
Outputs:
  Trail:
    Value: !Ref Trail
  Seen:
    Value: !Ref Seen
  Api:
    Value: !Ref Api
"""


def test_sam_cloudwatch_logs_event_and_explicit_api(
    cfn: Any, deploy: Callable[..., dict[str, Any]], lamina: LaminaProcess
) -> None:
    stack = deploy(LOGS_AND_API)
    assert stack["StackStatus"] == "CREATE_COMPLETE", failures(cfn, stack["StackName"])
    out = outputs(stack)
    assert _get(lamina, f"{out['Api']}.execute-api.localhost", "/v1/ping") == {"resource": "/ping"}
    logs = lamina.client("logs")
    logs.create_log_stream(logGroupName=out["Trail"], logStreamName="s")
    now = int(time.time() * 1000)
    lines = [{"timestamp": now, "message": "ok"}, {"timestamp": now, "message": "ERROR boom"}]
    logs.put_log_events(logGroupName=out["Trail"], logStreamName="s", logEvents=lines)
    sqs = lamina.client("sqs")
    deadline = time.monotonic() + 60
    received: list[dict[str, Any]] = []
    while not received and time.monotonic() < deadline:
        received = sqs.receive_message(QueueUrl=out["Seen"], WaitTimeSeconds=2).get("Messages", [])
    assert [json.loads(m["Body"]) for m in received] == [["ERROR boom"]]  # only what the filter matched
