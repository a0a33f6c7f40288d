"""SigV4 verification of API requests (`lamina serve --auth sigv4`).

The server recomputes the signature the way botocore's signer computes it (botocore/auth.py `SigV4Auth`,
`SigV4QueryAuth`), from the request as it arrived:

- canonical URI: the path as sent, dot segments removed and percent-encoded once more (`quote(path, '/~')`),
  except for S3, whose signer uses the path as sent;
- canonical query: every parameter (for a presigned URL all but `X-Amz-Signature`), decoded and re-encoded
  with RFC 3986's unreserved set, sorted by name then value;
- canonical headers: the signed ones, lower-case, values with runs of whitespace collapsed;
- payload hash: `X-Amz-Content-Sha256` when sent (S3's `UNSIGNED-PAYLOAD` and `STREAMING-…` included; a hex
  value must be the body's hash), `UNSIGNED-PAYLOAD` for a presigned S3 URL, else the body's SHA-256.

Derived signing keys (the HMAC chain over date, region, service) are cached per secret, day, region and
service, so a warm caller costs two SHA-256s and one HMAC per request. Signatures are compared with
`hmac.compare_digest`. Failures are `AuthFailure`s naming a kind the gateway turns into each protocol's error;
their messages never carry a secret or a signature.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from email.utils import mktime_tz, parsedate_tz
from enum import Enum
from functools import lru_cache
from typing import Any
from urllib.parse import quote, unquote

from botocore.utils import normalize_url_path

from lamina.api.messages import Request
from lamina.api.protocols.rest_xml import virtual_bucket
from lamina.auth import sigv2_query
from lamina.auth.chunk_signatures import SIGNED_PAYLOAD, SIGNED_PAYLOAD_TRAILER, ChunkChain
from lamina.auth.hmac_key import HmacKey

ALGORITHM = "AWS4-HMAC-SHA256"
SKEW_SECONDS = 15 * 60
_UTC = datetime.UTC
_EMPTY_SHA = hashlib.sha256(b"").hexdigest()
_REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-\d{1,2}")
_AMZ_DATE = re.compile(r"\d{8}T\d{6}Z")
_UNSIGNED = ("UNSIGNED-PAYLOAD", "STREAMING-")
MAX_PRESIGN_SECONDS = 7 * 24 * 3600

MISMATCH = (
    "The request signature we calculated does not match the signature you provided. Check your AWS Secret "
    "Access Key and signing method. Consult the service documentation for details."
)
INVALID_TOKEN = "The security token included in the request is invalid."
EXPIRED_TOKEN = "The security token included in the request is expired"


class Failure(Enum):
    """Why a request is refused; each protocol names these its own way (auth/wire.py)."""

    MISSING = "missing"  # no signature at all
    INCOMPLETE = "incomplete"  # an Authorization header or presigned query that is not well formed
    SIGNATURE = "signature"  # wrong secret, stale date, bad scope
    UNKNOWN_KEY = "unknown-key"  # an access key (or session token) Lamina does not know
    EXPIRED_TOKEN = "expired-token"  # temporary credentials past their expiry
    INACTIVE_KEY = "inactive-key"  # a user's access key marked Inactive


class AuthFailure(Exception):
    def __init__(self, kind: Failure, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


@dataclass(frozen=True, slots=True)
class Secret:
    """What verifying a key needs: its secret, the session token that must come with it (temporary
    credentials), and who it stands for."""

    secret_access_key: str
    principal: str  # the caller's ARN: arn:aws:iam::<account>:root, ...:user/<name>, ...:assumed-role/<r>/<s>
    session_token: str | None = None
    expires: float | None = None  # epoch seconds, temporary credentials only
    active: bool = True
    # an STS session's session policies (parsed), which cap its permissions; None: it has none
    session_policies: Sequence[dict[str, Any]] | None = None
    # whose identity policies apply when not the principal's own: a federated user's IAM user (or root)
    identity: str | None = None


@dataclass(frozen=True, slots=True)
class Signed:
    """The parts of a SigV4 signature, from the Authorization header or a presigned URL's query."""

    access_key_id: str
    date: str  # YYYYMMDD of the scope
    region: str
    service: str
    signed_headers: tuple[str, ...]
    signature: str
    amz_date: str  # YYYYMMDDTHHMMSSZ
    presigned: bool
    expires: int = 0  # X-Amz-Expires of a presigned URL
    token: str | None = None


