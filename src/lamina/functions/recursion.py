"""Recursive loop settings of functions (PutFunctionRecursionConfig / GetFunctionRecursionConfig).

One setting per function (not per version or alias): `Terminate` (AWS's default: a loop is stopped after
16 hops) or `Allow`. Durable as documents of their own kind; deleted with their function.
"""

from __future__ import annotations

from enum import StrEnum

from lamina.errors import InvalidParameter
from lamina.functions.control import FunctionService
from lamina.functions.names import FunctionRef
from lamina.functions.record import FunctionConfig
from lamina.store.documents import DocumentStore

KIND = "function-recursion"
UNQUALIFIED_ONLY = "Recursion configuration can only be applied to the unqualified function."


class RecursiveLoop(StrEnum):
    TERMINATE = "Terminate"
    ALLOW = "Allow"


class RecursionSettings:
    def __init__(self, store: DocumentStore, functions: FunctionService) -> None:
        self._store = store
        self._functions = functions
        self._settings = {key: RecursiveLoop(doc["recursive_loop"]) for key, doc in store.load(KIND).items()}

    def loop_setting(self, region: str, name: str) -> RecursiveLoop:
        """What the loop detector reads: `Terminate` unless the function allows loops."""
        return self._settings.get(f"{region}/{name}", RecursiveLoop.TERMINATE)

    def put(self, ref: FunctionRef, value: str) -> RecursiveLoop:
        self._check(ref)
        loop = RecursiveLoop(value)  # the gateway has checked the model's enum
        key = f"{ref.region}/{ref.name}"
        self._store.put(KIND, key, {"recursive_loop": loop.value})
        self._settings[key] = loop
        return loop

    def get(self, ref: FunctionRef) -> RecursiveLoop:
        self._check(ref)
        return self.loop_setting(ref.region, ref.name)

    def _check(self, ref: FunctionRef) -> None:
        self._functions.entry(ref)  # ResourceNotFoundException for a function that does not exist
        if ref.qualifier is not None:
            raise InvalidParameter(UNQUALIFIED_ONLY, Type="User")

    def function_changed(self, config: FunctionConfig | None, arn: str) -> None:
        """`FunctionService.on_change` listener: a deleted function takes its setting with it."""
        if config is not None:
            return
        *_, region, _account, _kind, name = arn.split(":")
        key = f"{region}/{name}"
        if self._settings.pop(key, None) is not None:
            self._store.delete(KIND, key)
