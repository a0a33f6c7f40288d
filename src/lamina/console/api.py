"""The console's JSON API under /console/api/: what the pages call.

Every read and change is one or more of the services' public operations, called in-process with the same
validation and errors as over the wire (`api/local_calls.py`); an error comes back as AWS shows it
(`{"__type": code, "message": ...}` with AWS's HTTP status) so the page can put the API's message next to the
field. A few routes combine operations the Lambda console also combines (edit one file of the zip then
UpdateFunctionCode; Invoke with the log tail and the REPORT figures picked out); nothing here reads the store
behind a service. The saved test events are the console's own documents (`test_events.py`).

    POST /console/api/call/<service>/<Operation>      one allowed operation, params as JSON
    GET  /console/api/functions?q=&start=&limit=      the function list, filtered by name, paged
    GET  /console/api/functions/<name>/source         the handler file of the function's zip
    POST /console/api/functions/<name>/source         {file, source}: that file replaced, UpdateFunctionCode
    POST /console/api/functions/<name>/test           {event}: Invoke (LogType Tail), figures of the REPORT line
    GET  /console/api/functions/<name>/test-events    saved test events {name: json text}
    PUT|DELETE /console/api/functions/<name>/test-events/<event>
    GET  /console/api/blueprints                      the blueprints; POST .../<id> {FunctionName, Role, ...}
    GET  /console/api/functions/<name>/metrics?minutes=   the Monitor charts (CloudWatch GetMetricData)
    GET  /console/api/functions/<name>/cost?minutes=      requests, GB-seconds and USD, as `lamina cost` counts
    POST /console/api/functions/<name>/tune           {memory, invocations, strategy, payload}: a tune run started
    GET  /console/api/functions/<name>/tune[/<id>[/chart]]   the latest run / one run / its chart (HTML)
    GET|POST|DELETE /console/api/session              who is signed in / sign in {accessKeyId, secretAccessKey}
                                                      / sign out (under --auth sigv4: console/sessions.py)

Under --auth sigv4 every route but /session needs a session cookie, and each operation is evaluated against
the session's identity (api/local_calls.py), so the page shows the AccessDenied the API would answer.
"""

from __future__ import annotations

import base64
import binascii
import contextvars
import datetime
import io
import json
import zipfile
from collections.abc import Callable
from typing import Any, Protocol
from urllib.parse import unquote

from lamina.api.faults import service_wire_error
from lamina.api.messages import Request, Response
from lamina.console.blueprints import BLUEPRINTS
from lamina.console.cost_view import function_cost
from lamina.console.monitoring import RANGES, function_metrics, last_hour
from lamina.console.report_line import report_figures
from lamina.console.sessions import Session, Sessions, SignInFailed, cookie_token
from lamina.console.sign_in_limit import SignInThrottled
from lamina.console.test_events import SavedEvents
from lamina.console.tuning import TuneRuns
from lamina.errors import InvalidParameter, InvalidRequestContent, LaminaError, NotFound


class Calls(Protocol):
    """The services' operations in-process (api/local_calls.py), made for `caller` when one is signed in."""

    async def __call__(
        self, service: str, operation: str, params: dict[str, Any], caller: str | None = None
    ) -> dict[str, Any]: ...


class FunctionListing(Protocol):
    """The function list's cheap path: how many names contain `needle` and ListFunctions' entries for `limit` of
    them from the `start`th, in one pass over the names (the Lambda provider's `function_listing`), allowed to
    `caller` exactly when ListFunctions is."""

    def __call__(self, needle: str, start: int, limit: int, caller: str | None) -> tuple[int, list[dict[str, Any]]]: ...


CodeZip = Callable[[str], bytes | None]  # GetFunction's Code.Location → the zip it names (None: not ours)

