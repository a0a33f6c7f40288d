"""Query and Scan: key conditions, index reads, pages (Limit, 1 MB, ExclusiveStartKey/LastEvaluatedKey),
filters, Select and parallel-scan segments."""

from __future__ import annotations

from typing import Any

from lamina.errors import ValidationFailed
from lamina.services.dynamodb.engine import DynamoEngine, Index, Table, scan_order
from lamina.services.dynamodb.expressions.evaluate import matches, project
from lamina.services.dynamodb.expressions.parser import Node, Resolver
from lamina.services.dynamodb.legacy import expected_condition
from lamina.services.dynamodb.provider import consumed, read_units
from lamina.services.dynamodb.tables import Keys
from lamina.services.dynamodb.values import Item, Value, check_value, item_size, key_text, sort_key
from lamina.types import CallContext

PAGE_BYTES = 1024 * 1024


def _key_condition(node: Node, keys: Keys) -> tuple[Value, Node | None]:
    """The partition value and the optional sort key condition of a KeyConditionExpression."""
    parts = [node[1], node[2]] if node[0] == "and" else [node]
    hash_value: Value | None = None
    range_part: Node | None = None
    for part in parts:
        if part[0] == "and":
            raise ValidationFailed(
                "Invalid KeyConditionExpression: The expression has redundant parentheses;"
                if False
                else "Conditions can be of length 1 or 2 only"
            )
        name = _key_name(part)
        if name is None:
            raise ValidationFailed("Query key condition not supported")
        if name == keys.hash_name:
            if part[0] != "cmp" or part[1] != "=":
                raise ValidationFailed("Query key condition not supported")
            hash_value = part[3][1]
        elif name == keys.range_name:
            if (part[0] == "cmp" and part[1] == "<>") or part[0] in ("in", "not", "or"):
                raise ValidationFailed("Query key condition not supported")
            if part[0] == "call" and part[1] != "begins_with":
                raise ValidationFailed("Query key condition not supported")
            range_part = part
        else:
            raise ValidationFailed(f"Query condition missed key schema element: {keys.range_name or keys.hash_name}")
    if hash_value is None:
        raise ValidationFailed(f"Query condition missed key schema element: {keys.hash_name}")
    if next(iter(hash_value)) != keys.hash_type:
        raise ValidationFailed(
            "One or more parameter values were invalid: Condition parameter type does not match schema type"
        )
    if range_part is not None:
        for operand in range_part[2:] if range_part[0] != "call" else range_part[2][1:]:
            if operand[0] == "const" and next(iter(operand[1])) != keys.range_type:
                raise ValidationFailed(
                    "One or more parameter values were invalid: Condition parameter type does not match schema type"
                )
        if range_part[0] == "call" and keys.range_type == "N":
            raise ValidationFailed(
                "Invalid KeyConditionExpression: Incorrect operand type for operator or function; "
                "operator or function: begins_with, operand type: N"
            )
    return hash_value, range_part


def _key_name(part: Node) -> str | None:
    if part[0] in ("cmp",):
        a, b = part[2], part[3]
        if a[0] == "path" and b[0] == "const" and len(a[1]) == 1:
            return str(a[1][0])
        return None
    if part[0] == "between":
        if part[1][0] == "path" and part[2][0] == "const" and part[3][0] == "const":
            return str(part[1][1][0])
        return None
    if part[0] == "call":
        args = part[2]
        if args[0][0] == "path" and len(args) > 1 and args[1][0] == "const":
            return str(args[0][1][0])
    return None


