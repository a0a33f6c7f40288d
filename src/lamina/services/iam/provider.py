"""The IAM API (query protocol, a global service signed for us-east-1): roles, inline role policies,
managed policies with versions, attachments and role tags.

Policy documents go out percent-encoded, as IAM sends them (botocore decodes every `policyDocumentType`
member back into a dict, and so the aws CLI shows JSON). Lists page with IAM's `Marker`/`MaxItems`/`IsTruncated`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar
from urllib.parse import quote

from lamina.services.iam.engine import IamEngine, Policy, Role, invalid_input
from lamina.types import CallContext

T = TypeVar("T")
PAGE = 100


def encoded(text: str) -> str:
    return quote(text, safe="")


def page(items: Sequence[T], params: dict[str, Any], key: Callable[[T], str], name: str) -> dict[str, Any]:
    """A page of `items` (sorted by `key`) from `Marker` (the key of its first item), `MaxItems` long."""
    marker = params.get("Marker")
    start = 0
    if marker:
        start = next((i for i, item in enumerate(items) if key(item) >= marker), len(items))
    size = params.get("MaxItems") or PAGE
    chosen = list(items[start : start + size])
    out: dict[str, Any] = {name: chosen, "IsTruncated": start + size < len(items)}
    if out["IsTruncated"]:
        out["Marker"] = key(items[start + size])
    return out


def role_view(role: Role, *, listing: bool = False, last_used: bool = False) -> dict[str, Any]:
    hidden = ("InlinePolicies", "AttachedPolicies", "Tags", *(("PermissionsBoundary",) if listing else ()))
    shown = {k: v for k, v in role.items() if k not in hidden}  # ListRoles shows no boundary, as AWS's
    shown["AssumeRolePolicyDocument"] = encoded(role["AssumeRolePolicyDocument"])
    if role["Tags"] and not listing:
        shown["Tags"] = role["Tags"]
    if last_used:
        shown["RoleLastUsed"] = {}
    return shown


class IamProvider:
    def __init__(self, engine: IamEngine) -> None:
        self._engine = engine

    # -- roles ----------------------------------------------------------------------------------
    def create_role(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        role = self._engine.create_role(
            params["RoleName"],
            params["AssumeRolePolicyDocument"],
            params.get("Path") or "/",
            params.get("Description"),
            params.get("MaxSessionDuration"),
            params.get("Tags"),
            params.get("PermissionsBoundary"),
        )
        return {"Role": role_view(role)}

    def put_role_permissions_boundary(self, ctx: CallContext, params: dict[str, Any]) -> None:
        self._engine.set_role_boundary(params["RoleName"], params["PermissionsBoundary"])

    def delete_role_permissions_boundary(self, ctx: CallContext, params: dict[str, Any]) -> None:
        self._engine.set_role_boundary(params["RoleName"], None)

    def get_role(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        return {"Role": role_view(self._engine.role(params["RoleName"]), last_used=True)}

    def list_roles(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        roles = self._engine.roles(params.get("PathPrefix") or "/")
        out = page(roles, params, lambda r: str(r["RoleName"]).lower(), "Roles")
        out["Roles"] = [role_view(r, listing=True) for r in out["Roles"]]
        return out

    def update_role(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        self._engine.update_role(params["RoleName"], params.get("Description"), params.get("MaxSessionDuration"))
        return {}

    def update_role_description(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        self._engine.update_role(params["RoleName"], params["Description"], None)
        return {"Role": role_view(self._engine.role(params["RoleName"]), last_used=True)}

    def update_assume_role_policy(self, ctx: CallContext, params: dict[str, Any]) -> None:
        self._engine.update_trust_policy(params["RoleName"], params["PolicyDocument"])

    def delete_role(self, ctx: CallContext, params: dict[str, Any]) -> None:
        self._engine.delete_role(params["RoleName"])

    def tag_role(self, ctx: CallContext, params: dict[str, Any]) -> None:
        self._engine.tag_role(params["RoleName"], params["Tags"])

    def untag_role(self, ctx: CallContext, params: dict[str, Any]) -> None:
        self._engine.untag_role(params["RoleName"], params["TagKeys"])

    def list_role_tags(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        tags = self._engine.role(params["RoleName"])["Tags"]
        return page(tags, params, lambda t: str(t["Key"]), "Tags")

    # -- inline role policies -------------------------------------------------------------------
    def put_role_policy(self, ctx: CallContext, params: dict[str, Any]) -> None:
        self._engine.put_role_policy(params["RoleName"], params["PolicyName"], params["PolicyDocument"])

    def get_role_policy(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        role = self._engine.role(params["RoleName"])
        text = self._engine.role_policy(params["RoleName"], params["PolicyName"])
        return {"RoleName": role["RoleName"], "PolicyName": params["PolicyName"], "PolicyDocument": encoded(text)}

    def delete_role_policy(self, ctx: CallContext, params: dict[str, Any]) -> None:
        self._engine.delete_role_policy(params["RoleName"], params["PolicyName"])

    def list_role_policies(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        names = sorted(self._engine.role(params["RoleName"])["InlinePolicies"])
        return page(names, params, str, "PolicyNames")

    # -- attachments ----------------------------------------------------------------------------
    def attach_role_policy(self, ctx: CallContext, params: dict[str, Any]) -> None:
        self._engine.attach_role_policy(params["RoleName"], params["PolicyArn"])

    def detach_role_policy(self, ctx: CallContext, params: dict[str, Any]) -> None:
        self._engine.detach_role_policy(params["RoleName"], params["PolicyArn"])

    def list_attached_role_policies(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        role = self._engine.role(params["RoleName"])
        prefix = params.get("PathPrefix") or "/"
        attached = []
        for arn in role["AttachedPolicies"]:
            policy = self._engine.policy(arn)
            if policy["Path"].startswith(prefix):
                attached.append({"PolicyName": policy["PolicyName"], "PolicyArn": arn})
        return page(attached, params, lambda a: str(a["PolicyArn"]), "AttachedPolicies")

    # -- managed policies -----------------------------------------------------------------------
    def _policy_view(self, policy: Policy, *, listing: bool = False) -> dict[str, Any]:
        shown = {k: v for k, v in policy.items() if k not in ("Versions", "NextVersion", "AwsManaged", "Tags")}
        shown["AttachmentCount"] = self._engine.attachment_count(policy["Arn"])
        shown["PermissionsBoundaryUsageCount"] = self._engine.boundary_count(policy["Arn"])
        shown["IsAttachable"] = True
        if listing:
            shown.pop("Description", None)
        elif policy["Tags"]:
            shown["Tags"] = policy["Tags"]
        return shown

    def create_policy(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        policy = self._engine.create_policy(
            params["PolicyName"],
            params["PolicyDocument"],
            params.get("Path") or "/",
            params.get("Description"),
            params.get("Tags"),
        )
        return {"Policy": self._policy_view(policy)}

    def get_policy(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        return {"Policy": self._policy_view(self._engine.policy(params["PolicyArn"]))}

    def delete_policy(self, ctx: CallContext, params: dict[str, Any]) -> None:
        self._engine.delete_policy(params["PolicyArn"])

    def list_policies(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        scope = params.get("Scope") or "All"
        prefix = params.get("PathPrefix") or "/"
        found = []
        for policy in self._engine.policies():
            aws = bool(policy.get("AwsManaged"))
            if (scope == "AWS" and not aws) or (scope == "Local" and aws) or not policy["Path"].startswith(prefix):
                continue
            if params.get("OnlyAttached") and not self._engine.attachment_count(policy["Arn"]):
                continue
            found.append(policy)
        out = page(found, params, lambda p: str(p["PolicyName"]).lower() + "|" + str(p["Arn"]), "Policies")
        out["Policies"] = [self._policy_view(p, listing=True) for p in out["Policies"]]
        return out

    # -- versions -------------------------------------------------------------------------------
    @staticmethod
    def _version_view(version_id: str, version: dict[str, Any], default: str, *, document: bool = True) -> Any:
        shown: dict[str, Any] = {
            "VersionId": version_id,
            "IsDefaultVersion": version_id == default,
            "CreateDate": version["CreateDate"],
        }
        if document:
            shown["Document"] = encoded(version["Document"])
        return shown

    def create_policy_version(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        arn = params["PolicyArn"]
        version_id, version = self._engine.create_policy_version(
            arn, params["PolicyDocument"], bool(params.get("SetAsDefault"))
        )
        default = self._engine.policy(arn)["DefaultVersionId"]
        return {"PolicyVersion": self._version_view(version_id, version, default, document=False)}

    def get_policy_version(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        arn, version_id = params["PolicyArn"], params["VersionId"]
        version = self._engine.policy_version(arn, version_id)
        default = self._engine.policy(arn)["DefaultVersionId"]
        return {"PolicyVersion": self._version_view(version_id, version, default)}

    def list_policy_versions(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        policy = self._engine.policy(params["PolicyArn"])
        default = policy["DefaultVersionId"]
        versions = sorted(policy["Versions"].items(), key=lambda item: -int(item[0][1:]))  # newest first
        shown = [self._version_view(v, body, default, document=False) for v, body in versions]
        return page(shown, params, lambda v: f"{10**6 - int(v['VersionId'][1:]):07d}", "Versions")

    def delete_policy_version(self, ctx: CallContext, params: dict[str, Any]) -> None:
        self._engine.delete_policy_version(params["PolicyArn"], params["VersionId"])

    def set_default_policy_version(self, ctx: CallContext, params: dict[str, Any]) -> None:
        version_id = params["VersionId"]
        if not version_id.startswith("v") or not version_id[1:].isdigit():
            raise invalid_input(f"Invalid Version Id '{version_id}'")
        self._engine.set_default_policy_version(params["PolicyArn"], version_id)
