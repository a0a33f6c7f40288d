"""Nested stacks: AWS::CloudFormation::Stack with a TemplateURL in Lamina's S3, Parameters in and Outputs out
(Fn::GetAtt Child.Outputs.X), updated with its parent, rolled back and deleted with it; and SAM's
AWS::Serverless::Application pointing at a template in S3."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError, WaiterError

from tests.cloudformation.conftest import FAST, CliDeploy, events, outputs, reasons
from tests.server import LaminaProcess

CHILD = """
Parameters:
  Delay:
    Type: Number
Resources:
  Jobs:
    Type: AWS::SQS::Queue
    Properties:
      DelaySeconds: !Ref Delay
Outputs:
  Url:
    Value: !Ref Jobs
  Arn:
    Value: !GetAtt Jobs.Arn
"""
BROKEN = """
Resources:
  Fine:
    Type: AWS::SQS::Queue
  Broken:
    Type: AWS::Lambda::Function
    DependsOn: Fine
    Properties:
      Runtime: python0.1
      Handler: index.handler
      Role: arn:aws:iam::000000000000:role/none
      Code: {ZipFile: "def handler(e, c): pass"}
"""
PARENT = """
Parameters:
  Delay:
    Type: Number
    Default: 2
Resources:
  Child:
    Type: AWS::CloudFormation::Stack
    Properties:
      TemplateURL: LOCATION
      Parameters:
        Delay: !Ref Delay
  Alerts:
    Type: AWS::SNS::Topic
    Properties:
      DisplayName: !GetAtt Child.Outputs.Arn
Outputs:
  Child:
    Value: !Ref Child
  Url:
    Value: !GetAtt Child.Outputs.Url
  Topic:
    Value: !Ref Alerts
"""
SAM_APP = """
Transform: AWS::Serverless-2016-10-31
Resources:
  Queues:
    Type: AWS::Serverless::Application
    Properties:
      Location: LOCATION
      Parameters:
        Delay: "4"
Outputs:
  Url:
    Value: !GetAtt Queues.Outputs.Url
