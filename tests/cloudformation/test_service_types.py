"""The resource types of Lamina's other services, each made, updated and deleted through their own APIs:
AWS::DynamoDB::Table (and SAM's SimpleTable), AWS::Events::Rule / ::EventBus, AWS::Scheduler::Schedule /
::ScheduleGroup, AWS::Logs::LogGroup / ::SubscriptionFilter, AWS::Lambda::LayerVersion; Ref and GetAtt as
CloudFormation documents them."""

from __future__ import annotations

import base64
import io
import time
import zipfile
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.cloudformation.conftest import FAST, events, outputs, reasons
from tests.server import LaminaProcess

TABLES = """
Transform: AWS::Serverless-2016-10-31
Parameters:
  View:
    Type: String
    Default: NEW_IMAGE
Resources:
  Simple:
    Type: AWS::Serverless::SimpleTable
  Orders:
    Type: AWS::DynamoDB::Table
    Properties:
      AttributeDefinitions:
        - {AttributeName: pk, AttributeType: S}
        - {AttributeName: sk, AttributeType: N}
      KeySchema:
        - {AttributeName: pk, KeyType: HASH}
        - {AttributeName: sk, KeyType: RANGE}
      BillingMode: PAY_PER_REQUEST
      StreamSpecification:
        StreamViewType: !Ref View
Outputs:
  Simple:
    Value: !Ref Simple
  Orders:
    Value: !Ref Orders
  OrdersArn:
    Value: !GetAtt Orders.Arn
  OrdersStream:
    Value: !GetAtt Orders.StreamArn
"""


