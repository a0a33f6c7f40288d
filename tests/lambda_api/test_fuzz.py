"""No request, however malformed, produces a 5xx or changes state.

Requests are built from botocore's Lambda model (method, URI template, member shapes) and sent as raw
HTTP (http.client or a bare socket), so nothing is validated client-side. Every mutating request is
*poisoned*: it carries at least one member the model itself rejects (wrong JSON type or a violated
min/max/pattern/enum/required constraint), or targets a function that never exists, so no fuzz request
can be a valid create/update. State is snapshotted through boto3 before and after each test and must
not change.

Known Lamina bugs are pinned as strict xfails (see `KNOWN_BUGS`), so fixing one turns its case red
until the mark is removed.
"""

from __future__ import annotations

import base64
import http.client
import json
import socket
import string
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

import botocore.session
import pytest
from botocore.model import OperationModel, Shape
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import make_zip
from tests.server import ROLE, LaminaProcess

MODEL = botocore.session.get_session().get_service_model("lambda")
OPERATIONS = (
    "CreateFunction",
    "GetFunction",
    "GetFunctionConfiguration",
    "ListFunctions",
    "UpdateFunctionCode",
    "UpdateFunctionConfiguration",
    "DeleteFunction",
    "TagResource",
    "UntagResource",
    "ListTags",
    "GetAccountSettings",
)
MUTATING = frozenset(
    {"CreateFunction", "UpdateFunctionCode", "UpdateFunctionConfiguration", "DeleteFunction", "TagResource"}
)
ACCOUNT = "000000000000"
REGION = "us-east-1"
SEED = "fuzz-seed"
SEED_ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{SEED}"
SEED_TAGS = {"fuzz-seed-owner": "lamina-tests", "fuzz-seed-stage": "baseline"}
GHOST = "fuzz-ghost"  # never created; requests may target it without poison
FUZZ_SETTINGS = settings(
    max_examples=75,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# Known bugs: the case id → reason. Each is a strict xfail, so a fix turns it red until removed.
KNOWN_BUGS: dict[str, str] = {}


# -- raw HTTP -----------------------------------------------------------------------------------


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes
    request: str = ""

    def json(self) -> Any:
        return json.loads(self.body)


def send(
    server: LaminaProcess,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> Reply:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        conn.putrequest(method, path, skip_accept_encoding=True)
        all_headers = {"Host": f"127.0.0.1:{server.port}", **(headers or {})}
        if body is not None:
            all_headers.setdefault("Content-Type", "application/json")
            all_headers.setdefault("Content-Length", str(len(body)))
        for name, value in all_headers.items():
            conn.putheader(name, value)
        conn.endheaders(body)
        response = conn.getresponse()
        data = response.read()
        return Reply(
            response.status,
            {k.lower(): v for k, v in response.getheaders()},
            data,
            f"{method} {path} body={body[:300]!r}" if body is not None else f"{method} {path}",
        )
    finally:
        conn.close()


def parse_raw_response(data: bytes) -> Reply:
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", len(body)))
    return Reply(status, headers, body[:length])


def send_raw(server: LaminaProcess, data: bytes, timeout: float = 3.0, half_close: bool = False) -> Reply | None:
    """Writes bytes as they are; returns the first response, or None if the server sent nothing."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=timeout) as sock:
        try:
            sock.sendall(data)
            if half_close:
                sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass  # the server may answer and close before reading everything
        received = b""
        try:
            while True:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                received += chunk
                if b"\r\n\r\n" in received:
                    head = received.split(b"\r\n\r\n", 1)[0].lower()
                    for line in head.split(b"\r\n"):
                        if line.startswith(b"content-length:"):
                            want = int(line.split(b":", 1)[1])
                            if len(received.split(b"\r\n\r\n", 1)[1]) >= want:
                                return parse_raw_response(received)
        except (TimeoutError, ConnectionResetError):
            pass
    return parse_raw_response(received) if received else None


def healthy(server: LaminaProcess) -> bool:
    try:
        return send(server, "GET", "/health").status == 200
    except OSError:
        return False


def check(server: LaminaProcess, reply: Reply | None, *, require_response: bool = True) -> None:
    """The invariant every fuzz request must satisfy."""
    context = reply.request if reply is not None else ""
    if reply is None:
        assert not require_response, "no response"
    else:
        assert reply.status < 500, f"{reply.status} {reply.body[:500]!r} for {context}"
        assert "x-amzn-requestid" in reply.headers, f"no x-amzn-RequestId for {context}"
        if reply.status >= 400:
            body = reply.json()
            assert isinstance(body, dict), context
            message = body.get("message", body.get("Message"))
            assert isinstance(message, str) and message, f"no message in {reply.body!r} for {context}"
    assert server.proc is not None and server.proc.poll() is None, "server died:\n" + "".join(server.output[-50:])
    assert healthy(server), f"server unhealthy after {context}"


# -- the server and its state -------------------------------------------------------------------


def _drain(server: LaminaProcess) -> None:
    """Keeps reading the server's output: the harness pipes it and stops reading after start-up, so a
    server logging many tracebacks would otherwise block on a full pipe."""
    assert server.proc is not None and server.proc.stdout is not None
    for line in server.proc.stdout:
        server.output.append(line)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LaminaProcess]:
    process = LaminaProcess(tmp_path_factory.mktemp("fuzz-data")).start()
    drain = threading.Thread(target=_drain, args=(process,), daemon=True)
    drain.start()
    try:
        client = process.client()
        client.create_function(
            FunctionName=SEED,
            Runtime="python3.12",
            Role=ROLE,
            Handler="app.handler",
            Code={"ZipFile": make_zip()},
            Description="seeded before fuzzing",
            Timeout=7,
            MemorySize=256,
            Environment={"Variables": {"STAGE": "fuzz"}},
            Tags=SEED_TAGS,
        )
        client.get_waiter("function_active_v2").wait(FunctionName=SEED, WaiterConfig={"Delay": 0.2})
        yield process
    finally:
        assert process.proc is not None
        if process.proc.poll() is None:
            process.proc.terminate()
            try:
                process.proc.wait(10)
            except Exception:
                process.proc.kill()
                process.proc.wait()
        drain.join(5)


def snapshot(server: LaminaProcess) -> dict[str, Any]:
    client = server.client()

    def clean(response: dict[str, Any]) -> dict[str, Any]:
        response.pop("ResponseMetadata", None)
        return response

    function = clean(client.get_function(FunctionName=SEED))
    function["Code"].pop("Location")  # presigned, expires
    listed: list[dict[str, Any]] = []
    for page in client.get_paginator("list_functions").paginate(FunctionVersion="ALL"):
        listed.extend(page["Functions"])
    return {
        "functions": listed,
        "function": function,
        "tags": clean(client.list_tags(Resource=SEED_ARN)),
        "account": clean(client.get_account_settings()),
    }


@pytest.fixture(scope="module")
def baseline(server: LaminaProcess) -> dict[str, Any]:
    return snapshot(server)


def differences(before: Any, after: Any, path: str = "") -> list[str]:
    if isinstance(before, dict) and isinstance(after, dict):
        out: list[str] = []
        for key in sorted(set(before) | set(after), key=str):
            out.extend(differences(before.get(key), after.get(key), f"{path}.{key}"))
        return out
    if isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        pairs = enumerate(zip(before, after, strict=True))
        return [d for i, (b, a) in pairs for d in differences(b, a, f"{path}[{i}]")]
    return [] if before == after else [f"{path}: {before!r} -> {after!r}"]


@pytest.fixture(autouse=True)
def state_unchanged(server: LaminaProcess, baseline: dict[str, Any]) -> Iterator[None]:
    yield
    assert healthy(server)
    after = snapshot(server)
    assert after == baseline, "state changed: " + "; ".join(differences(baseline, after))
    assert [f["FunctionName"] for f in after["functions"]] == [SEED]


# -- generators from the model ------------------------------------------------------------------

JSON_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40),
)
JSON_JUNK: st.SearchStrategy[Any] = st.recursive(
    JSON_SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=12), inner, max_size=4)),
    max_leaves=12,
)
NON_NULL_JUNK = JSON_JUNK.filter(lambda v: v is not None)


def _json_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "integer" if value.is_integer() else "float"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "map"
    return "null"


_ACCEPTS = {
    "string": {"string"},
    "integer": {"integer"},
    "long": {"integer"},
    "boolean": {"boolean"},
    "double": {"integer", "float"},
    "float": {"integer", "float"},
    "blob": set(),  # a blob is a base64 string; handled separately
    "timestamp": {"integer", "float", "string"},
    "structure": {"map"},
    "map": {"map"},
    "list": {"list"},
}


def wrong_type(shape: Shape) -> st.SearchStrategy[Any]:
    """A non-null JSON value the protocol layer cannot deserialize as `shape`."""
    if shape.type_name == "blob":
        return st.one_of(
            st.sampled_from(["!!!", "QQ", "====", "not base64 at all", "QUJD\n"]),
            NON_NULL_JUNK.filter(lambda v: not isinstance(v, str)),
        )
    accepted = _ACCEPTS[shape.type_name]
    return NON_NULL_JUNK.filter(lambda v: _json_kind(v) not in accepted)


def _compilable(pattern: str) -> Any:
    import re

    try:
        return re.compile(pattern, re.DOTALL)
    except re.error:
        return None


def constraint_violations(shape: Shape) -> list[Any]:
    """Well-typed values that break a constraint the model states (so the gateway must reject them)."""
    meta = shape.metadata
    out: list[Any] = []
    kind = shape.type_name
    if kind == "string":
        if "max" in meta:
            out.append("x" * (meta["max"] + 1))
        if meta.get("min", 0) > 0:
            out.append("")
        if getattr(shape, "enum", None) and shape.name != "Runtime":
            out.append("NOT-IN-ENUM")
        regex = _compilable(meta["pattern"]) if "pattern" in meta else None
        if regex is not None:
            out.extend(c for c in ("bad value with spaces", " ", "~%!") if regex.fullmatch(c) is None)
    elif kind in ("integer", "long"):
        if "min" in meta:
            out.append(meta["min"] - 1)
        if "max" in meta:
            out.append(meta["max"] + 1)
    elif kind == "structure" and shape.required_members:
        out.append({})
    return out


def poisons(shape: Shape) -> st.SearchStrategy[Any]:
    violations = constraint_violations(shape)
    if violations:
        return st.one_of(wrong_type(shape), st.sampled_from(violations))
    return wrong_type(shape)


def typed_value(shape: Shape, depth: int = 0) -> st.SearchStrategy[Any]:
    """A value of the right JSON type, with junk inside (random strings, extreme numbers, nulls)."""
    kind = shape.type_name
    if depth > 3:
        return st.none()
    if kind == "string":
        enum = getattr(shape, "enum", None)
        options: list[st.SearchStrategy[Any]] = [st.text(max_size=30), st.sampled_from(["", " ", "\x00", "é" * 300])]
        if enum:
            options.append(st.sampled_from(list(enum)))
        return st.one_of(*options)
    if kind in ("integer", "long"):
        return st.one_of(
            st.integers(min_value=-(2**40), max_value=2**40),
            st.sampled_from([0, -1, 2**31, 2**63, -(2**63) - 1, 10**30]),
        )
    if kind == "boolean":
        return st.booleans()
    if kind in ("double", "float"):
        return st.floats(allow_nan=False, allow_infinity=False)
    if kind == "blob":
        return st.one_of(
            st.binary(max_size=64).map(lambda b: base64.b64encode(b).decode()),
            st.just(base64.b64encode(b"PK\x03\x04" + b"\x00" * 30).decode()),
        )
    if kind == "timestamp":
        return st.one_of(st.integers(), st.text(max_size=20))
    if kind == "list":
        return st.lists(st.one_of(st.none(), typed_value(shape.member, depth + 1)), max_size=3)
    if kind == "map":
        return st.dictionaries(
            st.text(max_size=20), st.one_of(st.none(), typed_value(shape.value, depth + 1)), max_size=3
        )
    if kind == "structure":
        members = {
            shape.members[n].serialization.get("name", n): st.one_of(typed_value(m, depth + 1), wrong_type(m))
            for n, m in shape.members.items()
        }
        return st.fixed_dictionaries({}, optional=members)
    return JSON_JUNK


@dataclass
class Plan:
    op: OperationModel
    body_members: dict[str, Shape] = field(default_factory=dict)
    uri_members: dict[str, Shape] = field(default_factory=dict)
    query_members: dict[str, Shape] = field(default_factory=dict)


def plan(name: str) -> Plan:
    op = MODEL.operation_model(name)
    result = Plan(op)
    if op.input_shape is None:
        return result
    for member_name, member in op.input_shape.members.items():
        location = member.serialization.get("location")
        wire_name = member.serialization.get("name", member_name)
        if location == "uri":
            result.uri_members[wire_name] = member
        elif location == "querystring":
            result.query_members[wire_name] = member
        elif location is None:
            result.body_members[wire_name] = member
    return result


PLANS = {name: plan(name) for name in OPERATIONS}

VALID_CREATE: dict[str, Any] = {
    "FunctionName": GHOST,
    "Runtime": "python3.12",
    "Role": ROLE,
    "Handler": "app.handler",
    "Code": {"ZipFile": base64.b64encode(make_zip()).decode()},
}


def target_value(draw: Any, uri_name: str, allow_seeded: bool = True) -> tuple[str, bool]:
    """A path parameter (already percent-encoded) and whether it can reach the seeded function."""
    if uri_name == "Resource":
        seeded = [quote(SEED_ARN, safe=""), quote(SEED_ARN + ":$LATEST", safe="")]
        ghosts = [quote(f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{GHOST}", safe="")]
    else:
        seeded = [SEED, quote(SEED_ARN, safe=""), quote(f"{ACCOUNT}:function:{SEED}", safe=""), "fuzz-seed%3A%24LATEST"]
        ghosts = [GHOST, quote(f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{GHOST}", safe="")]
    junk = st.one_of(
        st.text(min_size=1, max_size=60).map(lambda t: quote(t, safe="")),
        st.sampled_from(
            ["%", "%Z", "%ZZ", "%00", "%ff%fe", "%C3%28", "%ED%A0%80", "%2F", "..", "%2e%2e", "a%2Fb", "%25", "x" * 300]
        ),
        st.text(alphabet=string.ascii_letters + "%:$.-_~", min_size=1, max_size=40),
    ).filter(lambda v: "seed" not in v.lower())
    kind = draw(st.sampled_from(["seeded", "ghost", "junk"] if allow_seeded else ["ghost", "junk"]))
    if kind == "seeded":
        return draw(st.sampled_from(seeded)), True
    if kind == "ghost":
        return draw(st.sampled_from(ghosts)), False
    return draw(junk), False


def query_string(draw: Any, members: dict[str, Shape], poison_qualifier: bool) -> str:
    pairs: list[tuple[str, str]] = []
    for name, shape in members.items():
        if draw(st.booleans()):
            value = draw(
                st.one_of(
                    st.text(max_size=20),
                    st.integers(min_value=-(10**25), max_value=10**25).map(str),
                    st.sampled_from(["", "ALL", "$LATEST", "1", "1.5", "true", "\x00"]),
                )
            )
            count = 2 if shape.type_name == "list" and draw(st.booleans()) else 1
            pairs.extend((name, value) for _ in range(count))
    pairs.extend(draw(st.lists(st.tuples(st.text(max_size=10), st.text(max_size=10)), max_size=3)))
    if poison_qualifier:
        pairs = [(k, v) for k, v in pairs if k != "Qualifier"]
        pairs.append(("Qualifier", draw(st.sampled_from(["~bad", "bad qualifier", "a/b", "x" * 129]))))
    encoded = urlencode(pairs)
    junk = draw(st.sampled_from(["", "", "&", "&&=&", "%zz", "=x", "&%", "a=%ff"]))
    return "&".join(p for p in (encoded, junk) if p)


def build_request(draw: Any, name: str) -> tuple[str, str, bytes | None]:
    p = PLANS[name]
    uri = p.op.http["requestUri"]
    seeded = False
    for uri_name in p.uri_members:
        # UntagResource has no member the model can reject (TagKey is unconstrained) and even a no-op
        # untag bumps the RevisionId, so it never targets the seeded function.
        value, hits_seed = target_value(draw, uri_name, allow_seeded=name != "UntagResource")
        seeded = seeded or hits_seed
        uri = uri.replace("{" + uri_name + "}", value)
    must_poison = name in MUTATING and (seeded or name == "CreateFunction")
    poison_in_query = must_poison and not p.body_members  # DeleteFunction: an invalid Qualifier
    body: bytes | None = None
    if p.body_members or draw(st.booleans()):
        shape_body: dict[str, Any] = {}
        if name == "CreateFunction" and draw(st.booleans()):
            shape_body = {k: v for k, v in VALID_CREATE.items() if draw(st.booleans())}
        for wire_name, member in p.body_members.items():
            if draw(st.integers(0, 3)) == 0:
                shape_body[wire_name] = draw(st.one_of(typed_value(member), wrong_type(member), st.none()))
        if draw(st.booleans()):
            shape_body.update(draw(st.dictionaries(st.text(max_size=15), JSON_JUNK, max_size=3)))
        if must_poison and p.body_members:
            victim = draw(st.sampled_from(sorted(p.body_members)))
            shape_body[victim] = draw(poisons(p.body_members[victim]))
        body = json.dumps(shape_body).encode()
    query = query_string(draw, p.query_members, poison_in_query)
    path = uri + ("?" + query if query else "")
    return p.op.http["method"], path, body


# -- the generated fuzz -------------------------------------------------------------------------


@pytest.mark.parametrize("operation", OPERATIONS)
@FUZZ_SETTINGS
@given(data=st.data())
def test_model_driven_requests(server: LaminaProcess, operation: str, data: st.DataObject) -> None:
    method, path, body = build_request(data.draw, operation)
    check(server, send(server, method, path, body))


GARBAGE_BODIES = st.one_of(
    st.binary(max_size=200),
    st.text(max_size=100).map(str.encode),
    JSON_JUNK.map(lambda v: json.dumps(v).encode()),
    st.sampled_from([b"", b"{", b"}", b"{}}", b'{"a":', b"null", b"[]", b"\xef\xbb\xbf{}", b"\xff\xfe{\x00}\x00"]),
)


@pytest.mark.parametrize("operation", sorted(MUTATING - {"DeleteFunction"}))
@FUZZ_SETTINGS
@given(data=st.data())
def test_garbage_bodies(server: LaminaProcess, operation: str, data: st.DataObject) -> None:
    """Bodies that are not a JSON object (or not JSON) against the seeded function."""
    body = data.draw(GARBAGE_BODIES)
    try:
        parsed = json.loads(body) if body.strip() else {}
    except (ValueError, UnicodeDecodeError):
        parsed = None
    if isinstance(parsed, dict):  # an object (or no body) could be a valid update: keep it poisoned
        body = json.dumps({**parsed, "Tags": [1], "Timeout": "x", "ZipFile": 1, "FunctionName": 1}).encode()
    uri = PLANS[operation].op.http["requestUri"]
    path = uri.replace("{FunctionName}", SEED).replace("{Resource}", quote(SEED_ARN, safe=""))
    content_type = data.draw(st.sampled_from(["application/json", "text/plain", "application/x-amz-json-1.1", ""]))
    check(server, send(server, PLANS[operation].op.http["method"], path, body, {"Content-Type": content_type}))


@FUZZ_SETTINGS
@given(
    method=st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE"]),
    path=st.one_of(
        st.text(alphabet=string.printable.strip(), max_size=60).map(lambda t: "/" + quote(t, safe="/%?&=")),
        st.sampled_from(
            [
                "/",
                "//",
                "/2015-03-31",
                "/2015-03-31/",
                "/2015-03-31/functions/x/y/z",
                "/2015-03-31/functions/x/code/extra",
                "/2015-03-31/functions/x/invocations/../configuration",
                "/2017-03-31/tags",
                "/2017-03-31/tags/",
                "/2016-08-19/account-settings/x",
                "/2099-01-01/functions",
                "/_lamina",
                "/_lamina/",
                "/_lamina/nope",
                "/%2e%2e/%2e%2e/etc/passwd",
                "/2015-03-31/functions?" + "a=" * 2000,
            ]
        ),
    ),
)
def test_unknown_paths_and_methods(server: LaminaProcess, method: str, path: str) -> None:
    if path.startswith("/_lamina/code"):
        return  # signed code downloads answer like S3 (XML 403), not like the Lambda API
    check(server, send(server, method, path, b"{}" if method in ("POST", "PUT") else None))


# -- the hand-written table of nasty cases ------------------------------------------------------

SEED_PATH = f"/2015-03-31/functions/{SEED}"
TAGS_PATH = "/2017-03-31/tags/" + quote(SEED_ARN, safe="")
GHOST_TAGS_PATH = "/2017-03-31/tags/" + quote(f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{GHOST}", safe="")
NASTY: list[tuple[str, str, str, bytes | None]] = [
    ("deeply-nested-array", "POST", "/2015-03-31/functions", b"[" * 100_000 + b"]" * 100_000),
    ("deeply-nested-object", "PUT", SEED_PATH + "/configuration", b'{"a":' * 100_000 + b"1" + b"}" * 100_000),
    (
        "nested-2000-in-member",
        "PUT",
        SEED_PATH + "/configuration",
        b'{"Timeout":"x","X":' + b"[" * 900 + b"]" * 900 + b"}",
    ),
    ("huge-int-literal", "PUT", SEED_PATH + "/configuration", b'{"Timeout":' + b"9" * 5000 + b"}"),
    ("float-overflow", "PUT", SEED_PATH + "/configuration", b'{"Timeout":1e999}'),
    ("nan", "PUT", SEED_PATH + "/configuration", b'{"MemorySize":NaN}'),
    ("negative-zero-memory", "PUT", SEED_PATH + "/configuration", b'{"MemorySize":-0.0}'),
    ("int-as-float-out-of-range", "PUT", SEED_PATH + "/configuration", b'{"MemorySize":1e300}'),
    ("bool-as-int", "PUT", SEED_PATH + "/configuration", b'{"Timeout":true}'),
    ("null-everything", "PUT", SEED_PATH + "/configuration", b'{"Timeout":null,"Environment":null,"MemorySize":5}'),
    ("env-null-value", "PUT", SEED_PATH + "/configuration", b'{"Environment":{"Variables":{"AB":null}}}'),
    ("env-list", "PUT", SEED_PATH + "/configuration", b'{"Environment":{"Variables":["AB"]}}'),
    ("env-surrogate-key", "PUT", SEED_PATH + "/configuration", b'{"Environment":{"Variables":{"\\ud800":"x"}}}'),
    ("layers-null-item", "PUT", SEED_PATH + "/configuration", b'{"Layers":[null]}'),
    ("layers-struct", "PUT", SEED_PATH + "/configuration", b'{"Layers":{"a":1}}'),
    ("arch-two", "PUT", SEED_PATH + "/configuration", b'{"Architectures":["x86_64","arm64"],"Timeout":0}'),
    ("ephemeral-string", "PUT", SEED_PATH + "/configuration", b'{"EphemeralStorage":{"Size":"512"}}'),
    ("vpc-junk", "PUT", SEED_PATH + "/configuration", b'{"VpcConfig":{"SubnetIds":"x"}}'),
    ("duplicate-keys", "PUT", SEED_PATH + "/configuration", b'{"Timeout":5,"Timeout":"x"}'),
    ("bom", "PUT", SEED_PATH + "/configuration", b'\xef\xbb\xbf{"Timeout":"x"}'),
    ("utf16", "PUT", SEED_PATH + "/configuration", '{"Timeout":"x"}'.encode("utf-16")),
    ("latin1-bytes", "PUT", SEED_PATH + "/configuration", b'{"Description":"\xe9\xff","Timeout":0}'),
    ("trailing-garbage", "PUT", SEED_PATH + "/configuration", b'{"Timeout":5} trailing'),
    ("zip-not-base64", "PUT", SEED_PATH + "/code", b'{"ZipFile":"!!!!"}'),
    ("zip-bad-padding", "PUT", SEED_PATH + "/code", b'{"ZipFile":"QUJ"}'),
    ("zip-base64-newlines", "PUT", SEED_PATH + "/code", b'{"ZipFile":"UEsD\\nBBQ="}'),
    ("zip-base64url", "PUT", SEED_PATH + "/code", b'{"ZipFile":"-_-_"}'),
    ("zip-number", "PUT", SEED_PATH + "/code", b'{"ZipFile":12345}'),
    ("zip-struct", "PUT", SEED_PATH + "/code", b'{"ZipFile":{"a":"b"}}'),
    ("code-missing-create", "POST", "/2015-03-31/functions", b'{"FunctionName":"fuzz-ghost","Role":"r"}'),
    ("code-empty-create", "POST", "/2015-03-31/functions", b'{"FunctionName":"fuzz-ghost","Role":"x","Code":{}}'),
    ("create-name-list", "POST", "/2015-03-31/functions", b'{"FunctionName":["fuzz-ghost"]}'),
    ("create-seed-bad-role", "POST", "/2015-03-31/functions", b'{"FunctionName":"fuzz-seed","Role":1,"Code":{}}'),
    ("tags-list", "POST", TAGS_PATH, b'{"Tags":["a","b"]}'),
    ("tags-null", "POST", TAGS_PATH, b'{"Tags":null}'),
    ("tags-empty-body", "POST", TAGS_PATH, b""),
    ("tags-long-key", "POST", TAGS_PATH, json.dumps({"Tags": {"k" * 129: "v"}}).encode()),
    ("tags-surrogate", "POST", TAGS_PATH, b'{"Tags":{"\\udfff":"v"}}'),
    ("tags-aws-prefix", "POST", TAGS_PATH, b'{"Tags":{"aws:x":"v"}}'),
    ("tags-too-many", "POST", TAGS_PATH, json.dumps({"Tags": {f"k{i}": "v" for i in range(60)}}).encode()),
    ("untag-no-keys", "DELETE", TAGS_PATH, None),
    ("untag-blank-key", "DELETE", GHOST_TAGS_PATH + "?tagKeys=", None),
    ("untag-bad-utf8", "DELETE", GHOST_TAGS_PATH + "?tagKeys=%ED%A0%80&tagKeys=%ff", None),
    ("tags-version-arn", "GET", "/2017-03-31/tags/" + quote(SEED_ARN + ":1", safe=""), None),
    ("tags-not-arn", "GET", "/2017-03-31/tags/fuzz-seed", None),
    ("tags-other-account", "GET", "/2017-03-31/tags/" + quote(SEED_ARN.replace(ACCOUNT, "1" * 12), safe=""), None),
    ("get-other-region", "GET", "/2015-03-31/functions/" + quote(SEED_ARN.replace(REGION, "eu-west-1"), safe=""), None),
    ("get-other-account", "GET", "/2015-03-31/functions/" + quote(SEED_ARN.replace(ACCOUNT, "1" * 12), safe=""), None),
    ("get-qualifier-mismatch", "GET", SEED_PATH + "%3A1?Qualifier=2", None),
    ("get-qualifier-surrogate", "GET", SEED_PATH + "?Qualifier=%ED%A0%80", None),
    ("get-qualifier-nul", "GET", SEED_PATH + "?Qualifier=%00", None),
    ("get-pct-junk", "GET", "/2015-03-31/functions/%ZZ%", None),
    ("get-pct-nul", "GET", "/2015-03-31/functions/%00", None),
    ("get-very-long-name", "GET", "/2015-03-31/functions/" + "a" * 100_000, None),
    ("get-dots", "GET", "/2015-03-31/functions/..", None),
    ("delete-latest-qualifier", "DELETE", SEED_PATH + "?Qualifier=%24LATEST", None),
    ("delete-qualified-latest", "DELETE", SEED_PATH + "%3A%24LATEST", None),
    ("delete-bad-qualifier", "DELETE", SEED_PATH + "?Qualifier=~x", None),
    (
        "delete-other-region",
        "DELETE",
        "/2015-03-31/functions/" + quote(SEED_ARN.replace(REGION, "eu-west-1"), safe=""),
        None,
    ),
    ("list-maxitems-text", "GET", "/2015-03-31/functions?MaxItems=abc", None),
    ("list-maxitems-huge", "GET", "/2015-03-31/functions?MaxItems=" + "9" * 5000, None),
    ("list-maxitems-zero", "GET", "/2015-03-31/functions?MaxItems=0", None),
    ("list-maxitems-negative", "GET", "/2015-03-31/functions?MaxItems=-5", None),
    ("list-marker-junk", "GET", "/2015-03-31/functions?Marker=%ff%fe%00", None),
    ("list-bad-version", "GET", "/2015-03-31/functions?FunctionVersion=NOPE", None),
    ("list-bad-region", "GET", "/2015-03-31/functions?MasterRegion=mars", None),
    ("list-repeated", "GET", "/2015-03-31/functions?MaxItems=1&MaxItems=abc&Marker=a&Marker=b", None),
    ("account-trailing-slash-query", "GET", "/2016-08-19/account-settings/?x=%zz&&=", None),
]


def _nasty_params() -> list[Any]:
    params = []
    for case_id, method, path, body in NASTY:
        marks = [pytest.mark.xfail(strict=True, reason=KNOWN_BUGS[case_id])] if case_id in KNOWN_BUGS else []
        params.append(pytest.param(method, path, body, id=case_id, marks=marks))
    return params


@pytest.mark.parametrize(("method", "path", "body"), _nasty_params())
def test_nasty_request(server: LaminaProcess, method: str, path: str, body: bytes | None) -> None:
    check(server, send(server, method, path, body))


def test_surrogates_in_valid_looking_values_do_not_500(server: LaminaProcess) -> None:
    """Lone surrogates (legal JSON escapes) in members with no pattern, on a throwaway function."""
    client = server.client()
    name = "fuzz-surrogates"
    client.create_function(
        FunctionName=name, Runtime="python3.12", Role=ROLE, Handler="app.handler", Code={"ZipFile": make_zip()}
    )
    try:
        client.get_waiter("function_active_v2").wait(FunctionName=name, WaiterConfig={"Delay": 0.2})
        path = f"/2015-03-31/functions/{name}/configuration"
        for body in (b'{"Description":"\\ud800"}', b'{"Environment":{"Variables":{"AB":"\\ud800"}}}'):
            reply = send(server, "PUT", path, body)
            if reply.status == 200:
                client.get_waiter("function_updated_v2").wait(FunctionName=name, WaiterConfig={"Delay": 0.2})
            check(server, reply)
            check(server, send(server, "GET", path))
    finally:
        client.delete_function(FunctionName=name)


# -- raw socket: broken HTTP --------------------------------------------------------------------

RAW_CASES: list[tuple[str, bytes]] = [
    (
        "content-length-text",
        b"PUT /2015-03-31/functions/fuzz-seed/configuration HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n{}",
    ),
    (
        "content-length-negative",
        b"PUT /2015-03-31/functions/fuzz-seed/configuration HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
    ),
    (
        "content-length-twice",
        b"POST /2015-03-31/functions HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 7\r\n\r\n{}",
    ),
    (
        "content-length-overflow",
        b"POST /2015-03-31/functions HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999999999\r\n\r\n{}",
    ),
    ("binary-garbage", bytes(range(256)) * 4 + b"\r\n\r\n"),
    ("nul-request-line", b"GET /\x00 HTTP/1.1\r\n\r\n"),
    (
        "bad-chunk-size",
        b"POST /2015-03-31/functions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nZZZ\r\nab\r\n0\r\n\r\n",
    ),
    (
        "huge-chunk-size",
        b"POST /2015-03-31/functions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"FFFFFFFFFFFFFFFFFFFFFFF\r\n",
    ),
    (
        "te-and-cl",
        b"POST /2015-03-31/functions HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    ),
    ("header-no-colon", b"GET /health HTTP/1.1\r\nHost x\r\n\r\n"),
    ("http-0.9", b"GET /2015-03-31/functions\r\n\r\n"),
    ("http-version-junk", b"GET /2015-03-31/functions HTTP/9.9\r\n\r\n"),
    ("upgrade", b"GET /2015-03-31/functions HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"),
    ("connect", b"CONNECT 127.0.0.1:1 HTTP/1.1\r\nHost: x\r\n\r\n"),
    ("junk-method", b"FROB /2015-03-31/functions HTTP/1.1\r\nHost: x\r\n\r\n"),
    ("obs-fold", b"GET /2015-03-31/functions HTTP/1.1\r\nHost: x\r\nX-A: a\r\n  folded\r\n\r\n"),
    ("huge-header", b"GET /2015-03-31/functions HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 200_000 + b"\r\n\r\n"),
]


@pytest.mark.parametrize("data", [pytest.param(d, id=i) for i, d in RAW_CASES])
def test_broken_http(server: LaminaProcess, data: bytes) -> None:
    reply = send_raw(server, data)
    if reply is not None:
        assert reply.status < 500, reply
        if reply.status >= 400:
            assert isinstance(json.loads(reply.body), dict)
    assert healthy(server)


def test_broken_http_reply_has_request_id(server: LaminaProcess) -> None:
    reply = send_raw(server, b"PUT /x HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n")
    assert reply is not None and reply.status == 400
    assert "x-amzn-requestid" in reply.headers


def test_head_has_no_body(server: LaminaProcess) -> None:
    data = b"HEAD /2015-03-31/functions/fuzz-seed HTTP/1.1\r\nHost: x\r\n\r\nGET /health HTTP/1.1\r\nHost: x\r\n\r\n"
    with socket.create_connection(("127.0.0.1", server.port), timeout=3) as sock:
        sock.sendall(data)
        time.sleep(0.3)
        received = sock.recv(65536)
    head, _, rest = received.partition(b"\r\n\r\n")
    assert rest.startswith(b"HTTP/1.1 200"), (head, rest[:100])


@pytest.mark.parametrize("half_close", [False, True])
def test_truncated_body(server: LaminaProcess, half_close: bool) -> None:
    """Content-Length promises more than is sent: no answer (or a 4xx), no change, server fine."""
    data = (
        b"PUT /2015-03-31/functions/fuzz-seed/configuration HTTP/1.1\r\nHost: x\r\n"
        b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n"
        b'{"Timeout": 30}'
    )
    reply = send_raw(server, data, timeout=1.0, half_close=half_close)
    if reply is not None:
        assert reply.status < 500
    assert healthy(server)


def test_pipelined_junk_after_valid_request(server: LaminaProcess) -> None:
    data = b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n" + b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" * 10
    reply = send_raw(server, data)
    assert reply is not None and reply.status == 200
    assert healthy(server)


def _stream_huge_body(server: LaminaProcess, total: int, chunked: bool) -> Reply | None:
    head = (
        "POST /2015-03-31/functions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        + ("Transfer-Encoding: chunked\r\n" if chunked else f"Content-Length: {total}\r\n")
        + "\r\n"
    ).encode()
    piece = b'{"FunctionName":"fuzz-ghost","Junk":"' + b"A" * (1 << 20)
    received = b""
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 16)
        sent = 0
        try:
            sock.sendall(head)
            while sent < total:
                part = piece[: total - sent]
                sock.sendall(b"%x\r\n%s\r\n" % (len(part), part) if chunked else part)
                sent += len(part)
            if chunked:
                sock.sendall(b"0\r\n\r\n")
        except OSError:
            pass  # the server answered 413 and closed; read what it said
        try:
            while True:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                received += chunk
        except OSError:
            pass
    return parse_raw_response(received) if received else None


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_huge_body_is_refused_and_server_survives(server: LaminaProcess, chunked: bool) -> None:
    """80 MB streamed (over the 70167211-byte cap): refused with a JSON 4xx, server stays up."""
    reply = _stream_huge_body(server, 80 * 1024 * 1024, chunked)
    assert reply is not None, "no response to an 80 MB body"
    assert 400 <= reply.status < 500, reply
    assert "message" in json.loads(reply.body)
    assert healthy(server)


def test_oversized_content_length_is_413(server: LaminaProcess) -> None:
    head = b"POST /2015-03-31/functions HTTP/1.1\r\nHost: x\r\nContent-Length: 83886080\r\n\r\n"
    reply = send_raw(server, head)
    assert healthy(server)
    assert reply is not None
    assert reply.status == 413, reply
    assert reply.headers.get("x-amzn-errortype") == "RequestEntityTooLargeException"
    assert "x-amzn-requestid" in reply.headers
