"""SigV4 verification for front doors that take signed HTTP (function URLs with AuthType AWS_IAM).

The signature is recomputed with botocore's own signer over the headers the client says it signed, with
Lamina's configured credentials; a request whose access key is not Lamina's, whose scope names another
service, or whose signature differs is refused.
"""

from __future__ import annotations

import hmac
import re
from typing import Any

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from lamina.api.messages import Request

_AUTH = re.compile(
    r"AWS4-HMAC-SHA256\s+Credential=(?P<key>[^/]+)/(?P<date>\d{8})/(?P<region>[^/]+)/(?P<service>[^/]+)/aws4_request,"
    r"\s*SignedHeaders=(?P<signed>[^,]+),\s*Signature=(?P<signature>[0-9a-f]+)"
)
MISMATCH = (
    "The request signature we calculated does not match the signature you provided. Check your AWS Secret "
    "Access Key and signing method. Consult the service documentation for details."
)


class SignatureCheck:
    def __init__(self, access_key: str, secret_key: str, account: str, service: str = "lambda") -> None:
        self._access_key = access_key
        self._secret_key = secret_key
        self._account = account
        self._service = service

    def verify(self, request: Request) -> dict[str, Any] | str | None:
        """The caller's `iam` block when the signature holds; None when the request is not signed; the
        refusal's message when it is signed badly."""
        header = request.headers.get("authorization", "")
        match = _AUTH.fullmatch(header.strip())
        amz_date = request.headers.get("x-amz-date", "")
        if match is None or not amz_date:
            return None
        if match["key"] != self._access_key:
            return "The security token included in the request is invalid."
        if match["service"] != self._service:
            return f"Credential should be scoped to correct service: '{self._service}'."
        signed = match["signed"].split(";")
        url = f"http://{request.headers.get('host', '')}{request.path}"
        if request.query_string:
            url += "?" + request.query_string
        headers = {name: request.headers.get(name, "") for name in signed}
        aws_request = AWSRequest(method=request.method, url=url, headers=headers, data=request.body)
        aws_request.context["timestamp"] = amz_date
        signer = SigV4Auth(Credentials(self._access_key, self._secret_key), self._service, match["region"])
        canonical = signer.canonical_request(aws_request)
        expected = signer.signature(signer.string_to_sign(aws_request, canonical), aws_request)
        if not hmac.compare_digest(expected, match["signature"]):
            return MISMATCH
        return {
            "accessKey": self._access_key,
            "accountId": self._account,
            "callerId": self._access_key,
            "cognitoIdentity": None,
            "principalOrgId": None,
            "userArn": f"arn:aws:iam::{self._account}:root",
            "userId": self._account,
        }
