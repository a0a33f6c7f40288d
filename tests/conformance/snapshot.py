"""Recorded AWS responses (tests/conformance/aws-recorded, vendored) and the normaliser that compares live ones to them.

A recorded entry maps response names to what boto3 returned against real AWS, with volatile values replaced
by placeholders (`<uuid:1>`, `<function-name:2>`, `<region>`, ...). `Replay` collects the live responses a
test produces, then unifies each one with its recording: every placeholder binds to the live value it stands
for, the same placeholder must bind to the same value everywhere in the entry, and two different numbered
placeholders must not bind to the same value. What cannot be unified stays as the live value, so a failed
comparison prints a readable diff between the recording and the normalised live response.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError, ParamValidationError

# Vendored into the repository (see aws-recorded/README.md), so a clone alone runs the replays.
RECORDED = Path(__file__).resolve().parent / "aws-recorded"
API_FILE = "services__lambda___test_lambda_api.snapshot.json"
UPSTREAM_PREFIX = "tests/aws/services/lambda_/test_lambda_api.py::"

RECORDED_ACCOUNT = "111111111111"
LIVE_ACCOUNT = "000000000000"

# Placeholders the recordings use for values that are not compared (a key_value transform, not a reference).
LOOSE = frozenset({"<code-size>", "<location>", "<datetime>"})
# Keys whose recorded value is the literal "date": any timestamp string matches.
DATE_KEYS = frozenset({"LastModified", "CreationTime", "LastModifiedTime", "CreatedDate"})
_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?([+-]\d{2}:?\d{2}|Z)$")
# A function URL (recorded as the literal "lambda-url"): Lamina's local form of AWS's `<id>.lambda-url.<region>.on.aws`.
_URL = re.compile(r"^http://[a-z0-9]{32}\.lambda-url\.[a-z0-9-]+\.localhost:\d+/$")
_PLACEHOLDER = re.compile(r"<[A-Za-z][A-Za-z0-9_-]*(?::\d+)?>")
_RUN_OF_A = re.compile(r"<a:len\((\d+)\)>")  # `<a:len(129)>` stands for "a" * 129


def load(test_id: str, file: str = API_FILE) -> dict[str, Any]:
    """The recorded responses of one upstream test id (without the file prefix)."""
    data: dict[str, Any] = json.loads((RECORDED / file).read_text())
    content: dict[str, Any] = data[UPSTREAM_PREFIX + test_id]["recorded-content"]
    return content


def clean(live: Any) -> Any:
    """A live boto3 response in recorded form: headers emptied, request id and retries dropped, the live
    account id shown as the recordings' 111111111111, datetimes as strings."""
    if isinstance(live, Mapping):
        out: dict[str, Any] = {}
        for key, value in live.items():
            if key == "ResponseMetadata" and isinstance(value, Mapping):
                out[key] = {"HTTPHeaders": {}, "HTTPStatusCode": value.get("HTTPStatusCode")}
            else:
                out[key] = clean(value)
        return out
    if isinstance(live, list | tuple):
        return [clean(v) for v in live]
    if isinstance(live, str):
        return live.replace(LIVE_ACCOUNT, RECORDED_ACCOUNT)
    if isinstance(live, datetime):
        return live.isoformat()
    return live


def capture(call: Callable[..., Any], /, **kwargs: Any) -> Any:
    """Calls a boto3 method; an error becomes its parsed response (ClientError) or message (client-side)."""
    try:
        return call(**kwargs)
    except ClientError as e:
        return e.response
    except ParamValidationError as e:
        return str(e)


@dataclass
class Bindings:
    """Placeholder → value within one entry, and the reverse for numbered placeholders."""

    values: dict[str, str] = field(default_factory=dict)
    owners: dict[str, str] = field(default_factory=dict)

    def bind(self, placeholder: str, value: str) -> bool:
        if placeholder in LOOSE:
            return True
        bound = self.values.get(placeholder)
        if bound is not None:
            return bound == value
        if ":" in placeholder:  # numbered: distinct placeholders stand for distinct values
            owner = self.owners.get(value)
            if owner is not None and owner != placeholder:
                return False
            self.owners[value] = placeholder
        self.values[placeholder] = value
        return True


