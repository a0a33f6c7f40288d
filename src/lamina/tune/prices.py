"""One invocation's price, from the package's one pricing table (lamina/cli/pricing.json, which `lamina cost` reads
too): per GB-second of billed duration by architecture, per request, per GB-second of storage over 512 MB."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

PRICES: dict[str, Any] = json.loads(resources.files("lamina.cli").joinpath("pricing.json").read_text())


def invocation_cost(billed_ms: float, memory_mb: int, architecture: str = "x86_64", storage_mb: int = 512) -> float:
    """What one invocation costs: its request plus its billed duration at the function's memory (and storage)."""
    seconds = billed_ms / 1000
    per_gb = PRICES["gbSecondPrice"]
    compute = seconds * memory_mb / 1024 * per_gb.get(architecture, per_gb["x86_64"])
    storage = seconds * max(0, storage_mb - PRICES["freeEphemeralMb"]) / 1024 * PRICES["ephemeralGbSecondPrice"]
    return float(PRICES["requestPrice"]) + float(compute) + float(storage)
