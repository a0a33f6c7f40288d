"""DynamoDB's own error codes (all HTTP 400), raised as `ServiceFault`s with the body members AWS adds.

ValidationException is the shared `ValidationFailed`; these are the codes DynamoDB names itself. `fields`
become members of the error body (`Item` of ConditionalCheckFailedException, `CancellationReasons` of
TransactionCanceledException), already in wire form.
"""

from __future__ import annotations

from typing import Any

from lamina.errors import ServiceFault


class DynamoFault(ServiceFault):
    def __init__(self, code: str, message: str, **fields: Any) -> None:
        super().__init__(code, message, 400)
        self.fields = fields


def not_found(message: str = "Requested resource not found") -> DynamoFault:
    return DynamoFault("ResourceNotFoundException", message)


def in_use(message: str) -> DynamoFault:
    return DynamoFault("ResourceInUseException", message)


def condition_failed(item: dict[str, Any] | None = None) -> DynamoFault:
    fields = {} if item is None else {"Item": item}
    return DynamoFault("ConditionalCheckFailedException", "The conditional request failed", **fields)


def transaction_canceled(reasons: list[dict[str, Any]]) -> DynamoFault:
    codes = ", ".join(r["Code"] for r in reasons)
    return DynamoFault(
        "TransactionCanceledException",
        f"Transaction cancelled, please refer cancellation reasons for specific reasons [{codes}]",
        CancellationReasons=reasons,
    )


def idempotent_mismatch() -> DynamoFault:
    return DynamoFault(
        "IdempotentParameterMismatchException",
        "Transaction request cannot be replayed with different parameters",
    )
