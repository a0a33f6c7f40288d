"""The elbv2 API (query protocol, version 2015-12-01): load balancers, target groups, targets, listeners,
rules and tags, with elbv2's error codes (ValidationError, LoadBalancerNotFound, PriorityInUse, ...)."""

from __future__ import annotations

import re
import secrets
from typing import Any, Protocol

from lamina.clock import Clock
from lamina.errors import AccessDenied, ServiceFault
from lamina.services.elbv2 import conditions
from lamina.services.elbv2.engine import Elbv2Engine, forward_targets
from lamina.services.elbv2.records import LAMBDA_MULTI_VALUE, Listener, LoadBalancer, Rule, TargetGroup
from lamina.types import CallContext

PAGE = 400
MAX_PRIORITY = 50_000
_NAME = re.compile(r"^[A-Za-z0-9-]+$")
_ZONES = "abcdef"
# Route 53 hosted zone of ALBs in us-east-1 (CanonicalHostedZoneId); other regions have their own.
_HOSTED_ZONE = "Z35SXDOTRQ7X7K"
_ACTION_TYPES = {"forward", "fixed-response", "redirect", "authenticate-oidc", "authenticate-cognito"}
_LAMBDA_TG_ATTRIBUTES = {LAMBDA_MULTI_VALUE: "false"}
_TG_ATTRIBUTES = {
    "deregistration_delay.timeout_seconds": "300",
    "stickiness.enabled": "false",
    "stickiness.type": "lb_cookie",
    "load_balancing.algorithm.type": "round_robin",
    "slow_start.duration_seconds": "0",
}
_LB_ATTRIBUTES = {
    "access_logs.s3.enabled": "false",
    "access_logs.s3.bucket": "",
    "access_logs.s3.prefix": "",
    "deletion_protection.enabled": "false",
    "idle_timeout.timeout_seconds": "60",
    "routing.http2.enabled": "true",
    "routing.http.drop_invalid_header_fields.enabled": "false",
}


class LambdaTargets(Protocol):
    """What elbv2 needs of Lambda: whether a target names a function and may be invoked for a target group."""

    def exists(self, function_id: str, region: str, account: str) -> bool: ...

    def allowed(self, function_id: str, region: str, account: str, source_arn: str) -> bool: ...


def _not_found(kind: str) -> ServiceFault:
    code = {"load balancers": "LoadBalancerNotFound", "target groups": "TargetGroupNotFound"}.get(kind)
    code = code or {"listeners": "ListenerNotFound", "rules": "RuleNotFound"}[kind]
    return ServiceFault(code, f"One or more {kind} not found")


def _tags(params: dict[str, Any]) -> dict[str, str]:
    return {t["Key"]: t.get("Value", "") for t in params.get("Tags") or []}


def _check_name(name: str, what: str) -> None:
    if len(name) > 32:
        raise ServiceFault("ValidationError", f"{what} name '{name}' cannot be longer than '32' characters")
    if not _NAME.match(name):
        raise ServiceFault(
            "ValidationError",
            f"{what} name '{name}' can only contain characters that are alphanumeric characters or hyphens(-)",
        )
    if name.startswith("-") or name.endswith("-"):
        raise ServiceFault("ValidationError", f"{what} name '{name}' cannot begin or end with '-'")


def _page(items: list[dict[str, Any]], key: str, params: dict[str, Any]) -> dict[str, Any]:
    start = int(params.get("Marker") or 0)
    size = int(params.get("PageSize") or PAGE)
    out: dict[str, Any] = {key: items[start : start + size]}
    if start + size < len(items):
        out["NextMarker"] = str(start + size)
    return out


