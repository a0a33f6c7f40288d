"""IAM policy evaluation for one account, as AWS documents it ("Policy evaluation logic"):

1. an explicit Deny in any applicable statement wins;
2. else an Allow in any applicable statement allows;
3. else the request is implicitly denied.

A statement applies when its Action (or everything but its NotAction) covers the action, its Resource (or
everything but its NotResource) covers the resource, and every condition holds. Actions match
case-insensitively, resources case-sensitively, both with `*` and `?` wildcards; policy variables
(`${aws:username}`) in resources are replaced from the request context.

Conditions: every operator in a statement, every key under an operator must hold (AND); any of a key's values
may match (OR). A key the request does not carry fails a positive operator and satisfies a negated one
(`StringNotEquals`, `ArnNotLike`, `NotIpAddress`, ...); `…IfExists` holds when the key is absent; `Null`
tests presence. `ForAnyValue:`/`ForAllValues:` compare multi-valued keys. An operator this module does not
know never holds.
"""

from __future__ import annotations

import datetime
import ipaddress
import re
from collections.abc import Iterable, Mapping, Sequence
from enum import Enum
from functools import lru_cache
from typing import Any

Context = Mapping[str, str | list[str]]  # lower-case condition keys → value(s)


class Decision(Enum):
    ALLOW = "allowed"
    EXPLICIT_DENY = "explicitDeny"
    IMPLICIT_DENY = "implicitDeny"


def _values(element: Any) -> list[Any]:
    if element is None:
        return []
    return element if isinstance(element, list) else [element]


@lru_cache(maxsize=4096)
def _pattern(glob: str, ignore_case: bool) -> re.Pattern[str]:
    body = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in glob)
    return re.compile(body, re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL)


def like(glob: str, value: str, ignore_case: bool = False) -> bool:
    """IAM's wildcard match: `*` any run of characters, `?` any one character."""
    if "*" not in glob and "?" not in glob:
        return glob.lower() == value.lower() if ignore_case else glob == value
    return _pattern(glob, ignore_case).fullmatch(value) is not None


_VARIABLE = re.compile(r"\$\{([^}]+)\}")


def _substitute(text: str, context: Context) -> str:
    def value(m: re.Match[str]) -> str:
        key = m.group(1)
        if key in ("*", "?", "$"):
            return key
        found = context.get(key.lower())
        return found if isinstance(found, str) else m.group(0)

    return _VARIABLE.sub(value, text) if "${" in text else text


def _action_applies(statement: dict[str, Any], action: str) -> bool:
    if "Action" in statement:
        return any(like(str(p), action, ignore_case=True) for p in _values(statement["Action"]))
    return not any(like(str(p), action, ignore_case=True) for p in _values(statement.get("NotAction")))


def _resource_applies(statement: dict[str, Any], resource: str, context: Context) -> bool:
    if "Resource" in statement:
        return any(like(_substitute(str(p), context), resource) for p in _values(statement["Resource"]))
    if "NotResource" in statement:
        return not any(like(_substitute(str(p), context), resource) for p in _values(statement["NotResource"]))
    return False


# -- condition operators --------------------------------------------------------------------------------
def _arn_like(pattern: str, value: str) -> bool:
    """Each of an ARN's six colon-delimited parts is matched on its own."""
    want, have = pattern.split(":", 5), value.split(":", 5)
    if len(want) != 6 or len(have) != 6:
        return like(pattern, value)
    return all(like(w, h) for w, h in zip(want, have, strict=True))


def _number(text: str) -> float | None:
    try:
        return float(text)
    except (TypeError, ValueError):
        return None


def _date(text: str) -> float | None:
    try:
        return float(text)  # epoch seconds
    except ValueError:
        pass
    try:
        parsed = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=datetime.UTC)
    return parsed.timestamp()


def _ip(pattern: str, value: str) -> bool:
    try:
        return ipaddress.ip_address(value) in ipaddress.ip_network(pattern, strict=False)
    except ValueError:
        return False


def _bool(pattern: str, value: str) -> bool:
    return pattern.lower() == value.lower()


