"""CloudWatch Logs filter patterns (FilterLogEvents, subscription filters, live tail): parse once, match many.

Three forms, as AWS's "Filter pattern syntax" page defines them:

* terms: `ERROR`, `"quoted phrase"`, `-exclude`, `?any ?of ?these`. Every plain term must occur, no excluded term
  may occur, and when `?` terms are given at least one of them must; matching is case-sensitive. An empty
  pattern matches every event.
* JSON: `{ $.level = "ERROR" }`, `{ $.latency > 100 && ($.code = 5* || $.user.id IS NULL) }`, with `=`, `!=`,
  `<`, `>`, `<=`, `>=` (strings take `=`/`!=` and `*` wildcards), `IS TRUE|FALSE|NULL`, `NOT EXISTS`, and
  selectors `$.a.b`, `$.a[0]`. Only events whose message is a JSON object or array can match.
* space-delimited: `[ip, user, ..., status = 4*, bytes > 1000]`; fields are split on spaces with `"…"` and
  `[…]` kept whole, `...` stands for any number of fields. Matches give `extractedFields` (subscriptions).

This is not an EventBridge event pattern (sources/patterns.py): a different language over log lines.
Errors are `InvalidPattern` with AWS's messages ("Invalid filter pattern", "Invalid character(s) in term ...").
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

MAX_LENGTH = 1024


class InvalidPattern(ValueError):
    pass


@dataclass(frozen=True)
class Match:
    extracted: dict[str, str] | None = None


Matcher = Callable[[str], Match | None]

_BARE = re.compile(r"^[A-Za-z0-9_.:/@*+\-]+$")
_NUMBER = re.compile(r"^-?\d+(\.\d+)?([eE][+-]?\d+)?$")


def compile_pattern(pattern: str | None) -> Matcher:
    text = (pattern or "").strip()
    if len(text) > MAX_LENGTH:
        raise InvalidPattern("Invalid filter pattern")
    if not text:
        return lambda _m: Match()
    if text.startswith("{"):
        if not text.endswith("}"):
            raise InvalidPattern("If a filter pattern starts with '{' it must end with '}'")
        return _json_matcher(text[1:-1])
    if text.startswith("["):
        if not text.endswith("]"):
            raise InvalidPattern("If a filter pattern starts with '[' it must end with ']'")
        return _spaced_matcher(text[1:-1])
    return _terms_matcher(text)


# -- terms -------------------------------------------------------------------------------------------------
def _terms_matcher(text: str) -> Matcher:
    required: list[str] = []
    excluded: list[str] = []
    optional: list[str] = []
    at = 0
    while at < len(text):
        if text[at].isspace():
            at += 1
            continue
        kind = ""
        if text[at] in "-?" and at + 1 < len(text) and not text[at + 1].isspace():
            kind = text[at]
            at += 1
        if text[at] == '"':
            end = text.find('"', at + 1)
            if end < 0:
                raise InvalidPattern("Invalid filter pattern")
            term = text[at + 1 : end]
            at = end + 1
        else:
            end = at
            while end < len(text) and not text[end].isspace():
                end += 1
            term = text[at:end]
            at = end
            if not _BARE.match(term):
                raise InvalidPattern(f"Invalid character(s) in term '{term}'")
        {"": required, "-": excluded, "?": optional}[kind].append(term)

    def match(message: str) -> Match | None:
        for term in required:
            if term not in message:
                return None
        for term in excluded:
            if term in message:
                return None
        if optional and not any(term in message for term in optional):
            return None
        return Match()

    return match


# -- JSON ------------------------------------------------------------------------------------------------
_JSON_TOKEN = re.compile(
    r'\s*(?:(?P<op>&&|\|\||!=|<=|>=|=|<|>|\(|\))|(?P<str>"(?:[^"\\]|\\.)*")|(?P<sel>\$[^\s=!<>()&|]*)'
    r"|(?P<word>[^\s=!<>()&|\"]+))"
)
_SELECTOR_PART = re.compile(r"\.([A-Za-z0-9_\-@$*]+)|\[(\d+)\]|\.\*|\[\*\]")


def _tokens(text: str) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    at = 0
    while at < len(text):
        if text[at:].strip() == "":
            break
        m = _JSON_TOKEN.match(text, at)
        if m is None or m.end() == at:
            raise InvalidPattern("Invalid filter pattern")
        kind = m.lastgroup or ""
        found.append((kind, m.group(kind)))
        at = m.end()
    return found


_Json = Callable[[Any], bool]


class _JsonParser:
    def __init__(self, text: str) -> None:
        self.tokens = _tokens(text)
        self.at = 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        token = self.peek()
        if token is None:
            raise InvalidPattern("Invalid filter pattern")
        self.at += 1
        return token

    def parse(self) -> _Json:
        expr = self.either()
        if self.peek() is not None:
            raise InvalidPattern("Invalid filter pattern")
        return expr

    def either(self) -> _Json:
        parts = [self.both()]
        while self.peek() == ("op", "||"):
            self.take()
            parts.append(self.both())
        return parts[0] if len(parts) == 1 else (lambda doc: any(p(doc) for p in parts))

    def both(self) -> _Json:
        parts = [self.unary()]
        while self.peek() == ("op", "&&"):
            self.take()
            parts.append(self.unary())
        return parts[0] if len(parts) == 1 else (lambda doc: all(p(doc) for p in parts))

    def unary(self) -> _Json:
        if self.peek() == ("op", "("):
            self.take()
            inner = self.either()
            if self.take() != ("op", ")"):
                raise InvalidPattern("Invalid filter pattern")
            return inner
        kind, selector = self.take()
        if kind != "sel":
            raise InvalidPattern("Invalid filter pattern")
        path = _selector(selector)
        kind, op = self.take()
        if kind == "word" and op.upper() in ("IS", "NOT"):
            _, word = self.take()
            return _special(path, op.upper(), word.upper())
        if kind != "op" or op in ("&&", "||", "(", ")"):
            raise InvalidPattern("Invalid filter pattern")
        kind, raw = self.take()
        if kind not in ("str", "word"):
            raise InvalidPattern("Invalid filter pattern")
        return _comparison(path, op, raw, quoted=kind == "str")


def _selector(text: str) -> list[str | int]:
    if not text.startswith("$"):
        raise InvalidPattern("Invalid filter pattern")
    path: list[str | int] = []
    at = 1
    while at < len(text):
        m = _SELECTOR_PART.match(text, at)
        if m is None:
            raise InvalidPattern("Invalid filter pattern")
        if m.group(1) is not None:
            path.append(m.group(1))
        elif m.group(2) is not None:
            path.append(int(m.group(2)))
        else:
            path.append("*")
        at = m.end()
    return path


_MISSING = object()


def _resolve(doc: Any, path: list[str | int]) -> list[Any]:
    values = [doc]
    for part in path:
        nxt: list[Any] = []
        for value in values:
            if part == "*":
                if isinstance(value, dict):
                    nxt.extend(value.values())
                elif isinstance(value, list):
                    nxt.extend(value)
            elif isinstance(part, int):
                if isinstance(value, list) and part < len(value):
                    nxt.append(value[part])
            elif isinstance(value, dict) and part in value:
                nxt.append(value[part])
        values = nxt
    return values


def _special(path: list[str | int], op: str, word: str) -> _Json:
    if op == "NOT" and word == "EXISTS":
        return lambda doc: not _resolve(doc, path)
    expected = {"TRUE": True, "FALSE": False, "NULL": None}
    if op != "IS" or word not in expected:
        raise InvalidPattern("Invalid filter pattern")
    want = expected[word]
    return lambda doc: any(v is want for v in _resolve(doc, path))


def _wildcard(value: str) -> re.Pattern[str]:
    return re.compile("^" + ".*".join(re.escape(part) for part in value.split("*")) + "$", re.DOTALL)


def _comparison(path: list[str | int], op: str, raw: str, quoted: bool) -> _Json:
    text = json.loads(raw) if quoted else raw
    if not quoted and _NUMBER.match(raw):
        number = float(raw)

        def numeric(doc: Any) -> bool:
            for v in _resolve(doc, path):
                if isinstance(v, bool) or not isinstance(v, int | float):
                    continue
                if _compare(float(v), op, number):
                    return True
            return False

        return numeric
    if op not in ("=", "!="):
        raise InvalidPattern("Invalid filter pattern")
    regex = _wildcard(text)

    def string(doc: Any) -> bool:
        values = _resolve(doc, path)
        if not values:
            return False
        hit = any(regex.match(_text(v)) is not None for v in values if v is not None)
        return hit if op == "=" else not hit

    return string


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value)


def _compare(left: float, op: str, right: float) -> bool:
    if op == "=":
        return left == right
    if op == "!=":
        return left != right
    if op == "<":
        return left < right
    if op == ">":
        return left > right
    if op == "<=":
        return left <= right
    return left >= right


def _json_matcher(text: str) -> Matcher:
    expr = _JsonParser(text).parse()

    def match(message: str) -> Match | None:
        start = message.lstrip()[:1]
        if start not in ("{", "["):
            return None
        try:
            doc = json.loads(message)
        except ValueError:
            return None
        return Match() if expr(doc) else None

    return match


# -- space-delimited -------------------------------------------------------------------------------------
_FIELD_CONDITION = re.compile(r'\s*(!=|<=|>=|=|<|>)\s*("(?:[^"\\]|\\.)*"|[^\s&|]+)\s*')


def _split_fields(text: str) -> list[str]:
    fields: list[str] = []
    depth = 0
    current = ""
    quoted = False
    for ch in text:
        if ch == '"':
            quoted = not quoted
            current += ch
        elif not quoted and ch == "[":
            depth += 1
            current += ch
        elif not quoted and ch == "]":
            depth -= 1
            current += ch
        elif not quoted and depth == 0 and ch == ",":
            fields.append(current.strip())
            current = ""
        else:
            current += ch
    fields.append(current.strip())
    return fields


def _field_test(spec: str) -> tuple[str, Callable[[str], bool] | None]:
    m = re.match(r"^([A-Za-z_][A-Za-z0-9_]*|\.\.\.)", spec)
    if m is None:
        raise InvalidPattern("Invalid filter pattern")
    name = m.group(1)
    rest = spec[m.end() :].strip()
    if not rest:
        return name, None
    alternatives: list[list[Callable[[str], bool]]] = [[]]
    while rest:
        cm = _FIELD_CONDITION.match(rest)
        if cm is None:
            raise InvalidPattern("Invalid filter pattern")
        alternatives[-1].append(_field_condition(cm.group(1), cm.group(2)))
        rest = rest[cm.end() :]
        if rest.startswith("&&"):
            rest = rest[2:].strip()
        elif rest.startswith("||"):
            rest = rest[2:].strip()
            alternatives.append([])
        elif rest:
            raise InvalidPattern("Invalid filter pattern")
        else:
            break
        if rest.startswith(name) and _FIELD_CONDITION.match(rest[len(name) :]):  # `b = x || b = y`
            rest = rest[len(name) :]
        elif not rest:
            raise InvalidPattern("Invalid filter pattern")
    return name, lambda value: any(all(test(value) for test in group) for group in alternatives)


def _field_condition(op: str, raw: str) -> Callable[[str], bool]:
    if raw.startswith('"'):
        raw = json.loads(raw)
    elif _NUMBER.match(raw):
        number = float(raw)

        def numeric(value: str) -> bool:
            return bool(_NUMBER.match(value)) and _compare(float(value), op, number)

        return numeric
    if op not in ("=", "!="):
        raise InvalidPattern("Invalid filter pattern")
    regex = _wildcard(raw)
    if op == "=":
        return lambda value: regex.match(value) is not None
    return lambda value: regex.match(value) is None


def _words(message: str) -> list[str]:
    words: list[str] = []
    at = 0
    while at < len(message):
        ch = message[at]
        if ch.isspace():
            at += 1
            continue
        if ch in '"[':
            close = '"' if ch == '"' else "]"
            end = message.find(close, at + 1)
            if end >= 0:
                words.append(message[at + 1 : end])
                at = end + 1
                continue
        end = at
        while end < len(message) and not message[end].isspace():
            end += 1
        words.append(message[at:end])
        at = end
    return words


def _spaced_matcher(text: str) -> Matcher:
    specs = [_field_test(spec) for spec in _split_fields(text) if spec]
    if not specs:
        raise InvalidPattern("Invalid filter pattern")
    names = [name for name, _ in specs]
    if names.count("...") > 1:
        raise InvalidPattern("Invalid filter pattern")

    def match(message: str) -> Match | None:
        words = _words(message)
        if "..." in names:
            split = names.index("...")
            after = len(names) - split - 1
            if len(words) < len(names) - 1:
                return None
            aligned = list(zip(specs[:split], words[:split], strict=True))
            aligned += list(zip(specs[split + 1 :], words[len(words) - after :], strict=True))
        else:
            if len(words) != len(specs):
                return None
            aligned = list(zip(specs, words, strict=True))
        extracted: dict[str, str] = {}
        for (name, test), word in aligned:
            if test is not None and not test(word):
                return None
            extracted[name] = word
        return Match(extracted)

    return match
