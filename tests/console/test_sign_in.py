"""The console under `--auth sigv4`: sign in with an access key, a session cookie, and every console call
evaluated as the signed-in identity by the same policies as a signed API request."""

from __future__ import annotations

import http.cookiejar
import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import boto3
import pytest

from lamina.store.documents import SqliteStore
from tests.conftest import make_zip
from tests.server import ROLE, LaminaProcess

READ_ONLY = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Action": ["lambda:GetFunction", "lambda:GetFunctionConfiguration"], "Resource": "*"}
    ],
}


class Browser:
    """Cookies kept as a browser keeps them, requests sent as the console's pages send them."""

    def __init__(self, server: LaminaProcess) -> None:
        self.server = server
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def api(self, path: str, body: Any = None, method: str | None = None, **headers: str) -> tuple[int, Any, Any]:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            f"{self.server.url}/console/api/{path}",
            data=data,
            method=method or ("POST" if data is not None else "GET"),
            headers={"Content-Type": "application/json", **headers},
        )
        try:
            with self.opener.open(request, timeout=30) as response:
                return response.status, json.loads(response.read()), response.headers
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read()), error.headers


def _root(server: LaminaProcess, data_dir: Path) -> tuple[str, str]:
    keys = json.loads((data_dir / "root-credentials").read_text())
    return keys["AccessKeyId"], keys["SecretAccessKey"]


def _client(server: LaminaProcess, service: str, key: str, secret: str) -> Any:
    return boto3.client(
        service, endpoint_url=server.url, region_name="us-east-1", aws_access_key_id=key, aws_secret_access_key=secret
    )


@pytest.fixture
def secured(fresh_lamina: Any, tmp_path: Path) -> tuple[LaminaProcess, tuple[str, str]]:
    server = fresh_lamina("--auth", "sigv4", data_dir=tmp_path / "secured")
    return server, _root(server, tmp_path / "secured")


def test_sign_in_session_cookie_and_sign_out(secured: tuple[LaminaProcess, tuple[str, str]]) -> None:
    server, (key, secret) = secured
    browser = Browser(server)
    status, body, _ = browser.api("functions")
    assert (status, body["__type"]) == (401, "SignInRequired")
    assert browser.api("session")[1] == {"auth": "sigv4", "signedIn": False, "principal": None}
    status, body, _ = browser.api("session", {"accessKeyId": key, "secretAccessKey": secret + "x"})
    assert (status, body["__type"]) == (403, "InvalidClientTokenId")
    status, body, _ = browser.api("session", {"accessKeyId": "AKIANOSUCHKEY0000000", "secretAccessKey": secret})
    assert (status, body["message"]) == (403, "The access key ID or secret access key is not valid.")
    # another site's page cannot sign in (or do anything) with the user's browser
    status, body, _ = browser.api(
        "session", {"accessKeyId": key, "secretAccessKey": secret}, Origin="http://evil.example"
    )
    assert status == 403 and "Cross-origin" in body["message"]
    status, body, headers = browser.api("session", {"accessKeyId": key, "secretAccessKey": secret})
    assert (status, body["principal"]) == (200, "arn:aws:iam::000000000000:root")
    cookie = headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/console" in cookie
    assert "Max-Age=28800" in cookie
    token = cookie.split(";")[0].split("=", 1)[1]
    assert len(token) >= 43 and secret not in cookie
    status, body, _ = browser.api("functions")
    assert status == 200 and body["total"] == 0
    # a guessed or stale cookie is no session
    stranger = Browser(server)
    status, _body, _ = stranger.api("functions", Cookie="lamina-console=" + "A" * 43)
    assert status == 401
    assert browser.api("session", method="DELETE")[0] == 200
    status, body, _ = browser.api("functions", Cookie=f"lamina-console={token}")
    assert status == 401


def test_calls_are_evaluated_as_the_signed_in_user(secured: tuple[LaminaProcess, tuple[str, str]]) -> None:
    server, (key, secret) = secured
    iam = _client(server, "iam", key, secret)
    iam.create_user(UserName="reader")
    iam.put_user_policy(UserName="reader", PolicyName="read", PolicyDocument=json.dumps(READ_ONLY))
    pair = iam.create_access_key(UserName="reader")["AccessKey"]
    browser = Browser(server)
    status, body, _ = browser.api(
        "session", {"accessKeyId": pair["AccessKeyId"], "secretAccessKey": pair["SecretAccessKey"]}
    )
    assert (status, body["principal"]) == (200, "arn:aws:iam::000000000000:user/reader")
    status, body, _ = browser.api("functions")
    assert (status, body["__type"]) == (403, "AccessDeniedException")
    assert body["message"].startswith(
        "User: arn:aws:iam::000000000000:user/reader is not authorized to perform: lambda:ListFunctions"
    )
    # what boto3 is told with the same keys, word for word
    lam = _client(server, "lambda", pair["AccessKeyId"], pair["SecretAccessKey"])
    with pytest.raises(lam.exceptions.ClientError) as refused:
        lam.list_functions()
    assert refused.value.response["Error"]["Message"] == body["message"]
    status, body, _ = browser.api("call/lambda/GetFunction", {"FunctionName": "nothing-here"})
    assert (status, body["__type"]) == (404, "ResourceNotFoundException")
    # the key made inactive ends the session
    iam.update_access_key(UserName="reader", AccessKeyId=pair["AccessKeyId"], Status="Inactive")
    assert browser.api("call/lambda/GetFunction", {"FunctionName": "nothing-here"})[0] == 401


