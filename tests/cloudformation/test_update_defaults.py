"""UpdateStack with a property removed from a resource: as on AWS, the resource's setting goes back to the
service's default (checked through the service's own API), in place (same physical id)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.cloudformation.conftest import FAST, events
from tests.polling import wait_for
from tests.server import LaminaProcess


def _update(cfn: Any, name: str, body: str) -> None:
    cfn.update_stack(StackName=name, TemplateBody=body, Capabilities=["CAPABILITY_IAM"])
    try:
        cfn.get_waiter("stack_update_complete").wait(StackName=name, WaiterConfig=FAST)
    except Exception:
        pass
    status = cfn.describe_stacks(StackName=name)["Stacks"][0]["StackStatus"]
    assert status == "UPDATE_COMPLETE", events(cfn, name)


def _physical(cfn: Any, name: str, logical: str) -> str:
    found: str = cfn.describe_stack_resource(StackName=name, LogicalResourceId=logical)["StackResourceDetail"][
        "PhysicalResourceId"
    ]
    return found


QUEUE = """
Resources:
  Dead:
    Type: AWS::SQS::Queue
  Jobs:
    Type: AWS::SQS::Queue
    Properties:
      VisibilityTimeout: 90
      MessageRetentionPeriod: 600
      DelaySeconds: 5
      MaximumMessageSize: 2048
      ReceiveMessageWaitTimeSeconds: 10
      RedrivePolicy:
        deadLetterTargetArn: !GetAtt Dead.Arn
        maxReceiveCount: 3
      Tags:
        - Key: team
          Value: core
"""
BARE_QUEUE = """
Resources:
  Dead:
    Type: AWS::SQS::Queue
  Jobs:
    Type: AWS::SQS::Queue
"""


def test_removed_queue_properties_go_back_to_defaults(
    cfn: Any, deploy: Callable[..., dict[str, Any]], lamina: LaminaProcess
) -> None:
    name = deploy(QUEUE)["StackName"]
    sqs = lamina.client("sqs")
    url = _physical(cfn, name, "Jobs")
    before = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert before["VisibilityTimeout"] == "90" and "RedrivePolicy" in before
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"team": "core"}

    _update(cfn, name, BARE_QUEUE)
    assert _physical(cfn, name, "Jobs") == url
    after = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert {k: after[k] for k in ("VisibilityTimeout", "MessageRetentionPeriod", "DelaySeconds")} == {
        "VisibilityTimeout": "30",
        "MessageRetentionPeriod": "345600",
        "DelaySeconds": "0",
    }
    assert after["MaximumMessageSize"] == "1048576" and after["ReceiveMessageWaitTimeSeconds"] == "0"
    assert "RedrivePolicy" not in after
    assert "Tags" not in sqs.list_queue_tags(QueueUrl=url)


FUNCTION = """
Resources:
  Dead:
    Type: AWS::SQS::Queue
  Shared:
    Type: AWS::Lambda::LayerVersion
    Properties:
      Content:
        Files:
          python/shared.py: "X = 1"
  Worker:
    Type: AWS::Lambda::Function
    Properties:
      Runtime: python3.12
      Handler: index.handler
      Role: arn:aws:iam::000000000000:role/any
      Code:
        ZipFile: "def handler(event, context):\\n    return 1\\n"
