"""The `CredentialIssuer` execution environments ask (sandbox/role_credentials.py): STS credentials of the
function's execution role, so a function's boto3 calling GetCallerIdentity learns
`arn:aws:sts::<account>:assumed-role/<role>/<function>` as on AWS."""

from __future__ import annotations

from collections.abc import Callable

from lamina.sandbox.role_credentials import RoleCredentials
from lamina.services.sts.engine import StsEngine


class FunctionRoleCredentials:
    def __init__(self, engine: StsEngine, role_of: Callable[[str], str | None]) -> None:
        self._engine = engine
        self._role_of = role_of  # unqualified function ARN → its execution role's ARN

    def issue(self, function_arn: str) -> RoleCredentials:
        role = self._role_of(function_arn) or f"arn:aws:iam::{self._engine.account_id}:role/lambda-role"
        return self._engine.function_credentials(role, function_arn.rsplit(":", 1)[-1])
