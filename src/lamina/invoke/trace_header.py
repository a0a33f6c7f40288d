"""The X-Ray trace header of one invocation: `Root=1-<8 hex epoch>-<24 hex>;Parent=<16 hex>;Sampled=0|1`.

The sampling decision follows the function's TracingConfig (lambda services-xray): `Active` samples the
invocations the caller did not decide about by X-Ray's default rule, one a second per function plus 5% of the rest
(invoke/sampling.py; `lamina serve --xray-sampling all` samples every one of them instead), `PassThrough` samples
only what the caller marked `Sampled=1`. Either way a caller's decision and its
`Root` are kept, so a trace goes on across the caller, Lambda and the function.

`Parent` is the id of the invocation's `AWS::Lambda::Function` segment: the X-Ray SDK in the function attaches
its subsegments under it. The caller's own `Parent` becomes the parent of the `AWS::Lambda` segment
(`Invocation.trace_parent`). `Lineage` (recursion detection, loop_detection.py) rides along after them.
"""

from __future__ import annotations

import random
import time
from typing import Protocol
from urllib.parse import unquote

ACTIVE = "Active"


class Sampling(Protocol):
    def sample(self, function: str) -> bool: ...


class _Policy:
    """How `Active` decides: `sampling` None samples every invocation (`--xray-sampling all`); app.py installs the
    default rule (invoke/sampling.py) once at assembly, the server's policy, so every invoke path decides alike."""

    sampling: Sampling | None = None


_policy = _Policy()


def use_sampling(sampling: Sampling | None) -> None:
    _policy.sampling = sampling


def _active_sampled(function: str) -> bool:
    sampling = _policy.sampling
    return sampling is None or sampling.sample(function)


def fields(header: str | None) -> dict[str, str]:
    """The `key=value` fields of a trace header (percent-encoding, as botocore applies it, undone)."""
    out: dict[str, str] = {}
    if not header:
        return out
    for part in (unquote(header) if "%" in header else header).split(";"):
        key, sep, value = part.strip().partition("=")
        if sep and key:
            out[key] = value
    return out


def new_root(now: float | None = None) -> str:
    return f"1-{int(time.time() if now is None else now):08x}-{random.getrandbits(96):024x}"


def new_id() -> str:
    """A 64-bit segment id, 16 hex digits (ids are identifiers, not secrets: getrandbits is cheap)."""
    return f"{random.getrandbits(64):016x}"


def sampled_by(mode: str, incoming: dict[str, str], function: str = "") -> bool:
    """The caller's `Sampled=0|1` if it said, else for `Active` the sampling rule for `function`."""
    said = incoming.get("Sampled")
    if said in ("0", "1"):
        return said == "1"
    return mode == ACTIVE and _active_sampled(function)


def compose(root: str, parent: str, sampled: bool, lineage: str = "") -> str:
    header = f"Root={root};Parent={parent};Sampled={'1' if sampled else '0'}"
    return f"{header};Lineage={lineage}" if lineage else header


def for_invocation(mode: str, incoming: str | None = None, function: str = "") -> tuple[str, str]:
    """(the trace id handed to the function, the caller's parent segment id or ""). `function`: the unqualified
    ARN, the key of the sampling rule's reservoir."""
    if not incoming:
        # the common case, kept cheap: one random draw for the root and the parent
        ids = f"{random.getrandbits(160):040x}"
        root = f"1-{int(time.time()):08x}-{ids[:24]}"
        return compose(root, ids[24:], mode == ACTIVE and _active_sampled(function)), ""
    got = fields(incoming)
    root = got.get("Root") or new_root()
    return compose(root, new_id(), sampled_by(mode, got, function)), got.get("Parent", "")
