"""Presigned URLs (SigV4 query authentication, and SigV2 as boto3 makes by default): the expiry they carry is
honoured. As everywhere else in Lamina, the signature itself is not verified (any credentials are accepted)."""

from __future__ import annotations

import calendar
import time
from collections.abc import Callable

from lamina.api.messages import Request
from lamina.clock import Clock
from lamina.services.s3.faults import S3Error

MAX_EXPIRES = 604800  # a week, AWS's longest presigned URL
S3_MAX_OBJECT = 5 * 1024**3  # PutObject's (and a part's) largest body


def _seconds(epoch: float) -> str:
    """AWS's form for Expires/ServerTime in these errors: ISO 8601 to the second."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def presigned_check(clock: Clock) -> Callable[[Request], None]:
    def check(request: Request) -> None:
        if "X-Amz-Expires" not in request.query_string:
            if "AWSAccessKeyId=" in request.query_string and "Signature=" in request.query_string:
                _check_v2(request, clock)
            return
        query = request.query
        expires_text = query.get("X-Amz-Expires", [""])[0]
        date_text = query.get("X-Amz-Date", [""])[0]
        try:
            expires = int(expires_text)
            signed = calendar.timegm(time.strptime(date_text, "%Y%m%dT%H%M%SZ"))
        except ValueError:
            raise S3Error(
                "AuthorizationQueryParametersError",
                "X-Amz-Expires should be a number" if date_text else "X-Amz-Date must be in the ISO8601 Long Format",
                400,
            ) from None
        if expires < 0:
            raise S3Error("AuthorizationQueryParametersError", "X-Amz-Expires must be non-negative", 400)
        if expires > MAX_EXPIRES:
            raise S3Error(
                "AuthorizationQueryParametersError",
                "X-Amz-Expires must be less than a week (in seconds) that is; 604800",
                400,
            )
        now = clock.time()
        if now > signed + expires:
            raise S3Error.named(
                "AccessDenied",
                "Request has expired",
                403,
                {"X-Amz-Expires": expires, "Expires": _seconds(signed + expires), "ServerTime": _seconds(now)},
            )

    return check


def _check_v2(request: Request, clock: Clock) -> None:
    """SigV2 query auth (boto3's default for presigned S3 URLs): `Expires` is the epoch second it ends."""
    text = request.query.get("Expires", [""])[0]
    try:
        expires = int(text)
    except ValueError:
        raise S3Error("AccessDenied", "Invalid date (should be seconds since epoch): " + text, 403) from None
    now = clock.time()
    if now > expires:
        raise S3Error("AccessDenied", "Request has expired", 403, Expires=_seconds(expires), ServerTime=_seconds(now))