"""


@pytest.fixture
def templates(lamina: LaminaProcess) -> Iterator[Callable[[str, str], str]]:
    """`put(key, body)` stores a template in a bucket and answers its URL."""
    s3 = lamina.client("s3")
    bucket = f"nested-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=bucket)

    def put(key: str, body: str) -> str:
        s3.put_object(Bucket=bucket, Key=key, Body=body.encode())
        return f"https://{bucket}.s3.amazonaws.com/{key}"

    yield put
    for item in s3.list_objects_v2(Bucket=bucket).get("Contents", []):
        s3.delete_object(Bucket=bucket, Key=item["Key"])
    s3.delete_bucket(Bucket=bucket)


def _delay(lamina: LaminaProcess, url: str) -> str:
    found = lamina.client("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=["DelaySeconds"])
    return str(found["Attributes"]["DelaySeconds"])


def test_nested_stack_lifecycle(
    cfn: Any, deploy: Callable[..., dict[str, Any]], lamina: LaminaProcess, templates: Callable[[str, str], str]
) -> None:
    url = templates("child.yaml", CHILD)
    stack = deploy(PARENT.replace("LOCATION", url))
    name = stack["StackName"]
    assert stack["StackStatus"] == "CREATE_COMPLETE", reasons(cfn, name)
    out = outputs(stack)
    child = cfn.describe_stacks(StackName=out["Child"])["Stacks"][0]
    assert child["StackName"].startswith(f"{name}-Child-") and child["StackStatus"] == "CREATE_COMPLETE"
    assert child["ParentId"] == child["RootId"] == stack["StackId"] and "ParentId" not in stack
    assert out["Url"] == outputs(child)["Url"] and _delay(lamina, out["Url"]) == "2"
    topic = lamina.client("sns").get_topic_attributes(TopicArn=out["Topic"])["Attributes"]
    assert topic["DisplayName"] == outputs(child)["Arn"]
    resource = cfn.describe_stack_resource(StackName=name, LogicalResourceId="Child")["StackResourceDetail"]
    assert (resource["ResourceType"], resource["PhysicalResourceId"]) == ("AWS::CloudFormation::Stack", out["Child"])

    cfn.update_stack(
        StackName=name, UsePreviousTemplate=True, Parameters=[{"ParameterKey": "Delay", "ParameterValue": "5"}]
    )
    cfn.get_waiter("stack_update_complete").wait(StackName=name, WaiterConfig=FAST)
    assert _delay(lamina, out["Url"]) == "5"
    assert cfn.describe_stacks(StackName=out["Child"])["Stacks"][0]["StackStatus"] == "UPDATE_COMPLETE"

    cfn.delete_stack(StackName=name)
    cfn.get_waiter("stack_delete_complete").wait(StackName=name, WaiterConfig=FAST)
    assert cfn.describe_stacks(StackName=out["Child"])["Stacks"][0]["StackStatus"] == "DELETE_COMPLETE"
    assert not lamina.client("sqs").list_queues(QueueNamePrefix=child["StackName"]).get("QueueUrls")


def test_failed_nested_stack_rolls_back_the_parent(
    cfn: Any, deploy: Callable[..., dict[str, Any]], lamina: LaminaProcess, templates: Callable[[str, str], str]
) -> None:
    url = templates("broken.yaml", BROKEN)
    body = PARENT.replace("LOCATION", url).replace("      Parameters:\n        Delay: !Ref Delay\n", "")
    body = body.split("  Alerts:")[0] + "Outputs:\n  Child:\n    Value: !Ref Child\n"
    stack = deploy(body)
    name = stack["StackName"]
    assert stack["StackStatus"] == "ROLLBACK_COMPLETE", events(cfn, name)
    found = reasons(cfn, name)
    assert any(
        r.startswith("Embedded stack arn:aws:cloudformation:us-east-1:000000000000:stack/")
        and r.endswith("was not successfully created: The following resource(s) failed to create: [Broken]. ")
        for r in found
    ), found
    children = [s for s in cfn.list_stacks()["StackSummaries"] if s["StackName"].startswith(f"{name}-Child-")]
    assert [s["StackStatus"] for s in children] == ["DELETE_COMPLETE"]
    assert not lamina.client("sqs").list_queues(QueueNamePrefix=children[0]["StackName"]).get("QueueUrls")


def test_serverless_application_from_s3(
    cfn: Any, deploy: Callable[..., dict[str, Any]], lamina: LaminaProcess, templates: Callable[[str, str], str]
) -> None:
    stack = deploy(SAM_APP.replace("LOCATION", templates("app.yaml", CHILD)))
    assert stack["StackStatus"] == "CREATE_COMPLETE", events(cfn, stack["StackName"])
    assert _delay(lamina, outputs(stack)["Url"]) == "4"


SAR_APP = """
Transform: AWS::Serverless-2016-10-31
Resources:
  Before:
    Type: AWS::SQS::Queue
  FromRepository:
    Type: AWS::Serverless::Application
    Properties:
      Location:
        ApplicationId: arn:aws:serverlessrepo:us-east-1:077246666028:applications/hello-world
        SemanticVersion: 1.0.4
"""


def test_application_from_the_repository_is_refused(
    cfn: Any, lamina: LaminaProcess, cli_deploy: Callable[[str, str], CliDeploy]
) -> None:
    """SAR is not served: the transform fails with a clear reason (as for an application the caller cannot reach),
    through boto3 and through `aws cloudformation deploy`, and nothing of the stack is made."""
    name = f"sar-{uuid.uuid4().hex[:8]}"
    with pytest.raises(ClientError) as raised:
        cfn.create_stack(StackName=name, TemplateBody=SAR_APP, Capabilities=["CAPABILITY_AUTO_EXPAND"])
    error = raised.value.response["Error"]
    assert error["Code"] == "ValidationError"
    assert error["Message"] == (
        "Transform AWS::Serverless-2016-10-31 failed with: Resource with id [FromRepository] is invalid. "
        "The Serverless Application Repository is not available in Lamina"
    )
    assert not [s for s in cfn.list_stacks()["StackSummaries"] if s["StackName"] == name]
    assert not lamina.client("sqs").list_queues(QueueNamePrefix=name).get("QueueUrls")
    shipped = cli_deploy(SAR_APP, "sar")
    done = shipped.run("--capabilities", "CAPABILITY_AUTO_EXPAND")
    assert done.returncode != 0
    assert "The Serverless Application Repository is not available in Lamina" in done.stderr, done.stderr
    assert not [s for s in cfn.list_stacks()["StackSummaries"] if s["StackName"] == shipped.name]


def test_failed_nested_application_rolls_back_the_parent(
    cfn: Any, deploy: Callable[..., dict[str, Any]], lamina: LaminaProcess, templates: Callable[[str, str], str]
) -> None:
    body = SAM_APP.replace("LOCATION", templates("broken-app.yaml", BROKEN)).replace(
        '      Parameters:\n        Delay: "4"\n', ""
    )
    body = body.split("Outputs:")[0] + "  Sibling:\n    Type: AWS::SQS::Queue\n"
    stack = deploy(body)
    name = stack["StackName"]
    assert stack["StackStatus"] == "ROLLBACK_COMPLETE", events(cfn, name)
    assert ("Queues", "CREATE_FAILED") in events(cfn, name)
    assert any("The following resource(s) failed to create: [Broken]" in r for r in reasons(cfn, name))
    children = [s for s in cfn.list_stacks()["StackSummaries"] if s["StackName"].startswith(f"{name}-Queues-")]
    assert [s["StackStatus"] for s in children] == ["DELETE_COMPLETE"]
    assert not cfn.list_stack_resources(StackName=stack["StackId"]).get("StackResourceSummaries") or all(
        r["ResourceStatus"] == "DELETE_COMPLETE"
        for r in cfn.list_stack_resources(StackName=stack["StackId"])["StackResourceSummaries"]
    )
    assert not lamina.client("sqs").list_queues(QueueNamePrefix=name).get("QueueUrls")


LABELLED = """
Parameters:
  Label:
    Type: String
