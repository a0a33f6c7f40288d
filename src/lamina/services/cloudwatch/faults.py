"""CloudWatch's own error codes: the model's shape name, HTTP status and the legacy query code botocore shows."""

from __future__ import annotations

from lamina.errors import ServiceFault


def invalid_value(message: str) -> ServiceFault:
    return ServiceFault("InvalidParameterValueException", message, 400, "InvalidParameterValue")


def invalid_combination(message: str) -> ServiceFault:
    return ServiceFault("InvalidParameterCombinationException", message, 400, "InvalidParameterCombination")


def missing(message: str) -> ServiceFault:
    return ServiceFault("MissingRequiredParameterException", message, 400, "MissingParameter")


def not_found(message: str) -> ServiceFault:
    return ServiceFault("ResourceNotFound", message, 404, "ResourceNotFound")


def bad_token(message: str) -> ServiceFault:
    return ServiceFault("InvalidNextToken", message, 400, "InvalidNextToken")


def invalid_format(message: str) -> ServiceFault:
    return ServiceFault("InvalidFormatFault", message, 400, "InvalidFormat")
