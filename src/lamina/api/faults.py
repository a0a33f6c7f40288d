"""The one place where domain errors become AWS error codes and HTTP statuses.

Most services share one vocabulary (`_WIRE`). A service that names failures its own way has a table in
`_BY_SERVICE`, consulted first. json-protocol services that were once query services (SQS) also report the
legacy query code, which botocore shows as `Error.Code` (header `x-amzn-query-error: <code>;Sender`).
"""

from __future__ import annotations

from lamina import errors

Wire = tuple[str, int, str | None]  # (error shape name, HTTP status, legacy query code or None)

# Most specific first: the first class in an error's MRO found here wins.
_WIRE: dict[type[errors.LaminaError], tuple[str, int]] = {
    errors.ProvisionedConfigNotFound: ("ProvisionedConcurrencyConfigNotFoundException", 404),
    errors.CodeSigningConfigNotFound: ("CodeSigningConfigNotFoundException", 404),
    errors.NotFound: ("ResourceNotFoundException", 404),
    errors.CodeVerificationFailed: ("CodeVerificationFailedException", 400),
    errors.InvalidParameter: ("InvalidParameterValueException", 400),
    errors.PolicyLengthExceeded: ("PolicyLengthExceededException", 400),
    errors.ValidationFailed: ("ValidationException", 400),
    errors.InvalidRequestContent: ("InvalidRequestContentException", 400),
    errors.ResourceInUse: ("ResourceInUseException", 400),
    errors.Conflict: ("ResourceConflictException", 409),
    errors.PreconditionFailed: ("PreconditionFailedException", 412),
    errors.RequestTooLarge: ("RequestEntityTooLargeException", 413),
    errors.Throttled: ("TooManyRequestsException", 429),
    errors.UnknownOperation: ("UnknownOperationException", 404),
    errors.AccessDenied: ("AccessDeniedException", 403),
    errors.InternalFailure: ("ServiceException", 500),
}

