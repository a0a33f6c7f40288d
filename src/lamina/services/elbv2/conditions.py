"""Listener rule conditions: which requests a rule applies to, as ALB matches them.

Every condition of a rule must match; within a condition, any of its values. Patterns take `*` (any run of
characters) and `?` (one character). Paths match case-sensitively, everything else case-insensitively;
query string keys and values are compared decoded. Conditions come in the API's form: the `Values`
of the legacy path/host form, or the `*Config` member of each field.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from lamina.errors import ServiceFault

FIELDS = {
    "path-pattern": "PathPatternConfig",
    "host-header": "HostHeaderConfig",
    "http-header": "HttpHeaderConfig",
    "query-string": "QueryStringConfig",
    "http-request-method": "HttpRequestMethodConfig",
    "source-ip": "SourceIpConfig",
}
MAX_PATTERN = 128


@dataclass(frozen=True)
class HttpFacts:
    """What conditions look at in a request."""

    method: str
    path: str
    query_string: str
    host: str
    headers: dict[str, list[str]]  # lower-case names → every value sent
    source_ip: str


@functools.lru_cache(maxsize=1024)
def _pattern(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    body = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(body, re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL)


def _like(pattern: str, value: str, ignore_case: bool = True) -> bool:
    return _pattern(pattern, ignore_case).fullmatch(value) is not None


def _values(condition: dict[str, Any]) -> list[Any]:
    config = condition.get(FIELDS.get(condition.get("Field", ""), ""))
    if isinstance(config, dict) and config.get("Values") is not None:
        return list(config["Values"])
    return list(condition.get("Values") or [])


def check(conditions: list[dict[str, Any]]) -> None:
    """ValidationError for conditions ALB would refuse."""
    for condition in conditions:
        name = condition.get("Field")
        if name not in FIELDS:
            raise ServiceFault("ValidationError", f"Condition field '{name}' is not supported")
        if condition.get("Values") and name not in ("path-pattern", "host-header"):
            raise ServiceFault("ValidationError", f"A '{FIELDS[name]}' must be specified with the '{name}' field")
        values = _values(condition)
        if not values:
            raise ServiceFault("ValidationError", f"A condition value must be specified for the '{name}' field")
        if name == "http-header" and not (condition.get("HttpHeaderConfig") or {}).get("HttpHeaderName"):
            raise ServiceFault("ValidationError", "An HTTP header name must be specified")
        for value in values:
            text = value.get("Value", "") if isinstance(value, dict) else value
            if not text or len(text) > MAX_PATTERN:
                raise ServiceFault(
                    "ValidationError", f"Condition values must be between 1 and {MAX_PATTERN} characters"
                )
            if name == "source-ip":
                try:
                    ipaddress.ip_network(text, strict=False)
                except ValueError:
                    raise ServiceFault("ValidationError", f"'{text}' is not a valid CIDR block") from None


def matches(conditions: list[dict[str, Any]], facts: HttpFacts) -> bool:
    return all(_matches(condition, facts) for condition in conditions)


def _matches(condition: dict[str, Any], facts: HttpFacts) -> bool:
    name = condition["Field"]
    values = _values(condition)
    if name == "path-pattern":
        return any(_like(v, facts.path, ignore_case=False) for v in values)
    if name == "host-header":
        return any(_like(v, facts.host) for v in values)
    if name == "http-header":
        header = condition["HttpHeaderConfig"]["HttpHeaderName"].lower()
        sent = facts.headers.get(header, [])
        return any(_like(v, s) for v in values for s in sent)
    if name == "query-string":
        pairs = parse_qsl(facts.query_string, keep_blank_values=True)
        return any(
            (v.get("Key") is None or _like(v["Key"], key)) and _like(v.get("Value", ""), value)
            for v in values
            for key, value in pairs
        )
    if name == "http-request-method":
        return facts.method in values
    if name == "source-ip":
        try:
            address = ipaddress.ip_address(facts.source_ip)
        except ValueError:
            return False
        return any(address in ipaddress.ip_network(v, strict=False) for v in values)
    return False
