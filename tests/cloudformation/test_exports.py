"""Exports and Fn::ImportValue across stacks: ListExports, ListImports, a second export of the same name fails
its stack, an export in use cannot be deleted."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError, WaiterError

from tests.cloudformation.conftest import FAST, reasons

EXPORTER = """
Resources:
  Shared:
    Type: AWS::SQS::Queue
Outputs:
  SharedArn:
    Value: !GetAtt Shared.Arn
    Export:
      Name: {export}
"""
IMPORTER = """
Resources:
  Topic:
    Type: AWS::SNS::Topic
    Properties:
      DisplayName: !Select [5, !Split [":", !ImportValue {export}]]
"""


def test_exports_and_imports(cfn: Any, deploy: Callable[..., dict[str, Any]], lamina: Any) -> None:
    export = f"shared-{uuid.uuid4().hex[:8]}"
    exporter = deploy(EXPORTER.format(export=export))
    assert exporter["StackStatus"] == "CREATE_COMPLETE"
    arn = exporter["Outputs"][0]["OutputValue"]
    listed = [e for e in cfn.list_exports()["Exports"] if e["Name"] == export]
    assert listed == [{"ExportingStackId": exporter["StackId"], "Name": export, "Value": arn}]
    with pytest.raises(ClientError) as unused:
        cfn.list_imports(ExportName=export)
    assert unused.value.response["Error"]["Message"] == f"Export '{export}' is not imported by any stack."

    importer = deploy(IMPORTER.format(export=export))
    assert importer["StackStatus"] == "CREATE_COMPLETE"
    topic = cfn.describe_stack_resource(StackName=importer["StackName"], LogicalResourceId="Topic")[
        "StackResourceDetail"
    ]["PhysicalResourceId"]
    display = lamina.client("sns").get_topic_attributes(TopicArn=topic)["Attributes"]["DisplayName"]
    assert display == arn.rsplit(":", 1)[-1]
    assert cfn.list_imports(ExportName=export)["Imports"] == [importer["StackName"]]

    duplicate = deploy(EXPORTER.format(export=export))
    assert duplicate["StackStatus"] == "ROLLBACK_COMPLETE"
    expected = (
        f"Export with name {export} is already exported by stack {exporter['StackName']}. Rollback requested by user."
    )
    assert expected in reasons(cfn, duplicate["StackName"])

    cfn.delete_stack(StackName=exporter["StackName"])
    waiter = cfn.get_waiter("stack_delete_complete")
    with pytest.raises(WaiterError):
        waiter.wait(StackName=exporter["StackName"], WaiterConfig=FAST)
    stack = cfn.describe_stacks(StackName=exporter["StackName"])["Stacks"][0]
    assert stack["StackStatus"] == "DELETE_FAILED"
    assert stack["StackStatusReason"] == f"Export {export} cannot be deleted as it is in use by {importer['StackName']}"
    cfn.delete_stack(StackName=importer["StackName"])
    waiter.wait(StackName=importer["StackName"], WaiterConfig=FAST)
    cfn.delete_stack(StackName=exporter["StackName"])
    waiter.wait(StackName=exporter["StackName"], WaiterConfig=FAST)


def test_missing_import_fails_the_resource(deploy: Callable[..., dict[str, Any]], cfn: Any) -> None:
    stack = deploy(IMPORTER.format(export="never-exported-anywhere"))
    assert stack["StackStatus"] == "ROLLBACK_COMPLETE"
    assert "No export named never-exported-anywhere found." in reasons(cfn, stack["StackName"])