class Reading:
    def __init__(self, engine: DynamoEngine) -> None:
        self.engine = engine

    def _index(self, table: Table, params: dict[str, Any]) -> Index | None:
        name = params.get("IndexName")
        if name is None:
            return None
        index = table.index(name)
        if index is None:
            raise ValidationFailed(f"The table does not have the specified index: {name}")
        if index.is_global and params.get("ConsistentRead"):
            raise ValidationFailed("Consistent reads are not supported on global secondary indexes")
        return index

    def _select(self, params: dict[str, Any], index: Index | None, has_projection: bool) -> str:
        select = params.get("Select")
        if select is None:
            return (
                "SPECIFIC_ATTRIBUTES" if has_projection else ("ALL_PROJECTED_ATTRIBUTES" if index else "ALL_ATTRIBUTES")
            )
        if has_projection and select != "SPECIFIC_ATTRIBUTES":
            raise ValidationFailed(
                "Cannot specify the ProjectionExpression when choosing to get ALL_ATTRIBUTES"
                if select == "ALL_ATTRIBUTES"
                else f"Cannot specify the AttributesToGet when choosing to get {select}"
            )
        if select == "ALL_PROJECTED_ATTRIBUTES" and index is None:
            raise ValidationFailed("ALL_PROJECTED_ATTRIBUTES can be used only when Querying using an IndexName")
        if (
            select == "ALL_ATTRIBUTES"
            and index is not None
            and index.is_global
            and index.projection.get("ProjectionType", "ALL") != "ALL"
        ):
            raise ValidationFailed(
                "One or more parameter values were invalid: Select type ALL_ATTRIBUTES is not supported for global "
                f"secondary index {index.name} because its projection type is not ALL"
            )
        return str(select)

    def _filter(self, params: dict[str, Any], resolver: Resolver, legacy: str) -> Node | None:
        text = params.get("FilterExpression")
        if text is not None:
            return resolver.condition(text, "FilterExpression")
        if params.get(legacy):
            return expected_condition(
                {k: v for k, v in params[legacy].items()}, params.get("ConditionalOperator", "AND")
            )
        return None

    def _page(
        self,
        table: Table,
        index: Index | None,
        candidates: list[Item],
        params: dict[str, Any],
        resolver: Resolver,
        filter_node: Node | None,
        select: str,
    ) -> dict[str, Any]:
        projection = params.get("ProjectionExpression")
        paths = resolver.projection(projection) if projection is not None else None
        if paths is None and params.get("AttributesToGet"):
            paths = [(n,) for n in params["AttributesToGet"]]
        resolver.finish()
        limit = params.get("Limit")
        held = index.attributes(table.keys) if index is not None else None
        results: list[Item] = []
        scanned = 0
        read_bytes = 0
        last: Item | None = None
        for item in candidates:
            if (limit is not None and scanned >= limit) or read_bytes > PAGE_BYTES:
                break
            scanned += 1
            read_bytes += item_size(item)
            last = item
            visible = (
                item if held is None or select == "ALL_ATTRIBUTES" else {k: v for k, v in item.items() if k in held}
            )
            if filter_node is not None and not matches(filter_node, visible):
                continue
            results.append(project(visible, paths) if paths is not None else visible)
        out: dict[str, Any] = {"Count": len(results), "ScannedCount": scanned}
        if select != "COUNT":
            out["Items"] = results
        more = last is not None and candidates and last is not candidates[-1]
        if more and last is not None:
            names = set(table.keys.names) | (set(index.keys.names) if index else set())
            out["LastEvaluatedKey"] = {k: v for k, v in last.items() if k in names}
        out["ConsumedCapacity"] = consumed(
            table, read_units({"x": {"B": b"0" * read_bytes}}, bool(params.get("ConsistentRead"))), params
        )
        return out

    def _start_after(self, candidates: list[Item], params: dict[str, Any], names: set[str], keyed: Any) -> list[Item]:
        start = params.get("ExclusiveStartKey")
        if start is None:
            return candidates
        start_item = {k: check_value(v) for k, v in start.items()}
        if not set(start_item) <= names or not all(n in start_item for n in names):
            raise ValidationFailed(
                "The provided starting key is invalid: The provided key element does not match the schema"
            )
        mark = keyed(start_item)
        return [c for c in candidates if keyed(c) > mark]

    # -- Query ----------------------------------------------------------------------------------
    def query(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        table = self.engine.table(params["TableName"])
        index = self._index(table, params)
        keys = index.keys if index is not None else table.keys
        resolver = Resolver(params.get("ExpressionAttributeNames"), params.get("ExpressionAttributeValues"))
        text = params.get("KeyConditionExpression")
        if text is not None:
            node = resolver.condition(text, "KeyConditionExpression")
        elif params.get("KeyConditions"):
            node = expected_condition(params["KeyConditions"])
        else:
            raise ValidationFailed(
                "Either the KeyConditions or KeyConditionExpression parameter must be specified in the request."
            )
        hash_value, range_part = _key_condition(node, keys)
        filter_node = self._filter(params, resolver, "QueryFilter")
        has_projection = params.get("ProjectionExpression") is not None or bool(params.get("AttributesToGet"))
        select = self._select(params, index, has_projection)
        if index is None:
            candidates = list(table.partitions.get(key_text(hash_value), {}).values())
        else:
            candidates = [
                i
                for i in table.items.values()
                if keys.hash_name in i
                and key_text(i[keys.hash_name]) == key_text(hash_value)
                and (keys.range_name is None or keys.range_name in i)
            ]
        if range_part is not None:
            candidates = [c for c in candidates if matches(range_part, c)]

        def keyed(item: Item) -> tuple[Any, ...]:
            parts: list[Any] = []
            if keys.range_name is not None:
                parts.append(sort_key(item[keys.range_name]))
            if index is not None and table.keys.range_name is not None:
                parts.append(sort_key(item[table.keys.range_name]))
            if index is not None:
                parts.append(key_text(item[table.keys.hash_name]))
            return tuple(parts)

        candidates.sort(key=keyed)
        names = set(table.keys.names) | set(keys.names)
        forward = params.get("ScanIndexForward", True)
        if not forward:
            candidates.reverse()
            start = params.get("ExclusiveStartKey")
            if start is not None:
                mark = keyed({k: check_value(v) for k, v in start.items()})
                candidates = [c for c in candidates if keyed(c) < mark]
        else:
            candidates = self._start_after(candidates, params, names, keyed)
        return self._page(table, index, candidates, params, resolver, filter_node, select)

    # -- Scan -----------------------------------------------------------------------------------
    def scan(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        table = self.engine.table(params["TableName"])
        index = self._index(table, params)
        segment, total = params.get("Segment"), params.get("TotalSegments")
        if segment is not None and total is None:
            raise ValidationFailed(
                "The TotalSegments parameter is required but was not present in the request when Segment parameter is "
                "present"
            )
        if total is not None and segment is None:
            raise ValidationFailed(
                "The Segment parameter is required but was not present in the request when parameter TotalSegments is "
                "present"
            )
        if segment is not None and total is not None and segment >= total:
            raise ValidationFailed(
                "The Segment parameter is zero-based and must be less than parameter TotalSegments: "
                f"Segment: {segment} is not less than TotalSegments: {total}"
            )
        resolver = Resolver(params.get("ExpressionAttributeNames"), params.get("ExpressionAttributeValues"))
        filter_node = self._filter(params, resolver, "ScanFilter")
        has_projection = params.get("ProjectionExpression") is not None or bool(params.get("AttributesToGet"))
        select = self._select(params, index, has_projection)
        keys = table.keys

        def keyed(item: Item) -> tuple[Any, ...]:
            pk = key_text(item[keys.hash_name])
            return (scan_order((pk, "")), pk, sort_key(item[keys.range_name]) if keys.range_name else b"")

        candidates = list(table.items.values())
        if index is not None:
            candidates = [c for c in candidates if all(n in c for n in index.keys.names)]
        if total is not None and segment is not None:
            candidates = [
                c
                for c in candidates
                if int.from_bytes(scan_order((key_text(c[keys.hash_name]), ""))[:4], "big") % total == segment
            ]
        candidates.sort(key=keyed)
        names = set(keys.names) | (set(index.keys.names) if index else set())
        candidates = self._start_after(candidates, params, names, keyed)
        return self._page(table, index, candidates, params, resolver, filter_node, select)
