"""API Gateway's state: each REST API is one document (its resources with their methods and integrations,
authorizers, deployments and stages), written through before it is visible; and the routing question the
front door asks of a stage.

A deployment keeps a snapshot of the resources as they were when it was made, as API Gateway does: a stage
serves its deployment's snapshot, so a change to a method reaches clients only after the next
CreateDeployment.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from lamina.store.documents import DocumentStore

API_KIND = "apigateway-rest-api"


@dataclass
class RestApi:
    """One REST API; `doc` is its document in the API's own form (RestApi's members) plus the children."""

    id: str
    region: str
    account: str
    doc: dict[str, Any]
    resources: dict[str, dict[str, Any]] = field(default_factory=dict)
    authorizers: dict[str, dict[str, Any]] = field(default_factory=dict)
    deployments: dict[str, dict[str, Any]] = field(default_factory=dict)  # id -> {"deployment", "resources"}
    stages: dict[str, dict[str, Any]] = field(default_factory=dict)

    def to_doc(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "region": self.region,
            "account": self.account,
            "doc": self.doc,
            "resources": self.resources,
            "authorizers": self.authorizers,
            "deployments": self.deployments,
            "stages": self.stages,
        }

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> RestApi:
        return cls(**doc)


@dataclass(frozen=True)
class Route:
    """What a request to a stage resolved to."""

    resource: dict[str, Any]
    method: dict[str, Any]
    path_parameters: dict[str, str]


class ApiGatewayEngine:
    def __init__(self, store: DocumentStore) -> None:
        self._store = store
        self.apis: dict[str, RestApi] = {}

    def load(self) -> None:
        for doc in self._store.load(API_KIND).values():
            api = RestApi.from_doc(doc)
            self.apis[api.id] = api

    def save(self, api: RestApi) -> None:
        self._store.put(API_KIND, api.id, api.to_doc())
        self.apis[api.id] = api

    def delete(self, api: RestApi) -> None:
        self._store.delete(API_KIND, api.id)
        self.apis.pop(api.id, None)

    @staticmethod
    def snapshot(api: RestApi) -> dict[str, dict[str, Any]]:
        return copy.deepcopy(api.resources)

    def route(self, api: RestApi, stage: str, method: str, path: str) -> Route | None:
        """The resource and method a request to `stage` reaches, or None (API Gateway's 403 "Missing
        Authentication Token"). Literal path parts beat `{param}` parts, which beat a greedy `{name+}`."""
        found = api.stages.get(stage)
        if found is None:
            return None
        deployment = api.deployments.get(found.get("deploymentId") or "")
        if deployment is None:
            return None
        resources: dict[str, dict[str, Any]] = deployment["resources"]
        children: dict[str, list[dict[str, Any]]] = {}
        root = None
        for resource in resources.values():
            parent = resource.get("parentId")
            if parent is None:
                root = resource
            else:
                children.setdefault(parent, []).append(resource)
        if root is None:
            return None
        parts = [p for p in path.split("/") if p]
        matched = _match(root, parts, children, {}, path)
        if matched is None:
            return None
        resource, params = matched
        methods = resource.get("resourceMethods") or {}
        chosen = methods.get(method) or methods.get("ANY")
        if chosen is None:
            return None
        return Route(resource, chosen, params)


def _match(
    node: dict[str, Any],
    parts: list[str],
    children: dict[str, list[dict[str, Any]]],
    params: dict[str, str],
    raw_path: str,
) -> tuple[dict[str, Any], dict[str, str]] | None:
    if not parts:
        return node, params
    kids = children.get(node["id"], [])
    head = parts[0]
    for kid in kids:
        if kid["pathPart"] == head:
            found = _match(kid, parts[1:], children, params, raw_path)
            if found is not None:
                return found
    for kid in kids:
        part = kid["pathPart"]
        if part.startswith("{") and part.endswith("}") and not part.endswith("+}"):
            found = _match(kid, parts[1:], children, {**params, part[1:-1]: head}, raw_path)
            if found is not None:
                return found
    for kid in kids:
        part = kid["pathPart"]
        if part.endswith("+}"):
            # The greedy parameter keeps the rest of the path as sent (inner double slashes too) without
            # its leading and trailing slashes.
            rest = _rest_of(raw_path, len(parts))
            return kid, {**params, part[1:-2]: rest}
    return None


def _rest_of(raw_path: str, count: int) -> str:
    """The raw path from its `count`-th last non-empty segment on, stripped of outer slashes."""
    stripped = raw_path.strip("/")
    segments = stripped.split("/")
    seen = 0
    for index in range(len(segments) - 1, -1, -1):
        if segments[index]:
            seen += 1
            if seen == count:
                return "/".join(segments[index:])
    return stripped
