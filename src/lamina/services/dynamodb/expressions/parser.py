"""Parsing DynamoDB expressions (grammar.lark, one LALR parser) and resolving their placeholders.

Parsing gives a tree that depends on the text alone, so it is cached per expression. `Resolver` then
substitutes `#name` and `:value` placeholders for one request, refusing what AWS refuses (undefined
placeholders, reserved words, unknown functions, wrong operand counts) and remembering which placeholders
were used, so the request can be refused for unused ones as AWS does.

Resolved nodes are tuples: `("path", (name | index, ...))`, `("const", value)`, `("call", fn, args)`,
`("cmp", op, a, b)`, `("between", a, low, high)`, `("in", a, options)`, `("and"|"or", a, b)`, `("not", a)`,
`("+"|"-", a, b)`; an update is a list of `(ACTION, [(path, operand)])`.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

from lark import Lark, Token, Transformer, UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from lamina.errors import ValidationFailed
from lamina.services.dynamodb.values import Value, check_value

Node = tuple[Any, ...]
Path = tuple[str | int, ...]

_FOLDER = resources.files("lamina.services.dynamodb.expressions")
_PARSER = Lark(
    (_FOLDER / "grammar.lark").read_text(),
    parser="lalr",
    start=["condition", "update", "projection"],
    maybe_placeholders=False,
)
RESERVED = frozenset(
    line.strip().upper()
    for line in (_FOLDER / "reserved_words.txt").read_text().splitlines()
    if line.strip() and not line.startswith("#")
)

CONDITION_FUNCTIONS = {
    "attribute_exists": 1,
    "attribute_not_exists": 1,
    "attribute_type": 2,
    "begins_with": 2,
    "contains": 2,
    "size": 1,
}
UPDATE_FUNCTIONS = {"if_not_exists": 2, "list_append": 2}
_BOOLEAN = frozenset(CONDITION_FUNCTIONS) - {"size"}


class _Tree(Transformer[Token, Any]):
    """The lark tree as plain tuples (placeholders still unresolved)."""

    def path(self, items: list[Any]) -> Node:
        return ("path", tuple(items))

    def name(self, items: list[Token]) -> Node:
        return ("n", str(items[0]))

    def name_ref(self, items: list[Token]) -> Node:
        return ("r", str(items[0]))

    def index(self, items: list[Token]) -> int:
        return int(items[0])

    def value(self, items: list[Token]) -> Node:
        return ("value", str(items[0]))

    def call(self, items: list[Any]) -> Node:
        return ("call", str(items[0]), tuple(items[1:]))

    def compare(self, items: list[Any]) -> Node:
        return ("cmp", str(items[1]), items[0], items[2])

    def between(self, items: list[Any]) -> Node:
        return ("between", items[0], items[2], items[4])

    def in_(self, items: list[Any]) -> Node:
        return ("in", items[0], tuple(items[2:]))

    def and_(self, items: list[Any]) -> Node:
        return ("and", items[0], items[2])

    def or_(self, items: list[Any]) -> Node:
        return ("or", items[0], items[2])

    def not_(self, items: list[Any]) -> Node:
        return ("not", items[1])

    def bare(self, items: list[Any]) -> Node:
        return ("bare", items[0])

    def plus(self, items: list[Any]) -> Node:
        return ("+", items[0], items[1])

    def minus(self, items: list[Any]) -> Node:
        return ("-", items[0], items[1])

    def set_action(self, items: list[Any]) -> tuple[Node, Node]:
        return (items[0], items[2])

    def set_clause(self, items: list[Any]) -> tuple[str, list[Any]]:
        return ("SET", items[1:])

    def remove_clause(self, items: list[Any]) -> tuple[str, list[Any]]:
        return ("REMOVE", [(p, None) for p in items[1:]])

    def add_clause(self, items: list[Any]) -> tuple[str, list[Any]]:
        rest = items[1:]
        return ("ADD", [(rest[i], ("value", str(rest[i + 1]))) for i in range(0, len(rest), 2)])

    def delete_clause(self, items: list[Any]) -> tuple[str, list[Any]]:
        rest = items[1:]
        return ("DELETE", [(rest[i], ("value", str(rest[i + 1]))) for i in range(0, len(rest), 2)])

    def update(self, items: list[Any]) -> list[Any]:
        return items

    def projection(self, items: list[Any]) -> list[Any]:
        return items


def _near(text: str, error: UnexpectedInput) -> str:
    """AWS's `token: "…", near: "…"`: the offending token with the tokens beside it."""
    tokens = list(_PARSER.lex(text, dont_ignore=False)) if not isinstance(error, UnexpectedCharacters) else []
    if isinstance(error, UnexpectedCharacters):
        pos = error.pos_in_stream or 0
        end = pos + 1
        while end < len(text) and not text[end].isspace() and text[end].isalnum() == text[pos].isalnum():
            end += 1
        before = text[:pos].rstrip().rsplit(None, 1)[-1] if text[:pos].strip() else ""
        token = text[pos:end]
        start = text.rfind(before, 0, pos) if before else pos
        return f'token: "{token}", near: "{text[start:end]}"'
    if isinstance(error, UnexpectedEOF) or (isinstance(error, UnexpectedToken) and error.token.type == "$END"):
        last = tokens[-2:] if tokens else []
        start = (last[0].start_pos or 0) if last else 0
        return f'token: "<EOF>", near: "{text[start:].rstrip()}"'
    assert isinstance(error, UnexpectedToken)
    at = next((i for i, t in enumerate(tokens) if t.start_pos == error.token.start_pos), 0)
    before = tokens[max(at - 1, 0)]
    after = tokens[min(at + 1, len(tokens) - 1)]
    return f'token: "{error.token}", near: "{text[before.start_pos : after.end_pos]}"'