CONFIGURED
"""
CONFIGURED = """      Description: does work
      Timeout: 30
      MemorySize: 256
      Environment:
        Variables:
          MODE: busy
      Layers:
        - !Ref Shared
      TracingConfig:
        Mode: Active
      DeadLetterConfig:
        TargetArn: !GetAtt Dead.Arn
      EphemeralStorage:
        Size: 1024
      LoggingConfig:
        LogFormat: JSON
        LogGroup: /custom/worker
      Architectures:
        - arm64
      KmsKeyArn: arn:aws:kms:us-east-1:000000000000:key/00000000-0000-0000-0000-000000000000
      Tags:
        - Key: team
          Value: core"""


def test_removed_function_settings_go_back_to_defaults(
    cfn: Any, deploy: Callable[..., dict[str, Any]], lamina: LaminaProcess
) -> None:
    name = deploy(FUNCTION.replace("CONFIGURED", CONFIGURED))["StackName"]
    lam = lamina.client()
    function = _physical(cfn, name, "Worker")
    before = lam.get_function(FunctionName=function)
    assert before["Configuration"]["Timeout"] == 30 and before["Configuration"]["Layers"]
    assert before["Tags"] == {"team": "core"} and "KMSKeyArn" in before["Configuration"]

    _update(cfn, name, FUNCTION.replace("CONFIGURED", ""))
    assert _physical(cfn, name, "Worker") == function
    after = lam.get_function(FunctionName=function)
    config = after["Configuration"]
    assert (config["Description"], config["Timeout"], config["MemorySize"]) == ("", 3, 128)
    assert config.get("Environment", {}).get("Variables", {}) == {}
    assert not {"Layers", "DeadLetterConfig", "KMSKeyArn"} & set(config)
    assert config["TracingConfig"] == {"Mode": "PassThrough"}
    assert config["EphemeralStorage"] == {"Size": 512}
    assert config["LoggingConfig"] == {"LogFormat": "Text", "LogGroup": f"/aws/lambda/{function}"}
    assert config["Architectures"] == ["x86_64"]
    assert "Tags" not in after
    assert lam.invoke(FunctionName=function)["Payload"].read() == b"1"


TOPIC = """
Resources:
  News:
    Type: AWS::SNS::Topic
    Properties:
      DisplayName: Daily news
      SignatureVersion: "2"
      TracingConfig: Active
      Tags:
        - Key: team
          Value: core
"""


def test_removed_topic_attributes_go_back_to_defaults(
    cfn: Any, deploy: Callable[..., dict[str, Any]], lamina: LaminaProcess
) -> None:
    name = deploy(TOPIC)["StackName"]
    sns = lamina.client("sns")
    arn = _physical(cfn, name, "News")
    before = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
    assert (before["DisplayName"], before["SignatureVersion"], before["TracingConfig"]) == ("Daily news", "2", "Active")
    assert sns.list_tags_for_resource(ResourceArn=arn)["Tags"] == [{"Key": "team", "Value": "core"}]

    _update(cfn, name, "Resources:\n  News:\n    Type: AWS::SNS::Topic\n")
    assert _physical(cfn, name, "News") == arn
    after = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
    assert (after["DisplayName"], after["SignatureVersion"], after["TracingConfig"]) == ("", "1", "PassThrough")
    assert sns.list_tags_for_resource(ResourceArn=arn)["Tags"] == []


TABLE = """
Resources:
  Orders:
    Type: AWS::DynamoDB::Table
    Properties:
      AttributeDefinitions:
        - AttributeName: id
          AttributeType: S
      KeySchema:
        - AttributeName: id
          KeyType: HASH
SETTINGS
"""
TABLE_SETTINGS = """      BillingMode: PAY_PER_REQUEST
      TableClass: STANDARD_INFREQUENT_ACCESS
      SSESpecification:
        SSEEnabled: true
      Tags:
        - Key: team
          Value: core"""
TABLE_BARE = """      ProvisionedThroughput:
        ReadCapacityUnits: 5
        WriteCapacityUnits: 5"""


def test_removed_table_settings_go_back_to_defaults(
    cfn: Any, deploy: Callable[..., dict[str, Any]], lamina: LaminaProcess
) -> None:
    name = deploy(TABLE.replace("SETTINGS", TABLE_SETTINGS))["StackName"]
    dynamodb = lamina.client("dynamodb")
    table = _physical(cfn, name, "Orders")
    before = dynamodb.describe_table(TableName=table)["Table"]
    assert before["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert before["TableClassSummary"]["TableClass"] == "STANDARD_INFREQUENT_ACCESS"
    assert dynamodb.list_tags_of_resource(ResourceArn=before["TableArn"])["Tags"] == [{"Key": "team", "Value": "core"}]

    _update(cfn, name, TABLE.replace("SETTINGS", TABLE_BARE))
    assert _physical(cfn, name, "Orders") == table
    after = dynamodb.describe_table(TableName=table)["Table"]
    assert after["BillingModeSummary"]["BillingMode"] == "PROVISIONED"
    throughput = after["ProvisionedThroughput"]
    assert (throughput["ReadCapacityUnits"], throughput["WriteCapacityUnits"]) == (5, 5)
    assert after["TableClassSummary"]["TableClass"] == "STANDARD"
    assert dynamodb.list_tags_of_resource(ResourceArn=after["TableArn"])["Tags"] == []


MAPPING = """
Resources:
  Jobs:
    Type: AWS::SQS::Queue
  Worker:
    Type: AWS::Lambda::Function
    Properties:
      Runtime: python3.12
      Handler: index.handler
      Role: arn:aws:iam::000000000000:role/any
      Code:
        ZipFile: "def handler(event, context):\\n    return {}\\n"
  Feed:
    Type: AWS::Lambda::EventSourceMapping
    Properties:
      FunctionName: !Ref Worker
      EventSourceArn: !GetAtt Jobs.Arn
