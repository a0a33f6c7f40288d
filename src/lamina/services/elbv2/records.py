"""The resources of elbv2: load balancers, target groups, listeners and rules, as stored documents.

Actions and conditions are kept in the API's own form (the dicts boto3 sends and gets back), so what
DescribeRules answers is what CreateRule was given, with AWS's defaults filled in.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, TypeVar

T = TypeVar("T")

LAMBDA_MULTI_VALUE = "lambda.multi_value_headers.enabled"


@dataclass
class LoadBalancer:
    arn: str
    name: str
    dns_name: str
    created: float
    region: str
    account: str
    scheme: str = "internet-facing"
    lb_type: str = "application"
    ip_address_type: str = "ipv4"
    subnets: list[str] = field(default_factory=list)
    security_groups: list[str] = field(default_factory=list)
    attributes: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)


@dataclass
class TargetGroup:
    arn: str
    name: str
    target_type: str
    region: str
    account: str
    protocol: str | None = None
    port: int | None = None
    vpc_id: str | None = None
    health_check: dict[str, Any] = field(default_factory=dict)
    attributes: dict[str, str] = field(default_factory=dict)
    targets: list[dict[str, Any]] = field(default_factory=list)  # [{"Id": ..., "Port"?: ...}]
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def multi_value(self) -> bool:
        return self.attributes.get(LAMBDA_MULTI_VALUE, "false") == "true"


@dataclass
class Listener:
    arn: str
    lb_arn: str
    port: int
    protocol: str
    default_actions: list[dict[str, Any]]
    tags: dict[str, str] = field(default_factory=dict)


@dataclass
class Rule:
    arn: str
    listener_arn: str
    priority: int
    conditions: list[dict[str, Any]]
    actions: list[dict[str, Any]]
    tags: dict[str, str] = field(default_factory=dict)


def to_doc(record: Any) -> dict[str, Any]:
    doc: dict[str, Any] = dataclasses.asdict(record)
    return doc


def from_doc(cls: type[T], doc: dict[str, Any]) -> T:
    names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    return cls(**{k: v for k, v in doc.items() if k in names})
