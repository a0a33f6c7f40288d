"""ExecuteStatement, BatchExecuteStatement and ExecuteTransaction: PartiQL run through the operations the
statements translate to (translate.py), so conditions, type rules, streams and durability are those of
Query/Scan/PutItem/UpdateItem/DeleteItem/TransactWriteItems.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from lamina.errors import LaminaError, ValidationFailed
from lamina.services.dynamodb.batches import Batches
from lamina.services.dynamodb.engine import DynamoEngine
from lamina.services.dynamodb.faults import DynamoFault
from lamina.services.dynamodb.partiql.translate import Plan, plan
from lamina.services.dynamodb.provider import DynamoProvider
from lamina.services.dynamodb.reading import Reading
from lamina.services.dynamodb.tables import Keys
from lamina.types import CallContext

MAX_BATCH = 25
MAX_TRANSACTION = 100


def _duplicate() -> DynamoFault:
    return DynamoFault("DuplicateItemException", "Duplicate primary key exists in table")


class PartiQL:
    def __init__(self, engine: DynamoEngine, items: DynamoProvider, reading: Reading, batches: Batches) -> None:
        self._engine = engine
        self._items = items
        self._reading = reading
        self._batches = batches

    def _keys(self, table: str, index: str | None) -> Keys:
        found = self._engine.table(table)
        if index is None:
            return found.keys
        described = found.index(index)
        if described is None:
            raise ValidationFailed(f"The table does not have the specified index: {index}")
        return described.keys

    def _plan(self, statement: str, parameters: list[dict[str, Any]] | None) -> Plan:
        return plan(statement, parameters or [], self._keys)

    async def _run(self, ctx: CallContext, step: Plan, extra: dict[str, Any]) -> dict[str, Any]:
        params = {**step.params, **extra}
        if step.operation == "Query":
            return self._reading.query(ctx, params)
        if step.operation == "Scan":
            return self._reading.scan(ctx, params)
        try:
            if step.operation == "PutItem":
                return await self._items.put_item(ctx, params)
            if step.operation == "UpdateItem":
                return await self._items.update_item(ctx, params)
            return await self._items.delete_item(ctx, params)
        except DynamoFault as fault:
            if fault.code == "ConditionalCheckFailedException" and step.operation == "PutItem":
                raise _duplicate() from None
            raise

    async def execute_statement(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        step = self._plan(params["Statement"], params.get("Parameters"))
        extra: dict[str, Any] = {}
        if step.reads:
            if params.get("Limit") is not None:
                extra["Limit"] = params["Limit"]
            if params.get("ConsistentRead"):
                extra["ConsistentRead"] = True
            token = params.get("NextToken")
            if token is not None:
                try:
                    extra["ExclusiveStartKey"] = json.loads(base64.b64decode(token, validate=True))
                except (ValueError, binascii.Error):
                    raise ValidationFailed("Invalid NextToken") from None
        elif params.get("ReturnValuesOnConditionCheckFailure"):
            extra["ReturnValuesOnConditionCheckFailure"] = params["ReturnValuesOnConditionCheckFailure"]
        answer = await self._run(ctx, step, extra)
        if not step.reads:
            return {"Items": []}
        out: dict[str, Any] = {"Items": answer.get("Items", [])}
        if answer.get("LastEvaluatedKey"):
            out["NextToken"] = base64.b64encode(json.dumps(answer["LastEvaluatedKey"]).encode()).decode()
            out["LastEvaluatedKey"] = answer["LastEvaluatedKey"]
        return out

    async def batch_execute_statement(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        statements = params["Statements"]
        if len(statements) > MAX_BATCH:
            raise ValidationFailed(
                f"1 validation error detected: Value '{statements}' at 'statements' failed to satisfy constraint: "
                f"Member must have length less than or equal to {MAX_BATCH}"
            )
        responses: list[dict[str, Any]] = []
        for entry in statements:
            try:
                step = self._plan(entry["Statement"], entry.get("Parameters"))
                table = step.params["TableName"]
                if step.reads and "KeyConditionExpression" not in step.params:
                    raise ValidationFailed("Batch read statements must specify the full primary key")
                answer = await self._run(ctx, step, {})
                response: dict[str, Any] = {"TableName": table}
                if step.reads and answer.get("Items"):
                    response["Item"] = answer["Items"][0]
                responses.append(response)
            except DynamoFault as fault:
                code = fault.code.removesuffix("Exception")
                responses.append({"Error": {"Code": code, "Message": fault.message}})
            except LaminaError as error:
                responses.append({"Error": {"Code": "ValidationError", "Message": error.message}})
        return {"Responses": responses}

    async def execute_transaction(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        statements = params["TransactStatements"]
        if len(statements) > MAX_TRANSACTION:
            raise ValidationFailed(
                f"1 validation error detected: Value at 'transactStatements' failed to satisfy constraint: "
                f"Member must have length less than or equal to {MAX_TRANSACTION}"
            )
        steps = [self._plan(s["Statement"], s.get("Parameters")) for s in statements]
        if all(s.reads for s in steps):
            responses = []
            for step in steps:
                answer = await self._run(ctx, step, {})
                responses.append({"Item": answer["Items"][0]} if answer.get("Items") else {})
            return {"Responses": responses}
        if any(s.reads for s in steps):
            raise ValidationFailed("Transactions must contain only reads or only writes")
        kinds = {"PutItem": "Put", "UpdateItem": "Update", "DeleteItem": "Delete"}
        items = []
        for step in steps:
            spec = {k: v for k, v in step.params.items() if k != "ReturnValues"}
            items.append({kinds[step.operation]: spec})
        request: dict[str, Any] = {"TransactItems": items}
        if params.get("ClientRequestToken"):
            request["ClientRequestToken"] = params["ClientRequestToken"]
        await self._batches.transact_write_items(ctx, request)
        return {}
