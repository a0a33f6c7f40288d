"""Validation of parsed input against the model's constraints, worded as AWS words it.

AWS reports every violated constraint in one ValidationException:
`2 validation errors detected: Value '…' at 'memorySize' failed to satisfy constraint: …; Value …`.
Member paths are lowerCamel and dotted (`routingConfig.additionalVersionWeights`); values are printed
the way the Java service prints them (`[a, b]`, `{k=v}`, `2.0`, `null`).
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from botocore.model import Shape

from lamina.errors import ValidationFailed


def camel(name: str) -> str:
    return name[:1].lower() + name[1:]


def render(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(render(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}={render(v)}" for k, v in value.items()) + "}"
    if isinstance(value, bytes):
        return "java.nio.HeapByteBuffer"
    return str(value)


# Where AWS's recorded wording and the pinned model differ, AWS wins (the model only decides what is valid).
# Enums whose values AWS lists in another order than the botocore model (its own declaration order):
AWS_ENUM_ORDER: dict[str, tuple[str, ...]] = {
    "RecursiveLoop": ("Terminate", "Allow"),  # test_lambda_api: test_put_function_recursion_config_invalid_value
    "InvokeMode": ("RESPONSE_STREAM", "BUFFERED"),  # test_lambda: function URL config with InvokeMode UNKNOWN
    "EventSourcePosition": ("LATEST", "AT_TIMESTAMP", "TRIM_HORIZON"),  # test_lambda_api: startingPosition
}
# Patterns AWS prints otherwise than the model writes them: the layer version ARN without the model's outer
# parentheses (test_lambda_api: TestLambdaLayer get_layer_version_by_arn / add_layer_arn_without_version).
AWS_PATTERN_TEXT: dict[str, str] = {
    "LayerVersionArn": r"(arn:(aws[a-zA-Z-]*)?:lambda:(eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:\d{12}:"
    r"layer:[a-zA-Z0-9-_]+:[0-9]+)|(arn:[a-zA-Z0-9-]+:lambda:::awslayer:[a-zA-Z0-9-_]+)",
}


def _pattern_text(shape: Shape) -> str:
    pattern: str = AWS_PATTERN_TEXT.get(shape.name, shape.metadata["pattern"])
    return f"Member must satisfy regular expression pattern: {pattern}"


# List shapes whose members AWS describes without "Member must not be null" (recorded: the VpcConfig id
# lists in test_invalid_vpc_config_*), unlike e.g. Layers and Architectures, which list it.
AWS_NULLABLE_MEMBERS = frozenset({"SubnetIds", "SecurityGroupIds"})


def _enum_text(shape: Shape) -> str:
    return "Member must satisfy enum value set: [" + ", ".join(AWS_ENUM_ORDER.get(shape.name, shape.enum)) + "]"


@cache
def _regex(pattern: str) -> re.Pattern[str] | None:
    try:
        return re.compile(pattern, re.DOTALL)
    except re.error:
        return None  # a Java-only construct (e.g. \p{L}); the domain layer checks such fields itself


def _constraint_texts(shape: Shape, not_null: bool = True) -> list[str]:
    """Every constraint of a shape, in the order AWS lists them inside `[...]`."""
    meta = shape.metadata
    texts: list[str] = []
    if shape.type_name == "string":
        if shape.enum:
            texts.append(_enum_text(shape))
        if "max" in meta:
            texts.append(f"Member must have length less than or equal to {meta['max']}")
        if "min" in meta:
            texts.append(f"Member must have length greater than or equal to {meta['min']}")
        if "pattern" in meta:
            texts.append(_pattern_text(shape))
    elif shape.type_name in ("integer", "long", "double", "float"):
        if "max" in meta:
            texts.append(f"Member must have value less than or equal to {_num(meta['max'], shape)}")
        if "min" in meta:
            texts.append(f"Member must have value greater than or equal to {_num(meta['min'], shape)}")
    if not_null:  # map keys cannot be null, so AWS does not list that constraint for them (nor some lists')
        texts.append("Member must not be null")
    return texts


def _num(value: Any, shape: Shape) -> str:
    return repr(float(value)) if shape.type_name in ("double", "float") else str(value)


_LOCATION_ORDER = {"querystring": 0, "header": 1, "headers": 1, "uri": 2}


@cache
def _ordered(shape: Shape) -> list[tuple[str, str, Shape]]:
    """Members in the order AWS validates them: query string and headers before the path, then the
    body in model order (seen in recorded responses: a bad Qualifier is reported before FunctionName)."""
    members = sorted(
        shape.members.items(), key=lambda item: _LOCATION_ORDER.get(item[1].serialization.get("location", ""), 3)
    )
    return [(name, camel(name), member) for name, member in members]


class Validator:
    """Checks a parsed input structure. `skip_enums` names shapes whose enum the service checks itself
    with its own error (Lambda's Runtime answers InvalidParameterValueException, not ValidationException);
    `service_checked` names member paths the service checks entirely, because AWS reports them together
    with errors only the service can find (Lambda's compatibleArchitectures, beside compatibleRuntimes)."""

    def __init__(self, skip_enums: frozenset[str] = frozenset(), service_checked: frozenset[str] = frozenset()) -> None:
        self._skip_enums = skip_enums
        self._service_checked = service_checked

    def validate(self, shape: Shape, params: dict[str, Any]) -> None:
        errors: list[str] = []
        self._structure(shape, params, "", errors)
        if errors:
            count = len(errors)
            noun = "error" if count == 1 else "errors"
            raise ValidationFailed(f"{count} validation {noun} detected: " + "; ".join(errors))

    def _structure(self, shape: Shape, value: dict[str, Any], prefix: str, errors: list[str]) -> None:
        required = shape.required_members
        for name, camel_name, member in _ordered(shape):
            path = f"{prefix}{camel_name}"
            if path in self._service_checked:
                continue
            v = value.get(name)
            if v is None:
                if name in required:
                    errors.append(f"Value null at '{path}' failed to satisfy constraint: Member must not be null")
                continue
            self._value(member, v, path, errors)

    def _value(self, shape: Shape, value: Any, path: str, errors: list[str]) -> None:
        problems = self._scalar_problems(shape, value)
        if problems:
            for problem in problems:
                errors.append(f"Value '{render(value)}' at '{path}' failed to satisfy constraint: {problem}")
            return
        kind = shape.type_name
        if kind == "structure":
            self._structure(shape, value, path + ".", errors)
        elif kind == "list":
            bad = any(v is None or self._scalar_problem(shape.member, v) for v in value)
            if bad:
                inner = ", ".join(_constraint_texts(shape.member, not_null=shape.name not in AWS_NULLABLE_MEMBERS))
                errors.append(
                    f"Value '{render(value)}' at '{path}' failed to satisfy constraint: "
                    f"Member must satisfy constraint: [{inner}]"
                )
            elif shape.member.type_name == "structure":
                for i, item in enumerate(value):
                    self._structure(shape.member, item, f"{path}.{i + 1}.member.", errors)
        elif kind == "map":
            if any(self._scalar_problem(shape.key, k) for k in value):
                inner = ", ".join(_constraint_texts(shape.key, not_null=False))
                errors.append(
                    f"Value '{render(value)}' at '{path}' failed to satisfy constraint: "
                    f"Map keys must satisfy constraint: [{inner}]"
                )
            elif any(v is None or self._scalar_problem(shape.value, v) for v in value.values()):
                inner = ", ".join(_constraint_texts(shape.value))
                errors.append(
                    f"Value '{render(value)}' at '{path}' failed to satisfy constraint: "
                    f"Map value must satisfy constraint: [{inner}]"
                )

    def _scalar_problem(self, shape: Shape, value: Any) -> bool:
        return bool(self._scalar_problems(shape, value))

    def _scalar_problems(self, shape: Shape, value: Any) -> list[str]:
        """Every constraint of `shape` that `value` violates, in the order AWS reports them."""
        meta = shape.metadata
        kind = shape.type_name
        found: list[str] = []
        if kind == "string":
            if shape.enum and shape.name not in self._skip_enums and value not in shape.enum:
                return [_enum_text(shape)]
            if "max" in meta and len(value) > meta["max"]:
                found.append(f"Member must have length less than or equal to {meta['max']}")
            if "min" in meta and len(value) < meta["min"]:
                found.append(f"Member must have length greater than or equal to {meta['min']}")
            pattern = meta.get("pattern")
            if pattern is not None:
                regex = _regex(pattern)
                if regex is not None and regex.fullmatch(value) is None:
                    found.append(_pattern_text(shape))
        elif kind in ("integer", "long", "double", "float"):
            if "max" in meta and value > meta["max"]:
                found.append(f"Member must have value less than or equal to {_num(meta['max'], shape)}")
            if "min" in meta and value < meta["min"]:
                found.append(f"Member must have value greater than or equal to {_num(meta['min'], shape)}")
        elif kind in ("list", "map", "blob"):
            if not hasattr(value, "__len__"):  # a body still arriving (a streamed S3 object): its size is not known
                return found
            size = len(value)
            if "max" in meta and size > meta["max"]:
                found.append(f"Member must have length less than or equal to {meta['max']}")
            if "min" in meta and size < meta["min"]:
                found.append(f"Member must have length greater than or equal to {meta['min']}")
        return found
