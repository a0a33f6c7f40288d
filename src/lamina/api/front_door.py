"""HTTP front doors: services reached by Host header (or a path prefix) rather than by an AWS API.

Function URLs (`<url-id>.lambda-url.<region>.localhost`), API Gateway stages (`<api-id>.execute-api.localhost`),
load balancers (`<name>-<id>.<region>.elb.localhost`) and S3's virtual-host style (`<bucket>.s3.localhost`)
share the one port with the AWS APIs. The gateway asks each registered door, in order, whether it claims
a request before it looks for a SigV4 scope: a door's hosts never name an AWS API endpoint, so a request
signed for `lambda` to a function URL's host (AuthType AWS_IAM) still reaches the door.

A door translates HTTP to an event, calls the one invoke path (no second execution path) and maps the
result back to HTTP. `claims` runs for every request that is not a fast warm Invoke: keep it to a
string test on the host and path. A door may also define `too_large(request) -> Response`, its answer to a
body over its cap (ALB answers 502 where the AWS APIs answer 413).
"""

from __future__ import annotations

from typing import Protocol

from lamina.api.messages import Request, Response


class FrontDoor(Protocol):
    def claims(self, request: Request) -> bool:
        """True when this door serves the request (by its Host header or path prefix)."""
        ...

    def body_cap(self, request: Request) -> int:
        """The most body bytes the door takes for the request, known from its headers alone."""
        ...

    async def serve(self, request: Request) -> Response:
        """The HTTP answer; never raises for anything the client sent."""
        ...


def host_name(request: Request) -> str:
    """The Host header without its port, lower-cased."""
    host = request.headers.get("host", "")
    if host.startswith("["):  # an IPv6 literal
        return host.split("]", 1)[0] + "]"
    return host.rsplit(":", 1)[0].lower() if ":" in host else host.lower()
