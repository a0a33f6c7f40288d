"""SigV4 verification for front doors that take signed HTTP (function URLs with AuthType AWS_IAM).

The same verifier as the API's (auth/sigv4.py): with `--auth sigv4` every key Lamina knows (root, IAM users,
STS sessions); with `--auth none` Lamina's configured pair only. A request whose key is unknown, whose scope
names another service, whose date is stale or whose signature differs is refused with the verifier's message.
"""

from __future__ import annotations

from typing import Any

from lamina.api.messages import Request
from lamina.auth.sigv4 import AuthFailure, Failure, Verifier, parse


class SignatureCheck:
    def __init__(self, verifier: Verifier, account: str, service: str = "lambda") -> None:
        self._verifier = verifier
        self._account = account
        self._service = service

    def verify(self, request: Request) -> dict[str, Any] | str | None:
        """The caller's `iam` block when the signature holds; None when the request is not signed; the
        refusal's message when it is signed badly."""
        try:
            signed = parse(request)
            if signed is None:
                return None
            secret = self._verifier.verify(request, self._service)
        except AuthFailure as failure:
            return None if failure.kind is Failure.MISSING else failure.message
        arn = secret.principal
        root = arn == f"arn:aws:iam::{self._account}:root"
        return {
            "accessKey": signed.access_key_id,
            "accountId": self._account,
            "callerId": self._account if root else signed.access_key_id,
            "cognitoIdentity": None,
            "principalOrgId": None,
            "userArn": arn,
            "userId": self._account if root else signed.access_key_id,
        }
