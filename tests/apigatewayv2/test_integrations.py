"""Integrations other than AWS_PROXY, end to end: HTTP_PROXY (HTTP and REST APIs) to an endpoint the test serves,
MOCK for REST APIs; and a REST API and an HTTP API served side by side on the one port."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.apigatewayv2.conftest import grant
from tests.elbv2.conftest import http_call
from tests.server import LaminaProcess


@pytest.fixture
def upstream() -> Iterator[str]:
    """An HTTP endpoint answering with what it was sent (JSON), 302 at /redirect, 418 at /teapot."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            if self.path.startswith("/redirect"):
                self.send_response(302)
                self.send_header("Location", "/elsewhere")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            seen = {
                "method": self.command,
                "path": self.path,
                "headers": {k.lower(): v for k, v in self.headers.items()},
                "body": body.decode(),
            }
            data = json.dumps(seen).encode()
            self.send_response(418 if self.path.startswith("/teapot") else 200)
            self.send_header("Content-Type", "application/json")
            self.send_header("X-Upstream", "yes")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            self._answer()

        def do_POST(self) -> None:
            self._answer()

        def do_PUT(self) -> None:
            self._answer()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_an_http_api_route_proxies_to_an_http_endpoint(lamina: LaminaProcess, apigw: Any, upstream: str) -> None:
    api_id = apigw.create_api(Name="proxy", ProtocolType="HTTP")["ApiId"]
    try:
        integration = apigw.create_integration(
            ApiId=api_id,
            IntegrationType="HTTP_PROXY",
            IntegrationMethod="ANY",
            IntegrationUri=upstream + "/{proxy}",
            PayloadFormatVersion="1.0",
        )
        target = f"integrations/{integration['IntegrationId']}"
        apigw.create_route(ApiId=api_id, RouteKey="ANY /{proxy+}", Target=target)
        apigw.create_stage(ApiId=api_id, StageName="$default", AutoDeploy=True)
        host = f"{api_id}.execute-api.localhost"
        answer = http_call(lamina.port, host, "POST", "/items/7?a=1&a=2", body=b"hello", headers=[("X-Mine", "m")])
        assert answer.status == 200, answer.body
        assert answer.header("X-Upstream") == ["yes"]
        seen = json.loads(answer.body)
        assert (seen["method"], seen["path"], seen["body"]) == ("POST", "/items/7?a=1&a=2", "hello")
        assert seen["headers"]["x-mine"] == "m" and seen["headers"]["x-forwarded-proto"] == "http"
        teapot = http_call(lamina.port, host, "GET", "/teapot")
        assert teapot.status == 418  # the endpoint's status passes through
        redirect = http_call(lamina.port, host, "GET", "/redirect")
        assert (redirect.status, redirect.header("Location")) == (302, ["/elsewhere"])  # not followed

        apigw.update_integration(
            ApiId=api_id, IntegrationId=integration["IntegrationId"], IntegrationUri="http://127.0.0.1:9/{proxy}"
        )
        down = http_call(lamina.port, host, "GET", "/x")
        assert (down.status, json.loads(down.body)) == (500, {"message": "Internal Server Error"})
    finally:
        apigw.delete_api(ApiId=api_id)


def _rest_api(apigateway: Any) -> tuple[str, str, str]:
    """A REST API's id, its root resource and its `/{proxy+}` resource."""
    api = apigateway.create_rest_api(name="integrations")
    resource = apigateway.create_resource(restApiId=api["id"], parentId=api["rootResourceId"], pathPart="{proxy+}")
    return api["id"], api["rootResourceId"], resource["id"]


