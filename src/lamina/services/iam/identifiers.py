"""IAM's unique ids and timestamps: a four-letter prefix naming the kind (AROA role, ANPA managed policy, AIDA
user, ASIA temporary access key) and 17 upper-case letters and digits, as AWS shows them."""

from __future__ import annotations

import secrets
import string
from datetime import UTC, datetime

_ALPHABET = string.ascii_uppercase + string.digits


def unique_id(prefix: str, length: int = 17) -> str:
    return prefix + "".join(secrets.choice(_ALPHABET) for _ in range(length))


def iso(seconds: float) -> str:
    """A timestamp as IAM and STS write them (`2024-01-01T00:00:00Z`)."""
    return datetime.fromtimestamp(seconds, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
