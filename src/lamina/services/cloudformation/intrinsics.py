"""CloudFormation's intrinsic functions, conditions and pseudo parameters, and the references between
resources they imply (the dependency graph is built from `references`).

`Scope` holds what a template can name: parameters, pseudo parameters, mappings, evaluated conditions and
the resources made so far (physical id and attributes). A value is resolved only when every resource it
names exists; `AWS::NoValue` removes the property that holds it.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from lamina.services.cloudformation.template import validation_error

NO_VALUE = object()
_SUB = re.compile(r"\$\{([^}]*)\}")
SUPPORTED = (
    "Fn::Base64, Fn::GetAtt, Fn::GetAZs, Fn::ImportValue, Fn::Join, Fn::Split, Fn::FindInMap, Fn::Select, Ref, "
    "Fn::Equals, Fn::If, Fn::Not, Condition, Fn::And, Fn::Or, Fn::Contains, Fn::EachMemberEquals, "
    "Fn::EachMemberIn, Fn::ValueOf, Fn::ValueOfAll, Fn::RefAll, Fn::Sub, Fn::Cidr"
)
FUNCTIONS = {
    "Ref",
    "Condition",
    "Fn::GetAtt",
    "Fn::Sub",
    "Fn::Join",
    "Fn::Select",
    "Fn::Split",
    "Fn::If",
    "Fn::Equals",
    "Fn::And",
    "Fn::Or",
    "Fn::Not",
    "Fn::FindInMap",
    "Fn::Base64",
    "Fn::GetAZs",
    "Fn::ImportValue",
    "Fn::Cidr",
}


def template_error(message: str) -> Exception:
    return validation_error(f"Template error: {message}")


def pseudo_parameters(region: str, account: str, stack_name: str, stack_id: str) -> dict[str, Any]:
    return {
        "AWS::AccountId": account,
        "AWS::Region": region,
        "AWS::StackName": stack_name,
        "AWS::StackId": stack_id,
        "AWS::Partition": "aws",
        "AWS::URLSuffix": "amazonaws.com",
        "AWS::NotificationARNs": [],
        "AWS::NoValue": NO_VALUE,
    }


@dataclass
class Scope:
    parameters: dict[str, Any]
    mappings: dict[str, Any] = field(default_factory=dict)
    conditions: dict[str, bool] = field(default_factory=dict)
    physical_ids: dict[str, str] = field(default_factory=dict)
    attribute: Callable[[str, str], Any] = lambda name, attribute: None
    region: str = "us-east-1"
    exports: Callable[[str], str | None] = lambda name: None  # other stacks' exports, for Fn::ImportValue
    imported: set[str] = field(default_factory=set)  # the exports this stack's values imported

    # -- conditions -----------------------------------------------------------------------------
    def evaluate_conditions(self, definitions: dict[str, Any]) -> None:
        pending = dict(definitions)

        def value(name: str, seen: tuple[str, ...] = ()) -> bool:
            if name in self.conditions:
                return self.conditions[name]
            if name not in pending:
                raise template_error(f"unresolved condition dependency {name} in Fn::If")
            if name in seen:
                raise template_error(f"circular condition dependency {name}")
            result = bool(self._condition(pending[name], lambda other: value(other, (*seen, name))))
            self.conditions[name] = result
            return result

        for name in definitions:
            value(name)

    def _condition(self, node: Any, named: Callable[[str], bool]) -> Any:
        if isinstance(node, dict) and len(node) == 1:
            ((key, arg),) = node.items()
            if key == "Condition":
                return named(arg)
            if key == "Fn::Equals":
                left, right = (self._condition(v, named) for v in arg)
                return str(left) == str(right)
            if key == "Fn::And":
                return all(self._condition(v, named) for v in arg)
            if key == "Fn::Or":
                return any(self._condition(v, named) for v in arg)
            if key == "Fn::Not":
                return not self._condition(arg[0], named)
        return self.resolve(node)

    # -- values ---------------------------------------------------------------------------------
    def resolve(self, node: Any) -> Any:
        if isinstance(node, list):
            return [v for v in (self.resolve(item) for item in node) if v is not NO_VALUE]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            ((key, arg),) = node.items()
            if key in FUNCTIONS:
                return self._function(key, arg)
            if key.startswith("Fn::"):
                raise template_error(f"Encountered unsupported function: {key} Supported functions are: [{SUPPORTED}]")
        out: dict[str, Any] = {}
        for key, value in node.items():
            resolved = self.resolve(value)
            if resolved is not NO_VALUE:
                out[key] = resolved
        return out

    def ref(self, name: str) -> Any:
        if name in self.parameters:
            return self.parameters[name]
        if name in self.physical_ids:
            return self.physical_ids[name]
        raise template_error(f"Unresolved resource dependencies [{name}] in the Resources block of the template")

    def _function(self, key: str, arg: Any) -> Any:
        if key == "Ref":
            return self.ref(arg)
        if key == "Fn::GetAtt":
            name, attribute = arg if isinstance(arg, list) else str(arg).split(".", 1)
            if name not in self.physical_ids:
                raise template_error(
                    f"Unresolved resource dependencies [{name}] in the Resources block of the template"
                )
            return self.attribute(name, self.resolve(attribute))
        if key == "Fn::Sub":
            return self._sub(arg)
        if key == "Fn::Join":
            delimiter, items = arg
            return str(delimiter).join(str(v) for v in self.resolve(items))
        if key == "Fn::Select":
            index, items = self.resolve(arg)
            items = list(items)
            if not 0 <= int(index) < len(items):
                raise template_error("Fn::Select cannot select nonexistent value at index " + str(index))
            return items[int(index)]
        if key == "Fn::Split":
            delimiter, text = self.resolve(arg)
            return str(text).split(delimiter)
        if key == "Fn::If":
            name, when_true, when_false = arg
            if name not in self.conditions:
                raise template_error(f"unresolved condition dependency {name} in Fn::If")
            return self.resolve(when_true if self.conditions[name] else when_false)
        if key in ("Fn::Equals", "Fn::And", "Fn::Or", "Fn::Not", "Condition"):
            return self._condition({key: arg}, lambda name: self.conditions[name])
        if key == "Fn::FindInMap":
            map_name, top, second = self.resolve(arg)
            try:
                return self.mappings[map_name][top][second]
            except (KeyError, TypeError):
                raise template_error(f"Unable to get mapping for {map_name}::{top}::{second}") from None
        if key == "Fn::Base64":
            return base64.b64encode(str(self.resolve(arg)).encode()).decode()
        if key == "Fn::GetAZs":
            region = self.resolve(arg) or self.parameters.get("AWS::Region", self.region)
            return [f"{region}{zone}" for zone in "abc"]
        if key == "Fn::ImportValue":
            name = str(self.resolve(arg))
            value = self.exports(name)
            if value is None:
                raise validation_error(f"No export named {name} found.")
            self.imported.add(name)
            return value
        raise template_error(f"{key} is not supported by Lamina yet")

    def _sub(self, arg: Any) -> str:
        if isinstance(arg, list):
            text, variables = arg[0], self.resolve(arg[1])
        else:
            text, variables = arg, {}

        def replace(m: re.Match[str]) -> str:
            name = m.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in variables:
                return str(variables[name])
            if "." in name and name.split(".", 1)[0] in self.physical_ids:
                resource, attribute = name.split(".", 1)
                return str(self.attribute(resource, attribute))
            return str(self.ref(name))

        return _SUB.sub(replace, str(text))


def references(node: Any) -> set[str]:
    """Every name a value refers to by Ref, Fn::GetAtt or Fn::Sub (parameters included: callers filter)."""
    found: set[str] = set()
    if isinstance(node, list):
        for item in node:
            found |= references(item)
    elif isinstance(node, dict):
        if len(node) == 1:
            ((key, arg),) = node.items()
            if key == "Ref" and isinstance(arg, str):
                return {arg}
            if key == "Fn::GetAtt":
                name = arg[0] if isinstance(arg, list) else str(arg).split(".", 1)[0]
                return {name}
            if key == "Fn::Sub":
                text = arg[0] if isinstance(arg, list) else arg
                local = set(arg[1]) if isinstance(arg, list) and isinstance(arg[1], dict) else set()
                for m in _SUB.finditer(str(text)):
                    name = m.group(1)
                    if not name.startswith("!") and name.split(".", 1)[0] not in local:
                        found.add(name.split(".", 1)[0])
                if isinstance(arg, list):
                    found |= references(arg[1])
                return found
        for value in node.values():
            found |= references(value)
    return found


def check_functions(node: Any) -> None:
    """Refuses a template naming an intrinsic function CloudFormation does not have (before anything is made)."""
    if isinstance(node, list):
        for item in node:
            check_functions(item)
    elif isinstance(node, dict):
        if len(node) == 1:
            key = next(iter(node))
            if key.startswith("Fn::") and key not in FUNCTIONS:
                raise template_error(f"Encountered unsupported function: {key} Supported functions are: [{SUPPORTED}]")
        for value in node.values():
            check_functions(value)
