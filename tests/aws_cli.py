"""Running the real aws CLI (installed from PyPI with the dev extras) against a test server: the
command's path and an environment that reads only temporary config and credential files."""

from __future__ import annotations

import os
import sys
from pathlib import Path

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