def _match_string(recorded: str, live: str, bindings: Bindings) -> bool:
    names = _PLACEHOLDER.findall(recorded)
    if not names:
        return recorded == live
    pattern, groups = "", dict[str, str]()
    for i, part in enumerate(_PLACEHOLDER.split(recorded)):
        pattern += re.escape(part)
        if i < len(names):
            name = names[i]
            if name in bindings.values and name not in LOOSE:
                pattern += re.escape(bindings.values[name])
            elif name in groups:
                pattern += f"(?P={groups[name]})"
            else:
                groups[name] = f"g{len(groups)}"
                pattern += f"(?P<{groups[name]}>.+?)"
    m = re.fullmatch(pattern, live, re.DOTALL)
    if m is None:
        return False
    trial = Bindings(dict(bindings.values), dict(bindings.owners))
    if not all(trial.bind(name, m.group(group)) for name, group in groups.items()):
        return False
    bindings.values, bindings.owners = trial.values, trial.owners
    return True


def unify(recorded: Any, live: Any, bindings: Bindings, key: str = "") -> Any:
    """`live` rewritten into the recording's placeholders wherever it is consistent with them."""
    if isinstance(recorded, dict) and isinstance(live, dict):
        return {k: unify(recorded[k], v, bindings, k) if k in recorded else v for k, v in live.items()}
    if isinstance(recorded, list) and isinstance(live, list):
        return [unify(r, v, bindings, key) for r, v in zip(recorded, live, strict=False)] + live[len(recorded) :]
    if isinstance(recorded, str):
        recorded = _RUN_OF_A.sub(lambda m: "a" * int(m.group(1)), recorded)
        if recorded == "date" and key in DATE_KEYS and isinstance(live, str) and _TIMESTAMP.match(live):
            return recorded
        if recorded == "lambda-url" and key == "FunctionUrl" and isinstance(live, str) and _URL.match(live):
            return recorded
        if isinstance(live, int | float) and not isinstance(live, bool) and _PLACEHOLDER.fullmatch(recorded):
            return recorded if _match_string(recorded, str(live), bindings) else live
        if isinstance(live, str) and _match_string(recorded, live, bindings):
            return recorded
    return live


def _expand(recorded: Any) -> Any:
    if isinstance(recorded, dict):
        return {k: _expand(v) for k, v in recorded.items()}
    if isinstance(recorded, list):
        return [_expand(v) for v in recorded]
    if isinstance(recorded, str):
        return _RUN_OF_A.sub(lambda m: "a" * int(m.group(1)), recorded)
    return recorded


def _dump(value: Any) -> list[str]:
    return json.dumps(value, indent=1, sort_keys=True, ensure_ascii=False).splitlines()


def verify_responses(
    test_id: str,
    recorded: dict[str, Any],
    live: dict[str, Any],
    bindings: Bindings,
    results: list[tuple[str, str, bool]],
) -> None:
    """Compare each reproduced response with its recording, in recorded (= call) order so placeholder
    numbering follows first appearance; every outcome goes to `results` (the summary), and any difference,
    or a scenario that compared nothing, fails with the diffs."""
    assert live, f"{test_id}: the scenario compared nothing with the recording"
    bindings = Bindings(dict(bindings.values), dict(bindings.owners))
    failures = []
    for name, entry in recorded.items():
        if name not in live:
            continue
        expected = _expand(entry)
        normalised = unify(expected, live[name], bindings)
        results.append((test_id, name, normalised == expected))
        if normalised != expected:
            diff = difflib.unified_diff(_dump(expected), _dump(normalised), "recorded", "lamina", lineterm="")
            failures.append(f"--- {name}\n" + "\n".join(diff))
    assert not failures, f"{test_id}: {len(failures)} response(s) differ\n" + "\n".join(failures)