def _compare(convert: Any, test: Any) -> Any:
    def check(pattern: str, value: str) -> bool:
        a, b = convert(value), convert(pattern)
        return a is not None and b is not None and bool(test(a, b))

    return check


_POSITIVE: dict[str, Any] = {
    "stringequals": lambda p, v: p == v,
    "stringequalsignorecase": lambda p, v: p.lower() == v.lower(),
    "stringlike": like,
    "numericequals": _compare(_number, lambda a, b: a == b),
    "numericlessthan": _compare(_number, lambda a, b: a < b),
    "numericlessthanequals": _compare(_number, lambda a, b: a <= b),
    "numericgreaterthan": _compare(_number, lambda a, b: a > b),
    "numericgreaterthanequals": _compare(_number, lambda a, b: a >= b),
    "dateequals": _compare(_date, lambda a, b: a == b),
    "datelessthan": _compare(_date, lambda a, b: a < b),
    "datelessthanequals": _compare(_date, lambda a, b: a <= b),
    "dategreaterthan": _compare(_date, lambda a, b: a > b),
    "dategreaterthanequals": _compare(_date, lambda a, b: a >= b),
    "bool": _bool,
    "ipaddress": _ip,
    "arnequals": lambda p, v: p == v,
    "arnlike": _arn_like,
    "binaryequals": lambda p, v: p == v,
}
# Negated operators: the positive one's opposite (a missing key satisfies them).
_NEGATED = {
    "stringnotequals": "stringequals",
    "stringnotequalsignorecase": "stringequalsignorecase",
    "stringnotlike": "stringlike",
    "numericnotequals": "numericequals",
    "datenotequals": "dateequals",
    "notipaddress": "ipaddress",
    "arnnotequals": "arnequals",
    "arnnotlike": "arnlike",
}
KNOWN_OPERATORS = frozenset([*_POSITIVE, *_NEGATED, "null"])


def known_operator(name: str) -> bool:
    base = name.split(":", 1)[1] if ":" in name else name
    base = base.lower()
    if base.endswith("ifexists"):
        base = base[: -len("ifexists")]
    return base in KNOWN_OPERATORS and (":" not in name or name.split(":", 1)[0] in ("ForAnyValue", "ForAllValues"))


def _condition_holds(operator: str, key: str, patterns: list[Any], context: Context) -> bool:
    qualifier = ""
    if ":" in operator:
        qualifier, operator = operator.split(":", 1)
        qualifier = qualifier.lower()
    op = operator.lower()
    if_exists = op.endswith("ifexists") and op != "ifexists"
    if if_exists:
        op = op[: -len("ifexists")]
    present = key.lower() in context
    if op == "null":
        return any(str(p).lower() == ("false" if present else "true") for p in patterns)
    if not present:
        return if_exists or op in _NEGATED
    negated = op in _NEGATED
    check = _POSITIVE.get(_NEGATED.get(op, op))
    if check is None:
        return False
    raw = context[key.lower()]
    values = raw if isinstance(raw, list) else [raw]
    texts = [_substitute(str(p).lower() if isinstance(p, bool) else str(p), context) for p in patterns]

    def matches(value: str) -> bool:
        return any(check(p, value) for p in texts)

    # ForAllValues: every value must match; a single-valued key or ForAnyValue: one is enough
    result = all(map(matches, values)) if qualifier == "forallvalues" else any(map(matches, values))
    return not result if negated else result


def _conditions_hold(conditions: dict[str, Any], context: Context) -> bool:
    for operator, keys in conditions.items():
        if not isinstance(keys, dict):
            return False
        for key, patterns in keys.items():
            if not _condition_holds(operator, key, _values(patterns), context):
                return False
    return True


def statements(document: dict[str, Any]) -> list[dict[str, Any]]:
    found = document.get("Statement", [])
    return [s for s in _values(found) if isinstance(s, dict)]


