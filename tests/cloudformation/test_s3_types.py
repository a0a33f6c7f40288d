"""S3 in stacks: templates read from Lamina's S3 (TemplateURL in every URL form CloudFormation takes), function
and layer code from S3 objects (Code.S3Bucket/S3Key, SAM's CodeUri s3://... and {Bucket, Key}, ContentUri),
AWS::S3::Bucket with versioning, tags and notifications, AWS::S3::BucketPolicy, AWS::Kinesis::Stream and SAM's
S3 and Kinesis events, all through boto3."""

from __future__ import annotations

import io
import json
import time
import uuid
import zipfile
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError, WaiterError

from tests.cloudformation.conftest import FAST, events, outputs, reasons
from tests.server import LaminaProcess

QUEUE = "Resources:\n  Q:\n    Type: AWS::SQS::Queue\nOutputs:\n  Url:\n    Value: !Ref Q\n"


def _zip(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path, text in files.items():
            archive.writestr(path, text)
    return buffer.getvalue()


@pytest.fixture
def bucket(lamina: LaminaProcess) -> Iterator[str]:
    s3 = lamina.client("s3")
    name = f"cfn-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name)
    yield name
    for item in s3.list_objects_v2(Bucket=name).get("Contents", []):
        s3.delete_object(Bucket=name, Key=item["Key"])
    s3.delete_bucket(Bucket=name)


def test_template_url_forms(cfn: Any, lamina: LaminaProcess, bucket: str) -> None:
    s3 = lamina.client("s3")
    s3.put_object(Bucket=bucket, Key="dir/queue template.yaml", Body=QUEUE.encode())
    key = "dir/queue%20template.yaml"
    forms = [
        f"{lamina.url}/{bucket}/{key}",  # what `aws cloudformation deploy --s3-bucket` builds with --endpoint-url
        f"https://{bucket}.s3.amazonaws.com/{key}",
        f"https://{bucket}.s3.us-east-1.amazonaws.com/{key}",
        f"https://s3.us-east-1.amazonaws.com/{bucket}/{key}",
        f"https://s3.amazonaws.com/{bucket}/{key}",
        f"http://{bucket}.s3.localhost:{lamina.port}/{key}",
    ]
    for url in forms:
        assert [p["ParameterKey"] for p in cfn.validate_template(TemplateURL=url)["Parameters"]] == [], url
        assert cfn.get_template_summary(TemplateURL=url)["ResourceTypes"] == ["AWS::SQS::Queue"], url
    name = f"url-{uuid.uuid4().hex[:8]}"
    cfn.create_stack(StackName=name, TemplateURL=forms[1])
    try:
        cfn.get_waiter("stack_create_complete").wait(StackName=name, WaiterConfig=FAST)
        assert cfn.get_template(StackName=name)["TemplateBody"] == QUEUE
        s3.put_object(
            Bucket=bucket, Key="v2.yaml", Body=QUEUE.replace("Q:\n", "Q:\n    Properties: {DelaySeconds: 3}\n").encode()
        )
        cfn.update_stack(StackName=name, TemplateURL=f"{lamina.url}/{bucket}/v2.yaml")
        cfn.get_waiter("stack_update_complete").wait(StackName=name, WaiterConfig=FAST)
        url = outputs(cfn.describe_stacks(StackName=name)["Stacks"][0])["Url"]
        attributes = lamina.client("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=["DelaySeconds"])
        assert attributes["Attributes"]["DelaySeconds"] == "3"
    finally:
        cfn.delete_stack(StackName=name)
        cfn.get_waiter("stack_delete_complete").wait(StackName=name, WaiterConfig=FAST)


def test_template_url_errors(cfn: Any, lamina: LaminaProcess, bucket: str) -> None:
    def refused(**kwargs: Any) -> str:
        with pytest.raises(ClientError) as caught:
            cfn.create_stack(StackName=f"badurl-{uuid.uuid4().hex[:8]}", **kwargs)
        assert caught.value.response["Error"]["Code"] == "ValidationError"
        return str(caught.value.response["Error"]["Message"])

    missing = refused(TemplateURL=f"{lamina.url}/{bucket}/missing.yaml")
    assert missing == "S3 error: The specified key does not exist."
    no_bucket = refused(TemplateURL=f"https://{bucket}-none.s3.amazonaws.com/t.yaml")
    assert no_bucket == "TemplateURL must reference a valid S3 object to which you have access."
    assert refused(TemplateURL="https://example.com/t.yaml") == "TemplateURL must be a supported URL."
    assert refused() == "Either Template URL or Template Body must be specified."
    assert not [s for s in cfn.list_stacks()["StackSummaries"] if s["StackName"].startswith("badurl-")]


CODE_FROM_S3 = """
Transform: AWS::Serverless-2016-10-31
Parameters:
  Bucket:
    Type: String
Resources:
  Shared:
    Type: AWS::Serverless::LayerVersion
    Properties:
      ContentUri: s3://BUCKET/layer.zip
  Plain:
    Type: AWS::Lambda::Function
    Properties:
      Runtime: python3.12
      Handler: app.handler
      Role: !GetAtt Sam.Arn
      Code:
        S3Bucket: !Ref Bucket
        S3Key: code.zip
  Sam:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Statement: [{Effect: Allow, Principal: {Service: lambda.amazonaws.com}, Action: sts:AssumeRole}]
  FromUri:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.12
      Handler: app.handler
      CodeUri: s3://BUCKET/code.zip
      Layers: [!Ref Shared]
  FromMap:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.12
      Handler: app.handler
      CodeUri:
        Bucket: BUCKET
        Key: code.zip
Outputs:
  Plain:
    Value: !Ref Plain
  FromUri:
    Value: !Ref FromUri
  FromMap:
    Value: !Ref FromMap
"""
APP = "import shared\ndef handler(event, context):\n    return shared.WORD\n"


def test_code_from_s3(cfn: Any, deploy: Callable[..., dict[str, Any]], lamina: LaminaProcess, bucket: str) -> None:
    s3 = lamina.client("s3")
    s3.put_object(Bucket=bucket, Key="layer.zip", Body=_zip({"python/shared.py": "WORD = 'layered'\n"}))
    app = APP.replace("import shared\n", "").replace("shared.WORD", "'plain'")
    s3.put_object(Bucket=bucket, Key="code.zip", Body=_zip({"app.py": app}))
    s3.put_object(Bucket=bucket, Key="layered.zip", Body=_zip({"app.py": APP}))
    template = CODE_FROM_S3.replace("BUCKET", bucket)  # SAM reads CodeUri before parameters are known: literal
    body = template.replace(f"CodeUri: s3://{bucket}/code.zip", f"CodeUri: s3://{bucket}/layered.zip")
    stack = deploy(body, Parameters=[{"ParameterKey": "Bucket", "ParameterValue": bucket}])
    assert stack["StackStatus"] == "CREATE_COMPLETE", events(cfn, stack["StackName"])
    lam = lamina.client()
    out = outputs(stack)
    assert json.loads(lam.invoke(FunctionName=out["Plain"])["Payload"].read()) == "plain"
    assert json.loads(lam.invoke(FunctionName=out["FromMap"])["Payload"].read()) == "plain"
    assert json.loads(lam.invoke(FunctionName=out["FromUri"])["Payload"].read()) == "layered"

    missing = deploy(
        template.replace("S3Key: code.zip", "S3Key: nowhere.zip"),
        Parameters=[{"ParameterKey": "Bucket", "ParameterValue": bucket}],
    )
    assert missing["StackStatus"] == "ROLLBACK_COMPLETE"
    found = reasons(cfn, missing["StackName"])
    expected = (
        "Error occurred while GetObject. S3 Error Code: NoSuchKey. S3 Error Message: The specified key does not exist."
    )
    assert any(expected in r for r in found), found


BUCKETS = """
Resources:
  Inbox:
    Type: AWS::SQS::Queue
  InboxPolicy:
    Type: AWS::SQS::QueuePolicy
    Properties:
      Queues: [!Ref Inbox]
      PolicyDocument:
        Statement:
          - Effect: Allow
            Principal: {Service: s3.amazonaws.com}
            Action: sqs:SendMessage
            Resource: !GetAtt Inbox.Arn
  Uploads:
    Type: AWS::S3::Bucket
    DependsOn: InboxPolicy
    Properties:
      VersioningConfiguration: {Status: Enabled}
      Tags: [{Key: team, Value: core}]
      NotificationConfiguration:
        QueueConfigurations:
          - Event: s3:ObjectCreated:*
            Queue: !GetAtt Inbox.Arn
            Filter: {S3Key: {Rules: [{Name: prefix, Value: incoming/}]}}
  UploadsPolicy:
    Type: AWS::S3::BucketPolicy
    Properties:
      Bucket: !Ref Uploads
      PolicyDocument:
        Statement:
          - Effect: Deny
            Principal: "*"
            Action: s3:*
            Resource: [!Sub "${Uploads.Arn}/*"]
            Condition: {Bool: {aws:SecureTransport: "false"}}
  Clicks:
    Type: AWS::Kinesis::Stream
    Properties:
      ShardCount: 2
      RetentionPeriodHours: 48
Outputs:
  Bucket: {Value: !Ref Uploads}
  Arn: {Value: !GetAtt Uploads.Arn}
  Domain: {Value: !GetAtt Uploads.DomainName}
  Regional: {Value: !GetAtt Uploads.RegionalDomainName}
  Website: {Value: !GetAtt Uploads.WebsiteURL}
  Inbox: {Value: !Ref Inbox}
  Stream: {Value: !Ref Clicks}
  StreamArn: {Value: !GetAtt Clicks.Arn}
"""


def test_bucket_policy_and_stream(cfn: Any, deploy: Callable[..., dict[str, Any]], lamina: LaminaProcess) -> None:
    stack = deploy(BUCKETS, name=f"Buckets-{uuid.uuid4().hex[:6]}")
    name = stack["StackName"]
    assert stack["StackStatus"] == "CREATE_COMPLETE", events(cfn, name)
    out = outputs(stack)
    bucket = out["Bucket"]
    assert bucket.startswith(f"{name.lower()}-uploads-") and bucket == bucket.lower() and len(bucket) <= 63
    assert out["Arn"] == f"arn:aws:s3:::{bucket}"
    assert out["Domain"] == f"{bucket}.s3.amazonaws.com"
    assert out["Regional"] == f"{bucket}.s3.us-east-1.amazonaws.com"
    assert out["Website"] == f"http://{bucket}.s3-website-us-east-1.amazonaws.com"
    s3 = lamina.client("s3")
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    assert s3.get_bucket_tagging(Bucket=bucket)["TagSet"] == [{"Key": "team", "Value": "core"}]
    policy = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])
    assert policy["Statement"][0]["Resource"] == [f"arn:aws:s3:::{bucket}/*"]
    sqs = lamina.client("sqs")
    s3.put_object(Bucket=bucket, Key="other/x", Body=b"1")
    s3.put_object(Bucket=bucket, Key="incoming/a.txt", Body=b"2")
    keys: list[str] = []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and "incoming/a.txt" not in keys:
        for message in sqs.receive_message(QueueUrl=out["Inbox"], WaitTimeSeconds=1, MaxNumberOfMessages=10).get(
            "Messages", []
        ):
            body = json.loads(message["Body"])
            keys += [r["s3"]["object"]["key"] for r in body.get("Records", [])]
    assert keys == ["incoming/a.txt"]
    kinesis = lamina.client("kinesis")
    summary = kinesis.describe_stream_summary(StreamName=out["Stream"])["StreamDescriptionSummary"]
    assert out["Stream"].startswith(f"{name}-Clicks-")
    assert (summary["StreamARN"], summary["OpenShardCount"], summary["RetentionPeriodHours"]) == (
        out["StreamArn"],
        2,
        48,
    )
    # a non-empty bucket fails the delete, as on AWS; emptied, the stack goes and takes it along
    cfn.delete_stack(StackName=name)
    with pytest.raises(WaiterError):
        cfn.get_waiter("stack_delete_complete").wait(StackName=name, WaiterConfig=FAST)
    assert cfn.describe_stacks(StackName=name)["Stacks"][0]["StackStatus"] == "DELETE_FAILED"
    for version in s3.list_object_versions(Bucket=bucket).get("Versions", []):
        s3.delete_object(Bucket=bucket, Key=version["Key"], VersionId=version["VersionId"])
    cfn.delete_stack(StackName=name)
    cfn.get_waiter("stack_delete_complete").wait(StackName=name, WaiterConfig=FAST)
    with pytest.raises(ClientError):
        s3.head_bucket(Bucket=bucket)
    with pytest.raises(ClientError):
        kinesis.describe_stream_summary(StreamName=out["Stream"])


