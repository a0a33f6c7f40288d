"""AWS::S3::Bucket's LifecycleConfiguration as PutBucketLifecycleConfiguration takes it.

CloudFormation's Rule is flat where the API nests: `Id` → ID, `ExpirationInDays`/`ExpirationDate`/
`ExpiredObjectDeleteMarker` → Expiration, `NoncurrentVersionExpirationInDays` (or NoncurrentVersionExpiration) →
NoncurrentVersionExpiration.NoncurrentDays, `Transition`/`Transitions` (TransitionInDays/TransitionDate) →
Transitions (Days/Date), `NoncurrentVersionTransition(s)` (TransitionInDays) → NoncurrentVersionTransitions
(NoncurrentDays), and the scope (`Prefix`, `TagFilters`, `ObjectSizeGreaterThan`/`LessThan`, the sizes strings) →
Filter: one condition alone, several under And. What S3 refuses it refuses with its own error.
"""

from __future__ import annotations

from typing import Any

from lamina.api.protocols.rest_xml import parse_timestamp
from lamina.services.cloudformation.resource_types import ProvisionFailed


def _invalid(path: str, problem: str) -> ProvisionFailed:
    return ProvisionFailed(f"Properties validation failed for resource: #/{path}: {problem}")


def _integer(value: Any, path: str) -> int:
    if isinstance(value, bool):
        raise _invalid(path, "expected type: Integer, found: Boolean")
    try:
        return int(value)
    except (TypeError, ValueError):
        raise _invalid(path, f"expected type: Integer, found: {type(value).__name__.capitalize()}") from None


def _boolean(value: Any) -> bool:
    return value is True or str(value).lower() == "true"


def _date(value: Any, path: str) -> float:
    when = parse_timestamp(str(value)) if isinstance(value, str) else None
    if when is None:
        raise _invalid(path, "failed validation constraint for keyword [pattern]")
    return when


def _storage_class(value: Any) -> Any:
    return "GLACIER" if value == "Glacier" else value  # CloudFormation also takes Glacier, as S3's GLACIER


def _filter(rule: dict[str, Any], path: str) -> dict[str, Any]:
    prefix = rule.get("Prefix")
    tags = [{"Key": t.get("Key"), "Value": str(t.get("Value", ""))} for t in rule.get("TagFilters") or []]
    sizes = {
        key: _integer(rule[key], f"{path}/{key}")
        for key in ("ObjectSizeGreaterThan", "ObjectSizeLessThan")
        if rule.get(key) is not None
    }
    if not tags and not sizes:
        return {"Prefix": prefix or ""}
    if prefix is None and len(tags) + len(sizes) == 1:
        return {"Tag": tags[0]} if tags else sizes
    both: dict[str, Any] = {} if prefix is None else {"Prefix": prefix}
    if tags:
        both["Tags"] = tags
    return {"And": {**both, **sizes}}


def _transition(given: dict[str, Any], days: str, path: str) -> dict[str, Any]:
    out: dict[str, Any] = {"StorageClass": _storage_class(given.get("StorageClass"))}
    if given.get("TransitionDate") is not None:
        out["Date"] = _date(given["TransitionDate"], f"{path}/TransitionDate")
    if given.get("TransitionInDays") is not None:
        out[days] = _integer(given["TransitionInDays"], f"{path}/TransitionInDays")
    if days == "NoncurrentDays" and given.get("NewerNoncurrentVersions") is not None:
        out["NewerNoncurrentVersions"] = _integer(given["NewerNoncurrentVersions"], f"{path}/NewerNoncurrentVersions")
    return out


def _listed(rule: dict[str, Any], many: str, one: str) -> list[tuple[str, dict[str, Any]]]:
    found = [(f"{many}/{i}", t) for i, t in enumerate(rule.get(many) or [])]
    return found + ([(one, rule[one])] if rule.get(one) else [])


def _rule(rule: dict[str, Any], path: str) -> dict[str, Any]:
    if rule.get("Status") is None:
        raise _invalid(path, "required key [Status] not found")
    out: dict[str, Any] = {"Status": rule["Status"], "Filter": _filter(rule, path)}
    if rule.get("Id"):
        out["ID"] = str(rule["Id"])
    expiration: dict[str, Any] = {}
    if rule.get("ExpirationDate") is not None:
        expiration["Date"] = _date(rule["ExpirationDate"], f"{path}/ExpirationDate")
    if rule.get("ExpirationInDays") is not None:
        expiration["Days"] = _integer(rule["ExpirationInDays"], f"{path}/ExpirationInDays")
    if rule.get("ExpiredObjectDeleteMarker") is not None:
        expiration["ExpiredObjectDeleteMarker"] = _boolean(rule["ExpiredObjectDeleteMarker"])
    if expiration:
        out["Expiration"] = expiration
    transitions = [_transition(t, "Days", f"{path}/{at}") for at, t in _listed(rule, "Transitions", "Transition")]
    if transitions:
        out["Transitions"] = transitions
    noncurrent = [
        _transition(t, "NoncurrentDays", f"{path}/{at}")
        for at, t in _listed(rule, "NoncurrentVersionTransitions", "NoncurrentVersionTransition")
    ]
    if noncurrent:
        out["NoncurrentVersionTransitions"] = noncurrent
    given = rule.get("NoncurrentVersionExpiration")
    if given:
        at = f"{path}/NoncurrentVersionExpiration"
        out["NoncurrentVersionExpiration"] = {
            key: _integer(given[key], f"{at}/{key}")
            for key in ("NoncurrentDays", "NewerNoncurrentVersions")
            if given.get(key) is not None
        }
    elif rule.get("NoncurrentVersionExpirationInDays") is not None:
        days = _integer(rule["NoncurrentVersionExpirationInDays"], f"{path}/NoncurrentVersionExpirationInDays")
        out["NoncurrentVersionExpiration"] = {"NoncurrentDays": days}
    abort = rule.get("AbortIncompleteMultipartUpload")
    if abort:
        at = f"{path}/AbortIncompleteMultipartUpload/DaysAfterInitiation"
        out["AbortIncompleteMultipartUpload"] = {"DaysAfterInitiation": _integer(abort.get("DaysAfterInitiation"), at)}
    return out


def lifecycle(name: str, given: dict[str, Any]) -> dict[str, Any]:
    """The PutBucketLifecycleConfiguration parameters for bucket `name` of a CloudFormation LifecycleConfiguration."""
    rules = given.get("Rules")
    if rules is None:
        raise _invalid("LifecycleConfiguration", "required key [Rules] not found")
    path = "LifecycleConfiguration/Rules"
    params: dict[str, Any] = {
        "Bucket": name,
        "LifecycleConfiguration": {"Rules": [_rule(rule, f"{path}/{i}") for i, rule in enumerate(rules)]},
    }
    if given.get("TransitionDefaultMinimumObjectSize") is not None:
        params["TransitionDefaultMinimumObjectSize"] = given["TransitionDefaultMinimumObjectSize"]
    return params
