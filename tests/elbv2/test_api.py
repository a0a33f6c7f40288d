"""The elbv2 API through boto3 and the aws CLI: load balancers, lambda target groups, targets, listeners,
rules and tags, with elbv2's error codes; and the resources surviving a restart."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.aws_cli import AWS, cli_environment
from tests.conftest import make_zip
from tests.elbv2.conftest import Alb, http_call, name
from tests.server import ROLE, LaminaProcess


def error_of(call: Callable[[], Any]) -> tuple[str, str, int]:
    with pytest.raises(ClientError) as info:
        call()
    error = info.value.response["Error"]
    return error["Code"], error["Message"], info.value.response["ResponseMetadata"]["HTTPStatusCode"]


def test_load_balancer_lifecycle(elbv2: Any) -> None:
    lb_name = name("lb")
    lb = elbv2.create_load_balancer(Name=lb_name, Subnets=["subnet-1", "subnet-2"], SecurityGroups=["sg-1"])[
        "LoadBalancers"
    ][0]
    assert lb["LoadBalancerArn"].startswith(
        f"arn:aws:elasticloadbalancing:us-east-1:000000000000:loadbalancer/app/{lb_name}/"
    )
    assert lb["DNSName"].startswith(f"{lb_name}-") and lb["DNSName"].endswith(".us-east-1.elb.localhost")
    assert (lb["Type"], lb["Scheme"], lb["State"], lb["IpAddressType"]) == (
        "application",
        "internet-facing",
        {"Code": "active"},
        "ipv4",
    )
    assert [z["SubnetId"] for z in lb["AvailabilityZones"]] == ["subnet-1", "subnet-2"]
    assert lb["SecurityGroups"] == ["sg-1"]
    # The same name and settings again: the existing load balancer (elbv2 is idempotent here).
    again = elbv2.create_load_balancer(Name=lb_name, Subnets=["subnet-2", "subnet-1"])["LoadBalancers"][0]
    assert again["LoadBalancerArn"] == lb["LoadBalancerArn"]
    code, message, status = error_of(
        lambda: elbv2.create_load_balancer(Name=lb_name, Subnets=["subnet-9"], Scheme="internal")
    )
    assert (code, status) == ("DuplicateLoadBalancerName", 400)
    assert message == f"A load balancer with the same name '{lb_name}' exists, but with different settings"
    assert elbv2.describe_load_balancers(Names=[lb_name])["LoadBalancers"][0]["DNSName"] == lb["DNSName"]
    waiter = elbv2.get_waiter("load_balancer_available")
    waiter.wait(LoadBalancerArns=[lb["LoadBalancerArn"]], WaiterConfig={"Delay": 1, "MaxAttempts": 2})
    attributes = {
        a["Key"]: a["Value"]
        for a in elbv2.describe_load_balancer_attributes(LoadBalancerArn=lb["LoadBalancerArn"])["Attributes"]
    }
    assert attributes["idle_timeout.timeout_seconds"] == "60"
    elbv2.delete_load_balancer(LoadBalancerArn=lb["LoadBalancerArn"])
    assert error_of(lambda: elbv2.describe_load_balancers(Names=[lb_name])) == (
        "LoadBalancerNotFound",
        "One or more load balancers not found",
        400,
    )
    elbv2.delete_load_balancer(LoadBalancerArn=lb["LoadBalancerArn"])  # gone already: still succeeds


def test_names_are_checked(elbv2: Any) -> None:
    code, message, _ = error_of(lambda: elbv2.create_load_balancer(Name="bad_name"))
    assert code == "ValidationError" and "alphanumeric" in message
    code, message, _ = error_of(lambda: elbv2.create_target_group(Name="x" * 33, TargetType="lambda"))
    assert code == "ValidationError" and "32" in message
    assert error_of(lambda: elbv2.create_load_balancer(Name="-edge"))[0] == "ValidationError"


def test_lambda_target_group(elbv2: Any, lambda_client: Any) -> None:
    code, message, _ = error_of(
        lambda: elbv2.create_target_group(Name=name("tg"), TargetType="lambda", Protocol="HTTP", Port=80)
    )
    assert (code, message) == (
        "ValidationError",
        "Protocol cannot be specified for target groups with target type 'lambda'",
    )
    tg = elbv2.create_target_group(Name=name("tg"), TargetType="lambda")["TargetGroups"][0]
    arn = tg["TargetGroupArn"]
    assert ":targetgroup/" in arn
    assert tg["TargetType"] == "lambda" and tg["HealthCheckEnabled"] is False
    assert "Protocol" not in tg and "Port" not in tg and tg["LoadBalancerArns"] == []
    attributes = elbv2.describe_target_group_attributes(TargetGroupArn=arn)["Attributes"]
    assert attributes == [{"Key": "lambda.multi_value_headers.enabled", "Value": "false"}]
    code, _, _ = error_of(
        lambda: elbv2.modify_target_group_attributes(TargetGroupArn=arn, Attributes=[{"Key": "nope", "Value": "1"}])
    )
    assert code == "ValidationError"
    assert elbv2.describe_target_group_attributes(TargetGroupArn=arn)["Attributes"] == attributes  # unchanged

    function = name("fn")
    fn_arn = lambda_client.create_function(
        FunctionName=function, Runtime="python3.12", Role=ROLE, Handler="app.handler", Code={"ZipFile": make_zip()}
    )["FunctionArn"]
    try:
        # Without a permission for elasticloadbalancing, registering is refused (as AWS does).
        code, message, status = error_of(lambda: elbv2.register_targets(TargetGroupArn=arn, Targets=[{"Id": fn_arn}]))
        assert (code, status) == ("AccessDenied", 403)
        assert message == (
            f"elasticloadbalancing principal does not have permission to invoke {fn_arn} from target group {arn}"
        )
        lambda_client.add_permission(
            FunctionName=function,
            StatementId="elb",
            Action="lambda:InvokeFunction",
            Principal="elasticloadbalancing.amazonaws.com",
            SourceArn=arn,
        )
        elbv2.register_targets(TargetGroupArn=arn, Targets=[{"Id": fn_arn}])
        health = elbv2.describe_target_health(TargetGroupArn=arn)["TargetHealthDescriptions"]
        assert health == [
            {
                "Target": {"Id": fn_arn},
                "TargetHealth": {
                    "State": "unused",
                    "Reason": "Target.NotInUse",
                    "Description": "Target group is not configured to receive traffic from the load balancer",
                },
            }
        ]
        other = fn_arn.replace(function, "other-" + function)
        assert error_of(lambda: elbv2.register_targets(TargetGroupArn=arn, Targets=[{"Id": other}]))[0] == (
            "TooManyTargets"  # one function per lambda target group
        )
        elbv2.deregister_targets(TargetGroupArn=arn, Targets=[{"Id": fn_arn}])
        assert elbv2.describe_target_health(TargetGroupArn=arn)["TargetHealthDescriptions"] == []
        code, message, _ = error_of(lambda: elbv2.register_targets(TargetGroupArn=arn, Targets=[{"Id": other}]))
        assert code == "InvalidTarget" and other in message  # no such function
    finally:
        lambda_client.delete_function(FunctionName=function)
        elbv2.delete_target_group(TargetGroupArn=arn)
    assert error_of(lambda: elbv2.describe_target_groups(TargetGroupArns=[arn])) == (
        "TargetGroupNotFound",
        "One or more target groups not found",
        400,
    )


def test_listeners_and_rules(elbv2: Any, make_alb: Callable[..., Alb]) -> None:
    alb = make_alb()
    code, message, _ = error_of(
        lambda: elbv2.create_listener(
            LoadBalancerArn=alb.lb_arn,
            Protocol="HTTP",
            Port=80,
            DefaultActions=[{"Type": "forward", "TargetGroupArn": alb.tg_arn}],
        )
    )
    assert (code, message) == (
        "DuplicateListener",
        f"A listener already exists on this port for this load balancer '{alb.lb_arn}'",
    )
    listener = elbv2.describe_listeners(LoadBalancerArn=alb.lb_arn)["Listeners"][0]
    assert listener["DefaultActions"][0]["ForwardConfig"]["TargetGroups"] == [
        {"TargetGroupArn": alb.tg_arn, "Weight": 1}
    ]
    assert elbv2.describe_target_groups(TargetGroupArns=[alb.tg_arn])["TargetGroups"][0]["LoadBalancerArns"] == [
        alb.lb_arn
    ]
    health = elbv2.describe_target_health(TargetGroupArn=alb.tg_arn)["TargetHealthDescriptions"][0]["TargetHealth"]
    assert health["State"] == "unavailable" and health["Reason"] == "Target.HealthCheckDisabled"
    conditions = [{"Field": "path-pattern", "Values": ["/a/*"]}]
    actions = [{"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "204"}}]
    rule = elbv2.create_rule(ListenerArn=alb.listener_arn, Priority=7, Conditions=conditions, Actions=actions)["Rules"][
        0
    ]
    assert rule["Priority"] == "7" and rule["IsDefault"] is False
    code, message, _ = error_of(
        lambda: elbv2.create_rule(ListenerArn=alb.listener_arn, Priority=7, Conditions=conditions, Actions=actions)
    )
    assert (code, message) == ("PriorityInUse", "Priority '7' is currently in use")
    assert (
        error_of(
            lambda: elbv2.create_rule(
                ListenerArn=alb.listener_arn,
                Priority=8,
                Conditions=[{"Field": "nope", "Values": ["x"]}],
                Actions=actions,
            )
        )[0]
        == "ValidationError"
    )
    rules = elbv2.describe_rules(ListenerArn=alb.listener_arn)["Rules"]
    assert [r["Priority"] for r in rules] == ["7", "default"]
    assert rules[1]["IsDefault"] is True
    elbv2.set_rule_priorities(RulePriorities=[{"RuleArn": rule["RuleArn"], "Priority": 3}])
    assert elbv2.describe_rules(RuleArns=[rule["RuleArn"]])["Rules"][0]["Priority"] == "3"
    assert error_of(lambda: elbv2.delete_target_group(TargetGroupArn=alb.tg_arn)) == (
        "ResourceInUse",
        f"Target group '{alb.tg_arn}' is currently in use by a listener or a rule",
        400,
    )
    elbv2.add_tags(ResourceArns=[alb.lb_arn, rule["RuleArn"]], Tags=[{"Key": "team", "Value": "web"}])
    tags = elbv2.describe_tags(ResourceArns=[alb.lb_arn, rule["RuleArn"]])["TagDescriptions"]
    assert [t["Tags"] for t in tags] == [[{"Key": "team", "Value": "web"}]] * 2
    elbv2.remove_tags(ResourceArns=[alb.lb_arn], TagKeys=["team"])
    assert elbv2.describe_tags(ResourceArns=[alb.lb_arn])["TagDescriptions"][0]["Tags"] == []
    elbv2.delete_rule(RuleArn=rule["RuleArn"])
    assert error_of(lambda: elbv2.describe_rules(RuleArns=[rule["RuleArn"]]))[:2] == (
        "RuleNotFound",
        "One or more rules not found",
    )
    elbv2.delete_listener(ListenerArn=alb.listener_arn)
    assert error_of(lambda: elbv2.describe_listeners(ListenerArns=[alb.listener_arn]))[:2] == (
        "ListenerNotFound",
        "One or more listeners not found",
    )


@pytest.mark.slow
def test_load_balancer_survives_a_restart(fresh_lamina: Callable[..., LaminaProcess], tmp_path: Path) -> None:
    server = fresh_lamina()
    elbv2, lam = server.client("elbv2"), server.client()
    code = "def handler(event, context):\n    return {'statusCode': 200, 'body': 'hello ' + event['path']}\n"
    fn_arn = lam.create_function(
        FunctionName="alb-durable",
        Runtime="python3.12",
        Role=ROLE,
        Handler="app.handler",
        Code={"ZipFile": make_zip({"app.py": code})},
    )["FunctionArn"]
    lb = elbv2.create_load_balancer(Name="durable")["LoadBalancers"][0]
    tg = elbv2.create_target_group(Name="durable", TargetType="lambda")["TargetGroups"][0]["TargetGroupArn"]
    lam.add_permission(
        FunctionName="alb-durable",
        StatementId="elb",
        Action="lambda:InvokeFunction",
        Principal="elasticloadbalancing.amazonaws.com",
        SourceArn=tg,
    )
    elbv2.register_targets(TargetGroupArn=tg, Targets=[{"Id": fn_arn}])
    elbv2.create_listener(
        LoadBalancerArn=lb["LoadBalancerArn"],
        Protocol="HTTP",
        Port=80,
        DefaultActions=[{"Type": "forward", "TargetGroupArn": tg}],
    )
    assert http_call(server.port, lb["DNSName"], path="/before").body == b"hello /before"
    server.stop()
    again = fresh_lamina(data_dir=tmp_path / "data")
    assert http_call(again.port, lb["DNSName"], path="/after").body == b"hello /after"
    assert again.client("elbv2").describe_load_balancers()["LoadBalancers"][0]["DNSName"] == lb["DNSName"]


@pytest.mark.skipif(not AWS.exists(), reason="the aws CLI is not installed in this environment")
def test_aws_cli(lamina: LaminaProcess, tmp_path: Path) -> None:
    env = cli_environment(tmp_path)

    def aws(*args: str) -> Any:
        done = subprocess.run(
            [str(AWS), "--endpoint-url", lamina.url, "elbv2", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        return done.returncode, (json.loads(done.stdout) if done.stdout.strip() else None), done.stderr

    lb_name = name("cli")
    rc, out, err = aws("create-load-balancer", "--name", lb_name, "--subnets", "subnet-1", "subnet-2")
    assert rc == 0, err
    arn = out["LoadBalancers"][0]["LoadBalancerArn"]
    rc, out, err = aws("describe-load-balancers", "--names", lb_name)
    assert rc == 0 and out["LoadBalancers"][0]["LoadBalancerArn"] == arn, err
    rc, _, err = aws("delete-load-balancer", "--load-balancer-arn", arn)
    assert rc == 0, err
    rc, _, err = aws("describe-load-balancers", "--names", lb_name)
    assert rc != 0 and "LoadBalancerNotFound" in err