SAM_EVENTS = """
Transform: AWS::Serverless-2016-10-31
Resources:
  Seen:
    Type: AWS::SQS::Queue
  Photos:
    Type: AWS::S3::Bucket
  Clicks:
    Type: AWS::Kinesis::Stream
    Properties:
      StreamModeDetails: {StreamMode: ON_DEMAND}
  Handler:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.12
      Handler: index.handler
      Environment:
        Variables:
          SEEN: !Ref Seen
      Policies:
        - SQSSendMessagePolicy:
            QueueName: !GetAtt Seen.QueueName
      InlineCode: |
        import base64, os, boto3
        def handler(event, context):
            for record in event["Records"]:
                if "s3" in record:
                    seen = "s3:" + record["s3"]["object"]["key"]
                else:
                    seen = "kinesis:" + base64.b64decode(record["kinesis"]["data"]).decode()
                boto3.client("sqs").send_message(QueueUrl=os.environ["SEEN"], MessageBody=seen)
      Events:
        Upload:
          Type: S3
          Properties:
            Bucket: !Ref Photos
            Events: s3:ObjectCreated:*
            Filter: {S3Key: {Rules: [{Name: suffix, Value: .jpg}]}}
        Click:
          Type: Kinesis
          Properties:
            Stream: !GetAtt Clicks.Arn
            StartingPosition: TRIM_HORIZON
            BatchSize: 10
Outputs:
  Seen: {Value: !Ref Seen}
  Photos: {Value: !Ref Photos}
  Clicks: {Value: !Ref Clicks}
"""


