"""The AWS managed policies Lamina serves (`arn:aws:iam::aws:policy/...`), from the vendored
aws_managed_policies.json: those SAM templates and its policy templates reference, and a few broad ones.

Read-only like AWS's: they cannot be deleted or given versions, and they count attachments like any policy.
Their documents follow AWS's published version 1 (some list only the leading actions); their ids are derived
from their names so they are stable across restarts and installations.
"""

from __future__ import annotations

import hashlib
import json
from functools import cache
from importlib import resources
from typing import Any

CREATED = "2015-04-09T15:03:43Z"  # the managed policies' CreateDate as AWS shows it for the oldest of them


def _policy_id(name: str) -> str:
    digest = hashlib.sha256(name.encode()).hexdigest().upper()
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
    return "ANPA" + "".join(alphabet[int(digest[i : i + 2], 16) % 32] for i in range(0, 34, 2))


@cache
def managed_policies() -> dict[str, dict[str, Any]]:
    """ARN → the policy's document (as IAM stores a managed policy, see engine.Policy)."""
    text = (resources.files("lamina.services.iam") / "aws_managed_policies.json").read_text()
    found: dict[str, dict[str, Any]] = {}
    for entry in json.loads(text)["Policies"]:
        name, path = entry["PolicyName"], entry["Path"]
        arn = f"arn:aws:iam::aws:policy{path}{name}"
        found[arn] = {
            "PolicyName": name,
            "PolicyId": _policy_id(name),
            "Arn": arn,
            "Path": path,
            "Description": entry["Description"],
            "DefaultVersionId": "v1",
            "CreateDate": CREATED,
            "UpdateDate": CREATED,
            "Tags": [],
            "Versions": {"v1": {"Document": json.dumps(entry["Document"], indent=4), "CreateDate": CREATED}},
            "NextVersion": 2,
            "AwsManaged": True,
        }
    return found
