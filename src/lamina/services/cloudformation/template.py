"""Reading a template: JSON or YAML (with CloudFormation's short-form tags `!Ref`, `!GetAtt`, `!Sub`, ...),
checked for the sections CloudFormation requires, with its "Template format error" messages."""

from __future__ import annotations

import json
from typing import Any

import yaml

from lamina.errors import ServiceFault

MAX_BODY = 51_200  # bytes of TemplateBody CloudFormation accepts
SECTIONS = {
    "AWSTemplateFormatVersion",
    "Description",
    "Metadata",
    "Parameters",
    "Rules",
    "Mappings",
    "Conditions",
    "Transform",
    "Resources",
    "Outputs",
}
_SCALAR_FUNCTIONS = {"Ref", "Condition"}


def validation_error(message: str) -> ServiceFault:
    return ServiceFault("ValidationError", message, 400)


def format_error(message: str) -> ServiceFault:
    return validation_error(f"Template format error: {message}")


class _Loader(yaml.SafeLoader):  # type: ignore[misc]
    """YAML with the short forms: `!Ref x` is `{"Ref": x}`, `!GetAtt a.b` is `{"Fn::GetAtt": ["a", "b"]}`, every
    other `!Name v` is `{"Fn::Name": v}`."""


def _tag(loader: _Loader, suffix: str, node: yaml.Node) -> Any:
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    if suffix in _SCALAR_FUNCTIONS:
        return {suffix: value}
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {f"Fn::{suffix}": value}


_Loader.add_multi_constructor("!", _tag)
# CloudFormation reads dates and times as strings (AWSTemplateFormatVersion: 2010-09-09 must stay a string).
_Loader.yaml_implicit_resolvers = {
    key: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def parse_document(body: str) -> dict[str, Any]:
    """A JSON or YAML mapping (with the short-form tags), or CloudFormation's format error."""
    text = body.lstrip()
    try:
        document = json.loads(text) if text.startswith("{") else yaml.load(text, Loader=_Loader)
    except ValueError as exc:
        raise format_error(f"JSON not well-formed. ({exc})") from None
    except yaml.YAMLError as exc:
        raise format_error(f"YAML not well-formed. {str(exc).splitlines()[-1].strip()}") from None
    if not isinstance(document, dict):
        raise format_error("unsupported structure.")
    return document


def parse(body: str, limit: int = MAX_BODY) -> dict[str, Any]:
    """`limit`: TemplateBody's; a template read from S3 (TemplateURL) may be larger and was checked when read."""
    if len(body.encode()) > limit:
        raise validation_error(
            f"1 validation error detected: Value '{body[:20]}...' at 'templateBody' failed to satisfy constraint: "
            f"Member must have length less than or equal to {MAX_BODY}"
        )
    template = parse_document(body)
    transforms = template.get("Transform")
    sam = "AWS::Serverless-2016-10-31" in (transforms if isinstance(transforms, list) else [transforms])
    # SAM's Globals section is the transform's to read (and remove); without it, an unknown section
    unknown = sorted(k for k in template if k not in SECTIONS and not (sam and k == "Globals"))
    if unknown:
        raise format_error(f"Invalid template property or properties [{', '.join(unknown)}]")
    version = template.get("AWSTemplateFormatVersion")
    if version is not None and str(version) != "2010-09-09":
        raise format_error(f"'{version}' is not a valid template version.")
    return template


def check_resources(template: dict[str, Any]) -> None:
    resources = template.get("Resources")
    if not isinstance(resources, dict) or not resources:
        raise format_error("At least one Resources member must be defined.")
    for name, resource in resources.items():
        if not isinstance(resource, dict) or not isinstance(resource.get("Type"), str):
            raise format_error(f"[/Resources/{name}] Every Resources object must contain a Type member.")
