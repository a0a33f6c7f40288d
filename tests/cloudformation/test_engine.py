"""The stack engine without a server: resources made in order through a recording `Call`, a failure rolled
back, and a creation a crash interrupted rolled back on start (durable state in a MemoryStore)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from lamina.clock import ManualClock
from lamina.errors import InvalidParameter
from lamina.services.cloudformation import intrinsics
from lamina.services.cloudformation.engine import StackEngine
from lamina.services.cloudformation.resource_types import Call, Made
from lamina.services.cloudformation.stack_template import plan
from lamina.store.documents import MemoryStore


class Recorded:
    """A resource type that records what it was asked; `fail` names logical ids whose creation fails."""

    def __init__(self, log: list[str], fail: set[str] | None = None, hold: str = "") -> None:
        self.log = log
        self.fail = fail or set()
        self.hold = hold  # a logical id whose creation never finishes (the process dies during it)

    async def create(self, call: Call, stack: str, logical: str, props: dict[str, Any]) -> Made:
        if logical == self.hold:
            await asyncio.Event().wait()
        if logical in self.fail:
            raise InvalidParameter(f"{logical} is broken")
        self.log.append(f"create {logical} {props}")
        return Made(f"id-{logical}", {"Arn": f"arn:{logical}"})

    async def delete(self, call: Call, made: Made) -> None:
        self.log.append(f"delete {made.physical_id}")


async def _no_call(service: str, operation: str, params: dict[str, Any]) -> dict[str, Any]:
    raise AssertionError("the recorded type makes no calls")


TEMPLATE: dict[str, Any] = {
    "Resources": {
        "C": {"Type": "Test::Thing", "Properties": {"Needs": {"Fn::GetAtt": ["B", "Arn"]}}},
        "A": {"Type": "Test::Thing", "Properties": {"Name": {"Fn::Sub": "${AWS::StackName}-a"}}},
        "B": {"Type": "Test::Thing", "Properties": {"After": {"Ref": "A"}}},
    },
    "Outputs": {"Out": {"Value": {"Fn::Join": ["+", [{"Ref": "A"}, {"Ref": "C"}]]}}},
}


def _engine(store: MemoryStore, log: list[str], fail: set[str] | None = None, hold: str = "") -> StackEngine:
    types: dict[str, Any] = {"Test::Thing": Recorded(log, fail, hold)}
    engine = StackEngine(store, ManualClock(), _no_call, types, "us-east-1", "0" * 12)
    engine.load()
    return engine


def _plan() -> Any:
    pseudo = intrinsics.pseudo_parameters("us-east-1", "0" * 12, "s", "arn:stack")
    return plan(TEMPLATE, [], [], pseudo, {})


def test_resources_made_in_dependency_order() -> None:
    async def run() -> None:
        log: list[str] = []
        engine = _engine(MemoryStore(), log)
        engine.create("s", "{}", _plan(), {})
        await engine.settled()
        stack = engine.find("s")
        assert stack["StackStatus"] == "CREATE_COMPLETE"
        assert log == ["create A {'Name': 's-a'}", "create B {'After': 'id-A'}", "create C {'Needs': 'arn:B'}"]
        assert stack["Outputs"] == [{"OutputKey": "Out", "OutputValue": "id-A+id-C"}]

    asyncio.run(run())


def test_failure_deletes_what_was_made_newest_first() -> None:
    async def run() -> None:
        log: list[str] = []
        engine = _engine(MemoryStore(), log, fail={"C"})
        engine.create("s", "{}", _plan(), {})
        await engine.settled()
        assert engine.find("s")["StackStatus"] == "ROLLBACK_COMPLETE"
        assert log[-2:] == ["delete id-B", "delete id-A"]

    asyncio.run(run())


def test_interrupted_creation_rolls_back_on_start() -> None:
    async def run() -> None:
        store = MemoryStore()
        log: list[str] = []
        engine = _engine(store, log, hold="B")
        engine.create("s", "{}", _plan(), {})
        for _ in range(5):
            await asyncio.sleep(0)  # A is made, B's creation is under way ...
        await engine.close()  # ... when the process "dies"
        stored = store.load("cfn-stack")
        (doc,) = stored.values()
        assert doc["StackStatus"] == "CREATE_IN_PROGRESS"
        made = [n for n, r in doc["Resources"].items() if r.get("Made")]
        assert made == ["A"]
        after: list[str] = []
        restarted = _engine(store, after)
        restarted.start()
        await restarted.settled()
        assert restarted.find("s")["StackStatus"] == "ROLLBACK_COMPLETE"
        assert after == [f"delete id-{n}" for n in reversed(made)]

    asyncio.run(run())


def test_intrinsic_functions() -> None:
    scope = intrinsics.Scope(
        {"Env": "prod", "List": ["a", "b"], **intrinsics.pseudo_parameters("eu-west-1", "1" * 12, "st", "id")},
        {"M": {"prod": {"Size": 3}}},
    )
    scope.evaluate_conditions(
        {
            "IsProd": {"Fn::Equals": [{"Ref": "Env"}, "prod"]},
            "Both": {"Fn::And": [{"Condition": "IsProd"}, {"Fn::Not": [{"Fn::Equals": ["a", "b"]}]}]},
            "Either": {"Fn::Or": [{"Fn::Equals": ["x", "y"]}, {"Condition": "Both"}]},
        }
    )
    assert scope.conditions == {"IsProd": True, "Both": True, "Either": True}
    resolve = scope.resolve
    assert resolve({"Fn::Sub": "${AWS::Region}:${AWS::AccountId}:${!Literal}"}) == "eu-west-1:111111111111:${Literal}"
    assert resolve({"Fn::Sub": ["${X}-${Env}", {"X": "local"}]}) == "local-prod"
    assert resolve({"Fn::Join": [",", {"Ref": "List"}]}) == "a,b"
    assert resolve({"Fn::Select": ["1", {"Fn::Split": ["|", "x|y|z"]}]}) == "y"
    assert resolve({"Fn::If": ["IsProd", "big", "small"]}) == "big"
    assert resolve({"Fn::FindInMap": ["M", {"Ref": "Env"}, "Size"]}) == 3
    assert resolve({"Fn::Base64": "abc"}) == "YWJj"
    assert resolve({"Fn::GetAZs": ""}) == ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
    assert resolve({"Keep": 1, "Drop": {"Ref": "AWS::NoValue"}}) == {"Keep": 1}
    assert intrinsics.references({"Fn::Sub": ["${A}${B.Arn}${C}", {"C": {"Ref": "D"}}]}) == {"A", "B", "D"}


def test_interrupted_update_rolls_back_on_start() -> None:
    async def run() -> None:
        store = MemoryStore()
        log: list[str] = []
        engine = _engine(store, log)
        engine.create("s", "{}", _plan(), {})
        await engine.settled()
        changed = json.loads(json.dumps(TEMPLATE))
        changed["Resources"]["C"]["Properties"]["Extra"] = "new"
        pseudo = intrinsics.pseudo_parameters("us-east-1", "0" * 12, "s", "arn:stack")
        await engine.close()
        updating = _engine(store, log, hold="C")  # the replacement of C never finishes: the process "dies"
        updating.update("s", "{changed}", plan(changed, [], [], pseudo, {}))
        for _ in range(5):
            await asyncio.sleep(0)
        await updating.close()
        (doc,) = store.load("cfn-stack").values()
        assert doc["StackStatus"] == "UPDATE_IN_PROGRESS"
        restarted = _engine(store, log)
        restarted.start()
        await restarted.settled()
        stack = restarted.find("s")
        assert stack["StackStatus"] == "UPDATE_ROLLBACK_COMPLETE"
        assert stack["TemplateBody"] == "{}"
        assert stack["Resources"]["C"]["PhysicalResourceId"] == "id-C"
        assert "Extra" not in stack["Resources"]["C"]["Props"]

    asyncio.run(run())
