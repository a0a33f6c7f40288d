"""HTTP_PROXY integrations of REST and HTTP APIs: the client's request sent on to an HTTP endpoint and its answer
handed back as it came (status, headers, body; redirects are not followed, as API Gateway does not).

The endpoint URL is the integration's URI with `{name}` replaced by the route's path parameters (`{proxy}` for
a greedy `{proxy+}`) and the client's query string added. Hop-by-hop headers and Host are not forwarded; the
endpoint sees `X-Forwarded-For`/`-Proto`/`-Port` as behind API Gateway. Requests block a thread each, from a
pool of their own, so a slow endpoint cannot take the event loop's default executor.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import http.client
import re
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

from lamina.api.messages import Request, Response

HOP_HEADERS = {
    "connection",
    "content-length",
    "host",
    "keep-alive",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "expect",
}
_THREADS = concurrent.futures.ThreadPoolExecutor(max_workers=16, thread_name_prefix="lamina-http-proxy")
_PARAM = re.compile(r"\{([^{}+]+)\+?\}")


class Unreachable(Exception):
    """The endpoint could not be reached or did not answer HTTP."""


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirects)


@dataclass(frozen=True)
class Target:
    method: str
    url: str


def target_of(uri: str, method: str, request: Request, path_parameters: dict[str, str]) -> Target:
    """Where a request goes: the URI with its `{name}` parts filled in and the client's query string added."""

    def fill(match: re.Match[str]) -> str:
        return urllib.parse.quote(path_parameters.get(match.group(1), ""), safe="/")

    url = _PARAM.sub(fill, uri)
    if request.query_string:
        url += ("&" if "?" in url else "?") + request.query_string
    return Target(request.method if method in ("", "ANY") else method.upper(), url)


def forwarded_headers(request: Request, port: int) -> list[tuple[str, str]]:
    headers = [(request.header_spelling(n), v) for n, v in request.headers.items() if n not in HOP_HEADERS]
    if "x-forwarded-for" not in request.headers:
        headers.append(("X-Forwarded-For", "127.0.0.1"))
    headers.append(("X-Forwarded-Proto", "http"))
    headers.append(("X-Forwarded-Port", str(port)))
    return headers


async def send(target: Target, headers: list[tuple[str, str]], body: bytes, timeout: float) -> Response:
    """The endpoint's answer; raises TimeoutError past `timeout`, Unreachable when there is no HTTP answer."""

    def call() -> Response:
        data = body if body or target.method not in ("GET", "HEAD") else None
        outgoing = urllib.request.Request(target.url, data=data, method=target.method)
        for name, value in headers:
            outgoing.add_header(name, value)
        try:
            with _OPENER.open(outgoing, timeout=timeout) as answer:
                return _response(answer.status, answer.getheaders(), answer.read())
        except urllib.error.HTTPError as error:  # 3xx, 4xx, 5xx: the endpoint's own answer, passed on
            return _response(error.code, list(error.headers.items()), error.read())
        except TimeoutError:
            raise
        except (OSError, ValueError, http.client.HTTPException) as error:
            if isinstance(getattr(error, "reason", None), TimeoutError):
                raise TimeoutError from error
            raise Unreachable(str(error)) from error

    return await asyncio.wait_for(asyncio.get_running_loop().run_in_executor(_THREADS, call), timeout + 1)


def _response(status: int, headers: list[tuple[str, str]], body: bytes) -> Response:
    kept = [(n, v) for n, v in headers if n.lower() not in HOP_HEADERS]
    return Response(status, kept, body)
