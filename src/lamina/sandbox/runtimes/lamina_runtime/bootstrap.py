"""Lamina's Python runtime: load `module.function`, then serve invocations from the Runtime API forever.

Behaviour follows the official awslambdaric (aws-lambda-python-runtime-interface-client) line for line
where users can observe it: the fault types and messages, the error document (errorMessage, errorType,
requestId, stackTrace with runtime frames removed), the text log format of the root logger, the
multi-line error log joined by carriage returns (so it stays one log event), unbuffered stdout, bytes
results sent as-is, Decimal results encoded exactly, non-ASCII left unescaped from python3.12 on.

This file's name matters: stack frames whose file name contains "/bootstrap.py" are runtime frames and
are cut from `stackTrace`, as awslambdaric does.
"""

from __future__ import annotations

import builtins
import decimal
import importlib
import io
import json
import logging
import os
import sys
import time
import traceback
from collections.abc import Callable
from typing import Any

from .client import Event, RuntimeClient
from .context import LambdaContext, forget_static_fields, parse_json_header

MALFORMED_HANDLER_NAME = "Runtime.MalformedHandlerName"
IMPORT_MODULE_ERROR = "Runtime.ImportModuleError"
BUILT_IN_MODULE_CONFLICT = "Runtime.BuiltInModuleConflict"
USER_CODE_SYNTAX_ERROR = "Runtime.UserCodeSyntaxError"
HANDLER_NOT_FOUND = "Runtime.HandlerNotFound"
MARSHAL_ERROR = "Runtime.MarshalError"
UNMARSHAL_ERROR = "Runtime.UnmarshalError"
CONTEXT_UNMARSHAL_ERROR = "Runtime.LambdaContextUnmarshalError"

_ERROR_LINE_TERMINATOR = "\r"
_ERROR_INDENT = "\u00a0"
_UNHANDLED_WARNING = (
    "LAMBDA_WARNING: Unhandled exception. The most likely cause is an issue in the function code. However, in "
    "rare cases, a Lambda runtime update can cause unexpected function behavior. For functions using managed "
    "runtimes, runtime updates can be triggered by a function change, or can be applied automatically. To "
    "determine if the runtime has been updated, check the runtime version in the INIT_START log entry. If this "
    "error correlates with a change in the runtime version, you may be able to mitigate this error by "
    "temporarily rolling back to the previous runtime version. For more information, see "
    "https://docs.aws.amazon.com/lambda/latest/dg/runtimes-update.html\r"
)
_UNESCAPED_RUNTIMES = {"python3.12", "python3.13", "python3.14", "python3.15"}
_DECIMAL_MARK = "\x00lamina-decimal:"

_request_id = ""


class Fault(Exception):
    def __init__(self, error_type: str, message: str, trace: list[str] | None = None) -> None:
        super().__init__(message)
        self.error_type = error_type
        self.message = message
        self.trace = trace


class _Encoder(json.JSONEncoder):
    """JSON as awslambdaric writes it; a Decimal is emitted as its exact digits, not as a float."""

    saw_decimal = False

    def default(self, o: Any) -> Any:
        if isinstance(o, decimal.Decimal):
            if o.is_nan():
                return float("nan")
            self.saw_decimal = True
            return _DECIMAL_MARK + str(o)
        return super().default(o)


def to_json(value: Any, ensure_ascii: bool = True) -> str:
    encoder = _Encoder(ensure_ascii=ensure_ascii, allow_nan=True)
    text = encoder.encode(value)
    if encoder.saw_decimal:
        mark = json.dumps(_DECIMAL_MARK)[1:-1]
        while mark in text:
            start = text.index(mark) - 1
            end = text.index('"', start + 1 + len(mark))
            text = text[:start] + text[start + 1 + len(mark) : end] + text[end + 1 :]
    return text


def load_handler(handler: str) -> Callable[[Any, Any], Any]:
    try:
        modname, fname = handler.rsplit(".", 1)
    except ValueError as exc:
        raise Fault(MALFORMED_HANDLER_NAME, f"Bad handler '{handler}': {exc}") from None
    try:
        if modname.split(".")[0] in sys.builtin_module_names:
            raise Fault(BUILT_IN_MODULE_CONFLICT, f"Cannot use built-in module {modname} as a handler module")
        module = importlib.import_module(modname.replace("/", "."))
    except ImportError as exc:
        raise Fault(IMPORT_MODULE_ERROR, f"Unable to import module '{modname}': {exc}") from None
    except SyntaxError as exc:
        trace = [f'  File "{exc.filename}" Line {exc.lineno}\n    {exc.text}']
        raise Fault(USER_CODE_SYNTAX_ERROR, f"Syntax error in module '{modname}': {exc}", trace) from None
    try:
        function: Callable[[Any, Any], Any] = getattr(module, fname)
    except AttributeError:
        raise Fault(HANDLER_NOT_FOUND, f"Handler '{fname}' missing on module '{modname}'") from None
    return function


