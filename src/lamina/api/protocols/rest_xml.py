"""The rest-xml protocol (S3): members from URI, query string, headers (and `x-amz-meta-*` header maps) and
an XML or raw payload in; status code, headers and an XML or raw (streamed) payload out. Driven by
botocore's model, as rest_json.py is.

Routing is the protocol's own job here, because S3's operations share paths: PutObject, CopyObject,
UploadPart and UploadPartCopy are all `PUT /{Bucket}/{Key+}` and are told apart by the query-string and
header members each one requires (`uploadId`/`partNumber`, `x-amz-copy-source`). A virtual-hosted request
(`Host: <bucket>.s3.localhost`) is routed as the path-style request it stands for.
"""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any
from urllib.parse import unquote
from xml.etree import ElementTree
from xml.sax.saxutils import escape

from botocore.model import OperationModel, ServiceModel, Shape

from lamina.api.messages import Request, Response
from lamina.errors import ServiceFault

XML_TYPE = "application/xml"
S3_NAMESPACE = "http://s3.amazonaws.com/doc/2006-03-01/"
_VIRTUAL_HOST = re.compile(
    r"^(?P<bucket>[^.:]+(?:\.[^.:]+)*?)\.s3(?:[.-][^.:]+)*\.(?:localhost|amazonaws\.com)(:\d+)?$"
)
_INTEGER = re.compile(r"^-?[0-9]{1,18}$")
# AWS's root element names where they differ from the output shape's name without "Output".
_ROOTS = {
    "ListObjects": "ListBucketResult",
    "ListObjectsV2": "ListBucketResult",
    "ListObjectVersions": "ListVersionsResult",
    "ListBuckets": "ListAllMyBucketsResult",
    "GetBucketTagging": "Tagging",
    "GetBucketVersioning": "VersioningConfiguration",
    "GetBucketLocation": "LocationConstraint",
    "DeleteObjects": "DeleteResult",
    "CreateMultipartUpload": "InitiateMultipartUploadResult",
    "CompleteMultipartUpload": "CompleteMultipartUploadResult",
    "ListParts": "ListPartsResult",
    "ListMultipartUploads": "ListMultipartUploadsResult",
    "GetBucketNotificationConfiguration": "NotificationConfiguration",
    "GetObjectTagging": "Tagging",
    "GetBucketAcl": "AccessControlPolicy",
    "GetObjectAcl": "AccessControlPolicy",
    "GetBucketLifecycleConfiguration": "LifecycleConfiguration",
}
_NAMESPACE_TAG = re.compile(r"^\{[^}]*\}")


def virtual_bucket(host: str) -> str | None:
    """The bucket a virtual-hosted request names in its Host (`photos.s3.localhost:4566` → photos)."""
    m = _VIRTUAL_HOST.match(host)
    return m.group("bucket") if m else None


@dataclass(frozen=True)
class _Route:
    operation: OperationModel
    method: str
    pattern: re.Pattern[str]
    static_query: tuple[tuple[str, str], ...]
    required_query: tuple[str, ...]
    required_headers: tuple[str, ...]

    @property
    def weight(self) -> int:
        return 100 * len(self.static_query) + 10 * len(self.required_query) + len(self.required_headers)


def _compile(op: OperationModel) -> _Route:
    uri: str = op.http["requestUri"]
    path, _, query = uri.partition("?")
    static = []
    for part in filter(None, query.split("&")):
        key, _, value = part.partition("=")
        static.append((key, value))
    regex = ["^"]
    for token in re.split(r"(\{[^}]+\})", path):
        if token.startswith("{"):
            label = token[1:-1].removesuffix("+")
            regex.append(f"(?P<{label}>.+)" if token.endswith("+}") else f"(?P<{label}>[^/]+)")
        else:
            regex.append(re.escape(token))
    if not path.endswith("/") and "+}" not in path:
        regex.append("/?")
    regex.append("$")
    required_query: list[str] = []
    required_headers: list[str] = []
    shape = op.input_shape
    if shape is not None:
        for name in shape.required_members:
            member = shape.members[name]
            where = member.serialization.get("location")
            if where == "querystring":
                required_query.append(member.serialization.get("name", name))
            elif where == "header":
                required_headers.append(member.serialization.get("name", name).lower())
    return _Route(
        op, op.http["method"], re.compile("".join(regex)), tuple(static), tuple(required_query), tuple(required_headers)
    )


