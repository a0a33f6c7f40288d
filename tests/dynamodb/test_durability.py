"""An acknowledged write survives kill -9; tables and items come back after a restart."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.server import LaminaProcess


def test_items_survive_kill_9(fresh_lamina: Callable[..., LaminaProcess]) -> None:
    server = fresh_lamina()
    client = server.client("dynamodb")
    client.create_table(
        TableName="durable",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    client.update_time_to_live(TableName="durable", TimeToLiveSpecification={"Enabled": True, "AttributeName": "e"})
    for i in range(50):
        client.put_item(TableName="durable", Item={"pk": {"S": f"k{i}"}, "b": {"B": b"\x01\x02"}, "n": {"N": str(i)}})
    client.transact_write_items(
        TransactItems=[
            {"Delete": {"TableName": "durable", "Key": {"pk": {"S": "k0"}}}},
            {"Put": {"TableName": "durable", "Item": {"pk": {"S": "t"}}}},
        ]
    )
    server.kill()
    again = fresh_lamina(data_dir=server.data_dir)
    client = again.client("dynamodb")
    assert client.describe_table(TableName="durable")["Table"]["ItemCount"] == 50
    assert client.describe_time_to_live(TableName="durable")["TimeToLiveDescription"]["TimeToLiveStatus"] == "ENABLED"
    item: Any = client.get_item(TableName="durable", Key={"pk": {"S": "k7"}})["Item"]
    assert item == {"pk": {"S": "k7"}, "b": {"B": b"\x01\x02"}, "n": {"N": "7"}}
    assert "Item" not in client.get_item(TableName="durable", Key={"pk": {"S": "k0"}})
    assert "Item" in client.get_item(TableName="durable", Key={"pk": {"S": "t"}})
