"""Policy documents checked as IAM checks them, with IAM's MalformedPolicyDocument messages.

Two kinds: identity policies (managed policies, inline role policies) and trust policies (a role's
AssumeRolePolicyDocument). The checks run in IAM's order, so the first message AWS would give is the one
given: JSON and grammar ("Syntax errors in policy."), the version (policy variables need 2012-10-17),
then the statements' parts (actions, resources, principals), then the vendor prefixes of actions.

The parsed statements are what policy evaluation (issue 19) reads; `statements()` gives them as lists.
"""

from __future__ import annotations

import json
import re
from typing import Any

from lamina.errors import ServiceFault

VERSIONS = ("2008-10-17", "2012-10-17")
_TOP = {"Version", "Id", "Statement"}
_STATEMENT = {
    "Sid",
    "Effect",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Principal",
    "NotPrincipal",
    "Condition",
}
_VENDOR = re.compile(r"^[a-zA-Z0-9.-]+$")
_PRINCIPAL_KINDS = {"AWS", "Service", "Federated", "CanonicalUser"}


class MalformedPolicy(ServiceFault):
    def __init__(self, message: str) -> None:
        super().__init__("MalformedPolicyDocument", message, 400)


def _strings(value: Any) -> bool:
    return isinstance(value, str) or (isinstance(value, list) and all(isinstance(v, str) for v in value))


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def statements(document: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for s in _listed(document.get("Statement", [])) if isinstance(s, dict)]


def _parse(text: str) -> dict[str, Any]:
    try:
        document = json.loads(text)
    except ValueError:
        raise MalformedPolicy("This policy contains invalid Json") from None
    if not isinstance(document, dict):
        raise MalformedPolicy("This policy contains invalid Json")
    return document


def _syntax(document: dict[str, Any], trust: bool) -> None:
    """IAM's grammar: known elements of the right JSON types, one Effect, no Action beside NotAction."""
    if any(key not in _TOP for key in document):
        raise MalformedPolicy("Syntax errors in policy.")
    version = document.get("Version")
    if version is not None and version not in VERSIONS:
        raise MalformedPolicy("Syntax errors in policy.")
    if "Id" in document and not isinstance(document["Id"], str):
        raise MalformedPolicy("Syntax errors in policy.")
    found = document.get("Statement")
    if not isinstance(found, dict | list) or not found:
        raise MalformedPolicy("Syntax errors in policy.")
    for statement in _listed(found):
        if not isinstance(statement, dict) or any(key not in _STATEMENT for key in statement):
            raise MalformedPolicy("Syntax errors in policy.")
        if ("Action" in statement and "NotAction" in statement) or (
            "Resource" in statement and "NotResource" in statement
        ):
            raise MalformedPolicy("Syntax errors in policy.")
        if statement.get("Effect") not in ("Allow", "Deny"):
            raise MalformedPolicy("Syntax errors in policy.")
        for key in ("Action", "NotAction", "Resource", "NotResource"):
            if key in statement and not _strings(statement[key]):
                raise MalformedPolicy("Syntax errors in policy.")
        if "Sid" in statement and not isinstance(statement["Sid"], str):
            raise MalformedPolicy("Syntax errors in policy.")
        condition = statement.get("Condition")
        if condition is not None:
            if not isinstance(condition, dict):
                raise MalformedPolicy("Syntax errors in policy.")
            for block in condition.values():
                if not isinstance(block, dict) or not all(
                    isinstance(v, str | list | bool | int) for v in block.values()
                ):
                    raise MalformedPolicy("Syntax errors in policy.")


def _principal(statement: dict[str, Any]) -> None:
    for key in ("Principal", "NotPrincipal"):
        if key not in statement:
            continue
        principal = statement[key]
        if principal == "*":
            continue
        if not isinstance(principal, dict) or not principal:
            raise MalformedPolicy("Syntax errors in policy.")
        for kind, value in principal.items():
            if kind not in _PRINCIPAL_KINDS or not _strings(value):
                raise MalformedPolicy("Syntax errors in policy.")
            for name in _listed(value):
                if kind == "AWS" and not (name == "*" or re.fullmatch(r"\d{12}", name) or name.startswith("arn:")):
                    raise MalformedPolicy(f'Invalid principal in policy: "AWS":"{name}"')