def test_sam_s3_and_kinesis_events(cfn: Any, deploy: Callable[..., dict[str, Any]], lamina: LaminaProcess) -> None:
    stack = deploy(SAM_EVENTS)
    assert stack["StackStatus"] == "CREATE_COMPLETE", events(cfn, stack["StackName"])
    out = outputs(stack)
    s3, sqs = lamina.client("s3"), lamina.client("sqs")
    s3.put_object(Bucket=out["Photos"], Key="cat.png", Body=b"no")
    s3.put_object(Bucket=out["Photos"], Key="cat.jpg", Body=b"yes")
    lamina.client("kinesis").put_record(StreamName=out["Clicks"], Data=b"button", PartitionKey="k")
    seen: set[str] = set()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(seen) < 2:
        for message in sqs.receive_message(QueueUrl=out["Seen"], WaitTimeSeconds=1, MaxNumberOfMessages=10).get(
            "Messages", []
        ):
            seen.add(message["Body"])
    assert seen == {"s3:cat.jpg", "kinesis:button"}
    for key in ("cat.png", "cat.jpg"):
        s3.delete_object(Bucket=out["Photos"], Key=key)


CHANGING = """
Parameters:
  Team: {Type: String}
  Hours: {Type: Number}
  Shards: {Type: Number}
Resources:
  Store:
    Type: AWS::S3::Bucket
    Properties:
      VersioningConfiguration: {Status: Enabled}
      Tags: [{Key: team, Value: !Ref Team}]
  Events:
    Type: AWS::Kinesis::Stream
    Properties:
      ShardCount: !Ref Shards
      RetentionPeriodHours: !Ref Hours
Outputs:
  Bucket: {Value: !Ref Store}
  Stream: {Value: !Ref Events}
"""


