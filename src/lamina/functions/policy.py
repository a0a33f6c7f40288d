"""Resource-based policies of functions: who may invoke them (spec/lambda-api.md §9).

A policy belongs to one function, version or alias (its qualifier; "" for the unqualified function) and is
AWS's document: `{"Version": "2012-10-17", "Id": "default", "Statement": [...]}`. Statements are built from
AddPermission exactly as AWS words them, so GetPolicy returns what AWS returns. `ResourcePolicy.allows()`
evaluates a request against the statements, for triggers and function URLs to enforce:

- a statement matches when its Action covers the action (`lambda:*`, `*`, or equal), its Principal covers
  the caller (`*`, the service, the account, or the exact ARN; an account principal also covers IAM
  identities of that account), and every Condition holds;
- conditions: `ArnLike AWS:SourceArn` (`*` and `?` wildcards), `StringEquals AWS:SourceAccount`,
  `aws:PrincipalOrgID`, `lambda:FunctionUrlAuthType`, `lambda:EventSourceToken`, `Bool
  lambda:InvokedViaFunctionUrl` (AddPermission's `InvokedViaFunctionUrl`, true only for calls through a
  function URL); a condition on a key the request does not carry fails (IAM's rule for a missing key).

There are only Allow statements, so the answer is "some statement allows it".
"""

from __future__ import annotations

import fnmatch
import json
import re
from dataclasses import dataclass, field
from typing import Any

from lamina.errors import InvalidParameter

MAX_POLICY_BYTES = 20_480
_ACCOUNT = re.compile(r"^\d{12}$")
_SERVICE = re.compile(r"^[a-zA-Z0-9.-]+\.amazonaws\.com(\.cn)?$|^[a-zA-Z0-9.-]+\.amazon\.com$")
_IAM_ARN = re.compile(r"^arn:aws[a-zA-Z-]*:iam::(\d{12}):(root|user/.+|role/.+|assumed-role/.+)$")
INVALID_PRINCIPAL = "The provided principal was invalid. Please check the principal and try again."


def principal_element(principal: str) -> Any:
    """AddPermission's `Principal` as the statement shows it."""
    if principal == "*":
        return "*"
    if _ACCOUNT.match(principal):
        return {"AWS": f"arn:aws:iam::{principal}:root"}
    if _IAM_ARN.match(principal):
        return {"AWS": principal}
    if _SERVICE.match(principal):
        return {"Service": principal}
    raise InvalidParameter(INVALID_PRINCIPAL, Type="User")


def build_statement(resource: str, params: dict[str, Any]) -> dict[str, Any]:
    """The statement AddPermission adds, in AWS's member order."""
    statement: dict[str, Any] = {
        "Sid": params["StatementId"],
        "Effect": "Allow",
        "Principal": principal_element(params["Principal"]),
        "Action": params["Action"],
        "Resource": resource,
    }
    conditions: dict[str, dict[str, str]] = {}

    def add(operator: str, key: str, value: str | None) -> None:
        if value:
            conditions.setdefault(operator, {})[key] = value

    add("StringEquals", "AWS:SourceAccount", params.get("SourceAccount"))
    add("StringEquals", "lambda:FunctionUrlAuthType", params.get("FunctionUrlAuthType"))
    add("StringEquals", "aws:PrincipalOrgID", params.get("PrincipalOrgID"))
    add("StringEquals", "lambda:EventSourceToken", params.get("EventSourceToken"))
    add("ArnLike", "AWS:SourceArn", params.get("SourceArn"))
    if params.get("InvokedViaFunctionUrl"):
        add("Bool", "lambda:InvokedViaFunctionUrl", "true")
    if conditions:
        statement["Condition"] = conditions
    return statement


@dataclass
class ResourcePolicy:
    statements: list[dict[str, Any]] = field(default_factory=list)
    revision_id: str = ""

    def document(self) -> dict[str, Any]:
        return {"Version": "2012-10-17", "Id": "default", "Statement": self.statements}

    def text(self) -> str:
        return json.dumps(self.document(), separators=(",", ":"))

    def sids(self) -> list[str]:
        return [s["Sid"] for s in self.statements]

    def to_doc(self) -> dict[str, Any]:
        return {"statements": self.statements, "revision_id": self.revision_id}

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> ResourcePolicy:
        return cls(list(doc.get("statements", [])), doc.get("revision_id", ""))

    # -- evaluation ------------------------------------------------------------------------------------
    def allows(
        self,
        principal: str,
        action: str = "lambda:InvokeFunction",
        source_arn: str | None = None,
        source_account: str | None = None,
        qualifier: str | None = None,
        *,
        principal_org_id: str | None = None,
        function_url_auth_type: str | None = None,
        event_source_token: str | None = None,
        invoked_via_function_url: bool = False,
    ) -> bool:
        """Whether some statement allows `principal` (a service such as `s3.amazonaws.com`, an account id,
        an IAM ARN) to perform `action` on this policy's resource, invoked with `qualifier` (statements of
        a qualified policy name that qualifier's ARN; those of the function's own policy the bare ARN)."""
        context = {
            "aws:sourcearn": source_arn,
            "aws:sourceaccount": source_account,
            "aws:principalorgid": principal_org_id,
            "lambda:functionurlauthtype": function_url_auth_type,
            "lambda:eventsourcetoken": event_source_token,
            "lambda:invokedviafunctionurl": "true" if invoked_via_function_url else None,
        }
        return any(
            s.get("Effect") == "Allow"
            and _action_matches(s.get("Action"), action)
            and _principal_matches(s.get("Principal"), principal)
            and _resource_matches(s.get("Resource", ""), qualifier)
            and _conditions_hold(s.get("Condition") or {}, context)
            for s in self.statements
        )


def _action_matches(pattern: Any, action: str) -> bool:
    patterns = pattern if isinstance(pattern, list) else [pattern]
    return any(p in ("*", "lambda:*") or str(p).lower() == action.lower() for p in patterns)


def _principal_matches(element: Any, principal: str) -> bool:
    if element == "*":
        return True
    if not isinstance(element, dict):
        return False
    if "Service" in element:
        return bool(element["Service"] == principal)
    granted = str(element.get("AWS", ""))
    if granted in ("*", principal):
        return True
    owner = _IAM_ARN.match(granted)
    if owner and granted.endswith(":root"):
        account = owner.group(1)
        if principal == account:
            return True
        caller = _IAM_ARN.match(principal)
        return caller is not None and caller.group(1) == account
    return False


def _resource_matches(resource: str, qualifier: str | None) -> bool:
    """Statements carry the ARN of the policy they belong to: a qualified one only the calls using that
    qualifier, an unqualified one calls of the unqualified function (and of $LATEST)."""
    parts = resource.split(":")
    own = parts[7] if len(parts) > 7 else None
    if own is None:
        return qualifier in (None, "$LATEST")
    return own == qualifier


def _conditions_hold(conditions: dict[str, dict[str, Any]], context: dict[str, str | None]) -> bool:
    for operator, pairs in conditions.items():
        for key, expected in pairs.items():
            actual = context.get(key.lower())
            if actual is None:
                return False
            values = expected if isinstance(expected, list) else [expected]
            if operator in ("ArnLike", "StringLike"):
                ok = any(fnmatch.fnmatchcase(actual, str(v)) for v in values)
            elif operator in ("ArnEquals", "StringEquals"):
                ok = actual in values
            elif operator == "Bool":
                ok = actual in [str(v).lower() for v in values]
            else:
                return False  # an operator Lamina does not evaluate never grants
            if not ok:
                return False
    return True
