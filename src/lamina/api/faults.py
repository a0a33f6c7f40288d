"""The one place where domain errors become AWS error codes and HTTP statuses."""

from __future__ import annotations

from lamina import errors

# Most specific first: the first class in an error's MRO found here wins.
_WIRE: dict[type[errors.LaminaError], tuple[str, int]] = {
    errors.ProvisionedConfigNotFound: ("ProvisionedConcurrencyConfigNotFoundException", 404),
    errors.NotFound: ("ResourceNotFoundException", 404),
    errors.InvalidParameter: ("InvalidParameterValueException", 400),
    errors.PolicyLengthExceeded: ("PolicyLengthExceededException", 400),
    errors.ValidationFailed: ("ValidationException", 400),
    errors.InvalidRequestContent: ("InvalidRequestContentException", 400),
    errors.Conflict: ("ResourceConflictException", 409),
    errors.PreconditionFailed: ("PreconditionFailedException", 412),
    errors.RequestTooLarge: ("RequestEntityTooLargeException", 413),
    errors.Throttled: ("TooManyRequestsException", 429),
    errors.UnknownOperation: ("UnknownOperationException", 404),
    errors.AccessDenied: ("AccessDeniedException", 403),
    errors.InternalFailure: ("ServiceException", 500),
}


def wire_error(error: errors.LaminaError) -> tuple[str, int]:
    for cls in type(error).__mro__:
        if cls in _WIRE:
            return _WIRE[cls]
    return ("ServiceException", 500)
