"""The resources of an HTTP API as stored documents, kept in the API's own member names (what boto3 sends
and gets back), so Get* answers what Create*/Update* were given, with AWS's defaults filled in."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class HttpApi:
    """One API with its routes, integrations, stages and deployments, stored as one document."""

    api: dict[str, Any]  # ApiId, Name, ProtocolType, ApiEndpoint, CreatedDate, ...
    region: str
    account: str
    routes: dict[str, dict[str, Any]] = field(default_factory=dict)  # RouteId → Route
    integrations: dict[str, dict[str, Any]] = field(default_factory=dict)  # IntegrationId → Integration
    stages: dict[str, dict[str, Any]] = field(default_factory=dict)  # StageName → Stage
    deployments: dict[str, dict[str, Any]] = field(default_factory=dict)  # DeploymentId → Deployment
    authorizers: dict[str, dict[str, Any]] = field(default_factory=dict)  # AuthorizerId → Authorizer
    # DeploymentId → {"routes": [...], "integrations": {...}}: what a stage on that deployment serves
    snapshots: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def api_id(self) -> str:
        value: str = self.api["ApiId"]
        return value

    def to_doc(self) -> dict[str, Any]:
        return {
            "api": self.api,
            "region": self.region,
            "account": self.account,
            "routes": self.routes,
            "integrations": self.integrations,
            "stages": self.stages,
            "deployments": self.deployments,
            "snapshots": self.snapshots,
            "authorizers": self.authorizers,
        }

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> HttpApi:
        return cls(**doc)


_LAMBDA_PATH = ":lambda:path/2015-03-31/functions/"


def function_of(uri: str) -> str:
    """The function a Lambda integration or authorizer names: its ARN, or `.../functions/<arn>/invocations`."""
    if _LAMBDA_PATH in uri:
        return uri.split(_LAMBDA_PATH, 1)[1].removesuffix("/invocations")
    return uri
