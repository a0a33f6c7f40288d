from __future__ import annotations

import http.client
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from tests.conftest import make_zip
from tests.server import ROLE, LaminaProcess

ECHO = """
import base64, json

def handler(event, context):
    path = event.get("path")
    if path == "/error":
        raise RuntimeError("boom")
    if path == "/garbage":
        return "not an object"
    if path == "/dict-body":
        return {"statusCode": 200, "body": {"not": "a string"}}
    if path == "/binary":
        body = base64.b64encode(bytes(range(256))).decode()
        return {"statusCode": 200, "headers": {"Content-Type": "image/png"}, "body": body, "isBase64Encoded": True}
    if path == "/cookies":
        return {"statusCode": 200, "headers": {"X-Single": "one"},
                "multiValueHeaders": {"Set-Cookie": ["a=1", "b=2"], "X-Single": ["many"]}, "body": "ok"}
    if path == "/huge":
        return {"statusCode": 200, "body": "x" * (1 << 20)}
    return {"statusCode": 201, "statusDescription": "201 Created",
            "headers": {"Content-Type": "application/json", "X-Echo": "yes"}, "body": json.dumps(event)}
"""


@dataclass
class Alb:
    lb_arn: str
    dns: str
    tg_arn: str
    listener_arn: str
    function: str


@pytest.fixture(scope="session")
def elbv2(lamina: LaminaProcess) -> Any:
    return lamina.client("elbv2")


def name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def make_alb(lamina: LaminaProcess, elbv2: Any, lambda_client: Any) -> Iterator[Callable[..., Alb]]:
    """A load balancer with an HTTP listener forwarding to a lambda target group holding the echo function."""
    made: list[Alb] = []

    def make(multi_value: bool = False, permission: bool = True, code: str = ECHO) -> Alb:
        function = name("alb-fn")
        lambda_client.create_function(
            FunctionName=function,
            Runtime="python3.12",
            Role=ROLE,
            Handler="app.handler",
            Code={"ZipFile": make_zip({"app.py": code})},
        )
        lb = elbv2.create_load_balancer(Name=name("lb"), Subnets=["subnet-a", "subnet-b"])["LoadBalancers"][0]
        tg = elbv2.create_target_group(Name=name("tg"), TargetType="lambda")["TargetGroups"][0]
        if multi_value:
            elbv2.modify_target_group_attributes(
                TargetGroupArn=tg["TargetGroupArn"],
                Attributes=[{"Key": "lambda.multi_value_headers.enabled", "Value": "true"}],
            )
        if permission:
            lambda_client.add_permission(
                FunctionName=function,
                StatementId="elb",
                Action="lambda:InvokeFunction",
                Principal="elasticloadbalancing.amazonaws.com",
                SourceArn=tg["TargetGroupArn"],
            )
            arn = lambda_client.get_function(FunctionName=function)["Configuration"]["FunctionArn"]
            elbv2.register_targets(TargetGroupArn=tg["TargetGroupArn"], Targets=[{"Id": arn}])
        listener = elbv2.create_listener(
            LoadBalancerArn=lb["LoadBalancerArn"],
            Protocol="HTTP",
            Port=80,
            DefaultActions=[{"Type": "forward", "TargetGroupArn": tg["TargetGroupArn"]}],
        )["Listeners"][0]
        alb = Alb(lb["LoadBalancerArn"], lb["DNSName"], tg["TargetGroupArn"], listener["ListenerArn"], function)
        made.append(alb)
        return alb

    yield make
    for alb in made:
        elbv2.delete_load_balancer(LoadBalancerArn=alb.lb_arn)
        elbv2.delete_target_group(TargetGroupArn=alb.tg_arn)
        lambda_client.delete_function(FunctionName=alb.function)


@dataclass
class Answer:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, key: str) -> list[str]:
        return [v for k, v in self.headers if k.lower() == key.lower()]


def http_call(
    port: int,
    host: str,
    method: str = "GET",
    path: str = "/",
    body: bytes | None = None,
    headers: list[tuple[str, str]] | None = None,
) -> Answer:
    """One request to Lamina's port with the Host header of a front door (the machine need not resolve it)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.putrequest(method, path, skip_host=True)
        conn.putheader("Host", f"{host}:{port}")
        for key, value in headers or []:
            conn.putheader(key, value)
        if body is not None:
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        response = conn.getresponse()
        return Answer(response.status, response.getheaders(), response.read())
    finally:
        conn.close()
