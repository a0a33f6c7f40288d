"""Table definitions: what CreateTable/UpdateTable accept (with AWS's messages) and what DescribeTable shows.

A table document is what the store keeps: name, id, ARN, creation time, attribute definitions, key schema,
indexes, billing mode with throughput, stream specification, TTL, tags, deletion protection.
"""

from __future__ import annotations

import copy
import uuid
from dataclasses import dataclass
from typing import Any

from lamina.errors import ValidationFailed
from lamina.services.dynamodb.faults import in_use

Document = dict[str, Any]


def _invalid(detail: str) -> ValidationFailed:
    return ValidationFailed("One or more parameter values were invalid: " + detail)


@dataclass(frozen=True)
class Keys:
    """A key schema: the partition key and the optional sort key, with their types."""

    hash_name: str
    hash_type: str
    range_name: str | None
    range_type: str | None

    @property
    def names(self) -> tuple[str, ...]:
        return (self.hash_name,) if self.range_name is None else (self.hash_name, self.range_name)


def keys_of(schema: list[dict[str, str]], definitions: list[dict[str, str]]) -> Keys:
    types = {d["AttributeName"]: d["AttributeType"] for d in definitions}
    hash_name = schema[0]["AttributeName"]
    range_name = schema[1]["AttributeName"] if len(schema) > 1 else None
    return Keys(hash_name, types[hash_name], range_name, types.get(range_name) if range_name else None)


def _check_schema(schema: list[dict[str, str]], label: str = "") -> None:
    if schema[0].get("KeyType") != "HASH":
        raise ValidationFailed(f"Invalid KeySchema: The first KeySchemaElement is not a HASH key type{label}")
    if len(schema) > 1 and schema[1].get("KeyType") != "RANGE":
        raise ValidationFailed(f"Invalid KeySchema: The second KeySchemaElement is not a RANGE key type{label}")
    if len(schema) > 1 and schema[0]["AttributeName"] == schema[1]["AttributeName"]:
        raise ValidationFailed("Both the Hash Key and the Range Key element in the KeySchema have the same name")


def _check_projection(projection: dict[str, Any], index: str) -> None:
    kind = projection.get("ProjectionType", "")
    if kind == "INCLUDE" and not projection.get("NonKeyAttributes"):
        raise _invalid(f"ProjectionType is INCLUDE, but NonKeyAttributes is not specified for index: {index}")
    if kind != "INCLUDE" and projection.get("NonKeyAttributes"):
        raise _invalid(
            f"ProjectionType is {kind}, but NonKeyAttributes is specified for index: {index}"
            if kind
            else f"Unknown ProjectionType: null for index: {index}"
        )


def _throughput(params: dict[str, Any], billing: str, where: str = "") -> dict[str, int]:
    given = params.get("ProvisionedThroughput")
    if billing == "PAY_PER_REQUEST":
        if given is not None:
            raise _invalid(
                "Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST"
            )
        return {"ReadCapacityUnits": 0, "WriteCapacityUnits": 0}
    if given is None:
        if where:
            raise _invalid(f"ProvisionedThroughput is not specified for index: {where}")
        raise _invalid(
            "ReadCapacityUnits and WriteCapacityUnits must both be specified when BillingMode is PROVISIONED"
        )
    return {"ReadCapacityUnits": given["ReadCapacityUnits"], "WriteCapacityUnits": given["WriteCapacityUnits"]}


