"""The TTL sweeper in virtual time: the engine on a real store, the project's ManualClock, no sleeping."""

from __future__ import annotations

import asyncio
from pathlib import Path

from lamina.clock import ManualClock
from lamina.services.dynamodb.engine import SWEEP_SECONDS, DynamoEngine
from lamina.store.documents import SqliteStore
from lamina.store.dynamodb_sqlite import DynamoStore

NOW = 1_700_000_000.0


def test_expired_items_are_deleted_by_the_sweeper(tmp_path: Path) -> None:
    async def scenario() -> None:
        path = tmp_path / "lamina.db"
        SqliteStore(path).close()  # migrates (0008)
        clock = ManualClock(NOW)
        engine = DynamoEngine(DynamoStore(path), clock, "us-east-1", "000000000000")
        table = await engine.create_table(
            {
                "TableName": "ttl",
                "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
                "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
                "BillingMode": "PAY_PER_REQUEST",
                "StreamSpecification": {"StreamEnabled": True, "StreamViewType": "OLD_IMAGE"},
            }
        )
        await engine.save_table(table, {**table.document, "TTL": {"Enabled": True, "AttributeName": "exp"}})
        items = {
            "soon": {"pk": {"S": "soon"}, "exp": {"N": str(int(NOW) + 30)}},
            "later": {"pk": {"S": "later"}, "exp": {"N": str(int(NOW) + 3600)}},
            "text": {"pk": {"S": "text"}, "exp": {"S": str(int(NOW))}},  # not a number: never expires
            "ancient": {"pk": {"S": "ancient"}, "exp": {"N": str(int(NOW) - 6 * 365 * 86400)}},  # > 5 years: kept
            "none": {"pk": {"S": "none"}},
        }
        await engine.write([(table, engine.item_key(table, item), item) for item in items.values()])
        engine.start()
        for _ in range(int(60 / SWEEP_SECONDS)):
            clock.advance(SWEEP_SECONDS)
            for _ in range(20):
                await asyncio.sleep(0)  # let the sweep (and its commit) run
        left = {key[0] for key in table.items}
        assert left == {"S:later", "S:text", "S:ancient", "S:none"}
        (records,) = engine.streams.records.values()
        removed = [body for _, _, body in records if body["eventName"] == "REMOVE"]
        assert [r["dynamodb"]["Keys"] for r in removed] == [{"pk": {"S": "soon"}}]
        assert removed[0]["userIdentity"] == {"type": "Service", "principalId": "dynamodb.amazonaws.com"}
        await engine.close()
        reopened = DynamoEngine(DynamoStore(path), clock, "us-east-1", "000000000000")
        reopened.load()
        assert {key[0] for key in reopened.tables["ttl"].items} == left  # the deletes were committed
        await reopened.close()

    asyncio.run(scenario())
