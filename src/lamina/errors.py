"""The error tree. The core raises these; `lamina.api.faults` maps them to the wire in one place.

    LaminaError                      any failure the platform reports to a caller
    ├── NotFound                     ResourceNotFoundException (404)
    │   └── ProvisionedConfigNotFound  ProvisionedConcurrencyConfigNotFoundException (404)
    ├── InvalidParameter             InvalidParameterValueException (400)
    ├── PolicyLengthExceeded         PolicyLengthExceededException (400): resource policy over 20 KB
    ├── ValidationFailed             ValidationException (400): request does not satisfy the model
    ├── InvalidRequestContent        InvalidRequestContentException (400): body is not what the model says
    ├── Conflict                     ResourceConflictException (409)
    ├── PreconditionFailed           PreconditionFailedException (412): RevisionId mismatch
    ├── RequestTooLarge              RequestEntityTooLargeException (413)
    ├── Throttled                    TooManyRequestsException (429), with a `Reason`
    ├── UnknownOperation             UnknownOperationException (404): no operation at that path
    ├── AccessDenied                 AccessDeniedException (403)
    └── InternalFailure              ServiceException (500): a bug or an unexpected host failure

Each error carries the message AWS shows and, where AWS adds them, extra body members (`fields`).
The message text is part of the compatibility contract: tests compare it with recorded AWS responses.
"""

from __future__ import annotations


class LaminaError(Exception):
    """Base of every error a caller may see."""

    def __init__(self, message: str, **fields: object) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields


class NotFound(LaminaError):
    pass


class ProvisionedConfigNotFound(NotFound):
    pass


class InvalidParameter(LaminaError):
    pass


class PolicyLengthExceeded(LaminaError):
    pass


class ValidationFailed(LaminaError):
    pass


class InvalidRequestContent(LaminaError):
    pass


class Conflict(LaminaError):
    pass


class PreconditionFailed(LaminaError):
    pass


class RequestTooLarge(LaminaError):
    pass


class Throttled(LaminaError):
    pass


class UnknownOperation(LaminaError):
    pass


class AccessDenied(LaminaError):
    pass


class InternalFailure(LaminaError):
    pass


def function_not_found(arn: str) -> NotFound:
    return NotFound(f"Function not found: {arn}", Type="User")