def new_table(params: dict[str, Any], arn: str, now: float) -> Document:
    """A table document from CreateTable's parameters, or AWS's ValidationException."""
    name = params["TableName"]
    schema = params.get("KeySchema")
    definitions = params.get("AttributeDefinitions")
    if not schema:
        raise ValidationFailed(
            "1 validation error detected: Value null at 'keySchema' failed to satisfy constraint: "
            "Member must not be null"
        )
    if definitions is None:
        raise ValidationFailed(
            "1 validation error detected: Value null at 'attributeDefinitions' failed to satisfy "
            "constraint: Member must not be null"
        )
    _check_schema(schema)
    defined = [d["AttributeName"] for d in definitions]
    if len(set(defined)) != len(defined):
        raise _invalid("Duplicate AttributeName in AttributeDefinitions")
    billing = params.get("BillingMode", "PROVISIONED")
    document: Document = {
        "TableName": name,
        "TableId": str(uuid.uuid4()),
        "TableArn": arn,
        "CreationDateTime": now,
        "AttributeDefinitions": definitions,
        "KeySchema": schema,
        "BillingMode": billing,
        "BillingModeGiven": "BillingMode" in params,
        "ProvisionedThroughput": _throughput(params, billing),
        "DeletionProtectionEnabled": bool(params.get("DeletionProtectionEnabled", False)),
        "Tags": list(params.get("Tags") or []),
        "TTL": None,
    }
    if params.get("TableClass"):
        document["TableClass"] = params["TableClass"]
    used = set(k["AttributeName"] for k in schema)
    names: set[str] = set()
    lsis = []
    for index in params.get("LocalSecondaryIndexes") or []:
        iname = index["IndexName"]
        _check_schema(index["KeySchema"])
        if len(schema) < 2:
            raise _invalid(
                "Table KeySchema does not have a range key, which is required when specifying a LocalSecondaryIndex"
            )
        if len(index["KeySchema"]) < 2:
            raise _invalid(f"Index KeySchema does not have a range key for index: {iname}")
        if index["KeySchema"][0]["AttributeName"] != schema[0]["AttributeName"]:
            raise _invalid(
                f"Index KeySchema does not have the same leading hash key as table KeySchema for index: {iname}. "
                f"index hash key: {index['KeySchema'][0]['AttributeName']}, table hash key: "
                f"{schema[0]['AttributeName']}"
            )
        _check_projection(index.get("Projection", {}), iname)
        if iname in names:
            raise _invalid(f"Duplicate index name: {iname}")
        names.add(iname)
        used |= {k["AttributeName"] for k in index["KeySchema"]}
        lsis.append({"IndexName": iname, "KeySchema": index["KeySchema"], "Projection": index["Projection"]})
    gsis = []
    for index in params.get("GlobalSecondaryIndexes") or []:
        iname = index["IndexName"]
        _check_schema(index["KeySchema"])
        _check_projection(index.get("Projection", {}), iname)
        if iname in names:
            raise _invalid(f"Duplicate index name: {iname}")
        names.add(iname)
        used |= {k["AttributeName"] for k in index["KeySchema"]}
        gsis.append(
            {
                "IndexName": iname,
                "KeySchema": index["KeySchema"],
                "Projection": index["Projection"],
                "ProvisionedThroughput": _throughput(index, billing, iname),
            }
        )
    missing = sorted(used - set(defined))
    if missing:
        raise _invalid(
            f"Some index key attributes are not defined in AttributeDefinitions. Keys: [{', '.join(missing)}], "
            f"AttributeDefinitions: [{', '.join(defined)}]"
        )
    if len(used) != len(defined):
        raise _invalid(
            "Number of attributes in KeySchema does not exactly match number of attributes defined in "
            "AttributeDefinitions"
        )
    document["LocalSecondaryIndexes"] = lsis
    document["GlobalSecondaryIndexes"] = gsis
    stream = params.get("StreamSpecification")
    if stream and stream.get("StreamEnabled"):
        if not stream.get("StreamViewType"):
            raise ValidationFailed("StreamSpecification.StreamViewType is required when StreamEnabled is true")
        document["StreamSpecification"] = stream
        document["LatestStreamLabel"] = _stream_label(now)
    return document


def _stream_label(now: float) -> str:
    import datetime

    return datetime.datetime.fromtimestamp(now, datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3]