def evaluate(
    documents: Iterable[dict[str, Any]], action: str, resource: str, context: Context | None = None
) -> tuple[Decision, dict[str, Any] | None]:
    """The decision over `documents` (identity policies) for `action` on `resource`, and the statement that
    decided it (None for an implicit deny)."""
    context = context or {}
    allowed: dict[str, Any] | None = None
    for document in documents:
        for statement in statements(document):
            if not (_action_applies(statement, action) and _resource_applies(statement, resource, context)):
                continue
            if not _conditions_hold(statement.get("Condition") or {}, context):
                continue
            if statement.get("Effect") == "Deny":
                return Decision.EXPLICIT_DENY, statement
            if statement.get("Effect") == "Allow" and allowed is None:
                allowed = statement
    return (Decision.ALLOW, allowed) if allowed is not None else (Decision.IMPLICIT_DENY, None)


def unknown_operators(documents: Sequence[dict[str, Any]]) -> list[str]:
    """Condition operators in `documents` that IAM does not define (for validating a policy as it is put)."""
    found = []
    for document in documents:
        for statement in statements(document):
            for operator in (statement.get("Condition") or {}) if isinstance(statement.get("Condition"), dict) else ():
                if not known_operator(operator):
                    found.append(operator)
    return found


# -- resource-based policies ----------------------------------------------------------------------------
def principal_matches(statement: dict[str, Any], caller: Principal) -> bool:
    """Whether a resource policy statement's Principal (or everyone but its NotPrincipal) names the caller:
    `*`, `{"AWS": "*"}`, the caller's ARN (a role's sessions match the role's ARN), the caller's account (as
    an account ID or its root ARN) or, for a service, `{"Service": "sns.amazonaws.com"}`."""
    if "Principal" in statement:
        return _names(statement["Principal"], caller)
    if "NotPrincipal" in statement:
        return not _names(statement["NotPrincipal"], caller)
    return False


def _names(element: Any, caller: Principal) -> bool:
    if element == "*":
        return True
    if not isinstance(element, dict):
        return False
    for kind, values in element.items():
        for value in _values(values):
            text = str(value)
            if kind == "Service" and caller.service is not None and text.lower() == caller.service.lower():
                return True
            if kind == "AWS" and text == "*":  # everyone, services included (SNS-to-SQS policies use it)
                return True
            if kind == "AWS" and caller.service is None:
                if text in caller.arns:
                    return True
                if caller.account is not None and text in (caller.account, f"arn:aws:iam::{caller.account}:root"):
                    return True
    return False


class Principal:
    """Who a resource policy is asked about: an IAM identity's ARNs (a role session: the session's and the
    role's) with its account, or an AWS service principal (`sns.amazonaws.com`)."""

    __slots__ = ("account", "arns", "service")

    def __init__(self, arns: Sequence[str] = (), account: str | None = None, service: str | None = None) -> None:
        self.arns = tuple(arns)
        self.account = account
        self.service = service


def evaluate_resource_policy(
    document: dict[str, Any] | None, caller: Principal, action: str, resource: str, context: Context | None = None
) -> tuple[Decision, dict[str, Any] | None]:
    """A resource policy's decision for `caller`: `evaluate` over only the statements whose Principal names it.
    An Allow whose Principal is only the caller's account grants nothing by itself in that account (AWS: it
    delegates to the account's identity policies); a Deny that names the account still denies. A statement with no
    Resource element (SQS and SNS accept them) applies to the resource the policy is attached to."""
    if not document:
        return Decision.IMPLICIT_DENY, None
    picked = []
    for statement in statements(document):
        if not principal_matches(statement, caller):
            continue
        if statement.get("Effect") == "Allow" and caller.service is None and _account_only(statement, caller):
            continue
        if "Resource" not in statement and "NotResource" not in statement:
            picked.append({**statement, "Resource": resource})  # a resource's own policy speaks of that resource
        else:
            picked.append(statement)
    return evaluate([{"Statement": picked}], action, resource, context)


def _account_only(statement: dict[str, Any], caller: Principal) -> bool:
    principal = statement.get("Principal")
    if not isinstance(principal, dict):
        return False
    named = [str(v) for v in _values(principal.get("AWS"))]
    account = caller.account
    return bool(named) and all(v in (account, f"arn:aws:iam::{account}:root") for v in named)
