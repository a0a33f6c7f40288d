"""State survives restarts and kill -9: functions, configuration, tags and code come back identical."""

from __future__ import annotations

import base64
import hashlib
import threading
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import make_zip
from tests.server import ROLE, LaminaProcess

Start = Callable[..., LaminaProcess]
FAST_WAIT = {"Delay": 0.2, "MaxAttempts": 150}


def wait_active(client: Any, name: str) -> None:
    client.get_waiter("function_active_v2").wait(FunctionName=name, WaiterConfig=FAST_WAIT)


def wait_updated(client: Any, name: str) -> None:
    client.get_waiter("function_updated_v2").wait(FunctionName=name, WaiterConfig=FAST_WAIT)


def sha256_b64(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


def record(client: Any, name: str) -> dict[str, Any]:
    """What must survive: the whole configuration, tags, reserved concurrency, and the code bytes."""
    got = client.get_function(FunctionName=name)
    with urllib.request.urlopen(got["Code"]["Location"], timeout=10) as response:
        code = response.read()
    assert sha256_b64(code) == got["Configuration"]["CodeSha256"]
    return {
        "Configuration": got["Configuration"],
        "Tags": got.get("Tags", {}),
        "ListTags": client.list_tags(Resource=got["Configuration"]["FunctionArn"])["Tags"],
        "Concurrency": got.get("Concurrency"),
        "CodeSha256": sha256_b64(code),
    }


def names(client: Any) -> list[str]:
    found: list[str] = []
    for page in client.get_paginator("list_functions").paginate():
        found.extend(f["FunctionName"] for f in page["Functions"])
    return sorted(found)


def test_functions_survive_kill_9(fresh_lamina: Start) -> None:
    server = fresh_lamina()
    client = server.client()
    specs: dict[str, dict[str, Any]] = {
        "dur-env": {"Environment": {"Variables": {"STAGE": "prod", "URL": "https://example.com/a?b=c"}}},
        "dur-memory": {"MemorySize": 1024, "Timeout": 120, "Description": "big and slow"},
        "dur-tags": {"Tags": {"team": "core", "cost-center": "42", "empty": ""}},
        "dur-misc": {
            "Description": "ünïcödé ☃",
            "Architectures": ["arm64"],
            "EphemeralStorage": {"Size": 1024},
            "TracingConfig": {"Mode": "Active"},
        },
        "dur-code": {},
        "dur-config": {"Environment": {"Variables": {"OLD": "1"}}},
    }
    for name, extra in specs.items():
        client.create_function(
            FunctionName=name,
            Runtime="python3.12",
            Role=ROLE,
            Handler="app.handler",
            Code={"ZipFile": make_zip({"app.py": f"NAME = {name!r}\ndef handler(e, c):\n    return NAME\n"})},
            **extra,
        )
    for name in specs:
        wait_active(client, name)
    new_code = make_zip({"app.py": "def handler(e, c):\n    return 'v2'\n", "lib/data.txt": "x" * 5000})
    client.update_function_code(FunctionName="dur-code", ZipFile=new_code)
    client.update_function_configuration(
        FunctionName="dur-config", Environment={"Variables": {"NEW": "2"}}, MemorySize=256, Handler="app.other"
    )
    wait_updated(client, "dur-code")
    wait_updated(client, "dur-config")

    before = {name: record(client, name) for name in specs}
    assert before["dur-code"]["CodeSha256"] == sha256_b64(new_code)
    assert before["dur-config"]["Configuration"]["Environment"] == {"Variables": {"NEW": "2"}}
    account_before = client.get_account_settings()["AccountUsage"]

    server.kill()
    restarted = fresh_lamina(data_dir=server.data_dir)
    client = restarted.client()

    assert names(client) == sorted(specs)
    for name in specs:
        after = record(client, name)
        assert after == before[name], name
        config = after["Configuration"]
        assert (config["State"], config["LastUpdateStatus"]) == ("Active", "Successful")
    assert client.get_account_settings()["AccountUsage"] == account_before

    # The restarted server is fully usable: updates on restored functions work and persist too.
    client.update_function_configuration(FunctionName="dur-memory", Timeout=60)
    wait_updated(client, "dur-memory")
    changed = record(client, "dur-memory")
    assert changed["Configuration"]["RevisionId"] != before["dur-memory"]["Configuration"]["RevisionId"]
    restarted.stop()
    again = fresh_lamina(data_dir=server.data_dir).client()
    assert record(again, "dur-memory") == changed


def test_kill_9_while_pending_comes_back_active(fresh_lamina: Start) -> None:
    server = fresh_lamina("--state-transition-delay", "5")
    client = server.client()
    package = make_zip()
    created = client.create_function(
        FunctionName="dur-pending", Runtime="python3.12", Role=ROLE, Handler="app.handler", Code={"ZipFile": package}
    )
    server.kill()  # at once, while the function is still being created
    assert created["State"] == "Pending"

    client = fresh_lamina(data_dir=server.data_dir).client()
    assert names(client) == ["dur-pending"]
    wait_active(client, "dur-pending")
    got = record(client, "dur-pending")
    assert got["Configuration"]["State"] == "Active"
    assert got["Configuration"]["CodeSha256"] == sha256_b64(package) == created["CodeSha256"]
    assert got["Configuration"]["RevisionId"]
    client.update_function_configuration(FunctionName="dur-pending", Timeout=9)
    wait_updated(client, "dur-pending")
    assert client.get_function_configuration(FunctionName="dur-pending")["Timeout"] == 9


def test_kill_9_during_update_settles(fresh_lamina: Start) -> None:
    server = fresh_lamina("--state-transition-delay", "0.3")
    client = server.client()
    client.create_function(
        FunctionName="dur-upd", Runtime="python3.12", Role=ROLE, Handler="app.handler", Code={"ZipFile": make_zip()}
    )
    wait_active(client, "dur-upd")
    updated = client.update_function_configuration(FunctionName="dur-upd", MemorySize=512)
    server.kill()
    assert updated["LastUpdateStatus"] == "InProgress"

    client = fresh_lamina(data_dir=server.data_dir).client()
    wait_updated(client, "dur-upd")
    config = client.get_function_configuration(FunctionName="dur-upd")
    assert config["LastUpdateStatus"] == "Successful"
    assert config["MemorySize"] == 512
    assert config["Timeout"] == 3


THREADS = 16


def test_concurrent_clients_then_restart(fresh_lamina: Start) -> None:
    server = fresh_lamina()
    package = make_zip()
    barrier = threading.Barrier(THREADS)

    def worker(i: int) -> dict[str, Any]:
        client = server.client()  # one client (and connection pool) per thread
        name = f"conc-{i:02d}"
        client.create_function(
            FunctionName=name, Runtime="python3.12", Role=ROLE, Handler="app.handler", Code={"ZipFile": package}
        )
        wait_active(client, name)
        client.update_function_configuration(
            FunctionName=name, Environment={"Variables": {"WORKER": str(i)}}, MemorySize=128 + i
        )
        wait_updated(client, name)
        arn = client.get_function_configuration(FunctionName=name)["FunctionArn"]
        client.tag_resource(Resource=arn, Tags={"worker": str(i), "drop": "me"})
        client.untag_resource(Resource=arn, TagKeys=["drop"])
        if i % 4 == 0:
            client.delete_function(FunctionName=name)
        barrier.wait(timeout=60)
        try:
            client.create_function(
                FunctionName="conc-race",
                Runtime="python3.12",
                Role=ROLE,
                Handler="app.handler",
                Code={"ZipFile": package},
                Description=f"winner {i}",
            )
            race = "won"
        except ClientError as error:
            race = error.response["Error"]["Code"]
        return {"name": name, "race": race}

    with ThreadPoolExecutor(THREADS) as pool:
        results = list(pool.map(worker, range(THREADS)))

    outcomes = sorted(r["race"] for r in results)
    assert outcomes.count("won") == 1, outcomes
    assert outcomes.count("ResourceConflictException") == THREADS - 1, outcomes
    winner = next(i for i, r in enumerate(results) if r["race"] == "won")

    kept = [f"conc-{i:02d}" for i in range(THREADS) if i % 4 != 0]

    def verify(client: Any) -> dict[str, Any]:
        assert names(client) == sorted([*kept, "conc-race"])
        for i in range(THREADS):
            name = f"conc-{i:02d}"
            if i % 4 == 0:
                with pytest.raises(client.exceptions.ResourceNotFoundException):
                    client.get_function(FunctionName=name)
                continue
            got = client.get_function(FunctionName=name)
            config = got["Configuration"]
            assert config["Environment"] == {"Variables": {"WORKER": str(i)}}
            assert config["MemorySize"] == 128 + i
            assert (config["State"], config["LastUpdateStatus"]) == ("Active", "Successful")
            assert got["Tags"] == {"worker": str(i)}
        wait_active(client, "conc-race")
        race = client.get_function_configuration(FunctionName="conc-race")
        assert race["Description"] == f"winner {winner}"
        usage = client.get_account_settings()["AccountUsage"]
        assert usage["FunctionCount"] == len(kept) + 1
        return {name: record(client, name) for name in [*kept, "conc-race"]}

    before = verify(server.client())
    server.kill()
    after = verify(fresh_lamina(data_dir=server.data_dir).client())
    assert after == before
