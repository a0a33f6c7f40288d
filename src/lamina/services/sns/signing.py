"""SNS message signatures, made the way AWS makes them so AWS's message validators accept them.

One RSA key and a self-signed certificate per data directory (`<data-dir>/sns/signing-key.pem`,
`signing-cert.pem`), created on first use and kept, so signatures stay verifiable across restarts. The certificate
is served by Lamina at the message's `SigningCertURL` (`/SimpleNotificationService-<digest>.pem`).

The string to sign is "Name\\nvalue\\n" for a fixed list of keys in a fixed order (AWS developer guide, "Verifying the
signatures of Amazon SNS messages"):

- Notification: Message, MessageId, Subject (only when present), Timestamp, TopicArn, Type;
- SubscriptionConfirmation and UnsubscribeConfirmation: Message, MessageId, SubscribeURL, Timestamp, Token,
  TopicArn, Type.

SignatureVersion 1 signs with SHA1withRSA, 2 with SHA256withRSA (PKCS#1 v1.5); the signature is base64.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

NOTIFICATION_KEYS = ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type")
CONFIRMATION_KEYS = ("Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type")


def string_to_sign(message: Mapping[str, Any]) -> bytes:
    """The canonical string AWS signs for this message (by its Type)."""
    keys = NOTIFICATION_KEYS if message.get("Type") == "Notification" else CONFIRMATION_KEYS
    parts = []
    for key in keys:
        value = message.get(key)
        if value is None:
            continue  # only Subject is optional
        parts.append(f"{key}\n{value}\n")
    return "".join(parts).encode()


def _hash(version: str) -> hashes.HashAlgorithm:
    return hashes.SHA256() if version == "2" else hashes.SHA1()


class Signer:
    """`directory=None`: a key for this process only (in-process engines of tests)."""

    def __init__(self, directory: Path | None) -> None:
        if directory is None:
            key_pem, self.cert_pem = _new_pair()
        else:
            directory.mkdir(parents=True, exist_ok=True)
            key_path, cert_path = directory / "signing-key.pem", directory / "signing-cert.pem"
            if not (key_path.exists() and cert_path.exists()):
                self._create(key_path, cert_path)
            key_pem, self.cert_pem = key_path.read_bytes(), cert_path.read_bytes()
        key = serialization.load_pem_private_key(key_pem, password=None)
        assert isinstance(key, rsa.RSAPrivateKey)
        self._key = key
        cert = x509.load_pem_x509_certificate(self.cert_pem)
        digest = hashlib.md5(cert.public_bytes(serialization.Encoding.DER)).hexdigest()
        self.cert_name = f"SimpleNotificationService-{digest}.pem"

    @staticmethod
    def _create(key_path: Path, cert_path: Path) -> None:
        key_pem, cert_pem = _new_pair()
        tmp = key_path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(key_pem)
        tmp.replace(key_path)
        cert_tmp = cert_path.with_suffix(".tmp")
        cert_tmp.write_bytes(cert_pem)
        cert_tmp.replace(cert_path)

    def cert_url(self, base_url: str) -> str:
        return f"{base_url.rstrip('/')}/{self.cert_name}"

    def sign(self, message: Mapping[str, Any], version: str = "1") -> str:
        signature = self._key.sign(string_to_sign(message), padding.PKCS1v15(), _hash(version))
        return base64.b64encode(signature).decode()


def _new_pair() -> tuple[bytes, bytes]:
    """A 2048-bit RSA key and a self-signed certificate for it (PEM, PEM)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sns.amazonaws.com (Lamina)")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=3650))
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return key_pem, cert.public_bytes(serialization.Encoding.PEM)
