"""The error tree. The core raises these; `lamina.api.faults` maps them to the wire in one place.

    LaminaError                      any failure the platform reports to a caller
    ├── NotFound                     ResourceNotFoundException (404)
    │   ├── ProvisionedConfigNotFound  ProvisionedConcurrencyConfigNotFoundException (404)
    │   ├── CodeSigningConfigNotFound  CodeSigningConfigNotFoundException (404): a function names a missing one
    │   └── ArnNotFound              a resource named by ARN is missing (SQS move tasks: ResourceNotFoundException)
    ├── InvalidParameter             InvalidParameterValueException (400)
    │   ├── MissingParameter         a required parameter is absent (SQS: MissingParameter)
    │   ├── InvalidAttributeName     an unknown attribute name (SQS)
    │   ├── InvalidAttributeValue    an attribute value out of range (SQS)
    │   ├── InvalidBatchEntryId      a batch entry id of the wrong form (SQS)
    │   ├── EmptyBatch               a batch request without entries (SQS)
    │   ├── TooManyBatchEntries      more than 10 entries in a batch (SQS)
    │   ├── BatchEntryIdsNotDistinct two entries of a batch share an id (SQS)
    │   ├── InvalidReceiptHandle     a receipt handle that was never issued (SQS)
    │   ├── MessageNotInflight       changing the visibility of a message not received (SQS)
    │   └── InvalidMessageContents   characters outside what SQS accepts (SQS)
    ├── CodeVerificationFailed       CodeVerificationFailedException (400): an untrusted package, `Enforce`
    ├── PolicyLengthExceeded         PolicyLengthExceededException (400): resource policy over 20 KB
    ├── ValidationFailed             ValidationException (400): request does not satisfy the model
    ├── InvalidRequestContent        InvalidRequestContentException (400): body is not what the model says
    ├── ResourceInUse                ResourceInUseException (400): the resource is changing state
    ├── Conflict                     ResourceConflictException (409)
    │   ├── AlreadyExists            same name, different settings (SQS: QueueAlreadyExists)
    │   ├── PurgeInProgress          a second PurgeQueue within 60 s (SQS, 403)
    │   └── QueueDeletedRecently     a queue created within 60 s of deleting one of that name (SQS, 400)
    ├── PreconditionFailed           PreconditionFailedException (412): RevisionId mismatch
    ├── RequestTooLarge              RequestEntityTooLargeException (413)
    │   └── BatchTooLarge            a batch over the queue's size limit (SQS, 400)
    ├── Throttled                    TooManyRequestsException (429), with a `Reason`
    ├── OverLimit                    a quota is reached (SQS: OverLimit, 403)
    ├── UnknownOperation             UnknownOperationException (404): no operation at that path
    ├── AccessDenied                 AccessDeniedException (403)
    ├── InternalFailure              ServiceException (500): a bug or an unexpected host failure
    │   └── StorageFull              the data directory's disk is full (SQS InternalFailure, SNS InternalError)
    └── ServiceFault                 a failure a service names by its own code (elbv2's LoadBalancerNotFound)

Each error carries the message AWS shows and, where AWS adds them, extra body members (`fields`).
Some services name the same failure differently (a missing queue is SQS's QueueDoesNotExist, not
ResourceNotFoundException): `faults` maps per service, so the core raises the same classes everywhere.
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


class ArnNotFound(NotFound):
    pass


class CodeSigningConfigNotFound(NotFound):
    pass


class CodeVerificationFailed(LaminaError):
    pass


class InvalidParameter(LaminaError):
    pass


class MissingParameter(InvalidParameter):
    pass


class InvalidAttributeName(InvalidParameter):
    pass


class InvalidAttributeValue(InvalidParameter):
    pass


class InvalidBatchEntryId(InvalidParameter):
    pass


class EmptyBatch(InvalidParameter):
    pass


class TooManyBatchEntries(InvalidParameter):
    pass


class BatchEntryIdsNotDistinct(InvalidParameter):
    pass


class InvalidReceiptHandle(InvalidParameter):
    pass


class MessageNotInflight(InvalidParameter):
    pass


class InvalidMessageContents(InvalidParameter):
    pass


class PolicyLengthExceeded(LaminaError):
    pass


class ValidationFailed(LaminaError):
    pass


class InvalidRequestContent(LaminaError):
    pass


class ResourceInUse(LaminaError):
    pass


class Conflict(LaminaError):
    pass


class AlreadyExists(Conflict):
    pass


class PurgeInProgress(Conflict):
    pass


class QueueDeletedRecently(Conflict):
    pass


class PreconditionFailed(LaminaError):
    pass


class RequestTooLarge(LaminaError):
    pass


class BatchTooLarge(RequestTooLarge):
    pass


class Throttled(LaminaError):
    pass


class OverLimit(LaminaError):
    pass


class UnknownOperation(LaminaError):
    pass


class AccessDenied(LaminaError):
    pass


class InternalFailure(LaminaError):
    pass


class StorageFull(InternalFailure):
    """A write failed (or was refused) because the data directory's file system is full (store/disk_space.py)."""


class ServiceFault(LaminaError):
    """An error a service's model names by its own code (elbv2: LoadBalancerNotFound, PriorityInUse, ...),
    for services with many codes of their own; reported as `code` with `status`."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.status = status


def function_not_found(arn: str) -> NotFound:
    return NotFound(f"Function not found: {arn}", Type="User")