SETTINGS
"""
MAPPING_SETTINGS = """      Enabled: false
      BatchSize: 5
      MaximumBatchingWindowInSeconds: 3
      FilterCriteria:
        Filters:
          - Pattern: '{"body": {"kind": ["order"]}}'
      FunctionResponseTypes:
        - ReportBatchItemFailures
      ScalingConfig:
        MaximumConcurrency: 5
      Tags:
        - Key: team
          Value: core"""


def test_removed_mapping_settings_go_back_to_defaults(
    cfn: Any, deploy: Callable[..., dict[str, Any]], lamina: LaminaProcess
) -> None:
    name = deploy(MAPPING.replace("SETTINGS", MAPPING_SETTINGS))["StackName"]
    lam = lamina.client()
    uuid = _physical(cfn, name, "Feed")
    before = lam.get_event_source_mapping(UUID=uuid)
    assert (before["BatchSize"], before["State"], before["ScalingConfig"]) == (5, "Disabled", {"MaximumConcurrency": 5})
    assert lam.list_tags(Resource=before["EventSourceMappingArn"])["Tags"] == {"team": "core"}

    _update(cfn, name, MAPPING.replace("SETTINGS", ""))
    assert _physical(cfn, name, "Feed") == uuid
    after = wait_for(lambda: (m := lam.get_event_source_mapping(UUID=uuid))["State"] == "Enabled" and m)
    assert (after["BatchSize"], after["MaximumBatchingWindowInSeconds"], after["FunctionResponseTypes"]) == (10, 0, [])
    assert not {"FilterCriteria", "ScalingConfig"} & set(after)
    assert lam.list_tags(Resource=after["EventSourceMappingArn"])["Tags"] == {}


STAGE = """
Resources:
  Api:
    Type: AWS::ApiGateway::RestApi
    Properties:
      Name: !Sub "${AWS::StackName}-api"
API_SETTINGS
  Ping:
    Type: AWS::ApiGateway::Method
    Properties:
      RestApiId: !Ref Api
      ResourceId: !GetAtt Api.RootResourceId
      HttpMethod: GET
      AuthorizationType: NONE
      Integration:
        Type: MOCK
  Release:
    Type: AWS::ApiGateway::Deployment
    DependsOn: Ping
    Properties:
      RestApiId: !Ref Api
  Live:
    Type: AWS::ApiGateway::Stage
    Properties:
      RestApiId: !Ref Api
      DeploymentId: !Ref Release
      StageName: live
SETTINGS
"""
API_SETTINGS = """      Description: the shop
      BinaryMediaTypes:
        - image/png
        - application/pdf
      MinimumCompressionSize: 1024
      DisableExecuteApiEndpoint: true"""
STAGE_SETTINGS = """      Description: the live one
      TracingEnabled: true
      Variables:
        color: blue
        size: large"""


def test_removed_rest_api_and_stage_settings_go_back_to_defaults(
    cfn: Any, deploy: Callable[..., dict[str, Any]], lamina: LaminaProcess
) -> None:
    body = STAGE.replace("API_SETTINGS", API_SETTINGS)
    name = deploy(body.replace("SETTINGS", STAGE_SETTINGS))["StackName"]
    apigw = lamina.client("apigateway")
    api = _physical(cfn, name, "Api")
    before = apigw.get_stage(restApiId=api, stageName="live")
    assert before["tracingEnabled"] and before["variables"] == {"color": "blue", "size": "large"}

    shop = apigw.get_rest_api(restApiId=api)
    assert (shop["description"], shop["binaryMediaTypes"], shop["minimumCompressionSize"]) == (
        "the shop",
        ["image/png", "application/pdf"],
        1024,
    )
    assert shop["disableExecuteApiEndpoint"]
    middle = '      TracingEnabled: "false"\n      Variables:\n        color: red'  # a parameter's string
    _update(cfn, name, body.replace("SETTINGS", middle))
    changed = apigw.get_stage(restApiId=api, stageName="live")
    assert changed["variables"] == {"color": "red"} and not changed["tracingEnabled"]

    _update(cfn, name, STAGE.replace("API_SETTINGS", "").replace("SETTINGS", ""))
    after = apigw.get_stage(restApiId=api, stageName="live")
    shop = apigw.get_rest_api(restApiId=api)
    assert not {"binaryMediaTypes", "minimumCompressionSize"} & set(shop)
    assert not shop.get("description") and not shop["disableExecuteApiEndpoint"]
    assert "variables" not in after and not after["tracingEnabled"]


ROLE = """
Resources:
  Runner:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Statement: [{Effect: Allow, Principal: {Service: lambda.amazonaws.com}, Action: sts:AssumeRole}]