def make_error(message: str, error_type: str, trace: list[str] | None, request_id: str | None) -> dict[str, Any]:
    return {
        "errorMessage": message or "",
        "errorType": error_type or "",
        "requestId": request_id if request_id is not None else "",
        "stackTrace": trace or [],
    }


def fault_from_exception(exc: BaseException, request_id: str | None) -> dict[str, Any]:
    frames = traceback.extract_tb(exc.__traceback__)
    for index, frame in enumerate(frames):
        if "/bootstrap.py" not in frame.filename:
            frames = traceback.StackSummary.from_list(frames[index:])
            break
    # Plain (file, line, name, text) tuples, as the official client formats them: no 3.11 caret lines.
    plain = [(f.filename, f.lineno or 0, f.name, f.line) for f in frames]
    return make_error(str(exc), type(exc).__name__, traceback.format_list(plain), request_id)


def _reindent(line: str) -> str:
    stripped = line.lstrip(" ")
    return _ERROR_INDENT * (len(line) - len(stripped)) + stripped


def log_error(error: dict[str, Any]) -> None:
    description = "[ERROR]"
    if error.get("errorType"):
        description += " " + error["errorType"]
    if error.get("errorMessage"):
        if error.get("errorType"):
            description += ":"
        description += " " + error["errorMessage"]
    lines = [description]
    stack = error.get("stackTrace")
    if stack is not None:
        lines.append("Traceback (most recent call last):")
        for element in stack:
            if element == "":
                lines.append("")
            else:
                lines.extend(_reindent(line) for line in element.splitlines())
    sys.stdout.write(_ERROR_LINE_TERMINATOR.join(lines) + "\n")


class _RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.aws_request_id = _request_id
        return True