# Where secrets are found: access key id → its `Secret` (None: unknown).
KeyLookup = Callable[[str], Secret | None]


def _incomplete(message: str) -> AuthFailure:
    return AuthFailure(Failure.INCOMPLETE, message)


def _amz_stamp(epoch: float) -> str:
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(epoch))


def _header_date(headers: dict[str, str]) -> str:
    """X-Amz-Date, else the Date header rewritten in the same form; "" when neither is usable."""
    value = headers.get("x-amz-date")
    if value:
        return value
    date = headers.get("date")
    if date:
        parsed = parsedate_tz(date)
        if parsed is not None:
            return _amz_stamp(mktime_tz(parsed))
    return ""


def parse(request: Request) -> Signed | None:
    """The request's signature parts; None when it carries none (neither header nor presigned query)."""
    header = request.headers.get("authorization")
    if header is not None:
        return _parse_header(header, request.headers)
    if "X-Amz-Signature" in request.query_string or "X-Amz-Credential" in request.query_string:
        return _parse_query(request.query)
    return None


_STANDARD = re.compile(
    r"AWS4-HMAC-SHA256 Credential=([^,\s]+), ?SignedHeaders=([^,\s]+), ?Signature=([0-9a-f]{64})"
)  # what every SDK sends: one match instead of a split


def _parse_header(header: str, headers: dict[str, str]) -> Signed:
    standard = _STANDARD.fullmatch(header)
    if standard is not None:
        amz_date = headers.get("x-amz-date") or _header_date(headers)
        if amz_date:
            credential, signed_headers, signature = standard.groups()
            return _signed(
                credential, signed_headers, signature, amz_date, False, 0, headers.get("x-amz-security-token")
            )
    algorithm, _, rest = header.strip().partition(" ")
    if algorithm != ALGORITHM:
        raise (
            _incomplete(f"Unsupported AWS 'algorithm': '{algorithm}'.")
            if algorithm.startswith("AWS4")
            else (AuthFailure(Failure.MISSING, "Missing Authentication Token"))
        )
    parts: dict[str, str] = {}
    for item in rest.split(","):
        name, eq, value = item.strip().partition("=")
        if eq:
            parts[name] = value
    missing = [name for name in ("Credential", "SignedHeaders", "Signature") if not parts.get(name)]
    if missing:
        raise _incomplete(" ".join(f"Authorization header requires '{name}' parameter." for name in missing))
    amz_date = _header_date(headers)
    if not amz_date:
        raise _incomplete("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")
    return _signed(parts["Credential"], parts["SignedHeaders"], parts["Signature"], amz_date, False, 0,
                   headers.get("x-amz-security-token"))  # fmt: skip


def _parse_query(query: dict[str, list[str]]) -> Signed:
    def one(name: str) -> str:
        values = query.get(name)
        return values[0] if values else ""

    missing = [n for n in ("X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-SignedHeaders", "X-Amz-Signature",
                           "X-Amz-Date") if not one(n)]  # fmt: skip
    if missing:
        raise _incomplete(" ".join(f"AWS query-string parameters must include '{n}'." for n in missing))
    if one("X-Amz-Algorithm") != ALGORITHM:
        raise _incomplete(f"Unsupported AWS 'algorithm': '{one('X-Amz-Algorithm')}'.")
    expires = one("X-Amz-Expires") or "0"
    if not expires.isdigit() or int(expires) > MAX_PRESIGN_SECONDS:
        raise _incomplete("X-Amz-Expires must be a number of seconds between 0 and 604800.")
    token = one("X-Amz-Security-Token") or None
    return _signed(one("X-Amz-Credential"), one("X-Amz-SignedHeaders"), one("X-Amz-Signature"), one("X-Amz-Date"),
                   True, int(expires), token)  # fmt: skip