def _text_value(shape: Shape, text: str, where: str) -> Any:
    kind = shape.type_name
    if kind in ("integer", "long"):
        if not _INTEGER.match(text.strip()):
            raise ServiceFault("InvalidArgument", f"Provided {where} not an integer or within integer range")
        return int(text)
    if kind == "boolean":
        return text.strip().lower() == "true"
    if kind == "timestamp":
        return parse_timestamp(text)
    return text


def parse_timestamp(text: str) -> float | None:
    """An RFC 1123 (headers) or ISO 8601 (bodies, queries) time as epoch seconds; None if neither."""
    text = text.strip()
    try:
        return parsedate_to_datetime(text).timestamp()
    except (TypeError, ValueError, IndexError):
        pass
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return None


def http_date(epoch: float) -> str:
    return format_datetime(datetime.fromtimestamp(int(epoch), UTC), usegmt=True)


def iso_date(epoch: float) -> str:
    moment = datetime.fromtimestamp(epoch, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _from_xml(shape: Shape, node: ElementTree.Element) -> Any:
    kind = shape.type_name
    if kind == "structure":
        out: dict[str, Any] = {}
        children: dict[str, list[ElementTree.Element]] = {}
        for child in node:
            children.setdefault(_local(child.tag), []).append(child)
        for name, member in shape.members.items():
            if member.serialization.get("location"):
                continue
            if member.serialization.get("xmlAttribute"):  # `xsi:type` on a Grantee, as botocore reads it
                wanted = member.serialization["name"]
                prefix = wanted.split(":")[0] + ":" if ":" in wanted else ""
                for key, value in node.attrib.items():
                    if _NAMESPACE_TAG.sub(prefix, key) == wanted:
                        out[name] = value
                continue
            tag = member.serialization.get("name", name)
            if member.type_name == "list" and member.serialization.get("flattened"):
                tag = member.serialization.get("name") or member.member.serialization.get("name", name)
                found = children.get(tag)
                if found:
                    out[name] = [_from_xml(member.member, item) for item in found]
                continue
            found = children.get(tag)
            if found:
                out[name] = _from_xml(member, found[0])
        return out
    if kind == "list":
        tag = shape.member.serialization.get("name", "member")
        return [_from_xml(shape.member, item) for item in node if _local(item.tag) == tag]
    text = node.text or ""
    if kind in ("integer", "long"):
        if not _INTEGER.match(text.strip()):
            raise ServiceFault("MalformedXML", _MALFORMED)
        return int(text)
    if kind == "boolean":
        return text.strip() == "true"
    if kind == "timestamp":
        return parse_timestamp(text)
    return text


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


_MALFORMED = "The XML you provided was not well-formed or did not validate against our published schema"


def _to_xml(shape: Shape, value: Any, tag: str, out: list[str]) -> None:
    kind = shape.type_name
    if value is None:
        return
    if kind == "structure":
        attributes = ""
        namespace = shape.serialization.get("xmlNamespace")
        if isinstance(namespace, dict) and namespace.get("prefix"):
            attributes += f' xmlns:{namespace["prefix"]}="{escape(namespace["uri"])}"'
        for name, member in shape.members.items():
            if member.serialization.get("xmlAttribute") and value.get(name) is not None:
                attributes += f' {member.serialization["name"]}="{escape(str(value[name]), {chr(34): "&quot;"})}"'
        out.append(f"<{tag}{attributes}>")
        _members_xml(shape, value, out)
        out.append(f"</{tag}>")
    elif kind == "list":
        if shape.serialization.get("flattened"):
            for item in value:
                _to_xml(shape.member, item, tag, out)
        else:
            out.append(f"<{tag}>")
            member_tag = shape.member.serialization.get("name", "member")
            for item in value:
                _to_xml(shape.member, item, member_tag, out)
            out.append(f"</{tag}>")
    else:
        out.append(f"<{tag}>{escape(_scalar(shape, value))}</{tag}>")


def _members_xml(shape: Shape, value: dict[str, Any], out: list[str]) -> None:
    for name, member in shape.members.items():
        if name not in value or member.serialization.get("location") or member.serialization.get("xmlAttribute"):
            continue
        tag = member.serialization.get("name", name)
        if member.type_name == "list" and member.serialization.get("flattened"):
            tag = member.serialization.get("name") or member.member.serialization.get("name", name)
        _to_xml(member, value[name], tag, out)


def _scalar(shape: Shape, value: Any) -> str:
    kind = shape.type_name
    if kind == "boolean":
        return "true" if value else "false"
    if kind == "timestamp":
        return iso_date(value) if isinstance(value, int | float) else str(value)
    if kind == "blob":
        return base64.b64encode(value).decode() if isinstance(value, bytes) else str(value)
    return str(value)


def _header_scalar(shape: Shape, value: Any) -> str:
    if shape.type_name == "timestamp":
        return http_date(value) if isinstance(value, int | float) else str(value)
    if shape.type_name == "boolean":
        return "true" if value else "false"
    return str(value)


class RestXmlProtocol:
    def __init__(self, model: ServiceModel) -> None:
        self.model = model
        routes = [_compile(model.operation_model(name)) for name in model.operation_names]
        self._routes: dict[str, list[_Route]] = {}
        # Deprecated operations (PutBucketNotification beside ...Configuration) share paths: the current one wins.
        for route in sorted(routes, key=lambda r: (-r.weight, bool(r.operation.deprecated))):
            self._routes.setdefault(route.method, []).append(route)

    # -- routing --------------------------------------------------------------------------------
    def route(self, request: Request) -> tuple[OperationModel, dict[str, str]] | None:
        path = request.path
        bucket = virtual_bucket(request.headers.get("host", ""))
        if bucket is not None:
            path = f"/{bucket}{path if path != '/' else ''}"
        query = request.query
        headers = request.headers
        for route in self._routes.get(request.method, ()):
            if any(key not in query or (value and query[key][0] != value) for key, value in route.static_query):
                continue
            if any(key not in query for key in route.required_query):
                continue
            if any(key not in headers for key in route.required_headers):
                continue
            m = route.pattern.match(path)
            if m is None:
                continue
            return route.operation, {k: unquote(v) for k, v in m.groupdict().items()}
        return None

    # -- requests -------------------------------------------------------------------------------
    def parse(self, op: OperationModel, request: Request, uri_params: dict[str, str]) -> dict[str, Any]:
        shape = op.input_shape
        params: dict[str, Any] = {}
        if shape is None:
            return params
        query = request.query
        headers = request.headers
        payload = shape.serialization.get("payload")
        for name, member in shape.members.items():
            where = member.serialization.get("location")
            wire = member.serialization.get("name", name)
            if where == "uri":
                if wire in uri_params:
                    params[name] = uri_params[wire]
            elif where == "querystring":
                values = query.get(wire)
                if values is not None:
                    if member.type_name == "list":
                        params[name] = list(values)
                    else:
                        params[name] = _text_value(member, values[0], wire)
            elif where == "header":
                value = headers.get(wire.lower())
                if value is not None:
                    if member.type_name == "list":
                        params[name] = [v.strip() for v in value.split(",")]
                    else:
                        params[name] = _text_value(member, value, wire)
            elif where == "headers":
                prefix = wire.lower()
                found = {k[len(prefix) :]: v for k, v in headers.items() if k.startswith(prefix)}
                if found:
                    params[name] = found
            elif name == payload:
                if member.type_name in ("blob", "string"):
                    params[name] = request.body if request.body_stream is None else request.body_stream
                    # How the body came (aws-chunked, its trailers) is the provider's to undo; not modeled.
                    params["_headers"] = headers
                    if request.chunk_chain is not None:  # --auth sigv4, a signed aws-chunked body
                        params["_chunk_chain"] = request.chunk_chain
                elif request.body:
                    params[name] = self._xml_body(member, request.body)
        return params

    def _xml_body(self, shape: Shape, body: bytes) -> Any:
        try:
            root = ElementTree.fromstring(body)
        except ElementTree.ParseError:
            raise ServiceFault("MalformedXML", _MALFORMED) from None
        expected = shape.serialization.get("name", shape.name)
        if _local(root.tag) != expected:
            raise ServiceFault("MalformedXML", _MALFORMED)
        return _from_xml(shape, root)

    # -- responses ------------------------------------------------------------------------------
    def serialize(self, op: OperationModel, result: dict[str, Any] | None) -> Response:
        status = op.http.get("responseCode", 200)
        shape = op.output_shape
        response = Response(status, [])
        if shape is None or not result:
            return response
        headers = response.headers
        payload = shape.serialization.get("payload")
        for name, member in shape.members.items():
            value = result.get(name)
            if value is None:
                continue
            where = member.serialization.get("location")
            if where == "header":
                wire = member.serialization.get("name", name)
                if wire.lower() == "content-length":  # the server writes it: HEAD names the object's size
                    response.length = int(value)
                    continue
                headers.append((wire, _header_scalar(member, value)))
            elif where == "headers":
                prefix = member.serialization.get("name", name)
                headers.extend((f"{prefix}{k}", str(v)) for k, v in value.items())
            elif where == "statusCode":
                response.status = int(value)
        extra = result.get("_status")
        if extra is not None:
            response.status = int(extra)
        if payload is not None:
            member = shape.members[payload]
            value = result.get(payload)
            if member.type_name in ("blob", "string"):
                if isinstance(value, bytes):
                    response.body = value
                elif value is not None:  # a stream: (async iterator, length)
                    response.stream, response.length = value
                return response
            if value is None:
                return response
            out = ['<?xml version="1.0" encoding="UTF-8"?>\n']
            tag = member.serialization.get("name", payload)
            _to_xml(member, value, tag, out)
            out.insert(1, "")
            text = "".join(out).replace(f"<{tag}>", f'<{tag} xmlns="{S3_NAMESPACE}">', 1)
            headers.append(("Content-Type", XML_TYPE))
            response.body = text.encode()
            return response
        body_members = [n for n, m in shape.members.items() if not m.serialization.get("location")]
        if not body_members:
            return response
        root = _ROOTS.get(op.name, shape.name.removesuffix("Output").removesuffix("Result") + "Result")
        out = [f'<?xml version="1.0" encoding="UTF-8"?>\n<{root} xmlns="{S3_NAMESPACE}">']
        if op.name == "GetBucketLocation":  # the one answer whose root holds text
            out = [f'<?xml version="1.0" encoding="UTF-8"?>\n<{root} xmlns="{S3_NAMESPACE}">']
            out.append(escape(result.get("LocationConstraint") or ""))
        else:
            _members_xml(shape, result, out)
        out.append(f"</{root}>")
        headers.append(("Content-Type", XML_TYPE))
        response.body = "".join(out).encode()
        return response


def s3_request_ids(request_id: str) -> tuple[str, str]:
    """(x-amz-request-id, x-amz-id-2) for Lamina's request id, in AWS's forms: 16 upper-case hex digits and a
    base64 host id. Both follow from the id, so an error's <RequestId>/<HostId> match its headers."""
    digest = hashlib.sha256(request_id.encode()).digest()
    return request_id.replace("-", "")[:16].upper(), base64.b64encode(digest + digest[:24]).decode()


def error_response(code: str, status: int, message: str, fields: dict[str, object], request_id: str) -> Response:
    """S3's error document: `<Error><Code/><Message/>...extra fields...<RequestId/><HostId/></Error>`."""
    out = [f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{escape(code)}</Code>']
    out.append(f"<Message>{escape(message)}</Message>")
    for key, value in fields.items():
        if value is not None:
            out.append(f"<{key}>{escape(str(value))}</{key}>")
    amz_id, host_id = s3_request_ids(request_id)
    out.append(f"<RequestId>{amz_id}</RequestId><HostId>{host_id}</HostId></Error>")
    headers = [("Content-Type", XML_TYPE)]
    return Response(status, headers, "".join(out).encode())
