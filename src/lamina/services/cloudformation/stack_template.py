"""From a template and the request's parameters to what a stack deploys: parameters resolved and checked
(types, defaults, AllowedValues, NoEcho), the SAM transform expanded (aws-sam-translator), conditions
evaluated, and resources ordered by their dependencies (DependsOn and references; cycles refused), all with
CloudFormation's ValidationError messages, before anything is made."""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from typing import Any

from lamina.errors import ServiceFault
from lamina.services.cloudformation import intrinsics
from lamina.services.cloudformation.template import check_resources, format_error, validation_error

SAM = "AWS::Serverless-2016-10-31"
_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")


def insufficient(capability: str) -> ServiceFault:
    return ServiceFault("InsufficientCapabilitiesException", f"Requires capabilities : [{capability}]", 400)


@dataclass
class Plan:
    template: dict[str, Any]  # after the transform
    parameters: dict[str, Any]  # declared parameters' values (lists for CommaDelimitedList)
    shown_parameters: list[dict[str, str]]  # as DescribeStacks shows them (NoEcho as ****)
    conditions: dict[str, bool]
    order: list[str]  # logical ids in creation order (conditions false left out)


def declared(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found = template.get("Parameters") or {}
    if not isinstance(found, dict):
        raise format_error("Parameters must be an object")
    return found


def resolve_parameters(
    template: dict[str, Any], given: list[dict[str, Any]]
) -> tuple[dict[str, Any], list[dict[str, str]]]:
    definitions = declared(template)
    values = {p["ParameterKey"]: p.get("ParameterValue") for p in given}
    unknown = [name for name in values if name not in definitions]
    if unknown:
        raise validation_error(f"Parameters: [{', '.join(unknown)}] do not exist in the template")
    missing = [n for n, d in definitions.items() if values.get(n) is None and "Default" not in d]
    if missing:
        raise validation_error(f"Parameters: [{', '.join(missing)}] must have values")
    resolved: dict[str, Any] = {}
    shown: list[dict[str, str]] = []
    for name, definition in definitions.items():
        value = values.get(name)
        text = str(definition["Default"]) if value is None else str(value)
        kind = definition.get("Type", "String")
        allowed = definition.get("AllowedValues")
        if allowed is not None and text not in [str(a) for a in allowed]:
            raise validation_error(f"Parameter '{name}' must be one of AllowedValues")
        pattern = definition.get("AllowedPattern")
        if pattern is not None and not re.fullmatch(pattern, text):
            raise validation_error(f"Parameter '{name}' must match pattern {pattern}")
        if kind == "Number" and not _NUMBER.match(text):
            raise validation_error(f"Parameter '{name}' must be a number.")
        if "MinLength" in definition and len(text) < int(definition["MinLength"]):
            raise validation_error(f"Parameter '{name}' must contain at least {definition['MinLength']} characters")
        if "MaxLength" in definition and len(text) > int(definition["MaxLength"]):
            raise validation_error(f"Parameter '{name}' must contain at most {definition['MaxLength']} characters")
        if kind == "CommaDelimitedList" or kind.startswith("List<"):
            resolved[name] = [part.strip() for part in text.split(",")] if text else []
        else:
            resolved[name] = text
        noecho = str(definition.get("NoEcho", "false")).lower() == "true"
        shown.append({"ParameterKey": name, "ParameterValue": "****" if noecho else text})
    return resolved, shown


def transform(
    template: dict[str, Any], parameters: dict[str, Any], managed_policies: dict[str, str], region: str
) -> dict[str, Any]:
    """The SAM template expanded by aws-sam-translator, as CloudFormation's transform does it (the session only
    tells the translator its region and partition: it makes no calls, the managed policy map is given)."""
    import boto3
    from samtranslator.model.exceptions import InvalidDocumentException
    from samtranslator.parser.parser import Parser
    from samtranslator.plugins.application.serverless_app_plugin import ServerlessAppPlugin
    from samtranslator.translator.translator import Translator

    from lamina.services.cloudformation.application_repository import NoApplicationRepository

    # the SAR plugin given a stand-in client: without it, the translator would call AWS's own SAR
    sar: Any = NoApplicationRepository
    repository = ServerlessAppPlugin(parameters=dict(parameters), sar_client_creator=sar)
    session = boto3.session.Session(region_name=region)
    translator = Translator(None, Parser(), plugins=[repository], boto_session=session)
    try:
        expanded: dict[str, Any] = translator.translate(
            copy.deepcopy(template), dict(parameters), get_managed_policy_map=lambda: managed_policies
        )
    except InvalidDocumentException as exc:
        causes = " ".join(str(cause.message) for cause in exc.causes)
        raise ServiceFault("ValidationError", f"Transform {SAM} failed with: {causes}", 400) from None
    except Exception as exc:  # the translator's other failures are the template's too
        raise ServiceFault("ValidationError", f"Transform {SAM} failed with: {exc}", 400) from None
    return expanded


def _transforms(template: dict[str, Any]) -> list[str]:
    found = template.get("Transform") or []
    return [found] if isinstance(found, str) else list(found)


def plan(
    template: dict[str, Any],
    given: list[dict[str, Any]],
    capabilities: list[str],
    pseudo: dict[str, Any],
    managed_policies: dict[str, str],
    change_set: bool = False,
) -> Plan:
    """`change_set`: a change set expands transforms without CAPABILITY_AUTO_EXPAND (CreateStack and UpdateStack
    need it)."""
    transforms = _transforms(template)
    for name in transforms:
        if name != SAM:
            raise validation_error(f"Transform {name} is not supported by Lamina")
    if transforms and not change_set and "CAPABILITY_AUTO_EXPAND" not in capabilities:
        raise insufficient("CAPABILITY_AUTO_EXPAND")
    parameters, shown = resolve_parameters(template, given)
    if transforms:
        strings = {k: v for k, v in pseudo.items() if isinstance(v, str)}
        values = {k: ",".join(v) if isinstance(v, list) else v for k, v in parameters.items()}
        template = transform(template, {**values, **strings}, managed_policies, str(pseudo["AWS::Region"]))
    check_resources(template)
    intrinsics.check_functions([template["Resources"], template.get("Outputs") or {}])
    iam = [r for r in template["Resources"].values() if str(r["Type"]).startswith("AWS::IAM::")]
    named = any("RoleName" in (r.get("Properties") or {}) for r in iam)
    if named and "CAPABILITY_NAMED_IAM" not in capabilities:
        raise insufficient("CAPABILITY_NAMED_IAM")
    if iam and not {"CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"} & set(capabilities):
        raise insufficient("CAPABILITY_IAM")
    scope = intrinsics.Scope({**pseudo, **parameters}, template.get("Mappings") or {})
    scope.evaluate_conditions(template.get("Conditions") or {})
    return Plan(
        template, parameters, shown, scope.conditions, order(template, set(parameters) | set(pseudo), scope.conditions)
    )


def order(template: dict[str, Any], names: set[str], conditions: dict[str, bool]) -> list[str]:
    """Resources in an order that makes every one after those it needs (DependsOn, Ref, GetAtt, Sub)."""
    resources: dict[str, Any] = template["Resources"]
    for resource in resources.values():
        condition = resource.get("Condition")
        if condition is not None and condition not in conditions:
            raise format_error(
                f"Unresolved dependencies [{condition}]. "
                "Cannot reference resources in the Conditions block of the template"
            )
    live = [n for n, r in resources.items() if conditions.get(r.get("Condition", ""), True)]
    needs: dict[str, set[str]] = {}
    for logical in live:
        resource = resources[logical]
        depends = resource.get("DependsOn") or []
        wanted = intrinsics.references(resource.get("Properties") or {}) | set(
            [depends] if isinstance(depends, str) else depends
        )
        missing = sorted(w for w in wanted if w not in resources and w not in names)
        if missing:
            raise format_error(
                f"Unresolved resource dependencies [{', '.join(missing)}] in the Resources block of the template"
            )
        needs[logical] = {w for w in wanted if w in resources}
    for output in (template.get("Outputs") or {}).values():
        missing = sorted(w for w in intrinsics.references(output) if w not in resources and w not in names)
        if missing:
            raise format_error(
                f"Unresolved resource dependencies [{', '.join(missing)}] in the Outputs block of the template"
            )
    done: list[str] = []
    placed: set[str] = set()
    remaining = list(live)
    while remaining:
        ready = [n for n in remaining if needs[n] <= placed or not (needs[n] & set(remaining))]
        if not ready:
            raise validation_error(f"Circular dependency between resources: [{', '.join(sorted(remaining))}]")
        for name in ready:
            done.append(name)
            placed.add(name)
            remaining.remove(name)
    return done
