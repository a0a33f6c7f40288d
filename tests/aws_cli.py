"""Running the real aws CLI (installed from PyPI with the dev extras) against a test server: the
command's path and an environment that reads only temporary config and credential files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

AWS = Path(sys.executable).parent / "aws"


def cli_environment(folder: Path) -> dict[str, str]:
    """The caller's environment minus every AWS_* variable, with config and credentials in `folder`."""
    config = folder / "config"
    config.write_text("[default]\nregion = us-east-1\noutput = json\n")
    credentials = folder / "credentials"
    credentials.write_text("[default]\naws_access_key_id = test\naws_secret_access_key = test\n")
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("AWS_")},
        "AWS_CONFIG_FILE": str(config),
        "AWS_SHARED_CREDENTIALS_FILE": str(credentials),
    }


def json_runner(folder: Path, url: str, *prefix: str, timeout: float = 60) -> Callable[..., Any]:
    """`run(*args)` runs `aws --endpoint-url URL *prefix *args` and answers its parsed JSON output (None when it
    printed nothing), asserting success; `run(*args, ok=False)` asserts failure and answers stderr."""
    env = cli_environment(folder)

    def run(*args: str, ok: bool = True) -> Any:
        done = subprocess.run(
            [str(AWS), "--endpoint-url", url, *prefix, *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if not ok:
            assert done.returncode != 0
            return done.stderr
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout) if done.stdout.strip() else None

    return run
