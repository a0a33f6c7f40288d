"""BatchGetItem/BatchWriteItem (limits 100 and 25, 16 MB answers) and TransactWriteItems/TransactGetItems
(all or nothing, CancellationReasons, ClientRequestToken idempotency for ten minutes).

A batch write or a transaction is one store job: its items commit together. Transaction tokens are kept
in memory only (a restart forgets them, so a replay after a restart is applied again)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from lamina.clock import Clock
from lamina.errors import ValidationFailed
from lamina.services.dynamodb.engine import DynamoEngine, ItemKey, Table
from lamina.services.dynamodb.expressions.evaluate import project
from lamina.services.dynamodb.expressions.parser import Resolver
from lamina.services.dynamodb.faults import idempotent_mismatch, transaction_canceled
from lamina.services.dynamodb.provider import Condition, DynamoProvider
from lamina.services.dynamodb.values import Item, check_item, check_value, item_size, item_to_json
from lamina.types import CallContext

BATCH_GET_BYTES = 16 * 1024 * 1024
TOKEN_SECONDS = 600


def _digest(params: dict[str, Any]) -> str:
    def plain(value: Any) -> Any:
        if isinstance(value, bytes):
            return value.hex()
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        if isinstance(value, list):
            return [plain(v) for v in value]
        return value

    body = {k: v for k, v in params.items() if k != "ClientRequestToken"}
    return hashlib.sha256(json.dumps(plain(body), sort_keys=True).encode()).hexdigest()


class Batches:
    def __init__(self, engine: DynamoEngine, items: DynamoProvider, clock: Clock) -> None:
        self.engine = engine
        self.items = items
        self.clock = clock

    # -- batches --------------------------------------------------------------------------------
    def batch_get_item(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        requests = params["RequestItems"]
        if sum(len(r.get("Keys", [])) for r in requests.values()) > 100:
            raise ValidationFailed("Too many items requested for the BatchGetItem call")
        responses: dict[str, list[Item]] = {}
        unprocessed: dict[str, Any] = {}
        total = 0
        for name, request in requests.items():
            table = self.engine.table(name)
            resolver = Resolver(request.get("ExpressionAttributeNames"), None)
            text = request.get("ProjectionExpression")
            paths = resolver.projection(text) if text is not None else None
            if paths is None and request.get("AttributesToGet"):
                paths = [(n,) for n in request["AttributesToGet"]]
            resolver.finish()
            seen: set[ItemKey] = set()
            found: list[Item] = []
            for key_params in request["Keys"]:
                key = self.engine.check_key(table, {k: check_value(v) for k, v in key_params.items()})
                if key in seen:
                    raise ValidationFailed("Provided list of item keys contains duplicates")
                seen.add(key)
                item = table.get(key)
                if item is None:
                    continue
                total += item_size(item)
                if total > BATCH_GET_BYTES:
                    left = unprocessed.setdefault(name, {k: v for k, v in request.items() if k != "Keys"})
                    left.setdefault("Keys", []).append(key_params)
                    continue
                found.append(project(item, paths) if paths is not None else item)
            responses[name] = found
        return {"Responses": responses, "UnprocessedKeys": unprocessed}

    async def batch_write_item(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        requests = params["RequestItems"]
        if sum(len(r) for r in requests.values()) > 25:
            raise ValidationFailed("Too many items requested for the BatchWriteItem call")
        changes: list[tuple[Table, ItemKey, Item | None]] = []
        seen: set[tuple[str, ItemKey]] = set()
        for name, entries in requests.items():
            table = self.engine.table(name)
            for entry in entries:
                if ("PutRequest" in entry) == ("DeleteRequest" in entry):
                    raise ValidationFailed(
                        "Supplied AttributeValue has more than one datatypes set, must contain "
                        "exactly one of the supported datatypes"
                    )
                if "PutRequest" in entry:
                    item = check_item(entry["PutRequest"]["Item"])
                    key = self.engine.check_item(table, item)
                    change: Item | None = item
                else:
                    key = self.engine.check_key(
                        table, {k: check_value(v) for k, v in entry["DeleteRequest"]["Key"].items()}
                    )
                    change = None
                if (table.name, key) in seen:
                    raise ValidationFailed("Provided list of item keys contains duplicates")
                seen.add((table.name, key))
                changes.append((table, key, change))
        await self.engine.write(changes)
        return {"UnprocessedItems": {}}

    # -- transactions ---------------------------------------------------------------------------
    def _replay(self, params: dict[str, Any]) -> dict[str, Any] | None:
        token = params.get("ClientRequestToken")
        if token is None:
            return None
        now = self.clock.time()
        for old in [t for t, (when, _, _) in self.engine.tokens.items() if now - when > TOKEN_SECONDS]:
            del self.engine.tokens[old]
        seen = self.engine.tokens.get(token)
        if seen is None:
            return None
        if seen[1] != _digest(params):
            raise idempotent_mismatch()
        return dict(seen[2])

    async def transact_write_items(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        replayed = self._replay(params)
        if replayed is not None:
            return replayed
        plans: list[tuple[str, Table, ItemKey, Any, dict[str, Any]]] = []
        seen: set[tuple[str, ItemKey]] = set()
        for entry in params["TransactItems"]:
            kinds = [k for k in ("ConditionCheck", "Put", "Delete", "Update") if k in entry]
            if len(kinds) != 1:
                raise ValidationFailed("TransactItems can only contain one of Check, Put, Update or Delete")
            kind = kinds[0]
            spec = entry[kind]
            table = self.engine.table(spec["TableName"])
            resolver = Resolver(spec.get("ExpressionAttributeNames"), spec.get("ExpressionAttributeValues"))
            if kind == "Put":
                item = check_item(spec["Item"])
                key = self.engine.check_item(table, item)
                plan: Any = (item, Condition(spec, resolver))
            elif kind == "Update":
                key, key_item, condition, actions = self.items.prepare_update(table, spec, resolver)
                plan = (key_item, condition, actions)
            else:
                key = self.engine.check_key(table, {k: check_value(v) for k, v in spec["Key"].items()})
                if kind == "ConditionCheck" and "ConditionExpression" not in spec:
                    raise ValidationFailed(
                        "1 validation error detected: Value null at 'transactItems.1.member.conditionCheck."
                        "conditionExpression' failed to satisfy constraint: Member must not be null"
                    )
                plan = Condition(spec, resolver)
            resolver.finish()
            if (table.name, key) in seen:
                raise ValidationFailed("Transaction request cannot include multiple operations on one item")
            seen.add((table.name, key))
            plans.append((kind, table, key, plan, spec))
        # every condition is checked before anything is written: all or nothing
        reasons: list[dict[str, Any]] = []
        changes: list[tuple[Table, ItemKey, Item | None]] = []
        failed = False
        for kind, table, key, plan, spec in plans:
            old = table.get(key)
            condition = plan[1] if kind in ("Put", "Update") else plan
            if not condition.holds(old):
                failed = True
                reason: dict[str, Any] = {"Code": "ConditionalCheckFailed", "Message": "The conditional request failed"}
                if spec.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD" and old is not None:
                    reason["Item"] = item_to_json(old)
                reasons.append(reason)
                continue
            try:
                if kind == "Put":
                    changes.append((table, key, plan[0]))
                elif kind == "Update":
                    changes.append((table, key, self.items.updated(table, plan[0], old, plan[2])))
                elif kind == "Delete":
                    changes.append((table, key, None))
            except ValidationFailed as error:
                failed = True
                reasons.append({"Code": "ValidationError", "Message": error.message})
                continue
            reasons.append({"Code": "None"})
        if failed:
            raise transaction_canceled(reasons)
        await self.engine.write(changes)
        result: dict[str, Any] = {}
        token = params.get("ClientRequestToken")
        if token is not None:
            self.engine.tokens[token] = (self.clock.time(), _digest(params), result)
        return result

    def transact_get_items(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        responses: list[dict[str, Any]] = []
        seen: set[tuple[str, ItemKey]] = set()
        plans = []
        for entry in params["TransactItems"]:
            spec = entry["Get"]
            table = self.engine.table(spec["TableName"])
            key = self.engine.check_key(table, {k: check_value(v) for k, v in spec["Key"].items()})
            resolver = Resolver(spec.get("ExpressionAttributeNames"), None)
            text = spec.get("ProjectionExpression")
            paths = resolver.projection(text) if text is not None else None
            resolver.finish()
            if (table.name, key) in seen:
                raise ValidationFailed("Transaction request cannot include multiple operations on one item")
            seen.add((table.name, key))
            plans.append((table, key, paths))
        for table, key, paths in plans:
            item = table.get(key)
            if item is None:
                responses.append({})
            else:
                responses.append({"Item": project(item, paths) if paths is not None else item})
        return {"Responses": responses}