PREFIX = "/console/api/"
# The operations the pages may call directly (the console's reach, not the whole API).
ALLOWED: dict[str, frozenset[str]] = {
    "lambda": frozenset(
        {
            "ListFunctions",
            "GetFunction",
            "GetFunctionConfiguration",
            "CreateFunction",
            "UpdateFunctionCode",
            "UpdateFunctionConfiguration",
            "DeleteFunction",
            "Invoke",
            "ListVersionsByFunction",
            "ListAliases",
            "PublishVersion",
            "ListEventSourceMappings",
            "UpdateEventSourceMapping",
            "GetFunctionUrlConfig",
            "GetFunctionConcurrency",
            "PutFunctionConcurrency",
            "DeleteFunctionConcurrency",
            "GetFunctionEventInvokeConfig",
            "PutFunctionEventInvokeConfig",
            "DeleteFunctionEventInvokeConfig",
            "GetProvisionedConcurrencyConfig",
            "ListProvisionedConcurrencyConfigs",
            "PutProvisionedConcurrencyConfig",
            "DeleteProvisionedConcurrencyConfig",
        }
    ),
    "logs": frozenset({"DescribeLogStreams", "GetLogEvents", "FilterLogEvents"}),
}
# The signed-in identity of the request being served (None: --auth none); set per request in handle().
_CALLER: contextvars.ContextVar[Session | None] = contextvars.ContextVar("console_caller", default=None)
_SIGN_IN_TO_TUNE = "Sign in again to run a tune: Lamina restarted and does not keep secrets on disk."
_NO_CREDENTIALS = ("test", "test")  # what a tune run signs with under --auth none (nothing checks it)
# Blob members the page sends as text: zips base64-encoded, payloads as they are.
_BASE64_BLOBS = ("ZipFile",)
_TEXT_BLOBS = ("Payload",)
_HANDLER_SUFFIXES = (".py", ".mjs", ".js", ".cjs", ".rb")
_UNZIP = "Could not unzip uploaded file. Please check your file, then try to upload again."
_JSON = [("Content-Type", "application/json"), ("Cache-Control", "no-store")]


def _plain(value: Any) -> Any:
    """An operation's output as JSON: timestamps in ISO 8601, blobs as text (base64 when not UTF-8)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, bytes | bytearray):
        try:
            return bytes(value).decode()
        except UnicodeDecodeError:
            return base64.b64encode(value).decode()
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    return value


def _answer(body: Any, status: int = 200) -> Response:
    return Response(status, list(_JSON), json.dumps(_plain(body)).encode())


def _error(service: str, error: LaminaError) -> Response:
    code, status, _query_code = service_wire_error(service, error)
    return _answer({"__type": code, "message": error.message, **error.fields}, status)


def handler_file(handler: str, names: list[str]) -> str | None:
    """The file of a zip that a handler setting names (`app.handler` → app.py / app.mjs / app.js ...)."""
    module = handler.rsplit(".", 1)[0] if "." in handler else handler
    for suffix in _HANDLER_SUFFIXES:
        if module + suffix in names:
            return module + suffix
    editable = [n for n in names if n.endswith(_HANDLER_SUFFIXES) and not n.endswith("/")]
    return editable[0] if editable else None


def replace_file(package: bytes, name: str, text: str) -> bytes:
    """`package` with file `name` replaced by (or added as) `text`; every other entry kept as it was."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(package)) as old, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as new:
        for info in old.infolist():
            if info.filename != name:
                new.writestr(info, old.read(info))
        new.writestr(zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0)), text)
    return out.getvalue()