def _resource_problem(resource: str) -> str | None:
    if resource == "*":
        return None
    parts = resource.split(":", 5)
    if len(parts) < 2:
        return f'Resource {resource} must be in ARN format or "*".'
    if parts[0] != "arn":
        return f'Resource {resource} must be in ARN format or "*".'
    partition = parts[1]
    if partition not in ("aws", "aws-cn", "aws-us-gov", "*"):
        rest = [*parts[2:], "*", "*", "*", "*"]
        return f'Partition "{partition}" is not valid for resource "arn:{partition}:{":".join(rest[:4])}".'
    if len(parts) > 2 and parts[2] == "iam" and len(parts) > 3 and parts[3]:
        return f"IAM resource {resource} cannot contain region information."
    if len(parts) > 2 and parts[2] == "s3" and len(parts) > 3 and parts[3]:
        return f"Resource {resource} can not contain region information."
    return None


def _action_problem(action: str) -> str | None:
    if action == "*":
        return None
    parts = action.split(":")
    if len(parts) == 1:
        return "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."
    if len(parts) > 2:
        return "Actions/Condition can contain only one colon."
    if parts[0] != "*" and not _VENDOR.match(parts[0]):
        return f"Vendor {parts[0]} is not valid"
    return None


def check_identity_policy(text: str) -> dict[str, Any]:
    """A managed or inline policy: no principals, actions and resources in every statement."""
    document = _parse(text)
    _syntax(document, trust=False)
    if document.get("Version") != "2012-10-17" and "${" in text:
        # Policy variables need the 2012-10-17 grammar; without them an older or absent Version is accepted (SAM's
        # policy templates emit statements with no Version).
        raise MalformedPolicy("Policy document must be version 2012-10-17 or greater.")
    found = statements(document)
    sids = [s["Sid"] for s in found if s.get("Sid")]
    if len(sids) != len(set(sids)):
        raise MalformedPolicy("Statement IDs (SID) in a single policy must be unique.")
    for statement in found:
        if "Principal" in statement or "NotPrincipal" in statement:
            raise MalformedPolicy("Policy document should not specify a principal.")
    for statement in found:
        if not any(statement.get(key) for key in ("Action", "NotAction")):
            raise MalformedPolicy("Policy statement must contain actions.")
    for statement in found:
        if not any(statement.get(key) for key in ("Resource", "NotResource")):
            raise MalformedPolicy("Policy statement must contain resources.")
    _parts(found)
    return document


def check_trust_policy(text: str) -> dict[str, Any]:
    """A role's trust policy: principals, no resources."""
    document = _parse(text)
    _syntax(document, trust=True)
    found = statements(document)
    for statement in found:
        if "Resource" in statement or "NotResource" in statement:
            key = "Resource" if "Resource" in statement else "NotResource"
            raise MalformedPolicy(f"Has prohibited field {key}")
    for statement in found:
        if "Principal" not in statement and "NotPrincipal" not in statement:
            raise MalformedPolicy("Missing required field Principal")
        _principal(statement)
    for statement in found:
        if not any(statement.get(key) for key in ("Action", "NotAction")):
            raise MalformedPolicy("Policy statement must contain actions.")
    _parts(found)
    return document


def _parts(found: list[dict[str, Any]]) -> None:
    for statement in found:
        for key in ("Resource", "NotResource"):
            for resource in _listed(statement.get(key, [])):
                problem = _resource_problem(resource)
                if problem:
                    raise MalformedPolicy(problem)
    for statement in found:
        for key in ("Action", "NotAction"):
            for action in _listed(statement.get(key, [])):
                problem = _action_problem(action)
                if problem:
                    raise MalformedPolicy(problem)


def trusts_service(document: dict[str, Any], service: str, action: str = "sts:AssumeRole") -> bool:
    """Whether an Allow statement (without conditions) lets the service principal take `action`, and no Deny
    names it: what Lambda checks of a function's execution role."""
    allowed = False
    for statement in statements(document):
        principal = statement.get("Principal")
        names = principal.get("Service", []) if isinstance(principal, dict) else ([] if principal != "*" else ["*"])
        if service not in _listed(names) and "*" not in _listed(names):
            continue
        actions = _listed(statement.get("Action", []))
        if not any(a in ("*", "sts:*", action) or a.lower() == action.lower() for a in actions):
            continue
        if statement.get("Effect") == "Deny":
            return False
        allowed = allowed or "Condition" not in statement
    return allowed
