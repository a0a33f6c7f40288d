"""DynamoDB global secondary indexes changed by stack updates, as CloudFormation allows: one index added or
removed per update (the new one queryable), two at once refused and rolled back with AWS's reason."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.cloudformation.conftest import FAST, events, outputs, reasons
from tests.server import LaminaProcess


def _template(*indexes: str) -> str:
    attributes = "".join(f"        - {{AttributeName: {i}, AttributeType: S}}\n" for i in ("id", *indexes))
    gsis = "".join(
        f"        - IndexName: by-{i}\n"
        f"          KeySchema: [{{AttributeName: {i}, KeyType: HASH}}]\n"
        f"          Projection: {{ProjectionType: ALL}}\n"
        for i in indexes
    )
    return (
        "Resources:\n  Items:\n    Type: AWS::DynamoDB::Table\n    Properties:\n"
        "      BillingMode: PAY_PER_REQUEST\n"
        "      KeySchema: [{AttributeName: id, KeyType: HASH}]\n"
        f"      AttributeDefinitions:\n{attributes}"
        + (f"      GlobalSecondaryIndexes:\n{gsis}" if indexes else "")
        + "Outputs:\n  Table:\n    Value: !Ref Items\n"
    )


def _update(cfn: Any, name: str, body: str) -> str:
    cfn.update_stack(StackName=name, TemplateBody=body)
    try:
        cfn.get_waiter("stack_update_complete").wait(StackName=name, WaiterConfig=FAST)
    except Exception:
        pass
    status: str = cfn.describe_stacks(StackName=name)["Stacks"][0]["StackStatus"]
    return status


def test_one_index_per_update(cfn: Any, deploy: Callable[..., dict[str, Any]], lamina: LaminaProcess) -> None:
    stack = deploy(_template("color"))
    name = stack["StackName"]
    assert stack["StackStatus"] == "CREATE_COMPLETE", events(cfn, name)
    table = outputs(stack)["Table"]
    ddb = lamina.client("dynamodb")

    def indexes() -> list[str]:
        found = ddb.describe_table(TableName=table)["Table"].get("GlobalSecondaryIndexes", [])
        return sorted(g["IndexName"] for g in found)

    assert _update(cfn, name, _template("color", "size")) == "UPDATE_COMPLETE", reasons(cfn, name)
    assert indexes() == ["by-color", "by-size"]
    ddb.put_item(TableName=table, Item={"id": {"S": "1"}, "size": {"S": "xl"}})
    found = ddb.query(
        TableName=table,
        IndexName="by-size",
        KeyConditionExpression="#s = :s",
        ExpressionAttributeNames={"#s": "size"},
        ExpressionAttributeValues={":s": {"S": "xl"}},
    )
    assert [i["id"]["S"] for i in found["Items"]] == ["1"]

    assert _update(cfn, name, _template("size")) == "UPDATE_COMPLETE", reasons(cfn, name)
    assert indexes() == ["by-size"]

    assert _update(cfn, name, _template("size", "color", "shape")) == "UPDATE_ROLLBACK_COMPLETE"
    assert "Cannot perform more than one GSI creation or deletion in a single update" in reasons(cfn, name)
    assert indexes() == ["by-size"]
    assert ddb.get_item(TableName=table, Key={"id": {"S": "1"}})["Item"]["size"]["S"] == "xl"