def _signed(
    credential: str,
    signed_headers: str,
    signature: str,
    amz_date: str,
    presigned: bool,
    expires: int,
    token: str | None,
) -> Signed:
    key, date, region, service = _scope(credential)
    if not _AMZ_DATE.fullmatch(amz_date):
        raise _incomplete(f"Date must be in ISO-8601 'basic format'. Got '{amz_date}'.")
    return Signed(key, date, region, service, _names(signed_headers), signature, amz_date, presigned, expires, token)


# A caller sends the same credential and signed-header list with every request of the day: parsed once each.
@lru_cache(maxsize=1024)
def _scope(credential: str) -> tuple[str, str, str, str]:
    scope = credential.split("/")
    if len(scope) != 5 or scope[4] != "aws4_request" or not scope[0]:
        raise _incomplete(
            f"Credential should be scoped to a valid region. Credential must have exactly 5 slash-delimited elements, "
            f"e.g. keyid/date/region/service/term, got '{credential}'"
        )
    return scope[0], scope[1], scope[2], scope[3]


@lru_cache(maxsize=256)
def _names(signed_headers: str) -> tuple[str, ...]:
    names = tuple(signed_headers.split(";"))
    if "host" not in names:
        raise _incomplete("'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.")
    return names


@lru_cache(maxsize=256)
def _valid_region(region: str) -> bool:
    return _REGION.fullmatch(region) is not None


