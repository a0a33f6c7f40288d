"""Recursive loop detection: how many times one request chain has gone through a function.

AWS tracks a chain with the X-Ray trace header: every invocation Lambda starts from an SQS message or an SNS
notification gets a trace id (`_X_AMZN_TRACE_ID` in the function, `Lambda-Runtime-Trace-Id` on the Runtime
API) whose `Lineage` field counts, per function, the hops of the chain so far. The SDKs inside a function send
that id as the `X-Amzn-Trace-Id` header of their calls (botocore's `add_recursion_detection_header`); SQS
keeps it as the message's `AWSTraceHeader` and SNS hands it to its deliveries, so the next invocation reads
it back. A chain that already went through the function `MAX_HOPS` times is stopped before the next
invocation unless the function's RecursiveLoop is `Allow` (invocation-recursion: "If your function is invoked
more than 16 times in the same chain of requests, then Lambda automatically stops the next function
invocation in that request chain").

The `Lineage` value here is `<function id>:<count>` entries joined by `|`, a function id being the first 8 hex
digits of the SHA-256 of its unqualified ARN. AWS's own encoding is not documented; only Lamina reads it.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterable

from lamina.invoke import trace_header
from lamina.invoke.trace_header import fields

log = logging.getLogger(__name__)

MAX_HOPS = 16
ALLOW = "Allow"

# (region, function name) → "Terminate" or "Allow" (`RecursionSettings.loop_setting`)
LoopSetting = Callable[[str, str], str]


def function_id(function_arn: str) -> str:
    unqualified = ":".join(function_arn.split(":")[:7])
    return hashlib.sha256(unqualified.encode()).hexdigest()[:8]


def lineage(header: str | None) -> dict[str, int]:
    """Function id → hops, from the `Lineage` field (malformed entries are ignored)."""
    out: dict[str, int] = {}
    for entry in fields(header).get("Lineage", "").split("|"):
        fid, sep, count = entry.partition(":")
        if sep and fid and count.isdigit():
            out[fid] = max(out.get(fid, 0), int(count))
    return out


class LoopDetector:
    """Decides, for one invocation started from queued events, whether it may run and with which trace id."""

    def __init__(self, setting: LoopSetting) -> None:
        self._setting = setting
        self.stopped = 0  # events stopped (RecursiveInvocationsDropped)

    def looping(self, function_arn: str, header: str | None) -> bool:
        """Whether an event carrying `header` would take `function_arn` past MAX_HOPS, and it may not."""
        if not header or "Lineage" not in header:
            return False
        hops = lineage(header).get(function_id(function_arn), 0)
        if hops < MAX_HOPS:
            return False
        *_, region, _account, _kind, name = ":".join(function_arn.split(":")[:7]).split(":")
        return self._setting(region, name) != ALLOW

    def stop(self, function_arn: str, what: str) -> None:
        """Counts and logs one stopped event (the notification AWS sends by e-mail and in the Health Dashboard)."""
        self.stopped += 1
        log.warning(
            "Lambda stopped %s for %s: it was invoked %d times in the same chain of requests (recursive loop "
            "detection; PutFunctionRecursionConfig RecursiveLoop=Allow lets it continue)",
            what,
            function_arn,
            MAX_HOPS,
        )

    @staticmethod
    def trace_id(function_arn: str, headers: Iterable[str | None], mode: str = "PassThrough") -> str:
        """The trace id of the invocation: the chain's root (the first header's, else a new one), a new parent,
        the first header's sampling decision (else the function's TracingConfig `mode`: trace_header.py), and
        the lineage of every event it carries with this function's hop counted."""
        root = ""
        first: dict[str, str] = {}
        merged: dict[str, int] = {}
        for header in headers:
            if not header:
                continue
            if not first:
                first = fields(header)
                root = first.get("Root", "")
            for fid, count in lineage(header).items():
                merged[fid] = max(merged.get(fid, 0), count)
        me = function_id(function_arn)
        merged[me] = merged.get(me, 0) + 1
        entries = "|".join(f"{fid}:{count}" for fid, count in merged.items())
        sampled = trace_header.sampled_by(mode, first, ":".join(function_arn.split(":")[:7]))
        return trace_header.compose(root or trace_header.new_root(), trace_header.new_id(), sampled, entries)