def test_a_rest_api_http_proxy_and_mock(lamina: LaminaProcess, upstream: str) -> None:
    apigateway = lamina.client("apigateway")
    api_id, root, proxy = _rest_api(apigateway)
    try:
        apigateway.put_method(restApiId=api_id, resourceId=proxy, httpMethod="ANY", authorizationType="NONE")
        apigateway.put_integration(
            restApiId=api_id,
            resourceId=proxy,
            httpMethod="ANY",
            type="HTTP_PROXY",
            integrationHttpMethod="ANY",
            uri=upstream + "/{proxy}",
            requestParameters={"integration.request.path.proxy": "method.request.path.proxy"},
        )
        mock = apigateway.create_resource(restApiId=api_id, parentId=root, pathPart="mocked")["id"]
        apigateway.put_method(restApiId=api_id, resourceId=mock, httpMethod="GET", authorizationType="NONE")
        apigateway.put_integration(
            restApiId=api_id,
            resourceId=mock,
            httpMethod="GET",
            type="MOCK",
            requestTemplates={"application/json": '{"statusCode": 201}'},
        )
        apigateway.put_method_response(
            restApiId=api_id,
            resourceId=mock,
            httpMethod="GET",
            statusCode="201",
            responseParameters={"method.response.header.X-Mocked": False},
        )
        apigateway.put_integration_response(
            restApiId=api_id,
            resourceId=mock,
            httpMethod="GET",
            statusCode="201",
            selectionPattern="2\\d\\d",
            responseTemplates={"application/json": '{"mocked": true}'},
            responseParameters={"method.response.header.X-Mocked": "'yes'"},
        )
        apigateway.create_deployment(restApiId=api_id, stageName="dev")
        host = f"{api_id}.execute-api.localhost"
        answer = http_call(lamina.port, host, "PUT", "/dev/a/b?q=1", body=b"data")
        assert answer.status == 200, answer.body
        seen = json.loads(answer.body)
        assert (seen["method"], seen["path"], seen["body"]) == ("PUT", "/a/b?q=1", "data")
        mocked = http_call(lamina.port, host, "GET", "/dev/mocked")
        assert (mocked.status, json.loads(mocked.body)) == (201, {"mocked": True})
        assert mocked.header("X-Mocked") == ["yes"]
    finally:
        apigateway.delete_rest_api(restApiId=api_id)


def test_a_rest_api_and_an_http_api_side_by_side(
    lamina: LaminaProcess, apigw: Any, lambda_client: Any, make_function: Callable[..., str]
) -> None:
    """Both API kinds answer on the one port, each by its own rules and event shape."""
    function = make_function()
    http_api = apigw.create_api(Name="side", ProtocolType="HTTP", Target=function)["ApiId"]
    grant(lambda_client, function, http_api)
    apigateway = lamina.client("apigateway")
    rest_id, _, proxy = _rest_api(apigateway)
    try:
        apigateway.put_method(restApiId=rest_id, resourceId=proxy, httpMethod="ANY", authorizationType="NONE")
        apigateway.put_integration(
            restApiId=rest_id,
            resourceId=proxy,
            httpMethod="ANY",
            type="AWS_PROXY",
            integrationHttpMethod="POST",
            uri=f"arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/{function}/invocations",
        )
        grant(lambda_client, function, rest_id)
        apigateway.create_deployment(restApiId=rest_id, stageName="dev")
        for _ in range(2):  # interleaved, on the same port
            rest = http_call(lamina.port, f"{rest_id}.execute-api.localhost", "GET", "/dev/items/1")
            v2 = http_call(lamina.port, f"{http_api}.execute-api.localhost", "GET", "/items/1")
            assert rest.status == 200 and v2.status == 200, (rest.body, v2.body)
            rest_event, v2_event = json.loads(rest.body), json.loads(v2.body)
            assert (rest_event["resource"], rest_event["path"]) == ("/{proxy+}", "/items/1")
            assert rest_event["requestContext"]["stage"] == "dev"
            assert (v2_event["version"], v2_event["rawPath"], v2_event["routeKey"]) == ("2.0", "/items/1", "$default")
        missing = http_call(lamina.port, f"{rest_id}.execute-api.localhost", "GET", "/nostage/x")
        assert (missing.status, json.loads(missing.body)) == (403, {"message": "Missing Authentication Token"})
    finally:
        apigateway.delete_rest_api(restApiId=rest_id)
        apigw.delete_api(ApiId=http_api)


def test_an_unknown_front_door_host_is_a_404_that_says_so(lamina: LaminaProcess) -> None:
    for host in ("nothing.localhost", "abc.elsewhere.localhost"):
        answer = http_call(lamina.port, host, "GET", "/x")
        assert answer.status == 404
        assert json.loads(answer.body)["message"].startswith(f"Nothing answers at {host}: function URLs are")
    assert http_call(lamina.port, "127.0.0.1", "GET", "/health").status == 200  # and the server keeps serving
