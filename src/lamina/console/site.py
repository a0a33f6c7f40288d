"""The console on Lamina's port: /console/ and its deep links answer the one page, /console/static/ its
assets (plain ES modules and CSS shipped in the package: no build step), /console/api/ the JSON API.
"""

from __future__ import annotations

from pathlib import Path

from lamina.api.messages import Request, Response
from lamina.console.api import PREFIX, ConsoleApi

STATIC = Path(__file__).parent / "static"
_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".txt": "text/plain; charset=utf-8",
}
# No network from the page: everything it loads comes from this server, and nothing else may run.
_SECURITY = [
    (
        "Content-Security-Policy",
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; "
        "frame-ancestors 'none'",
    ),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
]


def is_console(request: Request) -> bool:
    """A browser's request for the console: its path, and no AWS signature (a signed request for a path like
    /console/... is an API call, e.g. to a bucket of that name, and goes on to the services)."""
    path = request.path
    if not (path == "/console" or path.startswith("/console/")):
        return False
    return "authorization" not in request.headers and "X-Amz-Signature" not in request.query_string


class ConsoleSite:
    def __init__(self, api: ConsoleApi, static: Path = STATIC) -> None:
        self.api = api
        self._static = static.resolve()
        self._files: dict[str, bytes] = {}  # assets never change while the server runs

    async def handle(self, request: Request) -> Response:
        path = request.path
        if path.startswith(PREFIX):
            return await self.api.handle(request)
        if request.method not in ("GET", "HEAD"):
            return Response(405, [("Content-Type", "text/plain"), ("Allow", "GET, HEAD")], b"Method Not Allowed")
        if path == "/console":
            return Response(308, [("Location", "/console/")], b"")
        if path.startswith("/console/static/"):
            return self._asset(path[len("/console/static/") :])
        return self._asset("index.html")  # every page of the console is the one page, routed in the browser

    def _asset(self, name: str) -> Response:
        body = self._files.get(name)
        if body is None:
            target = (self._static / name).resolve()
            if not target.is_relative_to(self._static) or not target.is_file():
                return Response(404, [("Content-Type", "text/plain")], b"Not Found")
            body = target.read_bytes()
            self._files[name] = body
        kind = _TYPES.get(Path(name).suffix, "application/octet-stream")
        return Response(200, [("Content-Type", kind), ("Cache-Control", "no-cache"), *_SECURITY], body)
