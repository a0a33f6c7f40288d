"""Per-chunk signatures of S3's signed `aws-chunked` uploads (`X-Amz-Content-Sha256:
STREAMING-AWS4-HMAC-SHA256-PAYLOAD` and `...-PAYLOAD-TRAILER`), as AWS's "Signature calculations for the
Authorization header: Transferring payload in multiple chunks" describes them.

Each chunk `<hex size>;chunk-signature=<sig>\\r\\n<data>\\r\\n` is signed over

    AWS4-HMAC-SHA256-PAYLOAD \\n <amz date> \\n <scope> \\n <previous signature> \\n <sha256("")> \\n <sha256(data)>

where the first chunk's previous signature is the Authorization header's (the seed) and the last chunk is empty.
The -TRAILER variant then signs the trailing headers (`name:value\\n` each, as sent) with
`AWS4-HMAC-SHA256-TRAILER \\n <amz date> \\n <scope> \\n <last chunk's signature> \\n <sha256(trailers)>`, sent as
`x-amz-trailer-signature:<sig>`. The verifier (auth/sigv4.py) hands a `ChunkChain` to the request once the seed
checks out; S3's chunk decoder feeds it each chunk's bytes as they arrive, so no chunk is ever held whole.
"""

from __future__ import annotations

import hashlib
import hmac

from lamina.auth.hmac_key import HmacKey

SIGNED_PAYLOAD = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
SIGNED_PAYLOAD_TRAILER = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
_EMPTY_SHA = hashlib.sha256(b"").hexdigest()


class ChunkSignatureMismatch(Exception):
    """A chunk (or the trailer) whose signature is missing or is not the one its bytes and the chain give."""


class ChunkChain:
    """The running state of one signed chunked body: the signing key, the scope, the last good signature and
    the hash of the chunk being read."""

    def __init__(self, key: bytes, amz_date: str, scope: str, seed: str, trailer: bool) -> None:
        self._key = HmacKey(key)
        self._prefix = f"{amz_date}\n{scope}\n"
        self._previous = seed
        self.trailer = trailer  # trailing headers must come, and signed
        self._claimed = ""
        self._hash = hashlib.sha256()

    def begin(self, signature: str | None) -> None:
        """A chunk starts, claiming `signature` (its `chunk-signature` extension; None when absent)."""
        if not signature:
            raise ChunkSignatureMismatch("a chunk without a chunk-signature")
        self._claimed = signature
        self._hash = hashlib.sha256()

    def update(self, data: bytes) -> None:
        self._hash.update(data)

    def end(self) -> None:
        """The chunk's bytes are all in: its signature must be the chain's next."""
        to_sign = f"AWS4-HMAC-SHA256-PAYLOAD\n{self._prefix}{self._previous}\n{_EMPTY_SHA}\n{self._hash.hexdigest()}"
        self._previous = self._check(to_sign, self._claimed)

    def trailers(self, lines: list[tuple[str, str]], signature: str | None) -> None:
        """The trailing headers as sent (name, value) and the x-amz-trailer-signature that came with them."""
        if signature is None:
            raise ChunkSignatureMismatch("trailing headers without x-amz-trailer-signature")
        canonical = "".join(f"{name}:{value}\n" for name, value in lines).encode()
        to_sign = f"AWS4-HMAC-SHA256-TRAILER\n{self._prefix}{self._previous}\n{hashlib.sha256(canonical).hexdigest()}"
        self._check(to_sign, signature)

    def _check(self, to_sign: str, claimed: str) -> str:
        expected = self._key.hexdigest(to_sign.encode())
        if not hmac.compare_digest(expected.encode(), claimed.encode()):
            raise ChunkSignatureMismatch("a chunk signature that does not match")
        return expected