SETTINGS
"""
ROLE_SETTINGS = """      Description: runs things
      MaxSessionDuration: 7200
      Tags:
        - Key: team
          Value: core"""


def test_removed_role_settings_go_back_to_defaults(
    cfn: Any, deploy: Callable[..., dict[str, Any]], lamina: LaminaProcess
) -> None:
    name = deploy(ROLE.replace("SETTINGS", ROLE_SETTINGS))["StackName"]
    iam = lamina.client("iam")
    role = _physical(cfn, name, "Runner")
    before = iam.get_role(RoleName=role)["Role"]
    assert (before["Description"], before["MaxSessionDuration"]) == ("runs things", 7200)
    assert before["Tags"] == [{"Key": "team", "Value": "core"}]

    _update(cfn, name, ROLE.replace("SETTINGS", ""))
    after = iam.get_role(RoleName=role)["Role"]
    assert not after.get("Description") and after["MaxSessionDuration"] == 3600
    assert "Tags" not in after and iam.list_role_tags(RoleName=role)["Tags"] == []


ALIAS = """
Resources:
  Worker:
    Type: AWS::Lambda::Function
    Properties:
      Runtime: python3.12
      Handler: index.handler
      Role: arn:aws:iam::000000000000:role/any
      Code:
        ZipFile: "def handler(event, context):\\n    return 1\\n"
  One:
    Type: AWS::Lambda::Version
    Properties:
      FunctionName: !Ref Worker
  Live:
    Type: AWS::Lambda::Alias
    Properties:
      FunctionName: !Ref Worker
      FunctionVersion: !GetAtt One.Version
      Name: live
SETTINGS
"""


def test_removed_alias_description_goes_back_to_empty(
    cfn: Any, deploy: Callable[..., dict[str, Any]], lamina: LaminaProcess
) -> None:
    name = deploy(ALIAS.replace("SETTINGS", "      Description: the live one"))["StackName"]
    lam = lamina.client()
    function = _physical(cfn, name, "Worker")
    assert lam.get_alias(FunctionName=function, Name="live")["Description"] == "the live one"

    _update(cfn, name, ALIAS.replace("SETTINGS", ""))
    assert lam.get_alias(FunctionName=function, Name="live")["Description"] == ""


LOG_GROUP = """
Resources:
  Audit:
    Type: AWS::Logs::LogGroup
SETTINGS
"""
LOG_GROUP_SETTINGS = """    Properties:
      RetentionInDays: 7
      Tags:
        - Key: team
          Value: core"""


def test_removed_log_group_settings_go_back_to_defaults(
    cfn: Any, deploy: Callable[..., dict[str, Any]], lamina: LaminaProcess
) -> None:
    name = deploy(LOG_GROUP.replace("SETTINGS", LOG_GROUP_SETTINGS))["StackName"]
    logs = lamina.client("logs")
    group = _physical(cfn, name, "Audit")
    arn = logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"][0]["arn"].removesuffix(":*")
    assert logs.list_tags_for_resource(resourceArn=arn)["tags"] == {"team": "core"}

    _update(cfn, name, LOG_GROUP.replace("SETTINGS", ""))
    described = logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"][0]
    assert "retentionInDays" not in described
    assert logs.list_tags_for_resource(resourceArn=arn)["tags"] == {}


EVENTS = """
Resources:
  Bus:
    Type: AWS::Events::EventBus
    Properties:
      Name: !Sub "${AWS::StackName}-bus"
