"""DynamoDB's wire operations for tables and single items (json 1.0); Query/Scan are in reading.py,
batches and transactions in batches.py. Results are plain dicts the json protocol serialises by the model."""

from __future__ import annotations

import math
from typing import Any

from lamina.errors import ValidationFailed
from lamina.services.dynamodb import tables as definitions
from lamina.services.dynamodb.engine import DynamoEngine, ItemKey, Table
from lamina.services.dynamodb.expressions.evaluate import apply_update, matches, project, touches
from lamina.services.dynamodb.expressions.parser import Node, Path, Resolver
from lamina.services.dynamodb.faults import condition_failed, in_use, not_found
from lamina.services.dynamodb.legacy import attribute_updates, expected_condition
from lamina.services.dynamodb.values import Item, check_item, check_value, item_size, item_to_json
from lamina.types import CallContext

_RETURN_VALUES = {
    "PutItem": ("NONE", "ALL_OLD"),
    "DeleteItem": ("NONE", "ALL_OLD"),
    "UpdateItem": ("NONE", "ALL_OLD", "UPDATED_OLD", "ALL_NEW", "UPDATED_NEW"),
}


def consumed(table: Table, units: float, params: dict[str, Any]) -> dict[str, Any] | None:
    if params.get("ReturnConsumedCapacity", "NONE") == "NONE":
        return None
    out: dict[str, Any] = {"TableName": table.name, "CapacityUnits": units}
    if params["ReturnConsumedCapacity"] == "INDEXES":
        out["Table"] = {"CapacityUnits": units}
    return out


def write_units(*items: Item | None) -> float:
    biggest = max((item_size(i) for i in items if i is not None), default=0)
    return float(max(1, math.ceil(biggest / 1024)))


def read_units(item: Item | None, consistent: bool) -> float:
    units = max(1, math.ceil((item_size(item) if item else 0) / 4096))
    return float(units if consistent else units / 2)


class Condition:
    """A write's condition: ConditionExpression, or the legacy Expected map."""

    def __init__(self, params: dict[str, Any], resolver: Resolver) -> None:
        self.node: Node | None = None
        text = params.get("ConditionExpression")
        if text is not None:
            if "Expected" in params:
                raise ValidationFailed(
                    "Can not use both expression and non-expression parameters in the same request: Non-expression "
                    "parameters: {Expected} Expression parameters: {ConditionExpression}"
                )
            self.node = resolver.condition(text, "ConditionExpression")
        elif params.get("Expected"):
            self.node = expected_condition(params["Expected"], params.get("ConditionalOperator", "AND"))

    def holds(self, item: Item | None) -> bool:
        return self.node is None or matches(self.node, item or {})


