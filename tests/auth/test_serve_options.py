"""`lamina serve --auth`: refusing an open non-loopback bind, generated root keys, the aws CLI."""

from __future__ import annotations

import json
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.auth.conftest import ROOT_KEY, ROOT_SECRET
from tests.aws_cli import AWS, cli_environment
from tests.server import LaminaProcess


def test_non_loopback_bind_without_auth_is_refused(tmp_path: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "lamina.cli.main",
            "serve",
            "--host",
            "0.0.0.0",
            "--port",
            "0",
            "--data-dir",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "--auth sigv4" in lines[0]


def test_root_keys_are_generated_once_kept_0600_and_accepted(tmp_path: Path) -> None:
    server = LaminaProcess(tmp_path, "--auth", "sigv4").start()
    try:
        path = tmp_path / "root-credentials"
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        keys = json.loads(path.read_text())
        assert keys["AccessKeyId"].startswith("AKIA") and len(keys["SecretAccessKey"]) == 40
        assert any(keys["SecretAccessKey"] in line for line in server.output)  # shown on the first start
        import boto3

        sts = boto3.client(
            "sts",
            endpoint_url=server.url,
            region_name="us-east-1",
            aws_access_key_id=keys["AccessKeyId"],
            aws_secret_access_key=keys["SecretAccessKey"],
        )
        assert sts.get_caller_identity()["Arn"] == "arn:aws:iam::000000000000:root"
    finally:
        server.stop()
    again = LaminaProcess(tmp_path, "--auth", "sigv4").start()
    try:
        assert not any(keys["SecretAccessKey"] in line for line in again.output)  # printed once only
    finally:
        again.stop()


def test_aws_cli_with_right_and_wrong_keys(secured: LaminaProcess, tmp_path: Path) -> None:
    env = cli_environment(tmp_path)
    args = [str(AWS), "--endpoint-url", secured.url, "sqs", "list-queues"]
    good = {**env, "AWS_ACCESS_KEY_ID": ROOT_KEY, "AWS_SECRET_ACCESS_KEY": ROOT_SECRET}
    done = subprocess.run(args, env=good, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    bad = {**good, "AWS_SECRET_ACCESS_KEY": "wrong"}
    done = subprocess.run(args, env=bad, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode != 0 and "SignatureDoesNotMatch" in done.stderr
    done = subprocess.run(
        [*args[:3], "--no-sign-request", "lambda", "list-functions"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode != 0 and "MissingAuthenticationTokenException" in done.stderr


def test_admin_endpoints_need_the_root_signature(secured: LaminaProcess) -> None:
    import urllib.error
    import urllib.request

    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    url = secured.url + "/_lamina/async/resume"
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(urllib.request.Request(url, data=b"", method="POST"))
    assert caught.value.code == 403
    aws = AWSRequest(method="POST", url=url, data=b"")
    SigV4Auth(Credentials(ROOT_KEY, ROOT_SECRET), "lambda", "us-east-1").add_auth(aws)
    headers = {k: v.decode() if isinstance(v, bytes) else v for k, v in aws.headers.items()}
    with urllib.request.urlopen(urllib.request.Request(url, data=b"", headers=headers, method="POST")) as answer:
        assert json.loads(answer.read()) == {"paused": False}
    with urllib.request.urlopen(secured.url + "/health") as answer:  # health stays open
        assert json.loads(answer.read())["status"] == "running"
