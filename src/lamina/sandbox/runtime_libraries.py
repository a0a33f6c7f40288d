"""The libraries AWS's Python runtimes ship beside the runtime client: boto3 and what it needs.

On AWS `import boto3` works in every Python function without packaging it: the SDK sits in the runtime's
own directory, searched after `/var/task` and the layers' `/opt/python...`, so a function's (or a layer's)
own copy wins. Lamina serves the copies it runs on itself (boto3 is one of its dependencies, pinned), and
only those: nothing else of Lamina's environment is importable by functions.

In a sandbox each package is bound read-only into `/var/runtime` beside Lamina's runtime client (one bind
per package, made once per zygote in its template root). Without isolation there is no private root:
`link_farm` builds a directory of symlinks to exactly these packages, which is put where `/var/runtime`
would be on the search path.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
from pathlib import Path

# boto3 and its dependency closure (boto3 -> botocore, s3transfer, jmespath; botocore -> python-dateutil,
# urllib3; python-dateutil -> six), as top-level import names.
PACKAGES = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "six", "urllib3")


def locate() -> dict[str, Path]:
    """Import name's file name (``boto3``, ``six.py``) -> where it is on this host; missing ones left out."""
    found: dict[str, Path] = {}
    for name in PACKAGES:
        spec = importlib.util.find_spec(name)
        if spec is None:
            continue
        if spec.submodule_search_locations:
            path = Path(next(iter(spec.submodule_search_locations)))
        elif spec.origin:
            path = Path(spec.origin)
        else:
            continue
        found[path.name] = path.resolve()
    return found


def link_farm(directory: Path, libraries: dict[str, Path]) -> Path:
    """(Re)create `directory` holding one symlink per library, and nothing else."""
    if directory.is_symlink() or directory.is_file():
        directory.unlink()
    elif directory.exists():
        shutil.rmtree(directory)
    directory.mkdir(parents=True)
    for name, path in libraries.items():
        os.symlink(path, directory / name)
    return directory
