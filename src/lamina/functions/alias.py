"""Aliases: a name pointing at one published version, optionally sending a share of traffic to one other.

Routing is decided per invocation: with `AdditionalVersionWeights {"2": 0.3}` on an alias of version 1,
each invocation runs version 2 with probability 0.3 and version 1 otherwise (`X-Amz-Executed-Version`
tells which). The rules are AWS's (spec/lambda-api.md §7): one additional version at most, published
versions only, never the primary itself.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from lamina.errors import InvalidParameter
from lamina.types import LATEST


@dataclass(frozen=True)
class AliasConfig:
    name: str
    function_arn: str  # unqualified
    function_version: str
    revision_id: str
    description: str = ""
    weights: dict[str, float] = field(default_factory=dict)

    @property
    def arn(self) -> str:
        return f"{self.function_arn}:{self.name}"

    def pick_version(self, draw: float | None = None) -> str:
        """The version one invocation runs: the additional one with its weight's probability."""
        if self.weights:
            x = random.random() if draw is None else draw
            for version, weight in self.weights.items():
                if x < weight:
                    return version
        return self.function_version

    def references(self, version: str) -> bool:
        return self.function_version == version or version in self.weights

    def to_api(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "AliasArn": self.arn,
            "Name": self.name,
            "FunctionVersion": self.function_version,
            "Description": self.description,
            "RevisionId": self.revision_id,
        }
        if self.weights:
            out["RoutingConfig"] = {"AdditionalVersionWeights": dict(self.weights)}
        return out

    def to_doc(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "function_arn": self.function_arn,
            "function_version": self.function_version,
            "revision_id": self.revision_id,
            "description": self.description,
            "weights": self.weights,
        }

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> AliasConfig:
        return cls(
            doc["name"],
            doc["function_arn"],
            doc["function_version"],
            doc["revision_id"],
            doc.get("description", ""),
            dict(doc.get("weights", {})),
        )


def check_routing(primary: str, weights: dict[str, float]) -> None:
    """AWS's checks on RoutingConfig beyond the model's (which bounds weights to 0.0-1.0)."""
    if not weights:
        return
    if len(weights) > 1:
        raise InvalidParameter("Number of items in AdditionalVersionWeights cannot be greater than 1", Type="User")
    if primary == LATEST:
        raise InvalidParameter("$LATEST is not supported for an alias pointing to more than 1 version", Type=None)
    if primary in weights:
        raise InvalidParameter(
            f"Invalid function version {primary}. Function version {primary} is already included in routing "
            "configuration.",
            Type="User",
        )
