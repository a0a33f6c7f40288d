"""The STS API (query protocol): GetCallerIdentity, AssumeRole, AssumeRoleWithWebIdentity, GetFederationToken and
GetSessionToken,
with AWS's validation (DurationSeconds and RoleSessionName by the model, the role's MaxSessionDuration, role
chaining's hour, session policies: MalformedPolicyDocument, at most 10 PolicyArns, PackedPolicyTooLarge past
the packed limit) and errors. The session policies are kept with the session (services/sts/engine.py) and cap
its permissions under `--auth sigv4` (auth/authorizer.py)."""

from __future__ import annotations

from typing import Any

from lamina.errors import ServiceFault, ValidationFailed
from lamina.services.iam.policy_document import check_identity_policy
from lamina.services.sts import web_identity
from lamina.services.sts.engine import Session, StsEngine
from lamina.types import CallContext

PACKED_LIMIT = 2048  # session policies and tags are packed; AWS reports the share used as a percentage
MAX_POLICY_ARNS = 10  # "You can provide up to 10 managed policy ARNs" (AssumeRole's PolicyArns)


def _assumed(session: Session) -> dict[str, Any]:
    return {"AssumedRoleId": session.user_id, "Arn": session.arn}


def _packed(params: dict[str, Any]) -> int | None:
    """PackedPolicySize: AWS answers it when the request carries a session policy, policy ARNs or tags."""
    policy = params.get("Policy")
    if policy is not None:
        check_identity_policy(policy)
    arns = params.get("PolicyArns") or []
    if len(arns) > MAX_POLICY_ARNS:
        raise ValidationFailed(
            "1 validation error detected: Value at 'policyArns' failed to satisfy constraint: "
            f"Member must have length less than or equal to {MAX_POLICY_ARNS}"
        )
    tags = params.get("Tags") or []
    if policy is None and not arns and not tags:
        return None
    size = len("".join((policy or "").split())) + sum(len(a.get("arn", "")) for a in arns)
    size += sum(len(t.get("Key", "")) + len(t.get("Value", "")) for t in tags)
    packed = max(1, size * 100 // PACKED_LIMIT)
    if packed > 100:
        raise ServiceFault("PackedPolicyTooLarge", f"Packed policy consumes {packed}% of allotted space", 400)
    return packed


def _session_policies(params: dict[str, Any]) -> dict[str, Any]:
    """The session policies of an AssumeRole… request, as the engine keeps them."""
    arns = tuple(str(a.get("arn", "")) for a in params.get("PolicyArns") or [])
    return {"policy": params.get("Policy"), "policy_arns": arns}


class StsProvider:
    def __init__(self, engine: StsEngine) -> None:
        self._engine = engine

    def get_caller_identity(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        arn, user_id = self._engine.caller(ctx.access_key_id)
        return {"UserId": user_id, "Account": self._engine.account_id, "Arn": arn}

    def assume_role(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        packed = _packed(params)
        session = self._engine.assume_role(
            ctx.access_key_id,
            params["RoleArn"],
            params["RoleSessionName"],
            params.get("DurationSeconds"),
            **_session_policies(params),
        )
        out: dict[str, Any] = {"Credentials": session.credentials(), "AssumedRoleUser": _assumed(session)}
        if packed is not None:
            out["PackedPolicySize"] = packed
        if params.get("SourceIdentity"):
            out["SourceIdentity"] = params["SourceIdentity"]
        return out

    def assume_role_with_web_identity(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        claims = web_identity.claims(params["WebIdentityToken"])
        packed = _packed(params)
        session = self._engine.assume_role_with_web_identity(
            params["RoleArn"], params["RoleSessionName"], params.get("DurationSeconds"), **_session_policies(params)
        )
        audience = claims.get("aud", "")
        out: dict[str, Any] = {
            "Credentials": session.credentials(),
            "SubjectFromWebIdentityToken": str(claims.get("sub", "")),
            "AssumedRoleUser": _assumed(session),
            "Provider": params.get("ProviderId") or str(claims.get("iss", "")).removeprefix("https://"),
            "Audience": str(audience[0] if isinstance(audience, list) and audience else audience),
        }
        if packed is not None:
            out["PackedPolicySize"] = packed
        return out

    def get_access_key_info(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        """Every key Lamina knows belongs to its one account."""
        return {"Account": self._engine.account_id}

    def get_federation_token(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        packed = _packed(params)
        session = self._engine.federation_token(
            ctx.access_key_id, params["Name"], params.get("DurationSeconds"), **_session_policies(params)
        )
        out: dict[str, Any] = {
            "Credentials": session.credentials(),
            "FederatedUser": {"FederatedUserId": session.user_id, "Arn": session.arn},
        }
        if packed is not None:
            out["PackedPolicySize"] = packed
        return out

    def get_session_token(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        session = self._engine.session_token(ctx.access_key_id, params.get("DurationSeconds"))
        return {"Credentials": session.credentials()}
