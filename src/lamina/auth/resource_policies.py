"""The resource-based policies Lamina evaluates beside identity policies: SQS queue policies (the queue's
`Policy` attribute), SNS topic policies (the topic's `Policy` attribute) and S3 bucket policies (PutBucketPolicy),
read through small lookups so this module knows no service's engine; Lambda function policies keep their own
check (`lambda_allows`).

`decision` answers for an IAM caller (the authorizer combines it with the identity policies, auth/authorizer.py);
`service_allows` answers for an AWS service principal delivering on someone's behalf (sns.amazonaws.com
sending to a queue, with aws:SourceArn / aws:SourceAccount of the topic), in both auth modes.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from lamina.auth.policy_evaluation import Context, Decision, Principal, evaluate_resource_policy, statements

log = logging.getLogger(__name__)

# a resource ARN → its policy document as stored (JSON text), None when it has none (or does not exist)
PolicyText = Callable[[str], str | None]
# (caller ARN, action, resource ARN) → whether a function's policy grants the caller the action
LambdaAllows = Callable[[str, str, str], bool]
# a role session's ARN → its role's ARN (None when the role is gone)
RoleOf = Callable[[str], str | None]


def _document(text: str | None) -> dict[str, Any] | None:
    if not text:
        return None
    try:
        found = json.loads(text)
    except ValueError:
        log.warning("a resource policy that is not JSON is ignored")
        return None
    return found if isinstance(found, dict) else None


def _aws_principals(statement: dict[str, Any]) -> list[str]:
    principal = statement.get("Principal")
    if not isinstance(principal, dict):
        return []
    found = principal.get("AWS")
    return [str(v) for v in (found if isinstance(found, list) else [found])] if found is not None else []


class ResourcePolicies:
    def __init__(
        self,
        account_id: str,
        queue_policy: PolicyText,
        topic_policy: PolicyText,
        lambda_allows: LambdaAllows | None = None,
        role_of: RoleOf | None = None,
        bucket_policy: PolicyText | None = None,
    ) -> None:
        self._bucket_policy = bucket_policy
        self._account = account_id
        self._queue_policy = queue_policy
        self._topic_policy = topic_policy
        self._lambda_allows = lambda_allows
        self._role_of = role_of

    def policy_of(self, resource: str) -> dict[str, Any] | None:
        """The parsed policy of a queue or topic ARN; None for other resources or when there is none."""
        service = resource.split(":", 3)[2] if resource.count(":") >= 5 else ""
        if service == "sqs":
            return _document(self._queue_policy(resource))
        if service == "sns":
            return _document(self._topic_policy(resource))
        if service == "s3" and self._bucket_policy is not None and resource.startswith("arn:aws:s3:::"):
            return _document(self._bucket_policy(resource[len("arn:aws:s3:::") :].split("/", 1)[0]))
        return None

    def decision(self, caller: str, action: str, resource: str, context: Context) -> Decision:
        """The resource's own policy's decision for an IAM caller (a role session is named by its session ARN
        or its role's ARN, as AWS matches it)."""
        arns = [caller]
        if ":assumed-role/" in caller and self._role_of is not None:
            role = self._role_of(caller)
            if role is not None:
                arns.append(role)
        if resource.startswith("arn:aws:lambda:"):
            allows = self._lambda_allows
            return (
                Decision.ALLOW
                if allows is not None and any(allows(a, action, resource) for a in arns)
                else (Decision.IMPLICIT_DENY)
            )
        document = self.policy_of(resource)
        if document is None:
            return Decision.IMPLICIT_DENY
        decision, _ = evaluate_resource_policy(document, Principal(arns, self._account), action, resource, context)
        return decision

    def direct_decision(self, caller: str, action: str, resource: str, context: Context) -> Decision:
        """The decision of only those statements of the resource's policy that name `caller`'s own ARN (for a
        role session: its session ARN, not its role's nor `*`), whose grants session policies do not cap. Lambda
        function policies name accounts, users, roles and services, never a session: none for them."""
        document = self.policy_of(resource)
        if document is None:
            return Decision.IMPLICIT_DENY
        named = [s for s in statements(document) if caller in _aws_principals(s)]
        decision, _ = evaluate_resource_policy({"Statement": named}, Principal([caller]), action, resource, context)
        return decision

    def service_allows(
        self, service: str, action: str, resource: str, source_arn: str, strict: bool
    ) -> tuple[bool, str]:
        """Whether `service` (e.g. sns.amazonaws.com) may perform `action` on `resource` for `source_arn`,
        with the reason when not. A resource without a policy: refused when `strict` (as AWS refuses;
        `--auth sigv4`), allowed otherwise (`--auth none` keeps an emulator's habit, see README)."""
        document = self.policy_of(resource)
        if document is None:
            return (not strict), f"{resource} has no policy that allows {service} to perform {action}"
        context: Context = {"aws:sourcearn": source_arn, "aws:sourceaccount": self._account}
        decision, _ = evaluate_resource_policy(document, Principal(service=service), action, resource, context)
        if decision is Decision.ALLOW:
            return True, ""
        verdict = "denies" if decision is Decision.EXPLICIT_DENY else "does not allow"
        return False, f"the policy of {resource} {verdict} {service} {action} from {source_arn}"
