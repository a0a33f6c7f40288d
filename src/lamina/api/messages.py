"""The two values every layer of the wire code passes around: a parsed HTTP request and a response."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import parse_qs

if TYPE_CHECKING:
    from lamina.auth.chunk_signatures import ChunkChain


@dataclass(slots=True)
class Request:
    method: str
    path: str  # still percent-encoded, without the query string
    query_string: str
    headers: dict[str, str]  # lower-case names
    body: bytes
    request_id: str = ""
    _query: dict[str, list[str]] | None = None
    # The separate values of each header sent more than once (`headers` holds them comma-joined); None
    # when no header repeats, so the common request pays nothing. Front doors need them apart.
    repeated: dict[str, list[str]] | None = None
    # Header names as the client spelled them, for those not sent in lower case (API Gateway's REST APIs
    # hand the function the client's spelling); None when every name came lower-case.
    spelled: dict[str, str] | None = None
    # The body still arriving, for operations that take it as a stream (S3 objects): then `body` is empty.
    body_stream: AsyncIterator[bytes] | None = None
    # A signed aws-chunked body's signature chain (auth/chunk_signatures.py), set once the seed signature is
    # verified (--auth sigv4): S3's chunk decoder checks every chunk against it.
    chunk_chain: ChunkChain | None = None
    peer: str = ""  # the client's socket address (IP), "" when not from a socket: aws:SourceIp

    @property
    def query(self) -> dict[str, list[str]]:
        if self._query is None:
            self._query = parse_qs(self.query_string, keep_blank_values=True) if self.query_string else {}
        return self._query

    def header_spelling(self, name: str) -> str:
        """Header `name` (lower-case) as the client spelled it."""
        return name if self.spelled is None else self.spelled.get(name, name)

    def header_values(self, name: str) -> list[str]:
        """Every value of header `name` (lower-case) in the order sent; [] when absent."""
        if self.repeated is not None and name in self.repeated:
            return list(self.repeated[name])
        value = self.headers.get(name)
        return [] if value is None else [value]


@dataclass(slots=True)
class Response:
    status: int = 200
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    # A body sent as it is produced (chunked transfer encoding), instead of `body`; the server closes the
    # iterator (`aclose`) when it stops early, e.g. because the client went away.
    stream: AsyncIterator[bytes] | None = None
    # The body's length when it is known but not in `body`: a `stream` of that many bytes is sent with
    # Content-Length instead of in chunks (S3 objects), and an answer to HEAD names it (HeadObject).
    length: int | None = None