class _StdoutHandler(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        sys.stdout.write(self.format(record))


class _JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        document: dict[str, Any] = {
            "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "message": record.getMessage(),
            "logger": record.name,
            "requestId": getattr(record, "aws_request_id", ""),
        }
        if record.exc_info:
            document["errorType"] = record.exc_info[0].__name__ if record.exc_info[0] else None
            document["errorMessage"] = str(record.exc_info[1])
            document["stackTrace"] = traceback.format_tb(record.exc_info[2])
        return json.dumps(document, default=str) + "\n"


def setup_logging() -> None:
    logging.Formatter.converter = time.gmtime
    handler = _StdoutHandler()
    if os.environ.get("AWS_LAMBDA_LOG_FORMAT", "").upper() == "JSON":
        handler.setFormatter(_JsonFormatter())
    else:
        handler.setFormatter(
            logging.Formatter(
                "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s\n",
                "%Y-%m-%dT%H:%M:%S",
            )
        )
    level = os.environ.get("AWS_LAMBDA_LOG_LEVEL", "").upper()
    root = logging.getLogger()
    if level and isinstance(logging.getLevelName(level), int):
        root.setLevel(level)
    handler.addFilter(_RequestIdFilter())
    root.addHandler(handler)


def _unbuffered_stdio() -> None:
    # Lambda's stdout and stderr are unbuffered: each write reaches the log at once.
    for name, fd in (("stdout", 1), ("stderr", 2)):
        raw = io.FileIO(fd, "w", closefd=False)
        stream = io.TextIOWrapper(raw, encoding="utf-8", errors="backslashreplace", write_through=True)
        setattr(sys, name, stream)
    builtins.print = _print


def _print(*args: object, sep: str | None = " ", end: str | None = "\n", file: Any = None, flush: bool = False) -> None:
    """print(), with one write per call: the builtin writes each argument, separator and the end apart, and on
    an unbuffered stdout each write is a syscall (and a wake-up of the platform's log reader). What reaches the
    log is the same text: the platform splits output into events at newlines."""
    if sep is not None and not isinstance(sep, str):
        raise TypeError(f"sep must be None or a string, not {type(sep).__name__}")
    if end is not None and not isinstance(end, str):
        raise TypeError(f"end must be None or a string, not {type(end).__name__}")
    if file is None:
        file = sys.stdout
        if file is None:  # as the builtin: no stdout, nothing printed
            return
    text = (" " if sep is None else sep).join([str(arg) for arg in args])
    file.write(text + ("\n" if end is None else end))
    if flush:
        file.flush()


def handle(client: RuntimeClient, function: Callable[[Any, Any], Any], event: Event, ensure_ascii: bool) -> None:
    error: dict[str, Any] | None = None
    result = b""
    content_type = "application/json"
    try:
        try:
            context = LambdaContext(
                event.request_id,
                parse_json_header(event.client_context),
                parse_json_header(event.cognito_identity),
                event.deadline_ms,
                event.invoked_arn,
                event.tenant_id,
            )
        except ValueError as exc:
            raise Fault(CONTEXT_UNMARSHAL_ERROR, f"Unable to parse Client Context JSON: {exc}") from None
        if event.content_type == "application/json":
            try:
                payload = json.loads(event.body)
            except (ValueError, RecursionError) as exc:  # awslambdaric: any failure to parse (a deep event too)
                raise Fault(UNMARSHAL_ERROR, f"Unable to unmarshal input: {exc}") from None
        else:
            payload = event.body
        response = function(payload, context)
        if isinstance(response, bytes):
            result, content_type = response, "application/unknown"
        else:
            try:
                result = to_json(response, ensure_ascii).encode()
            except Exception as exc:
                raise Fault(MARSHAL_ERROR, f"Unable to marshal response: {exc}") from None
    except Fault as fault:
        error = make_error(fault.message, fault.error_type, fault.trace, event.request_id)
    except Exception as exc:
        error = fault_from_exception(exc, event.request_id)
    if error is not None:
        log_error(error)
        client.post_error(event.request_id, to_json(error, ensure_ascii).encode(), error["errorType"])
    else:
        client.post_response(event.request_id, result, content_type)


def main(handler: str, channel_fd: int | None = None) -> int:
    """`channel_fd`: a socket already connected to the Runtime API (the platform's Unix socket), used
    instead of connecting to AWS_LAMBDA_RUNTIME_API."""
    global _request_id  # noqa: PLW0603 - the log filter reads it, as awslambdaric's global does
    forget_static_fields()  # read from this environment's variables, not the zygote's
    _unbuffered_stdio()
    client = RuntimeClient(os.environ["AWS_LAMBDA_RUNTIME_API"], channel_fd)
    runtime = os.environ.get("AWS_EXECUTION_ENV", "").removeprefix("AWS_Lambda_")
    ensure_ascii = runtime not in _UNESCAPED_RUNTIMES
    error: dict[str, Any] | None = None
    function: Callable[[Any, Any], Any] | None = None
    try:
        setup_logging()
        function = load_handler(handler)
    except Fault as fault:
        error = make_error(fault.message, fault.error_type, fault.trace, None)
    except Exception as exc:
        error = fault_from_exception(exc, None)
        error.pop("requestId", None)
        error = make_error(error["errorMessage"], error["errorType"], error["stackTrace"], None)
    if error is not None or function is None:
        assert error is not None
        logging.warning(_UNHANDLED_WARNING)
        log_error(error)
        client.post_init_error(to_json(error).encode(), error["errorType"])
        return 1
    requested = False
    while True:
        event = client.next(already_requested=requested)
        _request_id = event.request_id
        if event.trace_id is not None:
            os.environ["_X_AMZN_TRACE_ID"] = event.trace_id
        else:
            os.environ.pop("_X_AMZN_TRACE_ID", None)
        handle(client, function, event, ensure_ascii)
        requested = True


class _Discard:
    """A socket stand-in for `rehearse`: takes every write, has nothing to read."""

    def sendall(self, data: bytes) -> None:
        pass

    def recv(self, size: int) -> bytes:
        return b""


_REHEARSAL_EVENT = (
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nLambda-Runtime-Aws-Request-Id: rehearsal\r\n"
    b"Lambda-Runtime-Deadline-Ms: 0\r\nLambda-Runtime-Invoked-Function-Arn: arn\r\nContent-Length: 2\r\n\r\n{}"
)


def rehearse() -> None:
    """Run a cold start's runtime code paths on throwaway objects, in an environment forked ahead of need
    (before it knows its function; no function code is involved). The pages they touch are copied from the
    zygote now, not during the cold start. Leaves no state behind: nothing is registered or kept."""
    for fd in (1, 2):
        raw = io.FileIO(fd, "w", closefd=False)
        io.TextIOWrapper(raw, encoding="utf-8", errors="backslashreplace", write_through=True).detach()
    logging.Formatter("[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s\n", "%Y")
    client = RuntimeClient.__new__(RuntimeClient)
    client.host = "127.0.0.1:9001"
    client.sock = _Discard()  # type: ignore[assignment]
    client.buf = bytearray(_REHEARSAL_EVENT)
    client.pending_replies = 0
    client.next_request = b""
    event = client.next(already_requested=True)
    handle(client, lambda _event, _context: None, event, True)
    forget_static_fields()
