"""The gateway hands a request to the first front door that claims it, before any AWS API routing."""

from __future__ import annotations

import asyncio

from lamina.api.front_door import host_name
from lamina.api.gateway import Gateway
from lamina.api.messages import Request, Response


class _Door:
    def __init__(self, suffix: str) -> None:
        self.suffix = suffix
        self.served: list[str] = []

    def claims(self, request: Request) -> bool:
        return host_name(request).endswith(self.suffix)

    def body_cap(self, request: Request) -> int:
        return 10

    async def serve(self, request: Request) -> Response:
        self.served.append(request.path)
        return Response(200, [("Content-Type", "text/plain")], b"door")


def _request(host: str, auth: str = "") -> Request:
    headers = {"host": host}
    if auth:
        headers["authorization"] = auth
    return Request("GET", "/x", "", headers, b"")


def test_a_claimed_host_reaches_the_door_even_when_signed_for_an_aws_service() -> None:
    gateway = Gateway([], "us-east-1", "000000000000", "http://127.0.0.1:1")
    door = _Door(".lambda-url.us-east-1.localhost")
    gateway.add_door(door)
    signed = "AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/lambda/aws4_request, Signature=00"
    response = asyncio.run(gateway.handle(_request("abc.lambda-url.us-east-1.localhost:4566", signed)))
    assert (response.status, response.body, door.served) == (200, b"door", ["/x"])
    assert gateway.body_cap(_request("abc.lambda-url.us-east-1.localhost")) == 10


def test_other_hosts_pass_by_the_door() -> None:
    gateway = Gateway([], "us-east-1", "000000000000", "http://127.0.0.1:1")
    door = _Door(".lambda-url.us-east-1.localhost")
    gateway.add_door(door)
    response = asyncio.run(gateway.handle(_request("127.0.0.1:4566")))
    assert response.status != 200 and door.served == []


def test_host_name_drops_the_port_and_case() -> None:
    assert host_name(_request("ABC.Execute-Api.localhost:8080")) == "abc.execute-api.localhost"
    assert host_name(_request("[::1]:8080")) == "[::1]"
    assert host_name(_request("localhost")) == "localhost"


def test_a_repeated_header_keeps_its_separate_values() -> None:
    from lamina.api.server import serve

    seen: list[Request] = []

    async def handler(request: Request) -> Response:
        seen.append(request)
        return Response(200, [], b"ok")

    async def exchange() -> bytes:
        server = await serve(handler, "127.0.0.1", 0, 1 << 20, lambda r: Response(413), lambda: Response(400))
        port = server.sockets[0].getsockname()[1]
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(
                b"GET /a HTTP/1.1\r\nHost: h\r\nCookie: a=1\r\nX-One: only\r\nCookie: b=2; c=3\r\n"
                b"Connection: close\r\n\r\n"
            )
            answer = await reader.read()
            writer.close()
            return answer
        finally:
            server.close()
            await server.wait_closed()

    assert asyncio.run(exchange()).startswith(b"HTTP/1.1 200")
    (request,) = seen
    assert request.headers["cookie"] == "a=1,b=2; c=3"
    assert request.header_values("cookie") == ["a=1", "b=2; c=3"]
    assert request.header_values("x-one") == ["only"]
    assert request.header_values("x-missing") == []