def test_tables(cfn: Any, deploy: Callable[..., dict[str, Any]], lamina: LaminaProcess) -> None:
    stack = deploy(TABLES)
    name = stack["StackName"]
    assert stack["StackStatus"] == "CREATE_COMPLETE", events(cfn, name)
    out = outputs(stack)
    assert out["Orders"].startswith(f"{name}-Orders-")
    ddb = lamina.client("dynamodb")
    orders = ddb.describe_table(TableName=out["Orders"])["Table"]
    assert orders["TableArn"] == out["OrdersArn"]
    assert orders["LatestStreamArn"] == out["OrdersStream"]
    assert orders["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"}
    simple = ddb.describe_table(TableName=out["Simple"])["Table"]
    assert simple["KeySchema"] == [{"AttributeName": "id", "KeyType": "HASH"}]  # SAM's default primary key
    assert simple["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    ddb.put_item(TableName=out["Orders"], Item={"pk": {"S": "a"}, "sk": {"N": "1"}})

    cfn.update_stack(
        StackName=name,
        TemplateBody=TABLES,
        Parameters=[{"ParameterKey": "View", "ParameterValue": "NEW_AND_OLD_IMAGES"}],
        Capabilities=["CAPABILITY_AUTO_EXPAND"],
    )
    cfn.get_waiter("stack_update_complete").wait(StackName=name, WaiterConfig=FAST)
    updated = cfn.describe_stacks(StackName=name)["Stacks"][0]
    changed = ddb.describe_table(TableName=out["Orders"])["Table"]  # the same table, changed in place
    assert changed["StreamSpecification"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    assert outputs(updated)["OrdersStream"] == changed["LatestStreamArn"] != out["OrdersStream"]
    assert ddb.get_item(TableName=out["Orders"], Key={"pk": {"S": "a"}, "sk": {"N": "1"}})["Item"]

    cfn.delete_stack(StackName=name)
    cfn.get_waiter("stack_delete_complete").wait(StackName=name, WaiterConfig=FAST)
    for table in (out["Orders"], out["Simple"]):
        with pytest.raises(ClientError) as caught:
            ddb.describe_table(TableName=table)
        assert caught.value.response["Error"]["Code"] == "ResourceNotFoundException"


EVENTS = """
Parameters:
  Rate:
    Type: String
    Default: rate(5 minutes)
  Days:
    Type: Number
    Default: 7
Resources:
  Bus:
    Type: AWS::Events::EventBus
    Properties:
      Name: !Sub "${AWS::StackName}-bus"
  Inbox:
    Type: AWS::SQS::Queue
  OnBus:
    Type: AWS::Events::Rule
    Properties:
      EventBusName: !Ref Bus
      EventPattern:
        source: [orders]
      Targets:
        - Id: inbox
          Arn: !GetAtt Inbox.Arn
  Tick:
    Type: AWS::Events::Rule
    Properties:
      ScheduleExpression: !Ref Rate
      State: DISABLED
      Targets:
        - Id: inbox
          Arn: !GetAtt Inbox.Arn
  Group:
    Type: AWS::Scheduler::ScheduleGroup
  Later:
    Type: AWS::Scheduler::Schedule
    Properties:
      GroupName: !Ref Group
      ScheduleExpression: !Ref Rate
      FlexibleTimeWindow: {Mode: "OFF"}
      State: DISABLED
      Target:
        Arn: !GetAtt Inbox.Arn
        RoleArn: arn:aws:iam::000000000000:role/scheduler
  Logs:
    Type: AWS::Logs::LogGroup
    Properties:
      RetentionInDays: !Ref Days
Outputs:
  BusArn:
    Value: !GetAtt Bus.Arn
  OnBus:
    Value: !Ref OnBus
  OnBusArn:
    Value: !GetAtt OnBus.Arn
  Tick:
    Value: !Ref Tick
  Group:
    Value: !Ref Group
  Later:
    Value: !Ref Later
  LaterArn:
    Value: !GetAtt Later.Arn
  Logs:
    Value: !Ref Logs
  LogsArn:
    Value: !GetAtt Logs.Arn
"""


def test_rules_schedules_and_log_groups(cfn: Any, deploy: Callable[..., dict[str, Any]], lamina: LaminaProcess) -> None:
    stack = deploy(EVENTS)
    name = stack["StackName"]
    assert stack["StackStatus"] == "CREATE_COMPLETE", events(cfn, name)
    out = outputs(stack)
    bus = f"{name}-bus"
    assert out["BusArn"] == f"arn:aws:events:us-east-1:000000000000:event-bus/{bus}"
    rule = out["OnBus"].split("|")[1]
    assert out["OnBus"] == f"{bus}|{rule}" and rule.startswith(f"{name}-OnBus-")
    assert out["OnBusArn"] == f"arn:aws:events:us-east-1:000000000000:rule/{bus}/{rule}"
    ev = lamina.client("events")
    assert ev.list_targets_by_rule(Rule=rule, EventBusName=bus)["Targets"][0]["Id"] == "inbox"
    tick = ev.describe_rule(Name=out["Tick"])
    assert (tick["ScheduleExpression"], tick["State"]) == ("rate(5 minutes)", "DISABLED")
    scheduler = lamina.client("scheduler")
    later = scheduler.get_schedule(Name=out["Later"], GroupName=out["Group"])
    assert later["Arn"] == out["LaterArn"] and later["ScheduleExpression"] == "rate(5 minutes)"
    logs = lamina.client("logs")
    (group,) = logs.describe_log_groups(logGroupNamePrefix=out["Logs"])["logGroups"]
    assert group["retentionInDays"] == 7 and group["arn"] == out["LogsArn"] and out["LogsArn"].endswith(":*")

    cfn.update_stack(
        StackName=name,
        TemplateBody=EVENTS,
        Parameters=[
            {"ParameterKey": "Rate", "ParameterValue": "rate(1 hour)"},
            {"ParameterKey": "Days", "ParameterValue": "14"},
        ],
    )
    cfn.get_waiter("stack_update_complete").wait(StackName=name, WaiterConfig=FAST)
    assert ev.describe_rule(Name=out["Tick"])["ScheduleExpression"] == "rate(1 hour)"
    later = scheduler.get_schedule(Name=out["Later"], GroupName=out["Group"])
    assert later["ScheduleExpression"] == "rate(1 hour)"
    (group,) = logs.describe_log_groups(logGroupNamePrefix=out["Logs"])["logGroups"]
    assert group["retentionInDays"] == 14 and group["arn"] == out["LogsArn"]  # the same group, changed

    cfn.delete_stack(StackName=name)
    cfn.get_waiter("stack_delete_complete").wait(StackName=name, WaiterConfig=FAST)
    with pytest.raises(ClientError):
        ev.describe_rule(Name=out["Tick"])
    with pytest.raises(ClientError):
        ev.describe_event_bus(Name=bus)
    with pytest.raises(ClientError):
        scheduler.get_schedule_group(Name=out["Group"])
    assert logs.describe_log_groups(logGroupNamePrefix=out["Logs"])["logGroups"] == []


def _zip(files: dict[str, str]) -> str:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path, text in files.items():
            archive.writestr(path, text)
    return base64.b64encode(buffer.getvalue()).decode()


LAYERED = """
Resources:
  Shared:
    Type: AWS::Lambda::LayerVersion
    Properties:
      CompatibleRuntimes: [python3.12]
      Content:
        ZipFile: {zip}
  Role:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Statement: [{{Effect: Allow, Principal: {{Service: lambda.amazonaws.com}}, Action: sts:AssumeRole}}]
  Fn:
    Type: AWS::Lambda::Function
    Properties:
      Runtime: python3.12
      Handler: index.handler
      Role: !GetAtt Role.Arn
      Layers: [!Ref Shared]
      Code:
        ZipFile: |
          import greeting
          def handler(event, context):
              return greeting.WORD
  Trail:
    Type: AWS::Logs::LogGroup
    Properties:
      LogGroupName: !Sub "/aws/lambda/${{Fn}}"
  Forward:
    Type: AWS::Logs::SubscriptionFilter
    DependsOn: Allow
    Properties:
      LogGroupName: !Ref Trail
      FilterPattern: ""
      DestinationArn: !GetAtt Fn.Arn
  Allow:
    Type: AWS::Lambda::Permission
    Properties:
      FunctionName: !Ref Fn
      Action: lambda:InvokeFunction
      Principal: logs.amazonaws.com
  Work:
    Type: AWS::SQS::Queue
  Mapping:
    Type: AWS::Lambda::EventSourceMapping
    Properties:
      FunctionName: !Ref Fn
      EventSourceArn: !GetAtt Work.Arn
      Enabled: false
      Tags:
        - {{Key: my, Value: tag}}
Outputs:
  Layer:
    Value: !GetAtt Shared.LayerVersionArn
  Fn:
    Value: !Ref Fn
  Filter:
    Value: !Ref Forward
  MappingArn:
    Value: !GetAtt Mapping.EventSourceMappingArn
"""


def test_layer_version_and_subscription_filter(
    cfn: Any, deploy: Callable[..., dict[str, Any]], lamina: LaminaProcess
) -> None:
    stack = deploy(LAYERED.format(zip=_zip({"python/greeting.py": "WORD = 'from the layer'\n"})))
    name = stack["StackName"]
    assert stack["StackStatus"] == "CREATE_COMPLETE", events(cfn, name)
    out = outputs(stack)
    assert out["Layer"].startswith(f"arn:aws:lambda:us-east-1:000000000000:layer:{name}-Shared-")
    lam = lamina.client("lambda")
    assert lam.invoke(FunctionName=out["Fn"])["Payload"].read() == b'"from the layer"'
    logs = lamina.client("logs")
    (found,) = logs.describe_subscription_filters(logGroupName=f"/aws/lambda/{out['Fn']}")["subscriptionFilters"]
    assert found["filterName"] == out["Filter"] and found["destinationArn"].endswith(f":function:{out['Fn']}")
    assert lam.list_tags(Resource=out["MappingArn"])["Tags"] == {"my": "tag"}  # AWS adds aws:cloudformation:* too
    layer, version = out["Layer"].rsplit(":", 1)
    # the invocation's log lines are written in the background: once they are in, none comes after the delete
    # to make the group again (as on AWS, a late line would)
    deadline = time.monotonic() + 30
    group = f"/aws/lambda/{out['Fn']}"
    while not logs.filter_log_events(logGroupName=group, filterPattern="REPORT")["events"]:
        assert time.monotonic() < deadline, "the invocation's REPORT line never reached its log group"
        time.sleep(0.1)
    cfn.delete_stack(StackName=name)
    cfn.get_waiter("stack_delete_complete").wait(StackName=name, WaiterConfig=FAST)
    with pytest.raises(ClientError):
        lam.get_layer_version(LayerName=layer, VersionNumber=int(version))
    # the stack's group and filter are gone; the filter's own late invocation of the function may write a new group
    for left in logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"]:
        assert logs.describe_subscription_filters(logGroupName=left["logGroupName"])["subscriptionFilters"] == []


def test_getatt_of_an_undocumented_attribute_fails(cfn: Any, deploy: Callable[..., dict[str, Any]]) -> None:
    body = """
Resources:
  Tick:
    Type: AWS::Events::Rule
    Properties:
      ScheduleExpression: rate(1 day)
Outputs:
  Name:
    Value: !GetAtt Tick.Name
"""
    stack = deploy(body)
    assert stack["StackStatus"] == "ROLLBACK_COMPLETE"
    found = reasons(cfn, stack["StackName"])
    assert any("resource Tick does not support attribute type Name in Fn::GetAtt" in r for r in found), found
