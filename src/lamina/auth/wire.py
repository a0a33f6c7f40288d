"""How each protocol family names an authentication failure (AWS's common errors).

json and rest-json services (Lambda, DynamoDB, Logs, ...) answer with the `…Exception` names; query services
(IAM, STS, SNS, ELB, CloudFormation) and the query code a query-compatible json service (SQS) reports with the
older names. Every one is a 403 except a malformed signature on the query protocol (400, IncompleteSignature).
"""

from __future__ import annotations

from lamina.auth.sigv4 import Failure

# kind → (json code, query code, query status)
_CODES: dict[Failure, tuple[str, str, int]] = {
    Failure.MISSING: ("MissingAuthenticationTokenException", "MissingAuthenticationToken", 403),
    Failure.INCOMPLETE: ("IncompleteSignatureException", "IncompleteSignature", 400),
    Failure.SIGNATURE: ("InvalidSignatureException", "SignatureDoesNotMatch", 403),
    Failure.UNKNOWN_KEY: ("UnrecognizedClientException", "InvalidClientTokenId", 403),
    Failure.INACTIVE_KEY: ("UnrecognizedClientException", "InvalidClientTokenId", 403),
    Failure.EXPIRED_TOKEN: ("ExpiredTokenException", "ExpiredToken", 403),
}
QUERY_MISSING = "Request is missing Authentication Token"


def json_code(kind: Failure) -> tuple[str, str, int]:
    """(code, legacy query code, status) on the json and rest-json protocols."""
    code, query_code, _ = _CODES[kind]
    return code, query_code, 403


# S3 names them its own way (its XML error document), all 403 but a malformed signature (400).
_S3_CODES: dict[Failure, tuple[str, int]] = {
    Failure.MISSING: ("AccessDenied", 403),
    Failure.INCOMPLETE: ("AuthorizationHeaderMalformed", 400),
    Failure.SIGNATURE: ("SignatureDoesNotMatch", 403),
    Failure.UNKNOWN_KEY: ("InvalidAccessKeyId", 403),
    Failure.INACTIVE_KEY: ("InvalidAccessKeyId", 403),
    Failure.EXPIRED_TOKEN: ("ExpiredToken", 400),
}
S3_MISSING = "Access Denied"
S3_UNKNOWN_KEY = "The AWS Access Key Id you provided does not exist in our records."


def s3_code(kind: Failure) -> tuple[str, int]:
    return _S3_CODES[kind]


def query_code(kind: Failure) -> tuple[str, int]:
    _, code, status = _CODES[kind]
    return code, status
