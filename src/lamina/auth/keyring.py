"""Every secret a signature may be made with, by access key id: the root pair, STS sessions (API-issued and
execution environments'), IAM users' access keys. Each source is a callable handed in by app.py, so this
module knows no engine."""

from __future__ import annotations

from collections.abc import Sequence

from lamina.auth.sigv4 import KeyLookup, Secret


class Keyring:
    def __init__(self, account_id: str, root_key: str, root_secret: str, sources: Sequence[KeyLookup] = ()) -> None:
        self.root_arn = f"arn:aws:iam::{account_id}:root"
        self._root_key = root_key
        self._root = Secret(root_secret, self.root_arn)
        self._sources = tuple(sources)

    def __call__(self, access_key_id: str) -> Secret | None:
        if access_key_id == self._root_key:
            return self._root
        for source in self._sources:
            found = source(access_key_id)
            if found is not None:
                return found
        return None