class ConsoleApi:
    def __init__(
        self,
        calls: Calls,
        listing: FunctionListing,
        code_zip: CodeZip,
        test_events: SavedEvents,
        *,
        now: Callable[[], float],
        tune_runs: TuneRuns,
        sessions: Sessions | None = None,
    ) -> None:
        self._local_calls = calls
        self._listing = listing
        self._code_zip = code_zip
        self._events = test_events
        self._now = now
        self._tune_runs = tune_runs
        self._sessions = sessions  # None under --auth none: no sign-in, every call as the account

    async def _calls(self, service: str, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        session = _CALLER.get()
        return await self._local_calls(service, operation, params, session.principal if session else None)

    async def handle(self, request: Request) -> Response:
        parts = [unquote(p) for p in request.path[len(PREFIX) :].split("/")]
        service = "lambda"
        if not _same_origin(request):
            return _answer(
                {"__type": "AccessDeniedException", "message": "Cross-origin console requests are refused"}, 403
            )
        if parts[0] == "session" and len(parts) == 1:
            return self._session(request)
        session = None
        if self._sessions is not None:
            session = self._sessions.find(cookie_token(request.headers.get("cookie", "")))
            if session is None:
                return _answer({"__type": "SignInRequired", "message": "Sign in with an access key."}, 401)
        token = _CALLER.set(session)
        try:
            if parts[0] == "call" and len(parts) == 3 and request.method == "POST":
                service = parts[1]
                return await self._call(parts[1], parts[2], request)
            if parts[0] == "functions":
                return await self._functions(parts[1:], request)
            if parts[0] == "blueprints":
                return await self._blueprints(parts[1:], request)
        except LaminaError as exc:
            return _error(service, exc)
        finally:
            _CALLER.reset(token)
        return _answer({"__type": "UnknownOperationException", "message": "Unknown console API route"}, 404)

    def _session(self, request: Request) -> Response:
        """Sign-in state, sign in, sign out. Under --auth none there is nothing to sign in to."""
        sessions = self._sessions
        if sessions is None:
            return _answer({"auth": "none", "signedIn": True, "principal": None})
        token = cookie_token(request.headers.get("cookie", ""))
        if request.method == "DELETE":
            sessions.sign_out(token)
            response = _answer({"auth": "sigv4", "signedIn": False})
            response.headers.append(("Set-Cookie", Sessions.cookie("", 0)))
            return response
        if request.method == "POST":
            try:
                body = self._body(request)
                new_token, session = sessions.sign_in(
                    str(body.get("accessKeyId", "")).strip(), str(body.get("secretAccessKey", ""))
                )
            except SignInFailed as failed:
                return _answer({"__type": "InvalidClientTokenId", "message": failed.message}, 403)
            except SignInThrottled as throttled:  # as IAM and STS answer a caller over their rate
                return _answer({"__type": "ThrottlingException", "message": throttled.message}, 400)
            except LaminaError as exc:
                return _error("lambda", exc)
            sessions.sign_out(token)  # a new sign-in replaces the old session
            response = _answer({"auth": "sigv4", "signedIn": True, "principal": session.principal})
            response.headers.append(("Set-Cookie", Sessions.cookie(new_token, round(session.expires - self._now()))))
            return response
        found = sessions.find(token)
        return _answer({"auth": "sigv4", "signedIn": found is not None, "principal": found and found.principal})

    # -- routes ---------------------------------------------------------------------------------
    async def _call(self, service: str, operation: str, request: Request) -> Response:
        if operation not in ALLOWED.get(service, frozenset()):
            return _answer(
                {"__type": "AccessDeniedException", "message": f"The console does not call {service} {operation}"},
                403,
            )
        params = self._body(request)
        for key in _BASE64_BLOBS:
            self._decode_zip(params, key)
            if isinstance(params.get("Code"), dict):
                self._decode_zip(params["Code"], key)
        for key in _TEXT_BLOBS:
            if isinstance(params.get(key), str):
                params[key] = params[key].encode()
        return _answer(await self._calls(service, operation, params))

    async def _functions(self, rest: list[str], request: Request) -> Response:
        if not rest or rest == [""]:
            return _answer(await self._list(request))
        name = rest[0]
        if rest[1:] == ["source"] and request.method == "GET":
            return _answer(await self._source(name))
        if rest[1:] == ["source"] and request.method == "POST":
            body = self._body(request)
            return _answer(await self._deploy(name, str(body.get("file", "")), str(body.get("source", ""))))
        if rest[1:] == ["test"] and request.method == "POST":
            return _answer(await self._test(name, self._body(request).get("event", "")))
        if rest[1:] == ["metrics"] and request.method == "GET":
            minutes = _int(request.query.get("minutes", ["60"])[0])
            if minutes not in RANGES:
                raise InvalidParameter(f"minutes must be one of {', '.join(map(str, RANGES))}.")
            return _answer(await function_metrics(self._calls, name, minutes, self._now()))
        if rest[1:] == ["cost"] and request.method == "GET":
            minutes = max(1, min(30 * 1440, _int(request.query.get("minutes", [str(30 * 1440)])[0]) or 1))
            now = self._now()
            return _answer(await function_cost(self._calls, name, now - minutes * 60, now))
        if rest[1:2] == ["tune"]:
            return await self._tune(name, rest[2:], request)
        if rest[1:2] == ["test-events"]:
            await self._calls("lambda", "GetFunctionConfiguration", {"FunctionName": name})  # 404 when gone
            if len(rest) == 3 and request.method == "PUT":
                self._events.save(name, rest[2], str(self._body(request).get("event", "")))
            elif len(rest) == 3 and request.method == "DELETE":
                self._events.delete(name, rest[2])
            return _answer({"events": self._events.list(name)})
        return _answer({"__type": "UnknownOperationException", "message": "Unknown console API route"}, 404)

    async def _tune(self, name: str, rest: list[str], request: Request) -> Response:
        if not rest and request.method == "POST":
            await self._calls("lambda", "GetFunctionConfiguration", {"FunctionName": name})  # 404 when gone
            session = _CALLER.get()
            credentials = _NO_CREDENTIALS
            if session is not None:
                if session.secret_access_key is None:  # signed in before a restart: the secret is not kept
                    return _answer({"__type": "SignInRequired", "message": _SIGN_IN_TO_TUNE}, 401)
                credentials = (session.access_key_id, session.secret_access_key)
            return _answer(self._tune_runs.start(name, self._body(request), credentials).to_json())
        if not rest and request.method == "GET":
            latest = self._tune_runs.latest(name)
            return _answer({"run": latest.to_json() if latest else None})
        run = self._tune_runs.get(name, rest[0])
        if rest[1:] == ["chart"] and run.chart is not None:
            # the tune chart is a self-contained page (inline SVG and style, no script), framed by the console
            headers = [
                ("Content-Type", "text/html; charset=utf-8"),
                ("Cache-Control", "no-store"),
                ("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'self'"),
                ("X-Content-Type-Options", "nosniff"),
            ]
            return Response(200, headers, run.chart.encode())
        if rest[1:]:
            raise NotFound("The tune run has no chart (yet).")
        return _answer(run.to_json())

    async def _blueprints(self, rest: list[str], request: Request) -> Response:
        if request.method == "GET":
            return _answer(
                {
                    "blueprints": [
                        {"id": b.id, "title": b.title, "description": b.description, "runtime": b.runtime}
                        for b in BLUEPRINTS.values()
                    ]
                }
            )
        blueprint = BLUEPRINTS.get(rest[0]) if rest else None
        if blueprint is None:
            raise NotFound("No blueprint of that name.")
        body = self._body(request)
        params: dict[str, Any] = {
            "FunctionName": body.get("FunctionName", ""),
            "Role": body.get("Role", ""),
            "Runtime": body.get("Runtime") or blueprint.runtime,  # "author from scratch" picks the runtime
            "Handler": blueprint.handler,
            "Code": {"ZipFile": blueprint.zip_bytes()},
        }
        if body.get("Architectures"):
            params["Architectures"] = body["Architectures"]
        return _answer(await self._calls("lambda", "CreateFunction", params))

    # -- what the routes do ---------------------------------------------------------------------
    async def _list(self, request: Request) -> dict[str, Any]:
        """One page of the functions whose name contains a substring, and how many there are.

        Not ListFunctions page by page (20 calls for 1,000 functions, each re-reading them all): one in-process
        pass over the names, authorized as ListFunctions, converting only the page's functions."""
        query = request.query
        needle = query.get("q", [""])[0].lower()
        start = max(0, _int(query.get("start", ["0"])[0]))
        limit = min(100, max(1, _int(query.get("limit", ["25"])[0])))
        session = _CALLER.get()
        total, page = self._listing(needle, start, limit, session.principal if session else None)
        keep = ("FunctionName", "FunctionArn", "Runtime", "MemorySize", "LastModified", "Description", "PackageType")
        shown = [{k: fn[k] for k in keep if k in fn} for fn in page]
        out: dict[str, Any] = {"functions": shown, "total": total, "start": start}
        try:  # the last hour's invocations and errors: one GetMetricData for the page
            figures = await last_hour(self._calls, [fn["FunctionName"] for fn in shown], self._now())
            for fn in shown:
                fn.update(figures[fn["FunctionName"]])
        except LaminaError as exc:  # e.g. a user who may list functions but not read metrics
            out["metricsError"] = f"{service_wire_error('cloudwatch', exc)[0]}: {exc.message}"
        return out

    async def _package(self, name: str) -> tuple[dict[str, Any], bytes]:
        got = await self._calls("lambda", "GetFunction", {"FunctionName": name})
        config = got["Configuration"]
        location = got.get("Code", {}).get("Location", "")
        package = self._code_zip(location) if location else None
        if package is None:
            raise InvalidParameter("The console can edit only functions deployed as a .zip file archive.")
        return config, package

    async def _source(self, name: str) -> dict[str, Any]:
        config, package = await self._package(name)
        with zipfile.ZipFile(io.BytesIO(package)) as z:
            names = [n for n in z.namelist() if not n.endswith("/")]
            file = handler_file(config.get("Handler", ""), names)
            text: str | None = None
            if file is not None:
                try:
                    text = z.read(file).decode()
                except UnicodeDecodeError:
                    text = None
        return {"file": file, "source": text, "files": names, "handler": config.get("Handler")}

    async def _deploy(self, name: str, file: str, source: str) -> dict[str, Any]:
        if not file:
            raise InvalidParameter("Name the file to deploy.")
        _config, package = await self._package(name)
        return await self._calls(
            "lambda", "UpdateFunctionCode", {"FunctionName": name, "ZipFile": replace_file(package, file, source)}
        )

    async def _test(self, name: str, event: Any) -> dict[str, Any]:
        payload = event if isinstance(event, str) else json.dumps(event)
        # Invalid JSON is Invoke's to refuse (InvalidRequestContentException, its own words); nothing runs.
        out = await self._calls(
            "lambda", "Invoke", {"FunctionName": name, "Payload": (payload or "{}").encode(), "LogType": "Tail"}
        )
        tail = base64.b64decode(out.get("LogResult", "")).decode(errors="replace")
        response = out.get("Payload", b"")
        return {
            "statusCode": out.get("StatusCode"),
            "functionError": out.get("FunctionError"),
            "executedVersion": out.get("ExecutedVersion"),
            "response": response.decode(errors="replace") if isinstance(response, bytes) else str(response),
            "logTail": tail,
            **report_figures(tail),
        }

    # -- parsing --------------------------------------------------------------------------------
    @staticmethod
    def _body(request: Request) -> dict[str, Any]:
        if not request.body:
            return {}
        try:
            body = json.loads(request.body)
        except ValueError:
            raise InvalidRequestContent("The request body is not JSON.") from None
        if not isinstance(body, dict):
            raise InvalidRequestContent("The request body must be a JSON object.")
        return body

    @staticmethod
    def _decode_zip(params: dict[str, Any], key: str) -> None:
        if isinstance(params.get(key), str):
            try:
                params[key] = base64.b64decode(params[key], validate=True)
            except (binascii.Error, ValueError):
                raise InvalidParameter(
                    "Could not unzip uploaded file. Please check your file, then try to upload again."
                ) from None


def _same_origin(request: Request) -> bool:
    """Changes come only from the console's own pages: another site open in the same browser cannot post here.

    A cross-origin page can send a POST without asking first only with a form-like content type, and its
    Origin names the other site; PUT and DELETE always ask first, and the console answers no CORS preflight."""
    if request.method in ("GET", "HEAD"):
        return True
    origin = request.headers.get("origin")
    if origin is not None and origin.split("://", 1)[-1] != request.headers.get("host", ""):
        return False
    kind = request.headers.get("content-type", "")
    return request.method != "POST" or kind.split(";")[0].strip() == "application/json"


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        return 0
