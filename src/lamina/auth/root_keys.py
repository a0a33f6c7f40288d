"""The account's root credentials under `--auth sigv4`.

From LAMINA_ROOT_ACCESS_KEY_ID / LAMINA_ROOT_SECRET_ACCESS_KEY when both are set; otherwise the pair kept in
`<data dir>/root-credentials` (JSON, mode 0600), generated on the first start. Only a newly generated pair
is shown (once, on standard output, by the CLI); nothing else ever prints or logs the secret.
"""

from __future__ import annotations

import json
import os
import secrets
import string
from collections.abc import Mapping
from pathlib import Path

FILE = "root-credentials"
_KEY_ALPHABET = string.ascii_uppercase + string.digits
_SECRET_ALPHABET = string.ascii_letters + string.digits + "+/"


def generate() -> tuple[str, str]:
    key = "AKIA" + "".join(secrets.choice(_KEY_ALPHABET) for _ in range(16))
    return key, "".join(secrets.choice(_SECRET_ALPHABET) for _ in range(40))


def root_keys(data_dir: Path, env: Mapping[str, str]) -> tuple[str, str, bool]:
    """(access key id, secret, whether the pair was generated just now)."""
    key, secret = env.get("LAMINA_ROOT_ACCESS_KEY_ID"), env.get("LAMINA_ROOT_SECRET_ACCESS_KEY")
    if key and secret:
        return key, secret, False
    path = data_dir / FILE
    if path.exists():
        doc = json.loads(path.read_text())
        return doc["AccessKeyId"], doc["SecretAccessKey"], False
    data_dir.mkdir(parents=True, exist_ok=True)
    key, secret = generate()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        json.dump({"AccessKeyId": key, "SecretAccessKey": secret}, out)
        out.flush()
        os.fsync(out.fileno())
    return key, secret, True