class Verifier:
    """Checks signatures against the secrets `lookup` finds, on `now` (the project's clock's time)."""

    def __init__(self, lookup: KeyLookup, now: Callable[[], float] | None = None) -> None:
        self._lookup = lookup
        self._now = now or time.time
        self._keys: dict[tuple[str, str, str, str], HmacKey] = {}

    def signing_key(self, secret: str, date: str, region: str, service: str) -> bytes:
        return self._signing_key(secret, date, region, service).key

    def _signing_key(self, secret: str, date: str, region: str, service: str) -> HmacKey:
        cache_key = (secret, date, region, service)
        found = self._keys.get(cache_key)
        if found is None:
            k = hmac.digest(("AWS4" + secret).encode(), date.encode(), "sha256")
            k = hmac.digest(k, region.encode(), "sha256")
            k = hmac.digest(k, service.encode(), "sha256")
            found = HmacKey(hmac.digest(k, b"aws4_request", "sha256"))
            if len(self._keys) >= 4096:
                self._keys.clear()
            self._keys[cache_key] = found
        return found

    def verify_post_policy(self, fields: dict[str, str]) -> Secret | None:
        """Who signed an S3 POST form's policy, None if nobody: SigV4 (x-amz-algorithm, x-amz-credential,
        x-amz-signature: the policy's base64 text signed with the scope's key) or SigV2, as boto3 signs by default
        (AWSAccessKeyId, signature: base64 HMAC-SHA1 of the policy); x-amz-security-token for temporary keys."""
        policy = fields.get("policy", "")
        if fields.get("x-amz-algorithm") == "AWS4-HMAC-SHA256":
            scope = fields.get("x-amz-credential", "").split("/")
            if len(scope) != 5 or scope[4] != "aws4_request":
                return None
            secret = self._post_signer(scope[0], fields.get("x-amz-security-token"))
            if secret is None:
                return None
            key = self.signing_key(secret.secret_access_key, scope[1], scope[2], scope[3])
            expected = hmac.new(key, policy.encode(), hashlib.sha256).hexdigest()
            return (
                secret if hmac.compare_digest(expected.encode(), fields.get("x-amz-signature", "").encode()) else None
            )
        if "awsaccesskeyid" in fields:
            secret = self._post_signer(fields["awsaccesskeyid"], fields.get("x-amz-security-token"))
            if secret is None:
                return None
            digest = hmac.digest(secret.secret_access_key.encode(), policy.encode(), "sha1")
            expected = base64.b64encode(digest).decode()
            return secret if hmac.compare_digest(expected.encode(), fields.get("signature", "").encode()) else None
        return None

    def _post_signer(self, key_id: str, token: str | None) -> Secret | None:
        secret = self._lookup(key_id)
        if secret is None or not secret.active or (secret.expires is not None and secret.expires < self._now()):
            return None
        if secret.session_token is not None and not hmac.compare_digest(
            (token or "").encode(), secret.session_token.encode()
        ):
            return None
        return secret

    def verify(self, request: Request, service: str) -> Secret:
        """Who signed `request` for `service` (its signing name); raises AuthFailure when nobody did."""
        if service == "s3" and sigv2_query.is_sigv2_query(request):
            return self._verify_sigv2(request)
        signed = parse(request)
        if signed is None:
            raise AuthFailure(Failure.MISSING, "Missing Authentication Token")
        secret = self._lookup(signed.access_key_id)
        if secret is None:
            raise AuthFailure(Failure.UNKNOWN_KEY, INVALID_TOKEN)
        if not _valid_region(signed.region):
            raise AuthFailure(Failure.SIGNATURE, "Credential should be scoped to a valid region.")
        if signed.service != service:
            raise AuthFailure(Failure.SIGNATURE, f"Credential should be scoped to correct service: '{service}'.")
        if signed.date != signed.amz_date[:8]:
            raise AuthFailure(
                Failure.SIGNATURE,
                f"Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: "
                f"'{signed.date}' != '{signed.amz_date[:8]}', from '{signed.amz_date}'.",
            )
        self._check_time(signed)
        if secret.session_token is not None and not hmac.compare_digest(
            (signed.token or "").encode(), secret.session_token.encode()
        ):
            raise AuthFailure(Failure.UNKNOWN_KEY, INVALID_TOKEN)
        expected = self.signature(request, signed, secret.secret_access_key)
        if not hmac.compare_digest(expected.encode(), signed.signature.encode()):
            raise AuthFailure(Failure.SIGNATURE, MISMATCH)
        if secret.expires is not None and secret.expires <= self._now():
            raise AuthFailure(Failure.EXPIRED_TOKEN, EXPIRED_TOKEN)
        if not secret.active:
            raise AuthFailure(Failure.INACTIVE_KEY, INVALID_TOKEN)
        streaming = request.headers.get("x-amz-content-sha256")
        if streaming in (SIGNED_PAYLOAD, SIGNED_PAYLOAD_TRAILER) and not signed.presigned:
            # the header signed the request; each chunk's signature chains on from it (checked as S3 reads them)
            key = self.signing_key(secret.secret_access_key, signed.date, signed.region, signed.service)
            scope = f"{signed.date}/{signed.region}/{signed.service}/aws4_request"
            request.chunk_chain = ChunkChain(
                key, signed.amz_date, scope, signed.signature, streaming == SIGNED_PAYLOAD_TRAILER
            )
        return secret

    def _verify_sigv2(self, request: Request) -> Secret:
        """An S3 presigned URL in SigV2 form (boto3's default for S3)."""
        secret = self._lookup(sigv2_query.access_key(request))
        if secret is None:
            raise AuthFailure(Failure.UNKNOWN_KEY, INVALID_TOKEN)
        if not sigv2_query.matches(request, secret.secret_access_key, virtual_bucket(request.headers.get("host", ""))):
            raise AuthFailure(Failure.SIGNATURE, MISMATCH)
        if not secret.active:
            raise AuthFailure(Failure.INACTIVE_KEY, INVALID_TOKEN)
        return secret

    def _check_time(self, signed: Signed) -> None:
        then = _epoch(signed.amz_date)
        now = self._now()
        if signed.presigned:
            if now > then + signed.expires:
                raise AuthFailure(
                    Failure.SIGNATURE,
                    f"Signature expired: {signed.amz_date} is now earlier than {_amz_stamp(now - signed.expires)} "
                    f"({_amz_stamp(now)} - {signed.expires} sec.)",
                )
            if then > now + SKEW_SECONDS:
                raise AuthFailure(Failure.SIGNATURE, "Signature not yet current: " + self._later(signed, now))
            return
        if then < now - SKEW_SECONDS:
            raise AuthFailure(
                Failure.SIGNATURE,
                f"Signature expired: {signed.amz_date} is now earlier than {_amz_stamp(now - SKEW_SECONDS)} "
                f"({_amz_stamp(now)} - 15 min.)",
            )
        if then > now + SKEW_SECONDS:
            raise AuthFailure(Failure.SIGNATURE, "Signature not yet current: " + self._later(signed, now))

    @staticmethod
    def _later(signed: Signed, now: float) -> str:
        return f"{signed.amz_date} is still later than {_amz_stamp(now + SKEW_SECONDS)} ({_amz_stamp(now)} + 15 min.)"

    def signature(self, request: Request, signed: Signed, secret: str) -> str:
        canonical = canonical_request(request, signed)
        scope = f"{signed.date}/{signed.region}/{signed.service}/aws4_request"
        to_sign = f"{ALGORITHM}\n{signed.amz_date}\n{scope}\n{hashlib.sha256(canonical.encode()).hexdigest()}"
        return self._signing_key(secret, signed.date, signed.region, signed.service).hexdigest(to_sign.encode())


