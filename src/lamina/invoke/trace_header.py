"""The X-Ray trace header of one invocation: `Root=1-<8 hex epoch>-<24 hex>;Parent=<16 hex>;Sampled=0|1`.

The sampling decision follows the function's TracingConfig (lambda services-xray): `Active` samples every
invocation the caller did not decide about (Lamina records all of them; AWS samples a reservoir of one a second
plus 5%), `PassThrough` samples only what the caller marked `Sampled=1`. Either way a caller's decision and its
`Root` are kept, so a trace goes on across the caller, Lambda and the function.

`Parent` is the id of the invocation's `AWS::Lambda::Function` segment: the X-Ray SDK in the function attaches
its subsegments under it. The caller's own `Parent` becomes the parent of the `AWS::Lambda` segment
(`Invocation.trace_parent`). `Lineage` (recursion detection, loop_detection.py) rides along after them.
"""

from __future__ import annotations

import random
import time
from urllib.parse import unquote

ACTIVE = "Active"


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


def sampled_by(mode: str, incoming: dict[str, str]) -> bool:
    said = incoming.get("Sampled")
    if said in ("0", "1"):
        return said == "1"
    return mode == ACTIVE


def compose(root: str, parent: str, sampled: bool, lineage: str = "") -> str:
    header = f"Root={root};Parent={parent};Sampled={'1' if sampled else '0'}"
    return f"{header};Lineage={lineage}" if lineage else header


def for_invocation(mode: str, incoming: str | None = None) -> tuple[str, str]:
    """(the trace id handed to the function, the caller's parent segment id or "")."""
    if not incoming:
        # the common case, kept cheap: one random draw for the root and the parent
        ids = f"{random.getrandbits(160):040x}"
        root = f"1-{int(time.time()):08x}-{ids[:24]}"
        return compose(root, ids[24:], mode == ACTIVE), ""
    got = fields(incoming)
    root = got.get("Root") or new_root()
    return compose(root, new_id(), sampled_by(mode, got)), got.get("Parent", "")
