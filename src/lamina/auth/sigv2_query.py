"""S3's SigV2 query authentication (`?AWSAccessKeyId=…&Expires=…&Signature=…`), which boto3 still uses by default
for `generate_presigned_url` on S3. The string to sign is S3's: method, Content-MD5, Content-Type, Expires, the
`x-amz-*` headers (and query parameters, e.g. a session token), then the resource — the bucket and key path with
the sub-resources botocore signs. The signature is base64 HMAC-SHA1. Expiry itself is S3's check (its admit)."""

from __future__ import annotations

import base64
import hashlib
import hmac
from urllib.parse import parse_qsl, unquote

from botocore.auth import HmacV1Auth

from lamina.api.messages import Request

_OF_INTEREST = frozenset(HmacV1Auth.QSAOfInterest)


def is_sigv2_query(request: Request) -> bool:
    q = request.query_string
    return "AWSAccessKeyId=" in q and "Signature=" in q and "X-Amz-Algorithm" not in q


def string_to_sign(request: Request, bucket_in_host: str | None) -> str:
    pairs = parse_qsl(request.query_string, keep_blank_values=True)
    query = dict(pairs)
    amz = {k.lower(): v.strip() for k, v in request.headers.items() if k.lower().startswith("x-amz-")}
    amz.update({k.lower(): v for k, v in pairs if k.lower().startswith("x-amz-")})
    lines = [
        request.method.upper(),
        request.headers.get("content-md5", ""),
        request.headers.get("content-type", ""),
        query.get("Expires", ""),
    ]
    lines += [f"{k}:{amz[k]}" for k in sorted(amz)]
    resource = (f"/{bucket_in_host}" if bucket_in_host else "") + request.path
    raw = [p.split("=", 1) for p in request.query_string.split("&") if p]
    subresources = sorted(
        ("=".join((a[0], unquote(a[1]))) if len(a) == 2 else a[0]) for a in raw if a[0] in _OF_INTEREST
    )
    if subresources:
        resource += "?" + "&".join(subresources)
    return "\n".join([*lines, resource])


def signature(secret: str, text: str) -> str:
    return base64.b64encode(hmac.new(secret.encode(), text.encode(), hashlib.sha1).digest()).decode()


def access_key(request: Request) -> str:
    return request.query.get("AWSAccessKeyId", [""])[0]


def matches(request: Request, secret: str, bucket_in_host: str | None) -> bool:
    given = request.query.get("Signature", [""])[0]
    return hmac.compare_digest(signature(secret, string_to_sign(request, bucket_in_host)).encode(), given.encode())
