"""DynamoDB's state: tables and their items in memory, written through to the store before any answer.

Every change is applied to memory on the event loop (so concurrent requests see writes in order and a
read-modify-write such as ADD never loses an update), then committed by the store's writer thread; the
request answers after the commit, so an acknowledged write survives kill -9. A change of several items
(a transaction, a batch) is one store job: it commits whole or not at all.

TTL: a sweeper on the project's clock deletes items whose TTL attribute (a number of epoch seconds) has
passed, as AWS's background process does (AWS skips values more than five years in the past, and so do we).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from lamina import periodic
from lamina.clock import Clock
from lamina.errors import ValidationFailed
from lamina.services.dynamodb import tables as definitions
from lamina.services.dynamodb.faults import in_use, not_found
from lamina.services.dynamodb.streams import RETENTION_SECONDS, StreamLog
from lamina.services.dynamodb.tables import Document, Keys, keys_of
from lamina.services.dynamodb.values import (
    MAX_HASH_KEY_BYTES,
    MAX_ITEM_BYTES,
    MAX_RANGE_KEY_BYTES,
    Item,
    Value,
    item_from_json,
    item_size,
    item_to_json,
    key_text,
    size,
)
from lamina.store.dynamodb_sqlite import DynamoStore, ItemWrite, StreamRecord

log = logging.getLogger(__name__)

SWEEP_SECONDS = 5.0  # how often expired items are looked for
_FIVE_YEARS = 5 * 365 * 86400
ItemKey = tuple[str, str]  # (partition key text, sort key text or "")


@dataclass
class Index:
    name: str
    keys: Keys
    projection: dict[str, Any]
    is_global: bool

    def attributes(self, table_keys: Keys) -> set[str] | None:
        """The attributes the index holds (None: all of them)."""
        kind = self.projection.get("ProjectionType", "ALL")
        if kind == "ALL":
            return None
        held = set(table_keys.names) | set(self.keys.names)
        if kind == "INCLUDE":
            held |= set(self.projection.get("NonKeyAttributes") or [])
        return held


@dataclass
class Table:
    document: Document
    keys: Keys
    items: dict[ItemKey, Item] = field(default_factory=dict)
    partitions: dict[str, dict[str, Item]] = field(default_factory=dict)
    status: str = "ACTIVE"
    # Secondary indexes by partition: index name → index partition key text → item key → item. Built by the first
    # Query of an index, kept up to date by put_memory, dropped when the table's definition changes.
    index_partitions: dict[str, dict[str, dict[ItemKey, Item]]] = field(default_factory=dict, repr=False)
    _index_keys: dict[str, Keys] = field(default_factory=dict, repr=False)

    @property
    def name(self) -> str:
        return str(self.document["TableName"])

    @property
    def arn(self) -> str:
        return str(self.document["TableArn"])

    def index(self, name: str) -> Index | None:
        for source, is_global in (("GlobalSecondaryIndexes", True), ("LocalSecondaryIndexes", False)):
            for found in self.document[source]:
                if found["IndexName"] == name:
                    return Index(
                        name,
                        keys_of(found["KeySchema"], self.document["AttributeDefinitions"]),
                        found["Projection"],
                        is_global,
                    )
        return None

    def indexes(self) -> list[Index]:
        names = [
            i["IndexName"] for i in self.document["GlobalSecondaryIndexes"] + self.document["LocalSecondaryIndexes"]
        ]
        return [i for i in (self.index(n) for n in names) if i is not None]

    def get(self, key: ItemKey) -> Item | None:
        return self.items.get(key)

    def in_index(self, index: Index, hash_text: str) -> list[Item]:
        """The items of one partition of `index` (those that carry all of the index's key attributes)."""
        parts = self.index_partitions.get(index.name)
        if parts is None:
            parts = {}
            for key, item in self.items.items():
                found = _index_hash(index.keys, item)
                if found is not None:
                    parts.setdefault(found, {})[key] = item
            self.index_partitions[index.name] = parts
            self._index_keys[index.name] = index.keys
        return list(parts.get(hash_text, {}).values())

    def forget_indexes(self) -> None:
        self.index_partitions.clear()
        self._index_keys.clear()

    def put_memory(self, key: ItemKey, item: Item | None) -> None:
        if self.index_partitions:
            old = self.items.get(key)
            for name, parts in self.index_partitions.items():
                keys = self._index_keys[name]
                was = _index_hash(keys, old) if old is not None else None
                if was is not None:
                    members = parts.get(was)
                    if members is not None:
                        members.pop(key, None)
                        if not members:
                            del parts[was]
                now = _index_hash(keys, item) if item is not None else None
                if now is not None and item is not None:
                    parts.setdefault(now, {})[key] = item
        if item is None:
            self.items.pop(key, None)
            partition = self.partitions.get(key[0])
            if partition is not None:
                partition.pop(key[1], None)
                if not partition:
                    del self.partitions[key[0]]
        else:
            self.items[key] = item
            self.partitions.setdefault(key[0], {})[key[1]] = item


def _index_hash(keys: Keys, item: Item) -> str | None:
    """The index partition an item belongs to, or None when it lacks one of the index's key attributes."""
    if keys.hash_name not in item or (keys.range_name is not None and keys.range_name not in item):
        return None
    return key_text(item[keys.hash_name])


def scan_order(key: ItemKey) -> bytes:
    """Where an item comes in a Scan: by a hash of its partition key (as AWS orders partitions)."""
    return hashlib.md5(key[0].encode()).digest()


class DynamoEngine:
    def __init__(self, store: DynamoStore, clock: Clock, region: str, account_id: str) -> None:
        self._store = store
        self._clock = clock
        self.region = region
        self.account_id = account_id
        self.tables: dict[str, Table] = {}
        self._sweeper: asyncio.Task[None] | None = None
        self.tokens: dict[str, tuple[float, str, Any]] = {}  # ClientRequestToken → (when, request digest, answer)
        self.streams = StreamLog(region)

    # -- life cycle -----------------------------------------------------------------------------
    def load(self) -> None:
        documents, items = self._store.load()
        for document in documents:
            table = Table(document, keys_of(document["KeySchema"], document["AttributeDefinitions"]))
            self.tables[table.name] = table
        for name, body in items:
            owner = self.tables.get(name)
            if owner is not None:
                item = item_from_json(body)
                owner.put_memory(self.item_key(owner, item), item)
        self.streams.load(self._store.load_records())

    def start(self) -> None:
        self._sweeper = periodic.every(self._clock, SWEEP_SECONDS, self.sweep, "the DynamoDB TTL sweep failed")

    async def close(self) -> None:
        await periodic.cancel(self._sweeper)
        await self._store.close()

    # -- tables ---------------------------------------------------------------------------------
    def table_arn(self, name: str) -> str:
        return f"arn:aws:dynamodb:{self.region}:{self.account_id}:table/{name}"

    def table(self, name: str, message: str | None = None) -> Table:
        if name.startswith("arn:"):
            name = name.rsplit("/", 1)[-1] if ":table/" in name else name
        found = self.tables.get(name)
        if found is None:
            raise not_found(message or "Requested resource not found")
        return found

    def table_by_arn(self, arn: str) -> Table:
        for table in self.tables.values():
            if table.arn == arn:
                return table
        raise not_found(f"Requested resource not found: ResourcArn: {arn} not found")

    async def create_table(self, params: dict[str, Any]) -> Table:
        name = params["TableName"]
        if name in self.tables:
            raise in_use(f"Table already exists: {name}")
        document = definitions.new_table(params, self.table_arn(name), self._clock.time())
        table = Table(document, keys_of(document["KeySchema"], document["AttributeDefinitions"]))
        self.tables[name] = table
        try:
            await self._store.put_table(name, document)
        except BaseException:
            self.tables.pop(name, None)
            raise
        return table

    async def save_table(self, table: Table, document: Document) -> None:
        await self._store.put_table(table.name, document)
        table.document = document
        table.keys = keys_of(document["KeySchema"], document["AttributeDefinitions"])
        table.forget_indexes()  # an index may have come or gone

    async def delete_table(self, name: str) -> Table:
        table = self.table(name, f"Requested resource not found: Table: {name} not found")
        if table.document.get("DeletionProtectionEnabled"):
            raise ValidationFailed(
                "Resource cannot be deleted as it is currently protected against deletion. Disable deletion "
                "protection first."
            )
        del self.tables[table.name]
        await self._store.delete_table(table.name)
        return table

    # -- keys -----------------------------------------------------------------------------------
    def item_key(self, table: Table, item: Item) -> ItemKey:
        keys = table.keys
        hash_value = item[keys.hash_name]
        return (key_text(hash_value), key_text(item[keys.range_name]) if keys.range_name else "")

    def check_key(self, table: Table, key: dict[str, Value]) -> ItemKey:
        """A Key parameter (GetItem, DeleteItem, UpdateItem, batches): exactly the key attributes, right types."""
        keys = table.keys
        if set(key) != set(keys.names):
            raise ValidationFailed("The provided key element does not match the schema")
        for name, wanted in ((keys.hash_name, keys.hash_type), (keys.range_name, keys.range_type)):
            if name is None:
                continue
            value = key[name]
            if next(iter(value)) != wanted:
                raise ValidationFailed("The provided key element does not match the schema")
            self._check_key_value(name, value, name == keys.hash_name)
        return self.item_key(table, key)

    def _check_key_value(self, name: str, value: Value, is_hash: bool) -> None:
        kind, inner = next(iter(value.items()))
        if kind in ("S", "B") and len(inner) == 0:
            word = "string" if kind == "S" else "binary"
            raise ValidationFailed(
                f"One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain "
                f"an empty {word} value. Key: {name}"
            )
        if is_hash and size(value) > MAX_HASH_KEY_BYTES:
            raise ValidationFailed(
                "One or more parameter values were invalid: Size of hashkey has exceeded the maximum size limit "
                f"of{MAX_HASH_KEY_BYTES} bytes"
            )
        if not is_hash and size(value) > MAX_RANGE_KEY_BYTES:
            raise ValidationFailed(
                "One or more parameter values were invalid: Aggregated size of all range keys has exceeded the size "
                f"limit of {MAX_RANGE_KEY_BYTES} bytes"
            )

    def check_item(self, table: Table, item: Item) -> ItemKey:
        """A whole item to be written (PutItem, the result of UpdateItem): keys present and typed, index keys
        typed, the size within 400 KB."""
        keys = table.keys
        for name, wanted in ((keys.hash_name, keys.hash_type), (keys.range_name, keys.range_type)):
            if name is None:
                continue
            value = item.get(name)
            if value is None:
                raise ValidationFailed(f"One or more parameter values were invalid: Missing the key {name} in the item")
            actual = next(iter(value))
            if actual != wanted:
                raise ValidationFailed(
                    f"One or more parameter values were invalid: Type mismatch for key {name} expected: {wanted} "
                    f"actual: {actual}"
                )
            self._check_key_value(name, value, name == keys.hash_name)
        for index in table.indexes():
            for name, wanted in (
                (index.keys.hash_name, index.keys.hash_type),
                (index.keys.range_name, index.keys.range_type),
            ):
                if name is None or name in keys.names or name not in item:
                    continue
                kind, inner = next(iter(item[name].items()))
                if kind != wanted:
                    raise ValidationFailed(
                        f"One or more parameter values were invalid: Type mismatch for Index Key {name} Expected: "
                        f"{wanted} Actual: {kind} IndexName: {index.name}"
                    )
                if kind in ("S", "B") and len(inner) == 0:
                    raise ValidationFailed(
                        "One or more parameter values are not valid. A value specified for a secondary index key is "
                        "not supported. The AttributeValue for a key attribute cannot contain an empty "
                        f"{'string' if kind == 'S' else 'binary'} value. IndexName: {index.name}, IndexKey: {name}"
                    )
        if item_size(item) > MAX_ITEM_BYTES:
            raise ValidationFailed("Item size has exceeded the maximum allowed size")
        return self.item_key(table, item)

    # -- writes ---------------------------------------------------------------------------------
    async def write(self, changes: Iterable[tuple[Table, ItemKey, Item | None]], by_ttl: bool = False) -> None:
        """Applies item changes (None deletes) in memory at once, then commits them together with the stream
        records that describe them."""
        writes: list[ItemWrite] = []
        records: list[StreamRecord] = []
        now = self._clock.time()
        for table, key, item in changes:
            old = table.get(key)
            record = self.streams.record(table.document, table.keys.names, old, item, now, by_ttl)
            if record is not None:
                records.append(record)
            table.put_memory(key, item)
            writes.append((table.name, key[0], key[1], None if item is None else item_to_json(item)))
        self.streams.append(records)
        if writes:
            await self._store.write_items(writes, records)

    # -- TTL ------------------------------------------------------------------------------------
    async def sweep(self) -> int:
        """Deletes every expired item now; returns how many."""
        now = Decimal(str(self._clock.time()))
        expired: list[tuple[Table, ItemKey, Item | None]] = []
        for table in list(self.tables.values()):
            ttl = table.document.get("TTL")
            if not ttl or not ttl.get("Enabled"):
                continue
            attribute = ttl["AttributeName"]
            for key, item in list(table.items.items()):
                value = item.get(attribute)
                if value is None or "N" not in value:
                    continue
                when = Decimal(value["N"])
                if when <= now and now - when <= _FIVE_YEARS:
                    expired.append((table, key, None))
        await self.write(expired, by_ttl=True)
        before = self._clock.time() - RETENTION_SECONDS
        self.streams.trim(before)
        await self._store.trim_records(before)
        return len(expired)