@cache
def parse(text: str, start: str) -> Any:
    """The unresolved tree of one expression; raises `SyntaxProblem` with AWS's wording."""
    if not text.strip():
        raise SyntaxProblem("The expression can not be empty;")
    try:
        return _Tree().transform(_PARSER.parse(text, start=start))
    except UnexpectedInput as error:
        try:
            near = _near(text, error)
        except UnexpectedInput:  # the text does not even lex: point at where it stops
            near = f'token: "{text}", near: "{text}"'
        raise SyntaxProblem(f"Syntax error; {near}") from None


class SyntaxProblem(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Resolver:
    """One request's placeholders: substitutes them into parsed expressions and tracks their use."""

    def __init__(self, names: dict[str, str] | None, values: dict[str, Any] | None) -> None:
        self.names = names
        self.values = values
        self.used_names: set[str] = set()
        self.used_values: set[str] = set()
        self._checked: dict[str, Value] = {}
        self.expressions = 0
        if names is not None and not names:
            raise ValidationFailed("ExpressionAttributeNames must not be empty")
        if values is not None and not values:
            raise ValidationFailed("ExpressionAttributeValues must not be empty")

    # -- the four entry points ------------------------------------------------------------------
    def condition(self, text: str, label: str) -> Node:
        self.expressions += 1
        tree = self._parse(text, "condition", label)
        node: Node = self._guard(label, lambda: self._predicate(tree))
        return node

    def update(self, text: str) -> list[tuple[str, list[tuple[Path, Node | None]]]]:
        self.expressions += 1
        tree = self._parse(text, "update", "UpdateExpression")
        actions: list[tuple[str, list[tuple[Path, Node | None]]]] = self._guard(
            "UpdateExpression", lambda: self._update(tree)
        )
        return actions

    def projection(self, text: str) -> list[Path]:
        self.expressions += 1
        tree = self._parse(text, "projection", "ProjectionExpression")
        paths: list[Path] = self._guard("ProjectionExpression", lambda: [self._path(p) for p in tree])
        return paths

    def finish(self) -> None:
        """AWS refuses placeholders no expression used (values first, as AWS checks them)."""
        if self.expressions == 0:
            if self.values is not None:
                raise ValidationFailed("ExpressionAttributeValues can only be specified when using expressions")
            if self.names is not None:
                raise ValidationFailed("ExpressionAttributeNames can only be specified when using expressions")
        unused_values = [k for k in (self.values or {}) if k not in self.used_values]
        if unused_values:
            raise ValidationFailed(
                "Value provided in ExpressionAttributeValues unused in expressions: keys: {"
                + ", ".join(unused_values)
                + "}"
            )
        unused_names = [k for k in (self.names or {}) if k not in self.used_names]
        if unused_names:
            raise ValidationFailed(
                "Value provided in ExpressionAttributeNames unused in expressions: keys: {"
                + ", ".join(unused_names)
                + "}"
            )

    # -- internals ------------------------------------------------------------------------------
    def _parse(self, text: str, start: str, label: str) -> Any:
        try:
            return parse(text, start)
        except SyntaxProblem as problem:
            raise ValidationFailed(f"Invalid {label}: {problem.message}") from None

    def _guard(self, label: str, work: Any) -> Any:
        try:
            return work()
        except SyntaxProblem as problem:
            raise ValidationFailed(f"Invalid {label}: {problem.message}") from None

    def _path(self, node: Node) -> Path:
        if node[0] != "path":
            raise SyntaxProblem('Syntax error; token: "' + str(node[1]) + '", near: "' + str(node[1]) + '"')
        out: list[str | int] = []
        for element in node[1]:
            if isinstance(element, int):
                out.append(element)
            elif element[0] == "r":
                ref = element[1]
                if self.names is None or ref not in self.names:
                    raise SyntaxProblem(
                        f"An expression attribute name used in the document path is not defined; attribute name: {ref}"
                    )
                self.used_names.add(ref)
                out.append(self.names[ref])
            else:
                if element[1].upper() in RESERVED:
                    raise SyntaxProblem(f"Attribute name is a reserved keyword; reserved keyword: {element[1]}")
                out.append(element[1])
        return tuple(out)

    def _value(self, ref: str) -> Value:
        found = self._checked.get(ref)
        if found is not None:
            self.used_values.add(ref)
            return found
        if self.values is None or ref not in self.values:
            raise SyntaxProblem(
                f"An expression attribute value used in expression is not defined; attribute value: {ref}"
            )
        self.used_values.add(ref)
        checked = check_value(self.values[ref])
        self._checked[ref] = checked
        return checked

    def _predicate(self, node: Node) -> Node:
        tag = node[0]
        if tag in ("and", "or"):
            return (tag, self._predicate(node[1]), self._predicate(node[2]))
        if tag == "not":
            return ("not", self._predicate(node[1]))
        if tag == "cmp":
            return ("cmp", node[1], self._operand(node[2]), self._operand(node[3]))
        if tag == "between":
            return ("between", self._operand(node[1]), self._operand(node[2]), self._operand(node[3]))
        if tag == "in":
            return ("in", self._operand(node[1]), tuple(self._operand(o) for o in node[2]))
        inner = node[1]
        if inner[0] != "call":
            shown = inner[1] if inner[0] == "value" else ".".join(str(e[1]) for e in inner[1] if not isinstance(e, int))
            raise SyntaxProblem(f'Syntax error; token: "<EOF>", near: "{shown}"')
        call = self._call(inner, CONDITION_FUNCTIONS)
        if call[1] not in _BOOLEAN:
            raise SyntaxProblem(
                f"The function is not allowed to be used this way in an expression; function: {call[1]}"
            )
        return call

    def _operand(self, node: Node) -> Node:
        tag = node[0]
        if tag == "path":
            return ("path", self._path(node))
        if tag == "value":
            return ("const", self._value(node[1]))
        call = self._call(node, CONDITION_FUNCTIONS)
        if call[1] in _BOOLEAN:
            raise SyntaxProblem(
                f"The function is not allowed to be used this way in an expression; function: {call[1]}"
            )
        return call

    def _call(self, node: Node, functions: dict[str, int]) -> Node:
        name, args = node[1], node[2]
        if name not in functions:
            raise SyntaxProblem(f"Invalid function name; function: {name}")
        if len(args) != functions[name]:
            raise SyntaxProblem(
                f"Incorrect number of operands for operator or function; operator or function: {name}, "
                f"number of operands: {len(args)}"
            )
        if functions is UPDATE_FUNCTIONS:
            resolved = tuple(self._set_value(a) for a in args)
        else:
            resolved = tuple(self._operand(a) for a in args)
        if (
            name
            in (
                "attribute_exists",
                "attribute_not_exists",
                "attribute_type",
                "begins_with",
                "contains",
                "size",
                "if_not_exists",
            )
            and resolved[0][0] != "path"
        ):
            raise SyntaxProblem(f"Operator or function requires a document path; operator or function: {name}")
        if name == "attribute_type":
            wanted = resolved[1]
            if wanted[0] != "const" or "S" not in wanted[1]:
                raise SyntaxProblem(
                    "Incorrect operand type for operator or function; operator or function: "
                    f"attribute_type, operand type: {_type_word(wanted)}"
                )
        return ("call", name, resolved)

    def _set_value(self, node: Node) -> Node:
        tag = node[0]
        if tag in ("+", "-"):
            return (tag, self._set_value(node[1]), self._set_value(node[2]))
        if tag == "path":
            return ("path", self._path(node))
        if tag == "value":
            return ("const", self._value(node[1]))
        return self._call(node, UPDATE_FUNCTIONS)

    def _update(self, tree: list[Any]) -> list[tuple[str, list[tuple[Path, Node | None]]]]:
        seen: set[str] = set()
        out: list[tuple[str, list[tuple[Path, Node | None]]]] = []
        targets: list[Path] = []
        for action, entries in tree:
            if action in seen:
                raise SyntaxProblem(f'The "{action}" section can only be used once in an update expression;')
            seen.add(action)
            resolved: list[tuple[Path, Node | None]] = []
            for target, operand in entries:
                path = self._path(target)
                value: Node | None
                if action == "SET":
                    value = self._set_value(operand)
                elif operand is None:
                    value = None
                else:
                    value = ("const", self._value(operand[1]))
                    _check_add_delete(action, value[1])
                resolved.append((path, value))
                targets.append(path)
            out.append((action, resolved))
        for i, one in enumerate(targets):
            for two in targets[i + 1 :]:
                shorter = min(len(one), len(two))
                if one[:shorter] == two[:shorter]:
                    raise SyntaxProblem(
                        "Two document paths overlap with each other; must remove or rewrite one of these paths; "
                        f"path one: [{_render_path(one)}], path two: [{_render_path(two)}]"
                    )
        return out


TYPE_WORDS = {
    "S": "STRING",
    "N": "NUMBER",
    "B": "BINARY",
    "SS": "STRING_SET",
    "NS": "NUMBER_SET",
    "BS": "BINARY_SET",
    "M": "MAP",
    "L": "LIST",
    "BOOL": "BOOLEAN",
    "NULL": "NULL",
}


def _type_word(node: Node) -> str:
    if node[0] == "const":
        return str(next(iter(node[1])))
    return "path"


def _check_add_delete(action: str, value: Value) -> None:
    name = next(iter(value))
    allowed = ("N", "SS", "NS", "BS") if action == "ADD" else ("SS", "NS", "BS")
    if name not in allowed:
        raise SyntaxProblem(
            f"Incorrect operand type for operator or function; operator: {action}, operand type: {TYPE_WORDS[name]}"
        )


def _render_path(path: Path) -> str:
    return ", ".join(f"[{p}]" if isinstance(p, int) else p for p in path)
