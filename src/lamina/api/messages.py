"""The two values every layer of the wire code passes around: a parsed HTTP request and a response."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import parse_qs


@dataclass(slots=True)
class Request:
    method: str
    path: str  # still percent-encoded, without the query string
    query_string: str
    headers: dict[str, str]  # lower-case names
    body: bytes
    request_id: str = ""
    _query: dict[str, list[str]] | None = None

    @property
    def query(self) -> dict[str, list[str]]:
        if self._query is None:
            self._query = parse_qs(self.query_string, keep_blank_values=True) if self.query_string else {}
        return self._query


@dataclass(slots=True)
class Response:
    status: int = 200
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