@lru_cache(maxsize=64)
def _epoch(amz_date: str) -> float:
    """YYYYMMDDTHHMMSSZ (checked by _signed) as epoch seconds; a caller's requests within a second share it."""
    d = amz_date
    try:
        return datetime.datetime(
            int(d[0:4]), int(d[4:6]), int(d[6:8]), int(d[9:11]), int(d[11:13]), int(d[13:15]), tzinfo=_UTC
        ).timestamp()
    except ValueError:
        raise _incomplete(f"Date must be in ISO-8601 'basic format'. Got '{d}'.") from None


@lru_cache(maxsize=256)
def _header_order(signed_headers: tuple[str, ...]) -> tuple[str, ...]:
    """The signed header names as the canonical request lists them: sorted, each once."""
    return tuple(sorted(set(signed_headers)))


_PATHS: dict[str, str] = {}  # request path → its canonical form (non-S3), for the paths callers repeat


def _canonical_path(path: str) -> str:
    found = _PATHS.get(path)
    if found is None:
        found = quote(normalize_url_path(path), safe="/~")
        if len(_PATHS) >= 4096:
            _PATHS.clear()
        _PATHS[path] = found
    return found


def canonical_request(request: Request, signed: Signed) -> str:
    s3 = signed.service == "s3"
    path = request.path or "/"
    if not s3:
        path = _canonical_path(path)
    headers = request.headers
    repeated = request.repeated
    if repeated is None:  # the common request: every header sent once
        lines = [f"{name}:{' '.join(headers.get(name, '').split())}" for name in _header_order(signed.signed_headers)]
    else:
        lines = [
            f"{name}:{' '.join(headers.get(name, '').split())}"
            if name not in repeated
            else f"{name}:{','.join(' '.join(v.split()) for v in repeated[name])}"
            for name in _header_order(signed.signed_headers)
        ]
    return "\n".join(
        (
            request.method,
            path,
            _canonical_query(request.query_string, signed.presigned),
            "\n".join(lines) + "\n",
            ";".join(signed.signed_headers),
            _payload_hash(request, headers, signed, s3),
        )
    )


def _canonical_query(query_string: str, presigned: bool) -> str:
    if not query_string:
        return ""
    pairs = []
    for item in query_string.split("&"):
        name, _, value = item.partition("=")
        if presigned and name == "X-Amz-Signature":
            continue
        pairs.append((quote(unquote(name), safe="-_.~"), quote(unquote(value), safe="-_.~")))
    return "&".join(f"{k}={v}" for k, v in sorted(pairs))


def _payload_hash(request: Request, headers: dict[str, str], signed: Signed, s3: bool) -> str:
    claimed = headers.get("x-amz-content-sha256")
    if claimed is not None:
        streamed = request.body_stream is not None  # S3 checks it as the bytes arrive (XAmzContentSHA256Mismatch)
        if not claimed.startswith(_UNSIGNED) and not streamed and claimed != hashlib.sha256(request.body).hexdigest():
            raise AuthFailure(
                Failure.SIGNATURE, "The provided 'x-amz-content-sha256' header does not match what was computed."
            )
        return claimed
    if signed.presigned and s3:
        return "UNSIGNED-PAYLOAD"
    return hashlib.sha256(request.body).hexdigest() if request.body else _EMPTY_SHA
