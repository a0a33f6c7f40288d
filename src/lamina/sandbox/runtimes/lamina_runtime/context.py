"""The `context` object handed to Python handlers, attribute for attribute as awslambdaric's LambdaContext.

Invariant: static fields come from the environment variables of the sandbox (read once per environment),
per-invocation fields from the Runtime API's `next` headers; `memory_limit_in_mb` stays a string.
"""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any


class CognitoIdentity:
    __slots__ = ["cognito_identity_id", "cognito_identity_pool_id"]
    cognito_identity_id: str | None
    cognito_identity_pool_id: str | None

    def __repr__(self) -> str:
        return (
            f"{self.__class__.__name__}(["
            f"cognito_identity_id={getattr(self, 'cognito_identity_id', None)},"
            f"cognito_identity_pool_id={getattr(self, 'cognito_identity_pool_id', None)}"
            "])"
        )


class Client:
    __slots__ = ["app_package_name", "app_title", "app_version_code", "app_version_name", "installation_id"]

    def __repr__(self) -> str:
        fields = ",".join(f"{name}={getattr(self, name, None)}" for name in self.__slots__)
        return f"{self.__class__.__name__}([{fields}])"


class ClientContext:
    __slots__ = ["client", "custom", "env"]
    client: Client | None
    custom: dict[str, Any] | None
    env: dict[str, Any] | None

    def __repr__(self) -> str:
        fields = ",".join(f"{name}={getattr(self, name, None)}" for name in self.__slots__)
        return f"{self.__class__.__name__}([{fields}])"


def _fill(obj: Any, values: dict[str, Any]) -> Any:
    for name in obj.__slots__:
        setattr(obj, name, values.get(name))
    return obj


_STATIC: list[tuple[str | None, ...]] = []


def _static_fields() -> tuple[str | None, ...]:
    """The fields that come from the environment's variables, read once (os.environ decodes per read)."""
    if not _STATIC:
        env = os.environ
        names = ("LOG_GROUP_NAME", "LOG_STREAM_NAME", "FUNCTION_NAME", "FUNCTION_MEMORY_SIZE", "FUNCTION_VERSION")
        _STATIC.append(tuple(env.get(f"AWS_LAMBDA_{name}") for name in names))
    return _STATIC[0]


def forget_static_fields() -> None:
    _STATIC.clear()


class LambdaContext:
    def __init__(
        self,
        request_id: str,
        client_context: dict[str, Any] | None,
        cognito_identity: dict[str, Any] | None,
        deadline_ms: int,
        invoked_function_arn: str,
        tenant_id: str | None = None,
    ) -> None:
        static = _static_fields()
        self.aws_request_id = request_id
        self.log_group_name = static[0]
        self.log_stream_name = static[1]
        self.function_name = static[2]
        self.memory_limit_in_mb = static[3]
        self.function_version = static[4]
        self.invoked_function_arn = invoked_function_arn
        self.tenant_id = tenant_id
        self.client_context: ClientContext | None = None
        if client_context is not None:
            context: ClientContext = _fill(ClientContext(), client_context)
            client = client_context.get("client")
            context.client = None if client is None else _fill(Client(), client)
            self.client_context = context
        self.identity = CognitoIdentity()
        if cognito_identity is not None:
            self.identity.cognito_identity_id = cognito_identity.get("cognitoIdentityId")
            self.identity.cognito_identity_pool_id = cognito_identity.get("cognitoIdentityPoolId")
        self._epoch_deadline_time_in_ms = deadline_ms

    def get_remaining_time_in_millis(self) -> int:
        delta = self._epoch_deadline_time_in_ms - int(time.time() * 1000)
        return delta if delta > 0 else 0

    def log(self, msg: object) -> None:
        sys.stdout.write(str(msg))

    def __repr__(self) -> str:
        return (
            f"{self.__class__.__name__}(["
            f"aws_request_id={self.aws_request_id},"
            f"log_group_name={self.log_group_name},"
            f"log_stream_name={self.log_stream_name},"
            f"function_name={self.function_name},"
            f"memory_limit_in_mb={self.memory_limit_in_mb},"
            f"function_version={self.function_version},"
            f"invoked_function_arn={self.invoked_function_arn},"
            f"client_context={self.client_context},"
            f"identity={self.identity},"
            f"tenant_id={self.tenant_id}"
            "])"
        )


def parse_json_header(raw: str | None) -> dict[str, Any] | None:
    if not raw:
        return None
    value: dict[str, Any] = json.loads(raw)
    return value