Resources:
  Child:
    Type: AWS::CloudFormation::Stack
    Properties:
      TemplateURL: LOCATION
      Parameters:
        Delay: "3"
  Alerts:
    Type: AWS::SNS::Topic
    Properties:
      DisplayName: !Ref Label
Outputs:
  Child:
    Value: !Ref Child
  Url:
    Value: !GetAtt Child.Outputs.Url
"""


def _timeout(lamina: LaminaProcess, url: str) -> str:
    found = lamina.client("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=["VisibilityTimeout"])
    return str(found["Attributes"]["VisibilityTimeout"])


def test_nested_stack_events_and_a_new_template_behind_the_same_url(
    cfn: Any, deploy: Callable[..., dict[str, Any]], lamina: LaminaProcess, templates: Callable[[str, str], str]
) -> None:
    url = templates("labelled.yaml", CHILD)
    stack = deploy(LABELLED.replace("LOCATION", url), Parameters=[{"ParameterKey": "Label", "ParameterValue": "a"}])
    name = stack["StackName"]
    assert stack["StackStatus"] == "CREATE_COMPLETE", events(cfn, name)
    child_id = outputs(stack)["Child"]

    # the parent shows the nested stack as its resource (AWS::CloudFormation::Stack), the child's own id once
    # creation is initiated; the child's resources' events are the child's, under its own stack id
    parent_events = list(reversed(cfn.describe_stack_events(StackName=name)["StackEvents"]))
    shown = [
        (e["ResourceStatus"], e.get("ResourceStatusReason", ""), e["PhysicalResourceId"], e["ResourceType"])
        for e in parent_events
        if e["LogicalResourceId"] == "Child"
    ]
    kind = "AWS::CloudFormation::Stack"
    assert shown == [
        ("CREATE_IN_PROGRESS", "", "", kind),
        ("CREATE_IN_PROGRESS", "Resource creation Initiated", child_id, kind),
        ("CREATE_COMPLETE", "", child_id, kind),
    ], shown
    assert {e["StackId"] for e in parent_events} == {stack["StackId"]}
    assert "Jobs" not in {e["LogicalResourceId"] for e in parent_events}
    child_events = list(reversed(cfn.describe_stack_events(StackName=child_id)["StackEvents"]))
    child_name = child_id.split("/")[1]
    assert {e["StackId"] for e in child_events} == {child_id}
    assert {e["StackName"] for e in child_events} == {child_name}
    assert (child_events[0]["LogicalResourceId"], child_events[0]["ResourceStatus"]) == (
        child_name,
        "CREATE_IN_PROGRESS",
    )
    assert child_events[0]["ResourceType"] == kind and child_events[0]["PhysicalResourceId"] == child_id
    assert [(e["LogicalResourceId"], e["ResourceStatus"]) for e in child_events][-1] == (child_name, "CREATE_COMPLETE")
    assert ("Jobs", "CREATE_COMPLETE") in [(e["LogicalResourceId"], e["ResourceStatus"]) for e in child_events]

    # an update of the parent whose nested template is unchanged leaves the nested stack alone
    seen = {e["EventId"] for e in parent_events}
    cfn.update_stack(
        StackName=name, UsePreviousTemplate=True, Parameters=[{"ParameterKey": "Label", "ParameterValue": "b"}]
    )
    cfn.get_waiter("stack_update_complete").wait(StackName=name, WaiterConfig=FAST)
    new = [e for e in cfn.describe_stack_events(StackName=name)["StackEvents"] if e["EventId"] not in seen]
    assert "Child" not in {e["LogicalResourceId"] for e in new}, new
    assert cfn.describe_stacks(StackName=child_id)["Stacks"][0]["StackStatus"] == "CREATE_COMPLETE"

    # the same URL now holds another template: the parent's next update updates the nested stack
    templates(
        "labelled.yaml",
        CHILD.replace(
            "      DelaySeconds: !Ref Delay\n", "      DelaySeconds: !Ref Delay\n      VisibilityTimeout: 45\n"
        ),
    )
    seen |= {e["EventId"] for e in new}
    cfn.update_stack(
        StackName=name, UsePreviousTemplate=True, Parameters=[{"ParameterKey": "Label", "ParameterValue": "c"}]
    )
    cfn.get_waiter("stack_update_complete").wait(StackName=name, WaiterConfig=FAST)
    assert _timeout(lamina, outputs(stack)["Url"]) == "45"
    assert cfn.describe_stacks(StackName=child_id)["Stacks"][0]["StackStatus"] == "UPDATE_COMPLETE"
    new = [e for e in cfn.describe_stack_events(StackName=name)["StackEvents"] if e["EventId"] not in seen]
    changed = [
        (e["ResourceStatus"], e["PhysicalResourceId"]) for e in reversed(new) if e["LogicalResourceId"] == "Child"
    ]
    assert changed == [("UPDATE_IN_PROGRESS", child_id), ("UPDATE_COMPLETE", child_id)], changed


def test_parent_rollback_restores_the_nested_template_behind_the_same_url(
    cfn: Any, deploy: Callable[..., dict[str, Any]], lamina: LaminaProcess, templates: Callable[[str, str], str]
) -> None:
    """An update whose nested stack took the new template behind the same URL, then failed on a later resource,
    rolls the nested stack back to the template it ran before (the URL still holds the new one)."""
    base = CHILD.replace(
        "      DelaySeconds: !Ref Delay\n", "      DelaySeconds: !Ref Delay\n      VisibilityTimeout: 40\n"
    )
    url = templates("rewound.yaml", base)
    stack = deploy(LABELLED.replace("LOCATION", url), Parameters=[{"ParameterKey": "Label", "ParameterValue": "a"}])
    name, queue, child_id = stack["StackName"], outputs(stack)["Url"], outputs(stack)["Child"]
    assert stack["StackStatus"] == "CREATE_COMPLETE", events(cfn, name)
    changed = base.replace("VisibilityTimeout: 40", "VisibilityTimeout: 45")
    templates("rewound.yaml", changed)
    failing = LABELLED.replace("LOCATION", url).replace("Outputs:", BROKEN_AFTER_CHILD + "Outputs:")
    cfn.update_stack(
        StackName=name, TemplateBody=failing, Parameters=[{"ParameterKey": "Label", "ParameterValue": "a"}]
    )
    with pytest.raises(WaiterError):  # the update waiter fails on UPDATE_ROLLBACK_COMPLETE
        cfn.get_waiter("stack_update_complete").wait(StackName=name, WaiterConfig=FAST)
    assert cfn.describe_stacks(StackName=name)["Stacks"][0]["StackStatus"] == "UPDATE_ROLLBACK_COMPLETE"
    found = [
        (e["LogicalResourceId"], e["ResourceStatus"])
        for e in reversed(cfn.describe_stack_events(StackName=name)["StackEvents"])
    ]
    assert ("Child", "UPDATE_COMPLETE") in found and ("Late", "CREATE_FAILED") in found, found
    assert _timeout(lamina, queue) == "40"
    assert cfn.get_template(StackName=child_id)["TemplateBody"] == base
    assert cfn.describe_stacks(StackName=child_id)["Stacks"][0]["StackStatus"] == "UPDATE_COMPLETE"


BROKEN_AFTER_CHILD = """  Late:
    Type: AWS::Lambda::Function
    DependsOn: Child
    Properties:
      Runtime: python0.1
      Handler: index.handler
      Role: arn:aws:iam::000000000000:role/none
      Code: {ZipFile: "def handler(e, c): pass"}
"""