BUS_TAGS
  Orders:
    Type: AWS::Events::Rule
    Properties:
      EventPattern:
        source: [shop]
RULE_SETTINGS
"""
TAGGED = """      Tags:
        - Key: team
          Value: core"""


def test_removed_rule_and_bus_settings_go_back_to_defaults(
    cfn: Any, deploy: Callable[..., dict[str, Any]], lamina: LaminaProcess
) -> None:
    rule_settings = "      Description: order events\n      State: DISABLED\n" + TAGGED
    name = deploy(EVENTS.replace("BUS_TAGS", TAGGED).replace("RULE_SETTINGS", rule_settings))["StackName"]
    events_client = lamina.client("events")
    rule = events_client.describe_rule(Name=_physical(cfn, name, "Orders"))
    bus = events_client.describe_event_bus(Name=_physical(cfn, name, "Bus"))
    assert (rule["Description"], rule["State"]) == ("order events", "DISABLED")
    for arn in (rule["Arn"], bus["Arn"]):
        assert events_client.list_tags_for_resource(ResourceARN=arn)["Tags"] == [{"Key": "team", "Value": "core"}]

    _update(cfn, name, EVENTS.replace("BUS_TAGS", "").replace("RULE_SETTINGS", ""))
    after = events_client.describe_rule(Name=rule["Name"])
    assert "Description" not in after and after["State"] == "ENABLED"
    for arn in (rule["Arn"], bus["Arn"]):
        assert events_client.list_tags_for_resource(ResourceARN=arn)["Tags"] == []


BUS = """
Resources:
  Bus:
    Type: AWS::Events::EventBus
    Properties:
      Name: !Sub "${AWS::StackName}-bus"
SETTINGS
"""


def test_bus_description_changed_then_removed(
    cfn: Any, deploy: Callable[..., dict[str, Any]], lamina: LaminaProcess
) -> None:
    name = deploy(BUS.replace("SETTINGS", "      Description: first"))["StackName"]
    events_client = lamina.client("events")
    bus = _physical(cfn, name, "Bus")
    assert events_client.describe_event_bus(Name=bus)["Description"] == "first"

    _update(cfn, name, BUS.replace("SETTINGS", "      Description: second"))
    assert events_client.describe_event_bus(Name=bus)["Description"] == "second"
    _update(cfn, name, BUS.replace("SETTINGS", ""))
    assert "Description" not in events_client.describe_event_bus(Name=bus)


def test_removed_schedule_group_tags_are_untagged(
    cfn: Any, deploy: Callable[..., dict[str, Any]], lamina: LaminaProcess
) -> None:
    body = "Resources:\n  Group:\n    Type: AWS::Scheduler::ScheduleGroup\n"
    name = deploy(body + "    Properties:\n" + TAGGED)["StackName"]
    scheduler = lamina.client("scheduler")
    arn = scheduler.get_schedule_group(Name=_physical(cfn, name, "Group"))["Arn"]
    assert scheduler.list_tags_for_resource(ResourceArn=arn)["Tags"] == [{"Key": "team", "Value": "core"}]

    _update(cfn, name, body)
    assert scheduler.list_tags_for_resource(ResourceArn=arn)["Tags"] == []


SCHEDULE = """
Resources:
  Jobs:
    Type: AWS::SQS::Queue
  Nightly:
    Type: AWS::Scheduler::Schedule
    Properties:
      ScheduleExpression: rate(1 day)
      FlexibleTimeWindow:
        Mode: "OFF"
      Target:
        Arn: !GetAtt Jobs.Arn
        RoleArn: arn:aws:iam::000000000000:role/any
SETTINGS
"""


def test_removed_schedule_settings_go_back_to_defaults(
    cfn: Any, deploy: Callable[..., dict[str, Any]], lamina: LaminaProcess
) -> None:
    name = deploy(SCHEDULE.replace("SETTINGS", "      Description: every night\n      State: DISABLED"))["StackName"]
    scheduler = lamina.client("scheduler")
    schedule = _physical(cfn, name, "Nightly")
    before = scheduler.get_schedule(Name=schedule)
    assert (before["Description"], before["State"]) == ("every night", "DISABLED")

    _update(cfn, name, SCHEDULE.replace("SETTINGS", ""))
    after = scheduler.get_schedule(Name=schedule)
    assert not after.get("Description") and after["State"] == "ENABLED"


BUCKET = """
Resources:
  Files:
    Type: AWS::S3::Bucket