_SQS = "AWS.SimpleQueueService."
_BY_SERVICE: dict[str, dict[type[errors.LaminaError], Wire]] = {
    "sqs": {
        errors.ArnNotFound: ("ResourceNotFoundException", 404, "ResourceNotFoundException"),
        errors.NotFound: ("QueueDoesNotExist", 400, _SQS + "NonExistentQueue"),
        errors.QueueDeletedRecently: ("QueueDeletedRecently", 400, _SQS + "QueueDeletedRecently"),
        errors.OverLimit: ("OverLimit", 403, "OverLimit"),
        errors.AlreadyExists: ("QueueNameExists", 400, "QueueAlreadyExists"),
        errors.PurgeInProgress: ("PurgeQueueInProgress", 403, _SQS + "PurgeQueueInProgress"),
        errors.BatchTooLarge: ("BatchRequestTooLong", 400, _SQS + "BatchRequestTooLong"),
        errors.MissingParameter: ("MissingRequiredParameterException", 400, "MissingParameter"),
        errors.InvalidAttributeName: ("InvalidAttributeName", 400, "InvalidAttributeName"),
        errors.InvalidAttributeValue: ("InvalidAttributeValue", 400, "InvalidAttributeValue"),
        errors.InvalidBatchEntryId: ("InvalidBatchEntryId", 400, _SQS + "InvalidBatchEntryId"),
        errors.EmptyBatch: ("EmptyBatchRequest", 400, _SQS + "EmptyBatchRequest"),
        errors.TooManyBatchEntries: ("TooManyEntriesInBatchRequest", 400, _SQS + "TooManyEntriesInBatchRequest"),
        errors.BatchEntryIdsNotDistinct: ("BatchEntryIdsNotDistinct", 400, _SQS + "BatchEntryIdsNotDistinct"),
        errors.InvalidReceiptHandle: ("ReceiptHandleIsInvalid", 400, "ReceiptHandleIsInvalid"),
        errors.MessageNotInflight: ("MessageNotInflight", 400, _SQS + "MessageNotInflight"),
        errors.InvalidMessageContents: ("InvalidMessageContents", 400, "InvalidMessageContents"),
        errors.InvalidParameter: ("InvalidParameterValueException", 400, "InvalidParameterValue"),
        errors.ValidationFailed: ("ValidationException", 400, "ValidationError"),
        errors.InvalidRequestContent: ("InvalidParameterValueException", 400, "InvalidParameterValue"),
        errors.UnknownOperation: ("UnsupportedOperation", 400, _SQS + "UnsupportedOperation"),
        errors.Throttled: ("RequestThrottled", 400, "RequestThrottled"),
        errors.AccessDenied: ("InvalidSecurity", 403, _SQS + "InvalidSecurity"),
        errors.InternalFailure: ("InternalFailure", 500, "InternalFailure"),  # SQS's common 500 error
    },
    # SNS (query protocol): the code is the XML <Code>; the third element is unused there.
    "sns": {
        errors.NotFound: ("NotFound", 404, None),
        errors.InvalidAttributeValue: ("ParameterValueInvalid", 400, None),
        errors.InvalidBatchEntryId: ("InvalidBatchEntryId", 400, None),
        errors.EmptyBatch: ("EmptyBatchRequest", 400, None),
        errors.TooManyBatchEntries: ("TooManyEntriesInBatchRequest", 400, None),
        errors.BatchEntryIdsNotDistinct: ("BatchEntryIdsNotDistinct", 400, None),
        errors.BatchTooLarge: ("BatchRequestTooLong", 400, None),
        errors.InvalidParameter: ("InvalidParameter", 400, None),
        errors.ValidationFailed: ("ValidationError", 400, None),
        errors.InvalidRequestContent: ("InvalidParameter", 400, None),
        errors.Conflict: ("InvalidParameter", 400, None),
        errors.UnknownOperation: ("InvalidAction", 400, None),
        errors.AccessDenied: ("AuthorizationError", 403, None),
        errors.Throttled: ("Throttled", 429, None),
        errors.InternalFailure: ("InternalError", 500, None),  # SNS's InternalErrorException
    },
    # IAM and STS (query protocol): their own codes are ServiceFaults (services/iam/engine.py); these are the
    # shared failures as they name them.
    "iam": {
        errors.ValidationFailed: ("ValidationError", 400, None),
        errors.InvalidParameter: ("InvalidInput", 400, None),
        errors.InvalidRequestContent: ("ValidationError", 400, None),
        errors.NotFound: ("NoSuchEntity", 404, None),
        errors.UnknownOperation: ("InvalidAction", 400, None),
        errors.AccessDenied: ("AccessDenied", 403, None),
        errors.Throttled: ("Throttling", 400, None),
        errors.InternalFailure: ("ServiceFailure", 500, None),
    },
    "sts": {
        errors.ValidationFailed: ("ValidationError", 400, None),
        errors.InvalidParameter: ("ValidationError", 400, None),
        errors.InvalidRequestContent: ("ValidationError", 400, None),
        errors.UnknownOperation: ("InvalidAction", 400, None),
        errors.AccessDenied: ("AccessDenied", 403, None),
        errors.InternalFailure: ("InternalFailure", 500, None),
    },
    # DynamoDB (json 1.0): its own codes are ServiceFaults (services/dynamodb/faults.py); every failure is a 400.
    "dynamodb": {
        errors.InvalidRequestContent: ("SerializationException", 400, None),
        errors.UnknownOperation: ("UnknownOperationException", 400, None),
        errors.ValidationFailed: ("ValidationException", 400, None),
    },
    "dynamodbstreams": {
        errors.InvalidRequestContent: ("SerializationException", 400, None),
        errors.UnknownOperation: ("UnknownOperationException", 400, None),
        errors.ValidationFailed: ("ValidationException", 400, None),
    },
    # elbv2 (query protocol): most of its codes are raised as ServiceFault; these are the shared failures.
    "elbv2": {
        errors.ValidationFailed: ("ValidationError", 400, None),
        errors.InvalidParameter: ("ValidationError", 400, None),
        errors.InvalidRequestContent: ("ValidationError", 400, None),
        errors.UnknownOperation: ("InvalidAction", 400, None),
        errors.AccessDenied: ("AccessDenied", 403, None),
        errors.Throttled: ("Throttling", 400, None),
    },
}


def wire_error(error: errors.LaminaError) -> tuple[str, int]:
    if isinstance(error, errors.ServiceFault):
        return (error.code, error.status)
    for cls in type(error).__mro__:
        if cls in _WIRE:
            return _WIRE[cls]
    return ("ServiceException", 500)


def service_wire_error(service: str, error: errors.LaminaError) -> Wire:
    """The wire form of an error as `service` reports it (its own table first, then the shared one)."""
    if isinstance(error, errors.ServiceFault):
        return (error.code, error.status, None)
    table = _BY_SERVICE.get(service)
    if table is not None:
        for cls in type(error).__mro__:
            found = table.get(cls)
            if found is not None:
                return found
    code, status = wire_error(error)
    return (code, status, None)