def update_table(document: Document, params: dict[str, Any], now: float) -> Document:
    """The table document after UpdateTable (a copy), or AWS's error."""
    table = copy.deepcopy(document)
    changed = False
    if "AttributeDefinitions" in params:
        known = {d["AttributeName"]: d for d in table["AttributeDefinitions"]}
        for definition in params["AttributeDefinitions"]:
            known[definition["AttributeName"]] = definition
        table["AttributeDefinitions"] = list(known.values())
    billing = params.get("BillingMode")
    if billing is not None and billing != table["BillingMode"]:
        table["BillingMode"] = billing
        table["BillingModeGiven"] = True
        table["ProvisionedThroughput"] = _throughput(params, billing)
        for gsi in table["GlobalSecondaryIndexes"]:
            gsi["ProvisionedThroughput"] = (
                {"ReadCapacityUnits": 0, "WriteCapacityUnits": 0}
                if billing == "PAY_PER_REQUEST"
                else dict(table["ProvisionedThroughput"])
            )
        changed = True
    elif "ProvisionedThroughput" in params:
        if table["BillingMode"] == "PAY_PER_REQUEST":
            raise _invalid(
                "Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST"
            )
        given = params["ProvisionedThroughput"]
        new = {"ReadCapacityUnits": given["ReadCapacityUnits"], "WriteCapacityUnits": given["WriteCapacityUnits"]}
        if new == table["ProvisionedThroughput"]:
            raise _invalid(
                "The provisioned throughput for the table will not change. The requested value equals the current "
                f"value. Current ReadCapacityUnits provisioned for the table: {new['ReadCapacityUnits']}. Requested "
                f"ReadCapacityUnits: {new['ReadCapacityUnits']}. Current WriteCapacityUnits provisioned for the table: "
                f"{new['WriteCapacityUnits']}. Requested WriteCapacityUnits: {new['WriteCapacityUnits']}. Refer to the "
                "Amazon DynamoDB Developer Guide for current limits and how to request higher limits."
            )
        table["ProvisionedThroughput"] = new
        changed = True
    for update in params.get("GlobalSecondaryIndexUpdates") or []:
        changed = True
        if "Create" in update:
            index = update["Create"]
            iname = index["IndexName"]
            if any(g["IndexName"] == iname for g in table["GlobalSecondaryIndexes"]):
                raise in_use(f"Attempting to create an index which already exists: {iname}")
            _check_schema(index["KeySchema"])
            _check_projection(index.get("Projection", {}), iname)
            defined = {d["AttributeName"] for d in table["AttributeDefinitions"]}
            missing = sorted({k["AttributeName"] for k in index["KeySchema"]} - defined)
            if missing:
                raise _invalid(
                    f"Some index key attributes are not defined in AttributeDefinitions. Keys: [{', '.join(missing)}], "
                    f"AttributeDefinitions: [{', '.join(sorted(defined))}]"
                )
            table["GlobalSecondaryIndexes"].append(
                {
                    "IndexName": iname,
                    "KeySchema": index["KeySchema"],
                    "Projection": index["Projection"],
                    "ProvisionedThroughput": _throughput(index, table["BillingMode"], iname),
                }
            )
        elif "Delete" in update:
            iname = update["Delete"]["IndexName"]
            if not any(g["IndexName"] == iname for g in table["GlobalSecondaryIndexes"]):
                raise _not_found_index(iname)
            table["GlobalSecondaryIndexes"] = [g for g in table["GlobalSecondaryIndexes"] if g["IndexName"] != iname]
        elif "Update" in update:
            iname = update["Update"]["IndexName"]
            found = [g for g in table["GlobalSecondaryIndexes"] if g["IndexName"] == iname]
            if not found:
                raise _not_found_index(iname)
            given = update["Update"].get("ProvisionedThroughput") or {}
            found[0]["ProvisionedThroughput"] = {
                "ReadCapacityUnits": given.get("ReadCapacityUnits", 0),
                "WriteCapacityUnits": given.get("WriteCapacityUnits", 0),
            }
    stream = params.get("StreamSpecification")
    if stream is not None:
        changed = True
        enabled = table.get("StreamSpecification", {}).get("StreamEnabled", False)
        if stream.get("StreamEnabled"):
            if enabled:
                raise in_use(f"Table {table['TableName']} already has an enabled stream: {stream_arn(table)}")
            table["StreamSpecification"] = stream
            table["LatestStreamLabel"] = _stream_label(now)
        else:
            if not enabled:
                raise ValidationFailed(
                    "Table already has stream disabled"
                    if "LatestStreamLabel" in table
                    else "Stream specification is not enabled"
                )
            table["StreamSpecification"] = {"StreamEnabled": False}
    if "DeletionProtectionEnabled" in params:
        table["DeletionProtectionEnabled"] = params["DeletionProtectionEnabled"]
        changed = True
    if "TableClass" in params:
        table["TableClass"] = params["TableClass"]
        changed = True
    if not changed:
        raise ValidationFailed(
            "At least one of ProvisionedThroughput, BillingMode, UpdateStreamEnabled, GlobalSecondaryIndexUpdates "
            "or SSESpecification or ReplicaUpdates is required"
        )
    return table