class Elbv2Provider:
    def __init__(self, engine: Elbv2Engine, targets: LambdaTargets, clock: Clock) -> None:
        self._engine = engine
        self._targets = targets
        self._clock = clock

    # -- lookups ---------------------------------------------------------------------------------
    def _lb(self, arn: str | None) -> LoadBalancer:
        lb = self._engine.load_balancers.get(arn or "")
        if lb is None:
            raise _not_found("load balancers")
        return lb

    def _tg(self, arn: str | None) -> TargetGroup:
        tg = self._engine.target_groups.get(arn or "")
        if tg is None:
            raise _not_found("target groups")
        return tg

    def _listener(self, arn: str | None) -> Listener:
        listener = self._engine.listeners.get(arn or "")
        if listener is None:
            raise _not_found("listeners")
        return listener

    def _rule(self, arn: str | None) -> Rule:
        rule = self._engine.rules.get(arn or "")
        if rule is None:
            raise _not_found("rules")
        return rule

    # -- load balancers --------------------------------------------------------------------------
    def create_load_balancer(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        name: str = params["Name"]
        _check_name(name, "Load balancer")
        if name.lower().startswith("internal-"):
            raise ServiceFault("ValidationError", "Load balancer name cannot begin with 'internal-'")
        lb_type = params.get("Type") or "application"
        if lb_type != "application":
            raise ServiceFault(
                "ValidationError",
                f"Load balancers of type '{lb_type}' are not supported by Lamina (only 'application')",
            )
        subnets = list(params.get("Subnets") or [])
        subnets += [m["SubnetId"] for m in params.get("SubnetMappings") or [] if m.get("SubnetId")]
        scheme = params.get("Scheme") or "internet-facing"
        for lb in self._engine.load_balancers.values():
            if lb.name == name and lb.region == ctx.region and lb.account == ctx.account_id:
                if lb.scheme != scheme or (subnets and sorted(subnets) != sorted(lb.subnets)):
                    raise ServiceFault(
                        "DuplicateLoadBalancerName",
                        f"A load balancer with the same name '{name}' exists, but with different settings",
                    )
                return {"LoadBalancers": [self._describe_lb(lb)]}  # same settings: AWS answers the existing one
        lb_id = secrets.token_hex(8)
        dns_id = str(secrets.randbelow(9 * 10**9) + 10**9)
        lb = LoadBalancer(
            arn=f"arn:aws:elasticloadbalancing:{ctx.region}:{ctx.account_id}:loadbalancer/app/{name}/{lb_id}",
            name=name,
            dns_name=f"{name}-{dns_id}.{ctx.region}.elb.localhost".lower(),
            created=self._clock.time(),
            region=ctx.region,
            account=ctx.account_id,
            scheme=scheme,
            ip_address_type=params.get("IpAddressType") or "ipv4",
            subnets=subnets,
            security_groups=list(params.get("SecurityGroups") or []),
            attributes=dict(_LB_ATTRIBUTES),
            tags=_tags(params),
        )
        self._engine.put_load_balancer(lb)
        return {"LoadBalancers": [self._describe_lb(lb)]}

    def _describe_lb(self, lb: LoadBalancer) -> dict[str, Any]:
        zones = [
            {"ZoneName": f"{lb.region}{_ZONES[i % len(_ZONES)]}", "SubnetId": subnet, "LoadBalancerAddresses": []}
            for i, subnet in enumerate(lb.subnets)
        ]
        out: dict[str, Any] = {
            "LoadBalancerArn": lb.arn,
            "DNSName": lb.dns_name,
            "CanonicalHostedZoneId": _HOSTED_ZONE,
            "CreatedTime": lb.created,
            "LoadBalancerName": lb.name,
            "Scheme": lb.scheme,
            "VpcId": "vpc-" + lb.arn.rsplit("/", 1)[1][:8],
            "State": {"Code": "active"},
            "Type": lb.lb_type,
            "AvailabilityZones": zones,
            "IpAddressType": lb.ip_address_type,
        }
        if lb.security_groups:
            out["SecurityGroups"] = lb.security_groups
        return out

    def describe_load_balancers(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        arns = params.get("LoadBalancerArns")
        names = params.get("Names")
        mine = [
            lb
            for lb in self._engine.load_balancers.values()
            if lb.region == ctx.region and lb.account == ctx.account_id
        ]
        if arns:
            found = [lb for lb in mine if lb.arn in arns]
            if len(found) != len(set(arns)):
                raise _not_found("load balancers")
        elif names:
            found = [lb for lb in mine if lb.name in names]
            if len(found) != len(set(names)):
                raise _not_found("load balancers")
        else:
            found = mine
        found.sort(key=lambda lb: lb.created)
        return _page([self._describe_lb(lb) for lb in found], "LoadBalancers", params)

    def delete_load_balancer(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        lb = self._engine.load_balancers.get(params["LoadBalancerArn"])
        if lb is None:
            return {}  # AWS: deleting a load balancer that is gone succeeds
        if lb.attributes.get("deletion_protection.enabled") == "true":
            raise ServiceFault(
                "OperationNotPermitted",
                f"Load balancer '{lb.arn}' cannot be deleted because deletion protection is enabled",
            )
        self._engine.delete_load_balancer(lb)
        return {}

    def describe_load_balancer_attributes(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        lb = self._lb(params["LoadBalancerArn"])
        return {"Attributes": [{"Key": k, "Value": v} for k, v in lb.attributes.items()]}

    def modify_load_balancer_attributes(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        lb = self._lb(params["LoadBalancerArn"])
        for attribute in params["Attributes"]:
            key, value = attribute.get("Key", ""), attribute.get("Value", "")
            if key not in _LB_ATTRIBUTES:
                raise ServiceFault("ValidationError", f"Load balancer attribute key '{key}' is not recognized")
            lb.attributes[key] = value
        self._engine.put_load_balancer(lb)
        return {"Attributes": [{"Key": k, "Value": v} for k, v in lb.attributes.items()]}

    # -- target groups ---------------------------------------------------------------------------
    def create_target_group(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        name: str = params["Name"]
        _check_name(name, "Target group")
        target_type = params.get("TargetType") or "instance"
        if target_type == "lambda":
            for member, label in (("Protocol", "Protocol"), ("Port", "Port"), ("VpcId", "VPC ID")):
                if params.get(member) is not None:
                    raise ServiceFault(
                        "ValidationError", f"{label} cannot be specified for target groups with target type 'lambda'"
                    )
        else:
            for member, label in (("Protocol", "protocol"), ("Port", "port"), ("VpcId", "VPC ID")):
                if params.get(member) is None:
                    raise ServiceFault("ValidationError", f"A {label} must be specified")
        lambda_tg = target_type == "lambda"
        health = {
            "HealthCheckEnabled": params.get("HealthCheckEnabled", not lambda_tg),
            "HealthCheckIntervalSeconds": params.get("HealthCheckIntervalSeconds", 35 if lambda_tg else 30),
            "HealthCheckTimeoutSeconds": params.get("HealthCheckTimeoutSeconds", 30 if lambda_tg else 5),
            "HealthyThresholdCount": params.get("HealthyThresholdCount", 5),
            "UnhealthyThresholdCount": params.get("UnhealthyThresholdCount", 2),
            "HealthCheckPath": params.get("HealthCheckPath", "/"),
            "Matcher": params.get("Matcher") or {"HttpCode": "200"},
        }
        if not lambda_tg:
            health["HealthCheckProtocol"] = params.get("HealthCheckProtocol") or params.get("Protocol")
            health["HealthCheckPort"] = params.get("HealthCheckPort") or "traffic-port"
        for tg in self._engine.target_groups.values():
            if tg.name == name and tg.region == ctx.region and tg.account == ctx.account_id:
                same = (tg.target_type, tg.protocol, tg.port, tg.vpc_id) == (
                    target_type,
                    params.get("Protocol"),
                    params.get("Port"),
                    params.get("VpcId"),
                )
                if not same:
                    raise ServiceFault(
                        "DuplicateTargetGroupName",
                        f"A target group with the same name '{name}' exists, but with different settings",
                    )
                return {"TargetGroups": [self._describe_tg(tg)]}
        tg = TargetGroup(
            arn=f"arn:aws:elasticloadbalancing:{ctx.region}:{ctx.account_id}:targetgroup/{name}/{secrets.token_hex(8)}",
            name=name,
            target_type=target_type,
            region=ctx.region,
            account=ctx.account_id,
            protocol=params.get("Protocol"),
            port=params.get("Port"),
            vpc_id=params.get("VpcId"),
            health_check=health,
            attributes=dict(_LAMBDA_TG_ATTRIBUTES if lambda_tg else _TG_ATTRIBUTES),
            tags=_tags(params),
        )
        self._engine.put_target_group(tg)
        return {"TargetGroups": [self._describe_tg(tg)]}

    def _describe_tg(self, tg: TargetGroup) -> dict[str, Any]:
        out: dict[str, Any] = {
            "TargetGroupArn": tg.arn,
            "TargetGroupName": tg.name,
            **{k: v for k, v in tg.health_check.items() if v is not None},
            "LoadBalancerArns": self._engine.load_balancers_of(tg.arn),
            "TargetType": tg.target_type,
        }
        if tg.protocol is not None:
            out.update(Protocol=tg.protocol, Port=tg.port, VpcId=tg.vpc_id, IpAddressType="ipv4")
            if tg.protocol in ("HTTP", "HTTPS"):
                out["ProtocolVersion"] = "HTTP1"
        return out

    def describe_target_groups(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        arns = params.get("TargetGroupArns")
        names = params.get("Names")
        mine = [
            tg for tg in self._engine.target_groups.values() if tg.region == ctx.region and tg.account == ctx.account_id
        ]
        if params.get("LoadBalancerArn"):
            lb = self._lb(params["LoadBalancerArn"])
            mine = [tg for tg in mine if lb.arn in self._engine.load_balancers_of(tg.arn)]
        if arns:
            found = [tg for tg in mine if tg.arn in arns]
            if len(found) != len(set(arns)):
                raise _not_found("target groups")
        elif names:
            found = [tg for tg in mine if tg.name in names]
            if len(found) != len(set(names)):
                raise _not_found("target groups")
        else:
            found = mine
        found.sort(key=lambda tg: tg.name)
        return _page([self._describe_tg(tg) for tg in found], "TargetGroups", params)

    def delete_target_group(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        tg = self._engine.target_groups.get(params["TargetGroupArn"])
        if tg is None:
            return {}
        if self._engine.target_group_users(tg.arn):
            raise ServiceFault("ResourceInUse", f"Target group '{tg.arn}' is currently in use by a listener or a rule")
        self._engine.delete_target_group(tg)
        return {}

    def modify_target_group(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        tg = self._tg(params["TargetGroupArn"])
        for key in (
            "HealthCheckEnabled",
            "HealthCheckIntervalSeconds",
            "HealthCheckTimeoutSeconds",
            "HealthyThresholdCount",
            "UnhealthyThresholdCount",
            "HealthCheckPath",
            "Matcher",
            "HealthCheckProtocol",
            "HealthCheckPort",
        ):
            if params.get(key) is not None:
                tg.health_check[key] = params[key]
        self._engine.put_target_group(tg)
        return {"TargetGroups": [self._describe_tg(tg)]}

    def describe_target_group_attributes(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        tg = self._tg(params["TargetGroupArn"])
        return {"Attributes": [{"Key": k, "Value": v} for k, v in tg.attributes.items()]}

    def modify_target_group_attributes(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        tg = self._tg(params["TargetGroupArn"])
        changes: dict[str, str] = {}
        for attribute in params["Attributes"]:
            key, value = attribute.get("Key", ""), attribute.get("Value", "")
            if key not in tg.attributes:
                raise ServiceFault("ValidationError", f"Target group attribute key '{key}' is not recognized")
            if key == LAMBDA_MULTI_VALUE and value not in ("true", "false"):
                raise ServiceFault(
                    "ValidationError", f"Target group attribute key '{key}' must be one of the following: true, false"
                )
            changes[key] = value
        tg.attributes.update(changes)
        self._engine.put_target_group(tg)
        return {"Attributes": [{"Key": k, "Value": v} for k, v in tg.attributes.items()]}

    # -- targets ---------------------------------------------------------------------------------
    def register_targets(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        tg = self._tg(params["TargetGroupArn"])
        targets = params["Targets"]
        if tg.target_type == "lambda":
            if len(targets) != 1 or len({t["Id"] for t in targets + tg.targets}) > 1:
                raise ServiceFault("TooManyTargets", "You can register only one Lambda function per target group")
            function_id = targets[0]["Id"]
            if not self._targets.exists(function_id, ctx.region, ctx.account_id):
                raise ServiceFault("InvalidTarget", f"The target '{function_id}' is not a valid Lambda function")
            if not self._targets.allowed(function_id, ctx.region, ctx.account_id, tg.arn):
                raise AccessDenied(
                    f"elasticloadbalancing principal does not have permission to invoke {function_id} "
                    f"from target group {tg.arn}"
                )
            tg.targets = [{"Id": function_id}]
        else:
            known = {(t["Id"], t.get("Port")) for t in tg.targets}
            for target in targets:
                if (target["Id"], target.get("Port")) not in known:
                    tg.targets.append({k: v for k, v in target.items() if v is not None})
        self._engine.put_target_group(tg)
        return {}

    def deregister_targets(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        tg = self._tg(params["TargetGroupArn"])
        gone = {(t["Id"], t.get("Port")) for t in params["Targets"]}
        registered = {(t["Id"], t.get("Port")) for t in tg.targets}
        missing = gone - registered
        if missing:
            ids = ", ".join(sorted(i for i, _ in missing))
            raise ServiceFault("InvalidTarget", f"The following targets are not registered in target group: {ids}")
        tg.targets = [t for t in tg.targets if (t["Id"], t.get("Port")) not in gone]
        self._engine.put_target_group(tg)
        return {}

    def describe_target_health(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        tg = self._tg(params["TargetGroupArn"])
        asked = params.get("Targets")
        targets = tg.targets if not asked else [{k: v for k, v in t.items() if v is not None} for t in asked]
        registered = {t["Id"] for t in tg.targets}
        used = bool(self._engine.target_group_users(tg.arn))
        out = []
        for target in targets:
            if target["Id"] not in registered:
                health = {
                    "State": "unused",
                    "Reason": "Target.NotRegistered",
                    "Description": "Target is not registered",
                }
            elif not used:
                health = {
                    "State": "unused",
                    "Reason": "Target.NotInUse",
                    "Description": "Target group is not configured to receive traffic from the load balancer",
                }
            elif tg.target_type == "lambda" and not tg.health_check.get("HealthCheckEnabled"):
                health = {
                    "State": "unavailable",
                    "Reason": "Target.HealthCheckDisabled",
                    "Description": "Health checks are disabled",
                }
            elif tg.target_type == "lambda":
                health = {"State": "healthy"}
            else:  # no EC2 here: instance and ip targets are never reached
                health = {
                    "State": "unavailable",
                    "Reason": "Target.InvalidState",
                    "Description": "Lamina reaches only Lambda targets",
                }
            out.append({"Target": target, "TargetHealth": health})
        return {"TargetHealthDescriptions": out}

    # -- listeners -------------------------------------------------------------------------------
    def _check_actions(self, actions: list[dict[str, Any]], lb: LoadBalancer) -> list[dict[str, Any]]:
        if not actions:
            raise ServiceFault("ValidationError", "At least one action must be specified")
        checked = []
        for order, action in enumerate(sorted(actions, key=lambda a: a.get("Order") or 0), start=1):
            kind = action.get("Type")
            if kind not in _ACTION_TYPES:
                raise ServiceFault("ValidationError", f"Action type '{kind}' is not valid")
            action = {k: v for k, v in action.items() if v is not None}  # noqa: PLW2901 (its checked copy)
            action.setdefault("Order", order)
            if kind == "forward":
                arns = forward_targets([action])
                if not arns:
                    raise ServiceFault("ValidationError", "A target group ARN must be specified")
                for arn in arns:
                    tg = self._tg(arn)
                    others = [a for a in self._engine.load_balancers_of(arn) if a != lb.arn]
                    if tg.target_type == "lambda" and others:
                        raise ServiceFault(
                            "TargetGroupAssociationLimit",
                            f"The following target groups cannot be associated with more than one load balancer: {arn}",
                        )
                if "TargetGroupArn" in action and "ForwardConfig" not in action:
                    action["ForwardConfig"] = {
                        "TargetGroups": [{"TargetGroupArn": action["TargetGroupArn"], "Weight": 1}],
                        "TargetGroupStickinessConfig": {"Enabled": False},
                    }
            elif kind == "fixed-response":
                config = action.get("FixedResponseConfig") or {}
                if not config.get("StatusCode"):
                    raise ServiceFault("ValidationError", "A fixed response status code must be specified")
            elif kind == "redirect":
                config = action.get("RedirectConfig") or {}
                if config.get("StatusCode") not in ("HTTP_301", "HTTP_302"):
                    raise ServiceFault("ValidationError", "A redirect status code must be HTTP_301 or HTTP_302")
                defaults = {"Protocol": "#{protocol}", "Port": "#{port}", "Host": "#{host}"}
                action["RedirectConfig"] = {
                    **defaults,
                    "Path": "/#{path}",
                    "Query": "#{query}",
                    **config,
                }
            checked.append(action)
        return checked

    def create_listener(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        lb = self._lb(params["LoadBalancerArn"])
        protocol = params.get("Protocol") or "HTTP"
        port = params.get("Port") or (443 if protocol == "HTTPS" else 80)
        if protocol not in ("HTTP", "HTTPS"):
            raise ServiceFault(
                "UnsupportedProtocol",
                f"Protocol '{protocol}' is not supported with load balancers of type 'application'",
            )
        if protocol == "HTTPS" and not params.get("Certificates"):
            raise ServiceFault("CertificateNotFound", "A certificate must be specified for HTTPS listeners")
        for listener in self._engine.listeners_of(lb.arn):
            if listener.port == port:
                raise ServiceFault(
                    "DuplicateListener", f"A listener already exists on this port for this load balancer '{lb.arn}'"
                )
        actions = self._check_actions(params["DefaultActions"], lb)
        lb_path = lb.arn.split(":loadbalancer/", 1)[1]
        listener = Listener(
            arn=f"arn:aws:elasticloadbalancing:{lb.region}:{lb.account}:listener/{lb_path}/{secrets.token_hex(8)}",
            lb_arn=lb.arn,
            port=port,
            protocol=protocol,
            default_actions=actions,
            tags=_tags(params),
        )
        self._engine.put_listener(listener)
        return {"Listeners": [_describe_listener(listener)]}

    def describe_listeners(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        arns = params.get("ListenerArns")
        if arns:
            found = [self._engine.listeners[a] for a in arns if a in self._engine.listeners]
            if len(found) != len(set(arns)):
                raise _not_found("listeners")
        elif params.get("LoadBalancerArn"):
            found = self._engine.listeners_of(self._lb(params["LoadBalancerArn"]).arn)
        else:
            raise ServiceFault("ValidationError", "You must specify either listener ARNs or a load balancer ARN")
        return _page([_describe_listener(li) for li in found], "Listeners", params)

    def modify_listener(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        listener = self._listener(params["ListenerArn"])
        lb = self._lb(listener.lb_arn)
        port = params.get("Port")
        if port is not None and port != listener.port:
            if any(li.port == port for li in self._engine.listeners_of(lb.arn)):
                raise ServiceFault(
                    "DuplicateListener", f"A listener already exists on this port for this load balancer '{lb.arn}'"
                )
            listener.port = port
        if params.get("Protocol"):
            listener.protocol = params["Protocol"]
        if params.get("DefaultActions"):
            listener.default_actions = self._check_actions(params["DefaultActions"], lb)
        self._engine.put_listener(listener)
        return {"Listeners": [_describe_listener(listener)]}

    def delete_listener(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        self._engine.delete_listener(self._listener(params["ListenerArn"]))
        return {}

    # -- rules -----------------------------------------------------------------------------------
    def create_rule(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        listener = self._listener(params["ListenerArn"])
        priority = int(params["Priority"])
        if not 1 <= priority <= MAX_PRIORITY:
            raise ServiceFault("ValidationError", f"Priority must be between 1 and {MAX_PRIORITY}")
        if any(r.priority == priority for r in self._engine.rules_of(listener.arn)):
            raise ServiceFault("PriorityInUse", f"Priority '{priority}' is currently in use")
        found = params["Conditions"]
        conditions.check(found)
        actions = self._check_actions(params["Actions"], self._lb(listener.lb_arn))
        rule_path = listener.arn.split(":listener/", 1)[1]
        rule = Rule(
            arn=f"arn:aws:elasticloadbalancing:{ctx.region}:{ctx.account_id}:listener-rule/{rule_path}/"
            + secrets.token_hex(8),
            listener_arn=listener.arn,
            priority=priority,
            conditions=[{k: v for k, v in c.items() if v is not None} for c in found],
            actions=actions,
            tags=_tags(params),
        )
        self._engine.put_rules([rule])
        return {"Rules": [_describe_rule(rule)]}

    def describe_rules(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        arns = params.get("RuleArns")
        if arns:
            described: list[dict[str, Any]] = []
            for arn in arns:
                listener = self._engine.listeners.get(arn.replace(":listener-rule/", ":listener/", 1).rsplit("/", 1)[0])
                if arn in self._engine.rules:
                    described.append(_describe_rule(self._engine.rules[arn]))
                elif listener is not None and arn == _default_rule_arn(listener):
                    described.append(_default_rule(listener))
                else:
                    raise _not_found("rules")
            return _page(described, "Rules", params)
        if not params.get("ListenerArn"):
            raise ServiceFault("ValidationError", "You must specify either listener rule ARNs or a listener ARN")
        listener = self._listener(params["ListenerArn"])
        rules = [_describe_rule(r) for r in self._engine.rules_of(listener.arn)] + [_default_rule(listener)]
        return _page(rules, "Rules", params)

    def modify_rule(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        rule = self._rule(params["RuleArn"])
        if params.get("Conditions"):
            conditions.check(params["Conditions"])
            rule.conditions = [{k: v for k, v in c.items() if v is not None} for c in params["Conditions"]]
        if params.get("Actions"):
            listener = self._listener(rule.listener_arn)
            rule.actions = self._check_actions(params["Actions"], self._lb(listener.lb_arn))
        self._engine.put_rules([rule])
        return {"Rules": [_describe_rule(rule)]}

    def set_rule_priorities(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        changes = [(self._rule(p["RuleArn"]), int(p["Priority"])) for p in params["RulePriorities"]]
        for rule, priority in changes:
            if not 1 <= priority <= MAX_PRIORITY:
                raise ServiceFault("ValidationError", f"Priority must be between 1 and {MAX_PRIORITY}")
            moving = {r.arn for r, _ in changes}
            taken = {r.priority for r in self._engine.rules_of(rule.listener_arn) if r.arn not in moving}
            if (
                priority in taken
                or sum(1 for r, p in changes if p == priority and r.listener_arn == rule.listener_arn) > 1
            ):
                raise ServiceFault("PriorityInUse", f"Priority '{priority}' is currently in use")
        for rule, priority in changes:
            rule.priority = priority
        self._engine.put_rules([rule for rule, _ in changes])
        return {"Rules": [_describe_rule(rule) for rule, _ in changes]}

    def delete_rule(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        arn = params["RuleArn"]
        if arn not in self._engine.rules:
            listener_arn = arn.replace(":listener-rule/", ":listener/", 1).rsplit("/", 1)[0]
            listener = self._engine.listeners.get(listener_arn)
            if listener is not None and arn == _default_rule_arn(listener):
                raise ServiceFault("OperationNotPermitted", "Default rule cannot be deleted")
        self._engine.delete_rule(self._rule(arn))
        return {}

    # -- tags ------------------------------------------------------------------------------------
    def _tagged(self, arn: str) -> LoadBalancer | TargetGroup | Listener | Rule:
        engine = self._engine
        found: LoadBalancer | TargetGroup | Listener | Rule | None
        if ":loadbalancer/" in arn:
            found, kind = engine.load_balancers.get(arn), "load balancers"
        elif ":targetgroup/" in arn:
            found, kind = engine.target_groups.get(arn), "target groups"
        elif ":listener-rule/" in arn:
            found, kind = engine.rules.get(arn), "rules"
        elif ":listener/" in arn:
            found, kind = engine.listeners.get(arn), "listeners"
        else:
            raise ServiceFault("ValidationError", f"'{arn}' is not a valid elbv2 resource ARN")
        if found is None:
            raise _not_found(kind)
        return found

    def _save(self, record: LoadBalancer | TargetGroup | Listener | Rule) -> None:
        if isinstance(record, LoadBalancer):
            self._engine.put_load_balancer(record)
        elif isinstance(record, TargetGroup):
            self._engine.put_target_group(record)
        elif isinstance(record, Listener):
            self._engine.put_listener(record)
        else:
            self._engine.put_rules([record])

    def add_tags(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        records = [self._tagged(arn) for arn in params["ResourceArns"]]
        tags = _tags(params)
        for record in records:
            if len({**record.tags, **tags}) > 50:
                raise ServiceFault(
                    "TooManyTags", "The quota for the number of tags that can be assigned to a resource is 50"
                )
        for record in records:
            record.tags.update(tags)
            self._save(record)
        return {}

    def remove_tags(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        records = [self._tagged(arn) for arn in params["ResourceArns"]]
        for record in records:
            for key in params["TagKeys"]:
                record.tags.pop(key, None)
            self._save(record)
        return {}

    def describe_tags(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        out = []
        for arn in params["ResourceArns"]:
            record = self._tagged(arn)
            out.append({"ResourceArn": arn, "Tags": [{"Key": k, "Value": v} for k, v in record.tags.items()]})
        return {"TagDescriptions": out}


def _describe_listener(listener: Listener) -> dict[str, Any]:
    return {
        "ListenerArn": listener.arn,
        "LoadBalancerArn": listener.lb_arn,
        "Port": listener.port,
        "Protocol": listener.protocol,
        "DefaultActions": listener.default_actions,
    }


def _describe_rule(rule: Rule) -> dict[str, Any]:
    return {
        "RuleArn": rule.arn,
        "Priority": str(rule.priority),
        "Conditions": rule.conditions,
        "Actions": rule.actions,
        "IsDefault": False,
    }


def _default_rule_arn(listener: Listener) -> str:
    return listener.arn.replace(":listener/", ":listener-rule/", 1) + "/" + listener.arn.rsplit("/", 1)[1][::-1]


def _default_rule(listener: Listener) -> dict[str, Any]:
    return {
        "RuleArn": _default_rule_arn(listener),
        "Priority": "default",
        "Conditions": [],
        "Actions": listener.default_actions,
        "IsDefault": True,
    }
