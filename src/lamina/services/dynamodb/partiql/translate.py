"""PartiQL statements (grammar.lark, parsed by lark's LALR parser) turned into the DynamoDB operations that run
them: SELECT → Query (when the WHERE clause pins the partition key with `=`) or Scan, INSERT → PutItem with
`attribute_not_exists` on the key, UPDATE → UpdateItem, DELETE → DeleteItem (both need the whole primary key
in the WHERE clause, as AWS's). Conditions become DynamoDB condition expressions with `#n`/`:v` placeholders,
so the expression grammar, type rules and evaluation are the ones the other operations use.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lark import Lark, Token, Tree
from lark.exceptions import LarkError, UnexpectedInput

from lamina.errors import ValidationFailed
from lamina.services.dynamodb.tables import Keys

_PARSER = Lark((Path(__file__).parent / "grammar.lark").read_text(), parser="lalr", maybe_placeholders=False)
_FUNCTIONS = {"begins_with", "contains", "attribute_type", "size", "attribute_exists", "attribute_not_exists"}


def malformed(detail: str) -> ValidationFailed:
    return ValidationFailed(f"Statement wasn't well formed, can't be processed: {detail}")


def parse(statement: str) -> Tree[Token]:
    try:
        return _PARSER.parse(statement)
    except UnexpectedInput as bad:
        token = getattr(bad, "token", None)
        if token is not None and token.type == "$END":
            raise malformed("Unexpected end of statement") from None
        shown = (
            statement[bad.pos_in_stream : bad.pos_in_stream + 20].split(maxsplit=1)[0]
            if bad.pos_in_stream is not None
            else ""
        )
        raise malformed(f"Unexpected token: {shown}" if shown else "Unexpected input") from None
    except LarkError:
        raise malformed("Unexpected input") from None


def _unquote(text: str, quote: str) -> str:
    return text[1:-1].replace(quote * 2, quote)


def identifier(tree: Tree[Token]) -> str:
    token = tree.children[0]
    assert isinstance(token, Token)
    return _unquote(str(token), '"') if token.type == "QUOTED" else str(token)


@dataclass
class Placeholders:
    """Names and values of one statement, as ExpressionAttributeNames/Values."""

    parameters: list[dict[str, Any]]
    names: dict[str, str] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)
    used: int = 0

    def name(self, text: str) -> str:
        for key, value in self.names.items():
            if value == text:
                return key
        key = f"#n{len(self.names)}"
        self.names[key] = text
        return key

    def value(self, attribute: dict[str, Any]) -> str:
        key = f":v{len(self.values)}"
        self.values[key] = attribute
        return key

    def parameter(self) -> dict[str, Any]:
        if self.used >= len(self.parameters):
            raise ValidationFailed("Number of parameters in request and statement don't match.")
        self.used += 1
        return self.parameters[self.used - 1]

    def finish(self) -> None:
        if self.used != len(self.parameters):
            raise ValidationFailed("Number of parameters in request and statement don't match.")

    def expression_params(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.names:
            out["ExpressionAttributeNames"] = dict(self.names)
        if self.values:
            out["ExpressionAttributeValues"] = dict(self.values)
        return out


def literal(tree: Tree[Token], marks: Placeholders) -> dict[str, Any]:
    """A PartiQL value as a DynamoDB attribute value."""
    kind = tree.data
    if kind == "string":
        return {"S": _unquote(str(tree.children[0]), "'")}
    if kind == "number":
        return {"N": str(tree.children[0])}
    if kind == "parameter":
        return marks.parameter()
    if kind in ("true", "false"):
        return {"BOOL": kind == "true"}
    if kind == "null":
        return {"NULL": True}
    if kind == "map":
        out = {}
        for pair in tree.children:
            assert isinstance(pair, Tree)
            key, value = pair.children
            assert isinstance(value, Tree)
            out[_unquote(str(key), "'")] = literal(value, marks)
        return {"M": out}
    if kind == "list":
        return {"L": [literal(v, marks) for v in tree.children if isinstance(v, Tree)]}
    if kind == "set":
        members = [literal(v, marks) for v in tree.children if isinstance(v, Tree)]
        types = {next(iter(m)) for m in members}
        if types == {"S"}:
            return {"SS": [m["S"] for m in members]}
        if types == {"N"}:
            return {"NS": [m["N"] for m in members]}
        if types == {"B"}:
            return {"BS": [m["B"] for m in members]}
        raise ValidationFailed("Unsupported type passed in set: set members must all be strings, numbers or binary")
    raise malformed(f"Unexpected value {kind}")


def path_text(tree: Tree[Token], marks: Placeholders) -> str:
    out = ""
    for part in tree.children:
        if isinstance(part, Tree):
            out += ("." if out else "") + marks.name(identifier(part))
        else:
            out += f"[{part}]"
    return out


def plain_path(tree: Tree[Token]) -> str | None:
    """The attribute a path names when it is a top-level attribute (a key candidate)."""
    if len(tree.children) == 1 and isinstance(tree.children[0], Tree):
        return identifier(tree.children[0])
    return None


def operand(tree: Tree[Token], marks: Placeholders) -> str:
    return path_text(tree, marks) if tree.data == "path" else marks.value(literal(tree, marks))


def condition(tree: Tree[Token], marks: Placeholders) -> str:
    kind = tree.data
    parts = [c for c in tree.children if isinstance(c, Tree)]
    if kind == "disjunction":
        return " OR ".join(f"({condition(c, marks)})" for c in parts)
    if kind == "conjunction":
        return " AND ".join(f"({condition(c, marks)})" for c in parts)
    if kind == "negate":
        return f"NOT ({condition(parts[0], marks)})"
    if kind == "compare":
        left, op, right = tree.children
        assert isinstance(left, Tree) and isinstance(right, Tree)
        return f"{operand(left, marks)} {op} {operand(right, marks)}"
    if kind == "between":
        a, b, c = parts
        return f"{operand(a, marks)} BETWEEN {operand(b, marks)} AND {operand(c, marks)}"
    if kind == "member":
        first, *rest = parts
        return f"{operand(first, marks)} IN ({', '.join(operand(r, marks) for r in rest)})"
    if kind == "missing":
        return f"attribute_not_exists({path_text(parts[0], marks)})"
    if kind == "present":
        return f"attribute_exists({path_text(parts[0], marks)})"
    if kind == "function":
        name = str(tree.children[0])
        if name.lower() not in _FUNCTIONS:
            raise ValidationFailed(f"Unsupported function in where clause: {name}")
        return f"{name.lower()}({', '.join(operand(p, marks) for p in parts)})"
    raise malformed(f"Unexpected condition {kind}")


def conjuncts(tree: Tree[Token]) -> list[Tree[Token]]:
    return [c for c in tree.children if isinstance(c, Tree)] if tree.data == "conjunction" else [tree]


def key_equality(tree: Tree[Token]) -> tuple[str, Tree[Token]] | None:
    """(attribute, value) when the predicate is `attribute = value` (either way round)."""
    if tree.data != "compare" or str(tree.children[1]) != "=":
        return None
    left, right = tree.children[0], tree.children[2]
    assert isinstance(left, Tree) and isinstance(right, Tree)
    for path, value in ((left, right), (right, left)):
        if path.data == "path" and value.data != "path":
            name = plain_path(path)
            if name is not None:
                return name, value
    return None


def split_key(where: Tree[Token] | None, keys: Keys) -> tuple[dict[str, Tree[Token]], list[Tree[Token]]]:
    """The key attributes the WHERE clause pins with `=` at its top level, and the rest of its conjuncts."""
    pinned: dict[str, Tree[Token]] = {}
    rest: list[Tree[Token]] = []
    for part in conjuncts(where) if where is not None else []:
        found = key_equality(part)
        if found is not None and found[0] in keys.names and found[0] not in pinned:
            pinned[found[0]] = found[1]
        else:
            rest.append(part)
    return pinned, rest


def where_of(tree: Tree[Token]) -> Tree[Token] | None:
    for child in tree.children:
        if isinstance(child, Tree) and child.data == "where":
            inner = child.children[0]
            assert isinstance(inner, Tree)
            return inner
    return None


@dataclass
class Plan:
    """One statement as a DynamoDB operation: `operation` (Query, Scan, PutItem, UpdateItem, DeleteItem) and its
    request parameters."""

    operation: str
    params: dict[str, Any]

    @property
    def reads(self) -> bool:
        return self.operation in ("Query", "Scan")


def plan(statement: str, parameters: list[dict[str, Any]], keys_of: Any) -> Plan:
    """`keys_of(table, index)` answers the key schema of a table (or of one of its indexes)."""
    tree = parse(statement)
    marks = Placeholders(list(parameters))
    kind = tree.data
    if kind == "select":
        out = _select(tree, marks, keys_of)
    elif kind == "insert":
        table_tree, value = tree.children
        assert isinstance(table_tree, Tree) and isinstance(value, Tree)
        table = identifier(table_tree)
        item = literal(value, marks)
        if "M" not in item:
            raise ValidationFailed("Unsupported type passed in insert value: the value must be a tuple")
        keys: Keys = keys_of(table, None)
        check = " AND ".join(f"attribute_not_exists({marks.name(n)})" for n in keys.names)
        out = Plan("PutItem", {"TableName": table, "Item": item["M"], "ConditionExpression": check})
    elif kind == "update":
        out = _update(tree, marks, keys_of)
    else:
        table_tree = tree.children[0]
        assert isinstance(table_tree, Tree)
        table = identifier(table_tree)
        key, check = _keyed(table, where_of(tree), marks, keys_of)
        out = Plan("DeleteItem", {"TableName": table, "Key": key, "ConditionExpression": check})
    marks.finish()
    out.params.update(marks.expression_params())
    return out


def _keyed(table: str, where: Tree[Token] | None, marks: Placeholders, keys_of: Any) -> tuple[dict[str, Any], str]:
    """UPDATE and DELETE: the key the WHERE clause pins, and the condition the item must meet (exists, and the
    rest of the clause)."""
    keys: Keys = keys_of(table, None)
    pinned, rest = split_key(where, keys)
    if set(pinned) != set(keys.names):
        raise ValidationFailed("Where clause does not contain a mandatory equality on all key attributes")
    key = {name: literal(pinned[name], marks) for name in keys.names}
    checks = [f"attribute_exists({marks.name(keys.hash_name)})", *(f"({condition(r, marks)})" for r in rest)]
    return key, " AND ".join(checks)


def _update(tree: Tree[Token], marks: Placeholders, keys_of: Any) -> Plan:
    table_tree = tree.children[0]
    assert isinstance(table_tree, Tree)
    table = identifier(table_tree)
    sets: list[str] = []
    removes: list[str] = []
    for action in tree.children[1:]:
        if not isinstance(action, Tree) or action.data == "where":
            continue
        for part in action.children:
            assert isinstance(part, Tree)
            if action.data == "set":
                target, value = part.children
                assert isinstance(target, Tree) and isinstance(value, Tree)
                sets.append(f"{path_text(target, marks)} = {operand(value, marks)}")
            else:
                removes.append(path_text(part, marks))
    key, check = _keyed(table, where_of(tree), marks, keys_of)
    expression = " ".join(
        text for text in (("SET " + ", ".join(sets)) if sets else "", ("REMOVE " + ", ".join(removes)) if removes
                          else "") if text
    )  # fmt: skip
    return Plan("UpdateItem", {"TableName": table, "Key": key, "UpdateExpression": expression,
                               "ConditionExpression": check, "ReturnValues": "ALL_NEW"})  # fmt: skip


def _select(tree: Tree[Token], marks: Placeholders, keys_of: Any) -> Plan:
    projection, source = tree.children[0], tree.children[1]
    assert isinstance(projection, Tree) and isinstance(source, Tree)
    names = [identifier(c) for c in source.children if isinstance(c, Tree)]
    table, index = names[0], (names[1] if len(names) > 1 else None)
    params: dict[str, Any] = {"TableName": table}
    if index is not None:
        params["IndexName"] = index
    if projection.data == "paths":
        params["ProjectionExpression"] = ", ".join(
            path_text(p, marks) for p in projection.children if isinstance(p, Tree)
        )
    keys: Keys = keys_of(table, index)
    where = where_of(tree)
    pinned, rest = split_key(where, keys)
    if keys.hash_name in pinned:
        key_text = f"{marks.name(keys.hash_name)} = {marks.value(literal(pinned[keys.hash_name], marks))}"
        if keys.range_name is not None and keys.range_name in pinned:
            key_text += f" AND {marks.name(keys.range_name)} = {marks.value(literal(pinned[keys.range_name], marks))}"
        else:  # a condition on the sort key belongs in the key condition (a Query may not filter on keys)
            for part in rest:
                if keys.range_name is not None and _on_attribute(part, keys.range_name):
                    key_text += f" AND {condition(part, marks)}"
                    rest = [r for r in rest if r is not part]
                    break
        params["KeyConditionExpression"] = key_text
        if rest:
            params["FilterExpression"] = " AND ".join(f"({condition(r, marks)})" for r in rest)
        return Plan("Query", params)
    if where is not None:
        params["FilterExpression"] = condition(where, marks)
    return Plan("Scan", params)


def _on_attribute(tree: Tree[Token], name: str) -> bool:
    """Whether a predicate is one a key condition allows on `name` (comparison, BETWEEN, begins_with)."""
    first = next((c for c in tree.children if isinstance(c, Tree)), None)
    if first is None or first.data != "path" or plain_path(first) != name:
        return False
    if tree.data == "compare":
        return str(tree.children[1]) != "<>"
    if tree.data == "function":
        return str(tree.children[0]).lower() == "begins_with"
    return tree.data == "between"
