"""Service models from botocore, and the routing tables derived from them.

botocore's JSON models are the single source of truth for operation routing, member locations, types
and error shapes. A `ServiceCatalog` loads one model and compiles, once, what each request needs:
for REST protocols a route table (method + URI template → operation), and for every operation the
member plans used by the protocol modules.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Any
from urllib.parse import unquote

import botocore.session
from botocore.model import OperationModel, ServiceModel, Shape


@cache
def _session() -> Any:
    return botocore.session.get_session()


@cache
def load_service_model(name: str) -> ServiceModel:
    return _session().get_service_model(name)


@dataclass(frozen=True)
class Route:
    """One REST operation's URI template compiled to a regex over the still-encoded path."""

    operation: OperationModel
    pattern: re.Pattern[str]
    static_query: tuple[tuple[str, str], ...]  # e.g. (("find", "LayerVersion"),)
    literal_length: int  # more literal characters = more specific
    # Regex group name → the URI label it stands for, where the label is no valid group name
    # (apigatewayv2's `{resource-arn}`).
    labels: tuple[tuple[str, str], ...] = ()

    def match(self, path: str, query: dict[str, list[str]]) -> dict[str, str] | None:
        for key, value in self.static_query:
            if query.get(key, [None])[0] != value:
                return None
        m = self.pattern.match(path)
        if m is None:
            return None
        params = {k: unquote(v) for k, v in m.groupdict().items()}
        for group, label in self.labels:
            params[label] = params.pop(group)
        return params


def compile_route(operation: OperationModel) -> Route:
    uri: str = operation.http["requestUri"]
    path, _, query = uri.partition("?")
    static_query: list[tuple[str, str]] = []
    for part in filter(None, query.split("&")):
        key, _, value = part.partition("=")
        static_query.append((key, value))
    regex = ["^"]
    literal = 0
    labels: list[tuple[str, str]] = []
    for token in re.split(r"(\{[^}]+\})", path.rstrip("/") or "/"):
        if token.startswith("{"):
            label = token[1:-1].removesuffix("+")
            group = re.sub(r"\W", "_", label)
            if group != label:
                labels.append((group, label))
            if token.endswith("+}"):
                regex.append(f"(?P<{group}>.+)")
            else:
                regex.append(f"(?P<{group}>[^/]+)")
        else:
            literal += len(token)
            regex.append(re.escape(token))
    # A trailing "/" is accepted: older SDK models send e.g. GET /2016-08-19/account-settings/.
    regex.append("/?$")
    specificity = literal + 100 * len(static_query)
    return Route(operation, re.compile("".join(regex)), tuple(static_query), specificity, tuple(labels))


_RECENT_ROUTES = 4096  # paths remembered by RouteTable.find before it starts over


class RouteTable:
    """Finds the operation for a REST request. Routes are indexed by method, segment count and first
    path segment (a warm Invoke tries one or two patterns, not the whole model), and sorted most
    specific first, so `GET /layers?find=LayerVersion` wins over `GET /layers`."""

    def __init__(self, model: ServiceModel) -> None:
        index: dict[tuple[str, int, str], list[Route]] = {}
        greedy: dict[str, list[Route]] = {}
        for name in model.operation_names:
            op = model.operation_model(name)
            route = compile_route(op)
            path = op.http["requestUri"].partition("?")[0].rstrip("/") or "/"
            if "+}" in path:
                greedy.setdefault(op.http["method"], []).append(route)
                continue
            segments = path.strip("/").split("/")
            index.setdefault((op.http["method"], len(segments), segments[0]), []).append(route)
        for routes in (*index.values(), *greedy.values()):
            routes.sort(key=lambda r: -r.literal_length)
        self._index = index
        self._greedy = greedy
        self._methods = {key[0] for key in index} | set(greedy)
        self._recent: dict[tuple[str, str], tuple[OperationModel, dict[str, str]]] = {}

    def find(self, method: str, path: str, query: dict[str, list[str]]) -> tuple[OperationModel, dict[str, str]] | None:
        if query:
            return self._find(method, path, query)
        # Hot paths (Invoke) repeat the same few paths: remember what a query-less path resolved to.
        key = (method, path)
        hit = self._recent.get(key)
        if hit is None:
            hit = self._find(method, path, query)
            if hit is None:
                return None  # misses are not remembered: junk paths must not push out the hot ones
            if len(self._recent) >= _RECENT_ROUTES:
                self._recent.clear()
            self._recent[key] = hit
        return hit[0], dict(hit[1])

    def _find(
        self, method: str, path: str, query: dict[str, list[str]]
    ) -> tuple[OperationModel, dict[str, str]] | None:
        trimmed = path.rstrip("/") or "/"
        segments = trimmed.strip("/").split("/")
        for route in self._index.get((method, len(segments), segments[0]), ()):
            params = route.match(path, query)
            if params is not None:
                return route.operation, params
        for route in self._greedy.get(method, ()):
            params = route.match(path, query)
            if params is not None:
                return route.operation, params
        return None


def error_shapes(model: ServiceModel) -> dict[str, Shape]:
    """Error code → modeled error shape (used for the message member's casing and extra members)."""
    shapes: dict[str, Shape] = {}
    for name in model.operation_names:
        for shape in model.operation_model(name).error_shapes:
            shapes[shape.error_code or shape.name] = shape
    return shapes