def _not_found_index(name: str) -> Exception:
    from lamina.services.dynamodb.faults import not_found

    return not_found(f"Requested resource not found: Index: {name} not found")


def stream_arn(table: Document) -> str:
    return f"{table['TableArn']}/stream/{table['LatestStreamLabel']}"


def describe(table: Document, status: str = "ACTIVE", item_count: int = 0, size: int = 0) -> Document:
    """The TableDescription AWS gives for the document."""
    throughput = {"NumberOfDecreasesToday": 0, **table["ProvisionedThroughput"]}
    out: Document = {
        "AttributeDefinitions": table["AttributeDefinitions"],
        "TableName": table["TableName"],
        "KeySchema": table["KeySchema"],
        "TableStatus": status,
        "CreationDateTime": table["CreationDateTime"],
        "ProvisionedThroughput": throughput,
        "TableSizeBytes": size,
        "ItemCount": item_count,
        "TableArn": table["TableArn"],
        "TableId": table["TableId"],
        "DeletionProtectionEnabled": table["DeletionProtectionEnabled"],
    }
    if table["BillingMode"] == "PAY_PER_REQUEST" or table.get("BillingModeGiven"):
        out["BillingModeSummary"] = {"BillingMode": table["BillingMode"]}
    if table["LocalSecondaryIndexes"]:
        out["LocalSecondaryIndexes"] = [
            {**i, "IndexSizeBytes": 0, "ItemCount": 0, "IndexArn": f"{table['TableArn']}/index/{i['IndexName']}"}
            for i in table["LocalSecondaryIndexes"]
        ]
    if table["GlobalSecondaryIndexes"]:
        out["GlobalSecondaryIndexes"] = [
            {
                "IndexName": i["IndexName"],
                "KeySchema": i["KeySchema"],
                "Projection": i["Projection"],
                "IndexStatus": "ACTIVE" if status != "CREATING" else "CREATING",
                "ProvisionedThroughput": {"NumberOfDecreasesToday": 0, **i["ProvisionedThroughput"]},
                "IndexSizeBytes": 0,
                "ItemCount": 0,
                "IndexArn": f"{table['TableArn']}/index/{i['IndexName']}",
            }
            for i in table["GlobalSecondaryIndexes"]
        ]
    stream = table.get("StreamSpecification")
    if stream is not None:
        out["StreamSpecification"] = stream
    if "LatestStreamLabel" in table:
        out["LatestStreamLabel"] = table["LatestStreamLabel"]
        out["LatestStreamArn"] = stream_arn(table)
    if "TableClass" in table:
        out["TableClassSummary"] = {"TableClass": table["TableClass"]}
    return out
