from __future__ import annotations

import base64
import json
from typing import Any

import boto3
import pytest
from botocore.config import Config

from tests.server import LaminaProcess

TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::000000000000:root"}, "Action": "sts:AssumeRole"}
        ],
    }
)


@pytest.fixture(scope="session")
def sts(lamina: LaminaProcess) -> Any:
    return lamina.client("sts", parameter_validation=False)


@pytest.fixture(scope="session")
def iam(lamina: LaminaProcess) -> Any:
    return lamina.client("iam")


def client_with(lamina: LaminaProcess, credentials: dict[str, Any], service: str = "sts") -> Any:
    """A client signing with temporary credentials STS issued."""
    return boto3.client(
        service,
        endpoint_url=lamina.url,
        region_name="us-east-1",
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
        config=Config(retries={"max_attempts": 1}, parameter_validation=False),
    )


def jwt(claims: dict[str, Any]) -> str:
    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")

    return f"{part({'alg': 'RS256', 'typ': 'JWT'})}.{part(claims)}.c2lnbmF0dXJl"
