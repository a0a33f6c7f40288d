"""InvokeMode RESPONSE_STREAM: the body reaches the client chunked, as the function writes it, with the
status, headers and cookies of its HttpResponseStream prelude; a function that does not stream is buffered."""

from __future__ import annotations

import http.client
import json
import time
import uuid
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.conftest import make_zip
from tests.elbv2.conftest import http_call
from tests.function_urls.grants import grant_public_url
from tests.server import ROLE, LaminaProcess

NODE = r"""
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

exports.http = awslambda.streamifyResponse(async (event, responseStream) => {
  const stream = awslambda.HttpResponseStream.from(responseStream, {
    statusCode: 201,
    headers: { "content-type": "text/plain", "x-custom": "yes" },
    cookies: ["a=1", "b=2"],
  });
  stream.write("first " + event.rawPath);
  await sleep(1000);
  stream.write(" second");
  stream.end();
});

exports.buffered = async (event) => ({ statusCode: 200, body: "buffered " + event.rawPath });
"""


def _url(client: Any, handler: str) -> str:
    name = f"url-stream-{handler}-{uuid.uuid4().hex[:8]}"
    client.create_function(
        FunctionName=name,
        Runtime="nodejs20.x",
        Role=ROLE,
        Handler=f"index.{handler}",
        Timeout=10,
        Code={"ZipFile": make_zip({"index.js": NODE})},
    )
    client.get_waiter("function_active_v2").wait(FunctionName=name)
    url = client.create_function_url_config(FunctionName=name, AuthType="NONE", InvokeMode="RESPONSE_STREAM")
    grant_public_url(client, name)
    return urlsplit(url["FunctionUrl"]).hostname or ""


@pytest.mark.slow
def test_first_bytes_arrive_before_the_function_returns(lamina: LaminaProcess) -> None:
    host = _url(lamina.client("lambda"), "http")
    conn = http.client.HTTPConnection("127.0.0.1", lamina.port, timeout=30)
    try:
        started = time.monotonic()
        conn.putrequest("GET", "/path", skip_host=True)
        conn.putheader("Host", f"{host}:{lamina.port}")
        conn.endheaders()
        response = conn.getresponse()
        assert response.status == 201
        assert response.getheader("Transfer-Encoding") == "chunked"
        assert response.getheader("Content-Type") == "text/plain"
        assert response.getheader("X-Custom") == "yes"
        assert [v for k, v in response.getheaders() if k.lower() == "set-cookie"] == ["a=1", "b=2"]
        first = response.read1(65536)
        first_at = time.monotonic() - started
        rest = response.read()
        done_at = time.monotonic() - started
    finally:
        conn.close()
    assert first == b"first /path", first
    assert rest == b" second"
    # The function sleeps 1 s between its writes: the first must come well before it returns (a cold start
    # counts before both, so the gap is what shows it).
    assert done_at - first_at >= 0.9, (first_at, done_at)


def test_a_function_that_does_not_stream_is_answered_buffered(lamina: LaminaProcess) -> None:
    host = _url(lamina.client("lambda"), "buffered")
    answer = http_call(lamina.port, host, "GET", "/b")
    assert answer.status == 200 and answer.body == b"buffered /b"
    assert json.dumps(answer.header("Content-Type")) == '["application/json"]'
