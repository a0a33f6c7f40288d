"""A `sam`-style application deployed with `aws cloudformation deploy`: a function behind an HttpApi route writes
to a SimpleTable with boto3 (no endpoint configured), the same function runs on a Schedule event; an update with
a new parameter value changes what it writes; delete-stack removes the function, table, rule and API."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from botocore.exceptions import ClientError

from tests.cloudformation.conftest import FAST, CliDeploy, http
from tests.server import LaminaProcess

APP = """
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Parameters:
  Label:
    Type: String
    Default: first
Resources:
  Items:
    Type: AWS::Serverless::SimpleTable
  Writer:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.12
      Handler: index.handler
      Environment:
        Variables:
          TABLE: !Ref Items
          LABEL: !Ref Label
      Policies:
        - DynamoDBCrudPolicy:
            TableName: !Ref Items
      InlineCode: |
        import json, os, boto3
        def handler(event, context):
            item = (event.get("pathParameters") or {}).get("id", "scheduled")
            boto3.client("dynamodb").put_item(
                TableName=os.environ["TABLE"], Item={"id": {"S": item}, "label": {"S": os.environ["LABEL"]}}
            )
            return {"statusCode": 201, "body": json.dumps({"stored": item})}
      Events:
        Put:
          Type: HttpApi
          Properties:
            Path: /items/{id}
            Method: PUT
        Nightly:
          Type: Schedule
          Properties:
            Schedule: cron(0 3 * * ? *)
Outputs:
  Table:
    Value: !Ref Items
  TableArn:
    Value: !GetAtt Items.Arn
  Api:
    Value: !Ref ServerlessHttpApi
  Function:
    Value: !Ref Writer
"""


def test_function_table_schedule_http_api(cli_deploy: Callable[[str, str], CliDeploy], lamina: LaminaProcess) -> None:
    deploy = cli_deploy(APP, "app")
    name = deploy.name
    cfn = lamina.client("cloudformation")
    ddb = lamina.client("dynamodb")
    deploy()
    out = deploy.outputs()
    assert out["Table"].startswith(f"{name}-Items-")
    assert out["TableArn"] == ddb.describe_table(TableName=out["Table"])["Table"]["TableArn"]

    def put(item: str) -> dict[str, str]:
        status, body = http(lamina, f"{out['Api']}.execute-api.localhost", f"/items/{item}", method="PUT")
        assert status == 201
        stored: dict[str, str] = json.loads(body)
        found = ddb.get_item(TableName=out["Table"], Key={"id": {"S": item}})["Item"]
        return {"stored": stored["stored"], "label": found["label"]["S"]}

    assert put("a1") == {"stored": "a1", "label": "first"}
    rules = lamina.client("events").list_rule_names_by_target(
        TargetArn=f"arn:aws:lambda:us-east-1:000000000000:function:{out['Function']}"
    )["RuleNames"]
    (rule,) = rules
    assert lamina.client("events").describe_rule(Name=rule)["ScheduleExpression"] == "cron(0 3 * * ? *)"

    deploy("--parameter-overrides", "Label=second")
    assert put("b2") == {"stored": "b2", "label": "second"}
    assert ddb.get_item(TableName=out["Table"], Key={"id": {"S": "a1"}})["Item"]["label"]["S"] == "first"
    cfn.delete_stack(StackName=name)
    cfn.get_waiter("stack_delete_complete").wait(StackName=name, WaiterConfig=FAST)
    with pytest.raises(ClientError):
        ddb.describe_table(TableName=out["Table"])
    with pytest.raises(ClientError):
        lamina.client("events").describe_rule(Name=rule)
    with pytest.raises(ClientError):
        lamina.client("apigatewayv2").get_api(ApiId=out["Api"])
    assert not [f for f in lamina.client().list_functions()["Functions"] if f["FunctionName"].startswith(name)]
