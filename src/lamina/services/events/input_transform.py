"""What a target receives: the event, `Input` (constant JSON), `InputPath` (a part of the event) or
`InputTransformer` (values picked by InputPathsMap, put into InputTemplate).

AWS's quoting rules for InputTemplate (EventBridge User Guide "Amazon EventBridge input transformation"):
- a placeholder inside a JSON string (`"name: <name>"`) receives a string value as its bare text (quotes and
  backslashes escaped so the result stays JSON) and any other value as its JSON text;
- a placeholder outside quotes (`{"n": <n>}`) receives the value's JSON text (a string keeps its quotes);
- a template that is not JSON (`<instance> is in state <status>`) receives string values as bare text;
- `<aws.events.event>` (the event without `detail`) and `<aws.events.event.json>` (the whole event) are always
  inserted as JSON, `<aws.events.rule-arn>`, `<aws.events.rule-name>`, `<aws.events.event.ingestion-time>` as
  strings. A path that finds nothing gives `null` (outside quotes) or the empty string (inside).
"""

from __future__ import annotations

import json
import re
from typing import Any

_PLACEHOLDER = re.compile(r"<([A-Za-z0-9_.\-]+)>")
_SEGMENT = re.compile(r"\.([A-Za-z0-9_\-/:@$]+|\*)|\[(\d+|\*)\]|\['([^']*)'\]")
_MISSING = object()
RESERVED_PREFIX = "aws.events."
MAX_PATHS = 100


class BadPath(ValueError):
    pass


def json_path(path: str, document: Any) -> Any:
    """EventBridge's JSONPath subset: `$`, `.name`, `['name']`, `[3]`, `.*` / `[*]`. Returns `_MISSING`-free
    values: None when nothing is found."""
    value = _select(path, document)
    return None if value is _MISSING else value


def check_path(path: Any) -> None:
    if not isinstance(path, str) or not path.startswith("$"):
        raise BadPath(path)
    rest = path[1:]
    pos = 0
    while pos < len(rest):
        m = _SEGMENT.match(rest, pos)
        if m is None:
            raise BadPath(path)
        pos = m.end()


def _select(path: str, document: Any) -> Any:
    check_path(path)
    current: list[Any] = [document]
    many = False
    for m in _SEGMENT.finditer(path[1:]):
        name, index, quoted = m.group(1), m.group(2), m.group(3)
        if name == "*" or index == "*":
            many = True
            nxt: list[Any] = []
            for c in current:
                if isinstance(c, dict):
                    nxt.extend(c.values())
                elif isinstance(c, list):
                    nxt.extend(c)
            current = nxt
            continue
        key: str | int = quoted if quoted is not None else (name if name is not None else int(index))
        nxt = []
        for c in current:
            found = isinstance(c, list) and isinstance(key, int) and key < len(c)
            if found or (isinstance(c, dict) and isinstance(key, str) and key in c):
                nxt.append(c[key])
        current = nxt
    if many:
        return current
    return current[0] if current else _MISSING


def predefined(event: dict[str, Any], rule_arn: str, rule_name: str, ingestion_time: str) -> dict[str, Any]:
    without_detail = {k: v for k, v in event.items() if k != "detail"}
    return {
        "aws.events.rule-arn": rule_arn,
        "aws.events.rule-name": rule_name,
        "aws.events.event.ingestion-time": ingestion_time,
        "aws.events.event": _Json(without_detail),
        "aws.events.event.json": _Json(event),
    }


class _Json:
    """A value always inserted as JSON text, even inside quotes."""

    def __init__(self, value: Any) -> None:
        self.value = value


def transform(template: str, paths: dict[str, str], event: dict[str, Any], extra: dict[str, Any]) -> str:
    values: dict[str, Any] = dict(extra)
    for name, path in paths.items():
        values[name] = json_path(path, event)
    stripped = template.strip()
    is_json = stripped[:1] in ("{", "[", '"')
    out: list[str] = []
    in_string = False
    i = 0
    while i < len(template):
        ch = template[i]
        if ch == "<":
            m = _PLACEHOLDER.match(template, i)
            if m is not None and m.group(1) in values:
                out.append(_render(values[m.group(1)], in_string, is_json))
                i = m.end()
                continue
        if ch == "\\" and i + 1 < len(template):
            out.append(template[i : i + 2])
            i += 2
            continue
        if ch == '"':
            in_string = not in_string
        out.append(ch)
        i += 1
    return "".join(out)


def _render(value: Any, in_string: bool, is_json: bool) -> str:
    if isinstance(value, _Json):
        return json.dumps(value.value, separators=(",", ":"))
    if in_string:
        if value is None:
            return ""
        text = value if isinstance(value, str) else json.dumps(value)
        return json.dumps(text)[1:-1]
    if not is_json and isinstance(value, str):
        return value
    return json.dumps(value)


def target_input(
    target: dict[str, Any], event: dict[str, Any], rule_arn: str, rule_name: str, ingestion_time: str
) -> str:
    """The text the target receives for `event`."""
    if target.get("Input") is not None:
        return str(target["Input"])
    if target.get("InputPath"):
        return _compact(json_path(str(target["InputPath"]), event))
    transformer = target.get("InputTransformer")
    if transformer:
        extra = predefined(event, rule_arn, rule_name, ingestion_time)
        return transform(str(transformer["InputTemplate"]), dict(transformer.get("InputPathsMap") or {}), event, extra)
    return _compact(event)


def _compact(value: Any) -> str:
    """As AWS sends events: `{"version":"0","id":…}` without spaces."""
    return json.dumps(value, separators=(",", ":"))
