"""AWS's route selection for HTTP APIs: a route key is `METHOD /path` (`ANY` for every method), `$default`
catches what nothing else matches. The most specific route wins: exact paths before `{param}` segments,
those before a greedy `{proxy+}`, a named method before `ANY`."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

DEFAULT_ROUTE = "$default"
_KEY = re.compile(r"^(ANY|GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS) (/\S*)$")


def valid_route_key(key: str) -> bool:
    return key == DEFAULT_ROUTE or _KEY.match(key) is not None


@dataclass(frozen=True)
class Match:
    route: dict[str, Any]
    path_parameters: dict[str, str]


def _segments(path: str) -> list[str]:
    return [s for s in path.split("/") if s] if path.strip("/") else []


def _match_path(template: str, path: str) -> tuple[tuple[int, ...], dict[str, str]] | None:
    """(rank, parameters) when `path` fits `template`; a higher rank is more specific."""
    wanted, given = _segments(template), _segments(path)
    params: dict[str, str] = {}
    rank: list[int] = []
    for i, part in enumerate(wanted):
        if part.startswith("{") and part.endswith("+}"):
            if i != len(wanted) - 1 or len(given) <= i:
                return None
            params[part[1:-2]] = unquote("/".join(given[i:]))
            rank.append(0)
            return tuple(rank), params
        if i >= len(given):
            return None
        if part.startswith("{") and part.endswith("}"):
            params[part[1:-1]] = unquote(given[i])
            rank.append(1)
        elif part == given[i]:
            rank.append(2)
        else:
            return None
    if len(given) != len(wanted):
        return None
    return (*rank, 3), params  # a full-length match beats a greedy one that shares its prefix


def select_route(routes: list[dict[str, Any]], method: str, path: str) -> Match | None:
    best: tuple[tuple[tuple[int, ...], int], Match] | None = None
    default: dict[str, Any] | None = None
    for route in routes:
        key = route["RouteKey"]
        if key == DEFAULT_ROUTE:
            default = route
            continue
        route_method, _, template = key.partition(" ")
        if route_method not in ("ANY", method):
            continue
        found = _match_path(template, path)
        if found is None:
            continue
        rank = (found[0], 0 if route_method == "ANY" else 1)
        if best is None or rank > best[0]:
            best = (rank, Match(route, found[1]))
    if best is not None:
        return best[1]
    return Match(default, {}) if default is not None else None
