"""Whether a verified caller may perform an operation (`--auth sigv4`), as AWS's "Policy evaluation logic"
decides it within one account:

1. an explicit Deny in any identity policy of the caller, in its permissions boundary or in the resource's own
   policy (Lambda function policies, SQS queue policies, SNS topic policies, S3 bucket policies) denies;
2. else an Allow in the resource's policy that names the caller allows (same account: either kind may grant);
3. else an Allow in an identity policy allows, if the caller has no permissions boundary or the boundary
   allows too (effective permissions = identity ∩ boundary);
4. else the request is implicitly denied.

GetFederationToken's credentials have their IAM user's identity policies and boundary, always capped by their
session policies (none: no permissions but what a resource policy naming the federated user grants).
STS credentials issued with session policies (AssumeRole's `Policy` and `PolicyArns`) are capped by them too, as
AWS's "Session policies" documents: an explicit Deny in one denies; otherwise the session may do only what its
session policies allow as well, whether its role's identity policies or a resource policy naming the role
granted it (identity ∩ boundary ∩ session); a resource policy that names the session's own ARN grants it
whatever the session policies say (its permissions are added after them). Credentials without session policies
pay nothing for this: `session` is None and no session check runs.

S3 also grants by ACL (services/s3/acl_access.py): when no policy allowed an S3 action and none denied it, the
bucket's or object's ACL may still allow it (read only then, so a request its policies allow reads no ACL). S3 alone
serves unsigned requests: their principal is ANONYMOUS, allowed only by what grants `*` (a bucket policy's
statements for everyone, a public ACL), refused with S3's plain "Access Denied".

The account's root may do everything its account allows, but an explicit Deny in a resource's own policy (an
SQS queue's, an SNS topic's, an S3 bucket's) applies to it too, as on AWS; only S3's GetBucketPolicy,
PutBucketPolicy and DeleteBucketPolicy stay open to root, so a bucket owner cannot lock itself out. (Lambda
function policies cannot hold a Deny.) The request context carries aws:PrincipalArn, aws:PrincipalAccount,
aws:userid, aws:username (IAM users), aws:SourceIp (the caller's socket address), aws:RequestedRegion,
aws:CurrentTime, aws:EpochTime and aws:SecureTransport.

Refusals carry AWS's message: "User: <caller> is not authorized to perform: <action> on resource: <arn>
because no identity-based policy allows the <action> action" (or "with an explicit deny in an identity-based
policy" / "... in a resource-based policy" / "... in a session policy", "because no permissions boundary allows
the <action> action", "because no session policy allows the <action> action");
S3's quote the ARN (`on resource: "arn:aws:s3:::bucket/key"`), as its messages have since 2024.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from lamina.auth.actions import action_name, resource_arn
from lamina.auth.policy_evaluation import Context, Decision, evaluate

# caller ARN → the parsed identity policies that apply to it
PolicySource = Callable[[str], list[dict[str, Any]]]
# caller ARN → its permissions boundary (a parsed managed policy), None when it has none
BoundarySource = Callable[[str], dict[str, Any] | None]
# (caller ARN, action, resource ARN, request context) → the resource's own policy's decision for the caller
# (IMPLICIT_DENY when the resource has no policy or none of its statements applies)
ResourcePolicyCheck = Callable[[str, str, str, Context], Decision]
# caller ARN → aws:userid (an IAM user's AIDA… id, "<role id>:<session>" for a role session), None if unknown
UserIdSource = Callable[[str], str | None]
# (anonymous?, action, resource ARN, version id) → whether an S3 ACL grants the action (never a deny)
AclCheck = Callable[[bool, str, str, str | None], bool]
# (action, resource ARN, version id, request context) → the decision for an unsigned S3 request
AnonymousCheck = Callable[[str, str, str | None, Context], Decision]
ANONYMOUS = "anonymous"  # the caller of an unsigned S3 request
ANONYMOUS_DENIED = "Access Denied"  # S3's refusal of an anonymous request (no principal to name)
ALWAYS_ALLOWED = frozenset({"sts:GetCallerIdentity"})  # AWS answers it for every valid credential
# the services whose resource policies can deny root (Lambda function policies have Allow statements only)
ROOT_DENIABLE = frozenset({"sqs", "sns", "s3"})
# what root may always do to a bucket whatever its policy says (S3 PutBucketPolicy's documentation)
ROOT_UNDENIABLE = frozenset({"s3:GetBucketPolicy", "s3:PutBucketPolicy", "s3:DeleteBucketPolicy"})


class Denied(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _stamp(epoch: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


class Authorizer:
    def __init__(
        self,
        account_id: str,
        policies: PolicySource,
        now: Callable[[], float],
        resource_policy: ResourcePolicyCheck | None = None,
        boundary: BoundarySource | None = None,
        user_id: UserIdSource | None = None,
        acl: AclCheck | None = None,
        anonymous: AnonymousCheck | None = None,
        direct_resource_policy: ResourcePolicyCheck | None = None,
    ) -> None:
        self._direct = direct_resource_policy  # only the statements naming the caller's own ARN
        self._acl = acl
        self._anonymous = anonymous
        self._resource_policy = resource_policy
        self._boundary = boundary
        self._user_id = user_id
        self._account = account_id
        self._root = f"arn:aws:iam::{account_id}:root"
        self._policies = policies
        self._now = now

    def context(self, caller: str, region: str, secure: bool = False, source_ip: str = "") -> Context:
        now = self._now()
        context: dict[str, str | list[str]] = {
            "aws:principalarn": caller,
            "aws:principalaccount": self._account,
            "aws:currenttime": _stamp(now),
            "aws:epochtime": str(int(now)),
            "aws:securetransport": "true" if secure else "false",
            "aws:requestedregion": region,
        }
        if source_ip:
            context["aws:sourceip"] = source_ip
        kind, _, rest = caller.split(":", 5)[-1].partition("/")
        if kind == "user":
            context["aws:username"] = rest.rsplit("/", 1)[-1]
        user_id = self._account if caller == self._root else self._user_id(caller) if self._user_id else None
        if user_id:
            context["aws:userid"] = user_id
        return context

    def check(
        self,
        caller: str,
        signing_name: str,
        operation: str,
        params: dict[str, Any],
        region: str,
        source_ip: str = "",
        session: Sequence[dict[str, Any]] | None = None,
        identity: str | None = None,
    ) -> None:
        """Raises Denied unless `caller` may perform `operation` with `params` (within its credentials'
        `session` policies when they have some; `identity`: whose identity policies apply, if not the
        caller's own, as a federated user has its IAM user's)."""
        if caller == self._root:
            if signing_name in ROOT_DENIABLE and self._resource_policy is not None:
                self._root_check(signing_name, operation, params, region, source_ip)
            return
        if caller == ANONYMOUS:
            self._anonymous_check(signing_name, operation, params, region, source_ip)
            return
        action = action_name(signing_name, operation)
        if action in ALWAYS_ALLOWED:
            return
        resource = resource_arn(signing_name, region, self._account, operation, params)
        version = params.get("VersionId") if signing_name == "s3" else None
        context = self.context(caller, region, source_ip=source_ip)
        self.decide(caller, action, resource, context, version, session, identity)

    def _anonymous_check(
        self, signing_name: str, operation: str, params: dict[str, Any], region: str, source_ip: str
    ) -> None:
        """An unsigned request: allowed only by S3's grants to everyone."""
        if signing_name != "s3" or self._anonymous is None:
            raise Denied(ANONYMOUS_DENIED)
        action = action_name(signing_name, operation)
        resource = resource_arn(signing_name, region, self._account, operation, params)
        now = self._now()
        context: dict[str, str | list[str]] = {
            "aws:currenttime": _stamp(now),
            "aws:epochtime": str(int(now)),
            "aws:securetransport": "false",
            "aws:requestedregion": region,
        }
        if source_ip:
            context["aws:sourceip"] = source_ip
        if self._anonymous(action, resource, params.get("VersionId"), context) is not Decision.ALLOW:
            raise Denied(ANONYMOUS_DENIED)

    def _root_check(
        self, signing_name: str, operation: str, params: dict[str, Any], region: str, source_ip: str
    ) -> None:
        """Root is refused only by an explicit Deny in the resource's own policy."""
        action = action_name(signing_name, operation)
        if action in ROOT_UNDENIABLE or action in ALWAYS_ALLOWED:
            return
        resource = resource_arn(signing_name, region, self._account, operation, params)
        assert self._resource_policy is not None
        context = self.context(self._root, region, source_ip=source_ip)
        if self._resource_policy(self._root, action, resource, context) is Decision.EXPLICIT_DENY:
            raise Denied(
                f"User: {self._root} is not authorized to perform: {action} on resource: {_shown(action, resource)} "
                "with an explicit deny in a resource-based policy"
            )

    def decide(
        self,
        caller: str,
        action: str,
        resource: str,
        context: Context,
        version_id: str | None = None,
        session: Sequence[dict[str, Any]] | None = None,
        holder: str | None = None,
    ) -> None:
        """Raises Denied unless the policies that apply to `caller` (or, for S3, an ACL: of the object's
        `version_id` when given) let it perform `action` on `resource`, within its `session` policies if any.
        `holder`: whose identity policies and permissions boundary apply, when not the caller's own."""
        holder = holder or caller
        identity, _ = evaluate(self._policies(holder), action, resource, context)
        why = f"because no identity-based policy allows the {action} action"
        if identity is Decision.EXPLICIT_DENY:
            why = "with an explicit deny in an identity-based policy"
        else:
            boundary_doc = self._boundary(holder) if self._boundary is not None else None
            bounded = Decision.ALLOW if boundary_doc is None else evaluate([boundary_doc], action, resource, context)[0]
            scoped = Decision.ALLOW if session is None else evaluate(session, action, resource, context)[0]
            if bounded is Decision.EXPLICIT_DENY:
                why = "with an explicit deny in a permissions boundary"
            elif scoped is Decision.EXPLICIT_DENY:
                why = "with an explicit deny in a session policy"
            else:
                granted = (
                    self._resource_policy(caller, action, resource, context)
                    if self._resource_policy is not None
                    else Decision.IMPLICIT_DENY
                )
                if granted is Decision.EXPLICIT_DENY:
                    why = "with an explicit deny in a resource-based policy"
                elif scoped is Decision.ALLOW and (
                    granted is Decision.ALLOW
                    or (identity is Decision.ALLOW and bounded is Decision.ALLOW)
                    or self._acl_grants(action, resource, version_id)
                ):
                    return
                elif granted is Decision.ALLOW and self._names_session(caller, action, resource, context):
                    return  # a resource policy naming the session itself is not capped by its session policies
                elif identity is Decision.ALLOW and bounded is not Decision.ALLOW:
                    why = f"because no permissions boundary allows the {action} action"
                elif identity is Decision.ALLOW or granted is Decision.ALLOW:
                    why = f"because no session policy allows the {action} action"
        shown = _shown(action, resource)
        raise Denied(f"User: {caller} is not authorized to perform: {action} on resource: {shown} {why}")

    def _names_session(self, caller: str, action: str, resource: str, context: Context) -> bool:
        """Whether the resource's policy allows `caller` by naming its own (session) ARN."""
        return self._direct is not None and self._direct(caller, action, resource, context) is Decision.ALLOW

    def _acl_grants(self, action: str, resource: str, version_id: str | None) -> bool:
        """Whether an S3 ACL grants a signed caller `action` (asked only when no policy allowed it)."""
        return self._acl is not None and action.startswith("s3:") and self._acl(False, action, resource, version_id)


def _shown(action: str, resource: str) -> str:
    """The resource as the refusal names it: S3 quotes its ARN ("arn:aws:s3:::bucket/key"), others do not."""
    return f'"{resource}"' if action.startswith("s3:") else resource