def test_bucket_and_stream_change_in_place(
    cfn: Any, deploy: Callable[..., dict[str, Any]], lamina: LaminaProcess
) -> None:
    def values(team: str, hours: str, shards: str) -> list[dict[str, str]]:
        given = {"Team": team, "Hours": hours, "Shards": shards}
        return [{"ParameterKey": k, "ParameterValue": v} for k, v in given.items()]

    stack = deploy(CHANGING, Parameters=values("core", "24", "1"))
    name = stack["StackName"]
    assert stack["StackStatus"] == "CREATE_COMPLETE", events(cfn, name)
    out = outputs(stack)
    cfn.update_stack(StackName=name, UsePreviousTemplate=True, Parameters=values("edge", "72", "2"))
    cfn.get_waiter("stack_update_complete").wait(StackName=name, WaiterConfig=FAST)
    assert outputs(cfn.describe_stacks(StackName=name)["Stacks"][0]) == out  # the same bucket and stream
    assert lamina.client("s3").get_bucket_tagging(Bucket=out["Bucket"])["TagSet"] == [{"Key": "team", "Value": "edge"}]
    summary = lamina.client("kinesis").describe_stream_summary(StreamName=out["Stream"])["StreamDescriptionSummary"]
    assert (summary["RetentionPeriodHours"], summary["OpenShardCount"]) == (72, 2)