SETTINGS
"""
BUCKET_SETTINGS = """    Properties:
      VersioningConfiguration:
        Status: Enabled
      Tags:
        - Key: team
          Value: core"""


def test_removed_bucket_settings_go_back_to_defaults(
    cfn: Any, deploy: Callable[..., dict[str, Any]], lamina: LaminaProcess
) -> None:
    name = deploy(BUCKET.replace("SETTINGS", BUCKET_SETTINGS))["StackName"]
    s3 = lamina.client("s3")
    bucket = _physical(cfn, name, "Files")
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"

    _update(cfn, name, BUCKET.replace("SETTINGS", ""))
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Suspended"  # once enabled, never unversioned
    with pytest.raises(ClientError) as untagged:
        s3.get_bucket_tagging(Bucket=bucket)
    assert untagged.value.response["Error"]["Code"] == "NoSuchTagSet"


STREAM = """
Resources:
  Clicks:
    Type: AWS::Kinesis::Stream
SETTINGS
"""
STREAM_SETTINGS = """    Properties:
      ShardCount: 2
      RetentionPeriodHours: 48
      Tags:
        - Key: team
          Value: core"""


def test_removed_stream_settings_go_back_to_defaults(
    cfn: Any, deploy: Callable[..., dict[str, Any]], lamina: LaminaProcess
) -> None:
    name = deploy(STREAM.replace("SETTINGS", STREAM_SETTINGS))["StackName"]
    kinesis = lamina.client("kinesis")
    stream = _physical(cfn, name, "Clicks")
    before = kinesis.describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"]
    assert (before["OpenShardCount"], before["RetentionPeriodHours"]) == (2, 48)

    _update(cfn, name, STREAM.replace("SETTINGS", ""))
    after = kinesis.describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"]
    assert (after["OpenShardCount"], after["RetentionPeriodHours"]) == (1, 24)
    assert kinesis.list_tags_for_stream(StreamName=stream)["Tags"] == []


STREAM_MAPPING = """
Resources:
  Clicks:
    Type: AWS::Kinesis::Stream
  Worker:
    Type: AWS::Lambda::Function
    Properties:
      Runtime: python3.12
      Handler: index.handler
      Role: arn:aws:iam::000000000000:role/any
      Code:
        ZipFile: "def handler(event, context):\\n    return {}\\n"
  Feed:
    Type: AWS::Lambda::EventSourceMapping
    Properties:
      FunctionName: !Ref Worker
      EventSourceArn: !GetAtt Clicks.Arn
      StartingPosition: LATEST
SETTINGS
"""
STREAM_MAPPING_SETTINGS = """      BatchSize: 50
      MaximumRetryAttempts: 2
      BisectBatchOnFunctionError: true
      ParallelizationFactor: 2
      MaximumRecordAgeInSeconds: 120
      TumblingWindowInSeconds: 30"""
STREAM_MAPPING_FIELDS = (
    "BatchSize",
    "MaximumRetryAttempts",
    "BisectBatchOnFunctionError",
    "ParallelizationFactor",
    "MaximumRecordAgeInSeconds",
    "TumblingWindowInSeconds",
)


def test_removed_stream_mapping_settings_go_back_to_defaults(
    cfn: Any, deploy: Callable[..., dict[str, Any]], lamina: LaminaProcess
) -> None:
    name = deploy(STREAM_MAPPING.replace("SETTINGS", STREAM_MAPPING_SETTINGS))["StackName"]
    lam = lamina.client()
    uuid = _physical(cfn, name, "Feed")
    before = lam.get_event_source_mapping(UUID=uuid)
    assert [before[k] for k in STREAM_MAPPING_FIELDS] == [50, 2, True, 2, 120, 30]

    wait_for(lambda: lam.get_event_source_mapping(UUID=uuid)["State"] == "Enabled")
    _update(cfn, name, STREAM_MAPPING.replace("SETTINGS", ""))
    after = lam.get_event_source_mapping(UUID=uuid)
    assert [after[k] for k in STREAM_MAPPING_FIELDS] == [100, -1, False, 1, -1, 0]