def test_a_tune_run_signs_as_the_signed_in_identity(secured: tuple[LaminaProcess, tuple[str, str]]) -> None:
    server, (key, secret) = secured
    import time

    from tests.conftest import make_zip
    from tests.server import ROLE

    lam = _client(server, "lambda", key, secret)
    lam.create_function(
        FunctionName="tuned", Runtime="python3.12", Role=ROLE, Handler="app.handler", Code={"ZipFile": make_zip()}
    )
    lam.get_waiter("function_active_v2").wait(FunctionName="tuned")
    iam = _client(server, "iam", key, secret)
    iam.create_user(UserName="reader")
    iam.put_user_policy(UserName="reader", PolicyName="read", PolicyDocument=json.dumps(READ_ONLY))
    pair = iam.create_access_key(UserName="reader")["AccessKey"]

    def run_as(access_key: str, secret_key: str) -> dict[str, Any]:
        browser = Browser(server)
        assert browser.api("session", {"accessKeyId": access_key, "secretAccessKey": secret_key})[0] == 200
        status, run, _ = browser.api("functions/tuned/tune", {"memory": "128,256", "invocations": 1})
        assert isinstance(run, dict)
        assert status == 200, run
        deadline = time.monotonic() + 120
        while run["state"] == "Running" and time.monotonic() < deadline:
            time.sleep(0.2)
            run = browser.api(f"functions/tuned/tune/{run['id']}")[1]
        assert isinstance(run, dict)
        return run

    # the reader may read the function's configuration, nothing more: the sweep's API calls are refused as theirs
    refused = run_as(pair["AccessKeyId"], pair["SecretAccessKey"])
    assert refused["state"] == "Failed"
    assert "User: arn:aws:iam::000000000000:user/reader is not authorized to perform: lambda:" in refused["error"]
    assert lam.get_function_configuration(FunctionName="tuned")["MemorySize"] == 128
    done = run_as(key, secret)
    assert done["state"] == "Succeeded", done
    assert [r["memory"] for r in done["output"]["results"]] == [128, 256]


def test_a_session_survives_kill_9_but_tune_asks_to_sign_in_again(fresh_lamina: Any, tmp_path: Path) -> None:
    data_dir = tmp_path / "restarted"
    server = fresh_lamina("--auth", "sigv4", data_dir=data_dir)
    key, secret = _root(server, data_dir)
    browser = Browser(server)
    assert browser.api("session", {"accessKeyId": key, "secretAccessKey": secret})[0] == 200
    token = next(str(c.value) for c in browser.jar if c.name == "lamina-console")
    server.kill()  # kill -9: the session was committed before the cookie was answered
    stored = b"".join(p.read_bytes() for p in data_dir.glob("lamina.db*"))  # the database and its WAL
    assert token.encode() not in stored and secret.encode() not in stored  # neither the token nor the secret
    store = SqliteStore(data_dir / "lamina.db")
    try:
        sessions = list(store.load("console-sessions").values())
    finally:
        store.close()
    assert [(s["principal"], s["accessKeyId"]) for s in sessions] == [("arn:aws:iam::000000000000:root", key)]
    browser.server = fresh_lamina("--auth", "sigv4", data_dir=data_dir)
    status, body, _ = browser.api("session")
    assert (status, body["signedIn"], body["principal"]) == (200, True, "arn:aws:iam::000000000000:root")
    status, body, _ = browser.api("call/lambda/GetFunction", {"FunctionName": "nothing-here"})
    assert (status, body["__type"]) == (404, "ResourceNotFoundException")
    status, body, _ = browser.api("functions/nothing-here/tune", {"memory": "128", "invocations": 1})
    assert (status, body["__type"]) == (404, "ResourceNotFoundException")  # the function is looked up first
    lam = _client(browser.server, "lambda", key, secret)
    lam.create_function(
        FunctionName="tuned", Runtime="python3.12", Role=ROLE, Handler="app.handler", Code={"ZipFile": make_zip()}
    )
    status, body, _ = browser.api("functions/tuned/tune", {"memory": "128", "invocations": 1})
    assert (status, body["__type"]) == (401, "SignInRequired")
    assert body["message"] == "Sign in again to run a tune: Lamina restarted and does not keep secrets on disk."
    assert browser.api("session", {"accessKeyId": key, "secretAccessKey": secret})[0] == 200
    status, body, _ = browser.api("functions/tuned/tune", {"memory": "128", "invocations": 1})
    assert status == 200, body
    assert browser.api("session", method="DELETE")[0] == 200
    assert browser.api("call/lambda/GetFunction", {"FunctionName": "tuned"})[0] == 401