MODES = """
Parameters:
  Mode: {Type: String}
Conditions:
  Provisioned: !Equals [!Ref Mode, PROVISIONED]
Resources:
  Events:
    Type: AWS::Kinesis::Stream
    Properties:
      StreamModeDetails: {StreamMode: !Ref Mode}
      ShardCount: !If [Provisioned, 3, !Ref AWS::NoValue]
Outputs:
  Stream: {Value: !Ref Events}
  Arn: {Value: !GetAtt Events.Arn}
"""


def test_stream_mode_changes_in_place(cfn: Any, deploy: Callable[..., dict[str, Any]], lamina: LaminaProcess) -> None:
    """StreamModeDetails is an update with no interruption on AWS: the same stream switches mode (UpdateStreamMode),
    its records kept; back to PROVISIONED the ShardCount given is applied."""
    kinesis = lamina.client("kinesis")
    stack = deploy(MODES, Parameters=[{"ParameterKey": "Mode", "ParameterValue": "PROVISIONED"}])
    name = stack["StackName"]
    assert stack["StackStatus"] == "CREATE_COMPLETE", events(cfn, name)
    out = outputs(stack)
    kinesis.put_record(StreamName=out["Stream"], Data=b"kept", PartitionKey="k")
    for mode, shards in (("ON_DEMAND", 3), ("PROVISIONED", 3)):
        cfn.update_stack(
            StackName=name, UsePreviousTemplate=True, Parameters=[{"ParameterKey": "Mode", "ParameterValue": mode}]
        )
        cfn.get_waiter("stack_update_complete").wait(StackName=name, WaiterConfig=FAST)
        assert outputs(cfn.describe_stacks(StackName=name)["Stacks"][0]) == out  # the same stream
        summary = kinesis.describe_stream_summary(StreamName=out["Stream"])["StreamDescriptionSummary"]
        assert (summary["StreamModeDetails"]["StreamMode"], summary["OpenShardCount"]) == (mode, shards)
    shard = kinesis.list_shards(StreamName=out["Stream"])["Shards"]
    found = []
    for one in shard:
        it = kinesis.get_shard_iterator(
            StreamName=out["Stream"], ShardId=one["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        found += [r["Data"] for r in kinesis.get_records(ShardIterator=it)["Records"]]
    assert found == [b"kept"]