class DynamoProvider:
    def __init__(self, engine: DynamoEngine) -> None:
        self.engine = engine

    # -- tables ---------------------------------------------------------------------------------
    async def create_table(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        table = await self.engine.create_table(params)
        return {"TableDescription": self._describe(table, "CREATING")}

    def _describe(self, table: Table, status: str = "ACTIVE") -> dict[str, Any]:
        size = sum(item_size(i) for i in table.items.values())
        return definitions.describe(table.document, status, len(table.items), size)

    def describe_table(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        name = params["TableName"]
        table = self.engine.table(name, f"Requested resource not found: Table: {name} not found")
        return {"Table": self._describe(table)}

    async def update_table(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        name = params["TableName"]
        table = self.engine.table(name, f"Requested resource not found: Table: {name} not found")
        document = definitions.update_table(table.document, params, ctx_time(self.engine))
        await self.engine.save_table(table, document)
        return {"TableDescription": self._describe(table, "UPDATING")}

    async def delete_table(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        table = await self.engine.delete_table(params["TableName"])
        return {"TableDescription": self._describe(table, "DELETING")}

    def list_tables(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        names = sorted(self.engine.tables)
        start = params.get("ExclusiveStartTableName")
        if start is not None:
            names = [n for n in names if n > start]
        limit = params.get("Limit", 100)
        out: dict[str, Any] = {"TableNames": names[:limit]}
        if len(names) > limit:
            out["LastEvaluatedTableName"] = names[limit - 1]
        return out

    def describe_limits(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        return {
            "AccountMaxReadCapacityUnits": 80000,
            "AccountMaxWriteCapacityUnits": 80000,
            "TableMaxReadCapacityUnits": 40000,
            "TableMaxWriteCapacityUnits": 40000,
        }

    # -- TTL ------------------------------------------------------------------------------------
    async def update_time_to_live(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        table = self.engine.table(params["TableName"])
        spec = params["TimeToLiveSpecification"]
        current = table.document.get("TTL") or {}
        if spec["Enabled"] and current.get("Enabled"):
            raise ValidationFailed("TimeToLive is already enabled")
        if not spec["Enabled"] and not current.get("Enabled"):
            raise ValidationFailed("TimeToLive is already disabled")
        if not spec["Enabled"] and current.get("AttributeName") != spec["AttributeName"]:
            raise ValidationFailed(
                "TimeToLive is active on a different AttributeName: current AttributeName is "
                f"{current.get('AttributeName')}"
            )
        document = {**table.document, "TTL": {"Enabled": spec["Enabled"], "AttributeName": spec["AttributeName"]}}
        await self.engine.save_table(table, document)
        return {"TimeToLiveSpecification": {"Enabled": spec["Enabled"], "AttributeName": spec["AttributeName"]}}

    def describe_time_to_live(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        name = params["TableName"]
        table = self.engine.table(name, f"Requested resource not found: Table: {name} not found")
        ttl = table.document.get("TTL")
        if not ttl or not ttl.get("Enabled"):
            return {"TimeToLiveDescription": {"TimeToLiveStatus": "DISABLED"}}
        return {"TimeToLiveDescription": {"TimeToLiveStatus": "ENABLED", "AttributeName": ttl["AttributeName"]}}

    # -- tags -----------------------------------------------------------------------------------
    async def tag_resource(self, ctx: CallContext, params: dict[str, Any]) -> None:
        table = self.engine.table_by_arn(params["ResourceArn"])
        tags = {t["Key"]: t["Value"] for t in table.document.get("Tags", [])}
        tags.update({t["Key"]: t["Value"] for t in params["Tags"]})
        if len(tags) > 50:
            raise ValidationFailed("The number of tags exceeds the limit of 50")
        document = {**table.document, "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}
        await self.engine.save_table(table, document)

    async def untag_resource(self, ctx: CallContext, params: dict[str, Any]) -> None:
        table = self.engine.table_by_arn(params["ResourceArn"])
        gone = set(params["TagKeys"])
        document = {**table.document, "Tags": [t for t in table.document.get("Tags", []) if t["Key"] not in gone]}
        await self.engine.save_table(table, document)

    def list_tags_of_resource(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        table = self.engine.table_by_arn(params["ResourceArn"])
        return {"Tags": list(table.document.get("Tags", []))}

    # -- items ----------------------------------------------------------------------------------
    def _return_values(self, operation: str, params: dict[str, Any]) -> str:
        value = params.get("ReturnValues", "NONE")
        if value not in _RETURN_VALUES[operation]:
            raise ValidationFailed("Return values set to invalid value")
        return str(value)

    def _failed(self, params: dict[str, Any], old: Item | None) -> Exception:
        if params.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD" and old is not None:
            return condition_failed(item_to_json(old))
        return condition_failed()

    async def put_item(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        table = self.engine.table(params["TableName"])
        returns = self._return_values("PutItem", params)
        item = check_item(params["Item"])
        key = self.engine.check_item(table, item)
        resolver = Resolver(params.get("ExpressionAttributeNames"), params.get("ExpressionAttributeValues"))
        condition = Condition(params, resolver)
        resolver.finish()
        old = table.get(key)
        if not condition.holds(old):
            raise self._failed(params, old)
        await self.engine.write([(table, key, item)])
        out: dict[str, Any] = {}
        if returns == "ALL_OLD" and old is not None:
            out["Attributes"] = old
        out["ConsumedCapacity"] = consumed(table, write_units(old, item), params)
        return out

    def _projection(self, params: dict[str, Any], resolver: Resolver) -> list[Path] | None:
        text = params.get("ProjectionExpression")
        if text is not None:
            if params.get("AttributesToGet"):
                raise ValidationFailed(
                    "Can not use both expression and non-expression parameters in the same request: Non-expression "
                    "parameters: {AttributesToGet} Expression parameters: {ProjectionExpression}"
                )
            return resolver.projection(text)
        if params.get("AttributesToGet"):
            return [(name,) for name in params["AttributesToGet"]]
        return None

    def get_item(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        table = self.engine.table(params["TableName"])
        key = self.engine.check_key(table, {k: check_value(v) for k, v in params["Key"].items()})
        resolver = Resolver(params.get("ExpressionAttributeNames"), params.get("ExpressionAttributeValues"))
        paths = self._projection(params, resolver)
        resolver.finish()
        item = table.get(key)
        out: dict[str, Any] = {}
        if item is not None:
            out["Item"] = project(item, paths) if paths is not None else item
        out["ConsumedCapacity"] = consumed(table, read_units(item, bool(params.get("ConsistentRead"))), params)
        return out

    async def delete_item(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        table = self.engine.table(params["TableName"])
        returns = self._return_values("DeleteItem", params)
        key = self.engine.check_key(table, {k: check_value(v) for k, v in params["Key"].items()})
        resolver = Resolver(params.get("ExpressionAttributeNames"), params.get("ExpressionAttributeValues"))
        condition = Condition(params, resolver)
        resolver.finish()
        old = table.get(key)
        if not condition.holds(old):
            raise self._failed(params, old)
        if old is not None:
            await self.engine.write([(table, key, None)])
        out: dict[str, Any] = {}
        if returns == "ALL_OLD" and old is not None:
            out["Attributes"] = old
        out["ConsumedCapacity"] = consumed(table, write_units(old), params)
        return out

    def prepare_update(
        self, table: Table, params: dict[str, Any], resolver: Resolver
    ) -> tuple[ItemKey, Item, Condition, list[tuple[str, list[tuple[Path, Node | None]]]]]:
        """What an UpdateItem (or a transaction's Update) will do: its key, key item, condition and actions."""
        key_item = {k: check_value(v) for k, v in params["Key"].items()}
        key = self.engine.check_key(table, key_item)
        text = params.get("UpdateExpression")
        actions: list[tuple[str, list[tuple[Path, Node | None]]]] = []
        if text is not None:
            if params.get("AttributeUpdates"):
                raise ValidationFailed(
                    "Can not use both expression and non-expression parameters in the same request: Non-expression "
                    "parameters: {AttributeUpdates} Expression parameters: {UpdateExpression}"
                )
            actions = resolver.update(text)
        elif params.get("AttributeUpdates"):
            actions = attribute_updates(params["AttributeUpdates"])
        condition = Condition(params, resolver)
        for name in touches(actions):
            if name in table.keys.names:
                raise ValidationFailed(
                    f"One or more parameter values were invalid: Cannot update attribute {name}. This attribute is "
                    "part of the key"
                )
        return key, key_item, condition, actions

    def updated(self, table: Table, key_item: Item, old: Item | None, actions: Any) -> Item:
        new = apply_update(old if old is not None else dict(key_item), actions)
        self.engine.check_item(table, new)
        return new

    async def update_item(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        table = self.engine.table(params["TableName"])
        returns = self._return_values("UpdateItem", params)
        resolver = Resolver(params.get("ExpressionAttributeNames"), params.get("ExpressionAttributeValues"))
        key, key_item, condition, actions = self.prepare_update(table, params, resolver)
        resolver.finish()
        old = table.get(key)
        if not condition.holds(old):
            raise self._failed(params, old)
        new = self.updated(table, key_item, old, actions)
        await self.engine.write([(table, key, new)])
        out: dict[str, Any] = {}
        names = touches(actions)
        if returns == "ALL_NEW":
            out["Attributes"] = new
        elif returns == "ALL_OLD" and old is not None:
            out["Attributes"] = old
        elif returns == "UPDATED_NEW":
            out["Attributes"] = {k: v for k, v in new.items() if k in names}
        elif returns == "UPDATED_OLD" and old is not None:
            out["Attributes"] = {k: v for k, v in old.items() if k in names}
        if "Attributes" in out and not out["Attributes"]:
            del out["Attributes"]
        out["ConsumedCapacity"] = consumed(table, write_units(old, new), params)
        return out


def ctx_time(engine: DynamoEngine) -> float:
    return engine._clock.time()


__all__ = ["DynamoProvider", "in_use", "not_found"]
