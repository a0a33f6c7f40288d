"""A bucket's CORS rules: checked as PutBucketCors checks them, and matched against a request's Origin, method and
headers as S3 matches them (the first rule that allows all three wins; `*` is a wildcard in origins and headers)."""

from __future__ import annotations

import fnmatch
from typing import Any

from lamina.services.s3.faults import S3Error, malformed_xml

METHODS = ("GET", "PUT", "HEAD", "POST", "DELETE")
MAX_RULES = 100
VARY = "Origin, Access-Control-Request-Headers, Access-Control-Request-Method"
NOT_ALLOWED = (
    "CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, request "
    "method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the "
    "resource's CORS spec."
)
NOT_ENABLED = "CORSResponse: CORS is not enabled for this bucket."


def check(config: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The rules of a CORSConfiguration document, or MalformedXML / InvalidRequest as S3 refuses them."""
    rules = (config or {}).get("CORSRules")
    if not rules:
        raise malformed_xml()
    if len(rules) > MAX_RULES:
        message = f"The number of CORS rules should not exceed allowed limit of {MAX_RULES} rules."
        raise S3Error("InvalidRequest", message)
    for rule in rules:
        if not rule.get("AllowedMethods") or not rule.get("AllowedOrigins"):
            raise malformed_xml()
        for method in rule["AllowedMethods"]:
            if method not in METHODS:
                raise S3Error(
                    "InvalidRequest", f"Found unsupported HTTP method in CORS config. Unsupported method is {method}"
                )
        for origin in rule["AllowedOrigins"]:
            if origin.count("*") > 1:
                raise S3Error("InvalidRequest", f'AllowedOrigin "{origin}" can not have more than one wildcard.')
        for header in rule.get("AllowedHeaders") or []:
            if header.count("*") > 1:
                raise S3Error("InvalidRequest", f'AllowedHeader "{header}" can not have more than one wildcard.')
    return [{k: v for k, v in rule.items() if v is not None} for rule in rules]


def _matches(pattern: str, value: str) -> bool:
    return fnmatch.fnmatchcase(value.lower(), pattern.lower().replace("[", "[[]"))


def matching_rule(rules: list[dict[str, Any]], origin: str, method: str, headers: list[str]) -> dict[str, Any] | None:
    for rule in rules:
        if method not in rule["AllowedMethods"]:
            continue
        if not any(_matches(o, origin) for o in rule["AllowedOrigins"]):
            continue
        allowed = rule.get("AllowedHeaders") or []
        if all(any(_matches(a, h) for a in allowed) for h in headers):
            return rule
    return None


def answer_headers(rule: dict[str, Any], origin: str, headers: list[str] | None) -> list[tuple[str, str]]:
    """The Access-Control-* headers S3 answers for `rule` (`headers`: a preflight's requested headers)."""
    everyone = rule["AllowedOrigins"] == ["*"]
    out = [("Access-Control-Allow-Origin", "*" if everyone else origin)]
    out.append(("Access-Control-Allow-Methods", ", ".join(rule["AllowedMethods"])))
    if headers:
        out.append(("Access-Control-Allow-Headers", ", ".join(headers)))
    if rule.get("ExposeHeaders"):
        out.append(("Access-Control-Expose-Headers", ", ".join(rule["ExposeHeaders"])))
    if rule.get("MaxAgeSeconds") is not None:
        out.append(("Access-Control-Max-Age", str(rule["MaxAgeSeconds"])))
    if not everyone:
        out.append(("Access-Control-Allow-Credentials", "true"))
    out.append(("Vary", VARY))
    return out


def requested_headers(value: str) -> list[str]:
    return [h.strip().lower() for h in value.split(",") if h.strip()]
