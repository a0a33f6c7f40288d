"""Lambda's on-demand prices (us-east-1, first pricing tier, as AWS publishes them at aws.amazon.com/lambda/pricing):
per GB-second of billed duration by architecture, per request, and per GB-second of ephemeral storage over 512 MB."""

from __future__ import annotations

GB_SECOND_USD = {"x86_64": 0.0000166667, "arm64": 0.0000133334}
REQUEST_USD = 0.20 / 1_000_000
STORAGE_GB_SECOND_USD = 0.0000000309  # ephemeral storage above the free 512 MB


def invocation_cost(billed_ms: float, memory_mb: int, architecture: str = "x86_64", storage_mb: int = 512) -> float:
    """What one invocation costs: its request plus its billed duration at the function's memory (and storage)."""
    seconds = billed_ms / 1000
    compute = seconds * memory_mb / 1024 * GB_SECOND_USD.get(architecture, GB_SECOND_USD["x86_64"])
    storage = seconds * max(0, storage_mb - 512) / 1024 * STORAGE_GB_SECOND_USD
    return REQUEST_USD + compute + storage