# Where Lamina knowingly differs: (text in the recording, what Lamina says instead, why). An entry whose
# recording contains such text is expected to fail (xfail strict, raises=KnownDifference) when it matches only
# after the replacement; any other difference is still a plain failure.
# Lamina prints patterns from its pinned botocore model (1.44.5). That model matches what AWS reported
# when these responses were recorded, except TagResource's resource pattern, which has moved on since.
MODEL_DRIFT = (
    "the TaggableResource pattern in botocore 1.44.5 postdates the recording: it lists network-connector "
    "ARNs and no longer lists layer ARNs"
)
KNOWN_DIFFERENCES: tuple[tuple[str, str, str], ...] = (
    ("|layer:([a-zA-Z0-9-_]+)|", "|", MODEL_DRIFT),
    ("|capacity-provider:[a-zA-Z0-9-_]+)", "|(capacity-provider|network-connector):[a-zA-Z0-9-_]{1,64})", MODEL_DRIFT),
)


def known_difference(recorded: Any) -> str | None:
    """Why this recording cannot match Lamina word for word, if it contains a known difference."""
    text = json.dumps(recorded)
    reasons = sorted({why for theirs, _, why in KNOWN_DIFFERENCES if json.dumps(theirs)[1:-1] in text})
    return "; ".join(reasons) or None


def _with_known_differences(recorded: Any) -> Any:
    text = json.dumps(recorded)
    for theirs, ours, _ in KNOWN_DIFFERENCES:
        text = text.replace(json.dumps(theirs)[1:-1], json.dumps(ours)[1:-1])
    return json.loads(text)


class KnownDifference(Exception):
    """The live responses equal the recording once the known differences are applied, and only then."""


@dataclass
class Outcome:
    entry: str
    name: str
    status: str  # "match", "known" (matches after the known differences), "mismatch"
    diff: str
    known: str | None


RESULTS: list[Outcome] = []


class Replay:
    """The live side of one recorded entry. `match()` each reproduced response in call order, then
    `verify()`: every response is compared, all outcomes reach the summary, and a mismatch fails."""

    def __init__(self, test_id: str, region: str, **bound: str) -> None:
        self.test_id = test_id
        self.recorded = load(test_id)
        self.known = known_difference(self.recorded)
        self.bindings = Bindings({"<partition>": "aws", "<region>": region, **bound})
        self.live: dict[str, Any] = {}

    def match(self, name: str, live: Any) -> Any:
        assert name in self.recorded, f"{self.test_id} has no recorded response {name!r}"
        self.live[name] = clean(live)
        return live

    def call(self, name: str, method: Callable[..., Any], /, **kwargs: Any) -> Any:
        return self.match(name, capture(method, **kwargs))

    def _compare(self, recorded_entry: dict[str, Any]) -> dict[str, str]:
        """Diff per compared response ("" when equal), in recorded (= call) order, so placeholder numbering
        follows first appearance."""
        bindings = Bindings(dict(self.bindings.values), dict(self.bindings.owners))
        diffs = {}
        for name, recorded in recorded_entry.items():
            if name not in self.live:
                continue
            expected = _expand(recorded)
            normalised = unify(expected, self.live[name], bindings)
            diffs[name] = (
                ""
                if normalised == expected
                else "\n".join(
                    difflib.unified_diff(_dump(expected), _dump(normalised), "recorded", "lamina", lineterm="", n=2)
                )
            )
        return diffs

    def verify(self) -> None:
        exact = self._compare(self.recorded)
        adjusted = self._compare(_with_known_differences(self.recorded)) if self.known else exact
        for name, diff in exact.items():
            status = "match" if not diff else "known" if not adjusted[name] else "mismatch"
            RESULTS.append(Outcome(self.test_id, name, status, adjusted[name] or diff, self.known))
        failures = [f"--- {name}\n{diff}" for name, diff in adjusted.items() if diff]
        assert not failures, f"{self.test_id}: {len(failures)} response(s) differ\n" + "\n".join(failures)
        if any(exact.values()):
            raise KnownDifference(self.known)
