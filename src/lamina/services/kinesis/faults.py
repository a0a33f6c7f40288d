"""Kinesis's own error codes (all HTTP 400), raised as `ServiceFault`s.

Messages follow AWS's wording where it is known (ResourceNotFoundException "Stream x under account y not
found.", ResourceInUseException "... already exists."); the rest are Lamina's, in AWS's style.
"""

from __future__ import annotations

from lamina.errors import ServiceFault


class KinesisFault(ServiceFault):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(code, message, 400)


def stream_not_found(name: str, account: str) -> KinesisFault:
    return KinesisFault("ResourceNotFoundException", f"Stream {name} under account {account} not found.")


def invalid(message: str) -> KinesisFault:
    return KinesisFault("InvalidArgumentException", message)


def in_use(message: str) -> KinesisFault:
    return KinesisFault("ResourceInUseException", message)
