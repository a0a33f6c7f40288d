"""The IAM API for users, access keys and groups, and their inline and attached policies (identities.py)."""

from __future__ import annotations

from typing import Any

from lamina.errors import ServiceFault
from lamina.services.iam.identities import Group, Identities, User
from lamina.services.iam.provider import encoded, page
from lamina.types import CallContext

_USER_FIELDS = ("Path", "UserName", "UserId", "Arn", "CreateDate")
_GROUP_FIELDS = ("Path", "GroupName", "GroupId", "Arn", "CreateDate")


def user_view(user: User, *, tags: bool = False) -> dict[str, Any]:
    """A user as IAM shows it; `tags` for one user (GetUser, CreateUser), not for ListUsers, which shows
    neither Tags nor PermissionsBoundary."""
    shown = {k: user[k] for k in _USER_FIELDS}
    if tags and user["Tags"]:
        shown["Tags"] = user["Tags"]
    if tags and user.get("PermissionsBoundary"):
        shown["PermissionsBoundary"] = user["PermissionsBoundary"]
    return shown


def group_view(group: Group) -> dict[str, Any]:
    return {k: group[k] for k in _GROUP_FIELDS}


def _key_view(user: User, key: dict[str, Any]) -> dict[str, Any]:
    return {
        "UserName": user["UserName"],
        "AccessKeyId": key["AccessKeyId"],
        "Status": key["Status"],
        "CreateDate": key["CreateDate"],
    }


class IdentitiesApi:
    def __init__(self, identities: Identities) -> None:
        self._ids = identities

    # -- users ----------------------------------------------------------------------------------
    def create_user(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        user = self._ids.create_user(
            params["UserName"], params.get("Path") or "/", params.get("Tags"), params.get("PermissionsBoundary")
        )
        return {"User": user_view(user, tags=True)}

    def get_user(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        name = params.get("UserName")
        if not name:  # the caller itself
            found = self._ids.key(ctx.access_key_id)
            if found is None:
                root = {"UserId": ctx.account_id, "Arn": f"arn:aws:iam::{ctx.account_id}:root"}
                return {"User": {"Path": "/", "UserName": "", **root, "CreateDate": "2024-01-01T00:00:00Z"}}
            name = found[0]["UserName"]
        return {"User": user_view(self._ids.user(name), tags=True)}

    def list_users(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        out = page(
            self._ids.users(params.get("PathPrefix") or "/"), params, lambda u: str(u["UserName"]).lower(), "Users"
        )
        out["Users"] = [user_view(u) for u in out["Users"]]
        return out

    def delete_user(self, ctx: CallContext, params: dict[str, Any]) -> None:
        self._ids.delete_user(params["UserName"])

    def put_user_permissions_boundary(self, ctx: CallContext, params: dict[str, Any]) -> None:
        self._ids.set_boundary(params["UserName"], params["PermissionsBoundary"])

    def delete_user_permissions_boundary(self, ctx: CallContext, params: dict[str, Any]) -> None:
        self._ids.set_boundary(params["UserName"], None)

    # -- access keys ----------------------------------------------------------------------------
    def _user_name(self, ctx: CallContext, params: dict[str, Any]) -> str:
        """UserName, or the calling user's own when omitted (IAM's rule for the key operations)."""
        name = params.get("UserName")
        if name:
            return str(name)
        found = self._ids.key(ctx.access_key_id)
        if found is None:
            raise ServiceFault("ValidationError", "Must specify userName when calling with non-User credentials")
        return str(found[0]["UserName"])

    def create_access_key(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        return {"AccessKey": self._ids.create_access_key(self._user_name(ctx, params))}

    def list_access_keys(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        user = self._ids.user(self._user_name(ctx, params))
        keys = [_key_view(user, k) for k in user["AccessKeys"]]
        return page(keys, params, lambda k: str(k["AccessKeyId"]), "AccessKeyMetadata")

    def update_access_key(self, ctx: CallContext, params: dict[str, Any]) -> None:
        self._ids.update_access_key(self._user_name(ctx, params), params["AccessKeyId"], params["Status"])

    def delete_access_key(self, ctx: CallContext, params: dict[str, Any]) -> None:
        self._ids.delete_access_key(self._user_name(ctx, params), params["AccessKeyId"])

    # -- groups ---------------------------------------------------------------------------------
    def create_group(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        return {"Group": group_view(self._ids.create_group(params["GroupName"], params.get("Path") or "/"))}

    def get_group(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        group = self._ids.group(params["GroupName"])
        out = page(self._ids.members(params["GroupName"]), params, lambda u: str(u["UserName"]).lower(), "Users")
        out["Users"] = [user_view(u) for u in out["Users"]]
        return {"Group": group_view(group), **out}

    def list_groups(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        groups = self._ids.groups(params.get("PathPrefix") or "/")
        out = page(groups, params, lambda g: str(g["GroupName"]).lower(), "Groups")
        out["Groups"] = [group_view(g) for g in out["Groups"]]
        return out

    def list_groups_for_user(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        groups = sorted(self._ids.groups_of(params["UserName"]), key=lambda g: str(g["GroupName"]).lower())
        out = page(groups, params, lambda g: str(g["GroupName"]).lower(), "Groups")
        out["Groups"] = [group_view(g) for g in out["Groups"]]
        return out

    def delete_group(self, ctx: CallContext, params: dict[str, Any]) -> None:
        self._ids.delete_group(params["GroupName"])

    def add_user_to_group(self, ctx: CallContext, params: dict[str, Any]) -> None:
        self._ids.add_user_to_group(params["GroupName"], params["UserName"])

    def remove_user_from_group(self, ctx: CallContext, params: dict[str, Any]) -> None:
        self._ids.remove_user_from_group(params["GroupName"], params["UserName"])

    # -- inline policies ------------------------------------------------------------------------
    def put_user_policy(self, ctx: CallContext, params: dict[str, Any]) -> None:
        self._ids.put_policy("user", params["UserName"], params["PolicyName"], params["PolicyDocument"])

    def put_group_policy(self, ctx: CallContext, params: dict[str, Any]) -> None:
        self._ids.put_policy("group", params["GroupName"], params["PolicyName"], params["PolicyDocument"])

    def get_user_policy(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        text = self._ids.inline_policy("user", params["UserName"], params["PolicyName"])
        name = self._ids.user(params["UserName"])["UserName"]
        return {"UserName": name, "PolicyName": params["PolicyName"], "PolicyDocument": encoded(text)}

    def get_group_policy(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        text = self._ids.inline_policy("group", params["GroupName"], params["PolicyName"])
        name = self._ids.group(params["GroupName"])["GroupName"]
        return {"GroupName": name, "PolicyName": params["PolicyName"], "PolicyDocument": encoded(text)}

    def delete_user_policy(self, ctx: CallContext, params: dict[str, Any]) -> None:
        self._ids.delete_policy("user", params["UserName"], params["PolicyName"])

    def delete_group_policy(self, ctx: CallContext, params: dict[str, Any]) -> None:
        self._ids.delete_policy("group", params["GroupName"], params["PolicyName"])

    def list_user_policies(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        return page(sorted(self._ids.user(params["UserName"])["InlinePolicies"]), params, str, "PolicyNames")

    def list_group_policies(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        return page(sorted(self._ids.group(params["GroupName"])["InlinePolicies"]), params, str, "PolicyNames")

    # -- attached managed policies --------------------------------------------------------------
    def attach_user_policy(self, ctx: CallContext, params: dict[str, Any]) -> None:
        self._ids.attach("user", params["UserName"], params["PolicyArn"])

    def attach_group_policy(self, ctx: CallContext, params: dict[str, Any]) -> None:
        self._ids.attach("group", params["GroupName"], params["PolicyArn"])

    def detach_user_policy(self, ctx: CallContext, params: dict[str, Any]) -> None:
        self._ids.detach("user", params["UserName"], params["PolicyArn"])

    def detach_group_policy(self, ctx: CallContext, params: dict[str, Any]) -> None:
        self._ids.detach("group", params["GroupName"], params["PolicyArn"])

    def _attached(self, holder: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
        prefix = params.get("PathPrefix") or "/"
        attached = []
        for arn in holder["AttachedPolicies"]:
            policy = self._ids.managed(arn)
            if policy is not None and policy["Path"].startswith(prefix):
                attached.append({"PolicyName": policy["PolicyName"], "PolicyArn": arn})
        return page(attached, params, lambda a: str(a["PolicyArn"]), "AttachedPolicies")

    def list_attached_user_policies(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        return self._attached(self._ids.user(params["UserName"]), params)

    def list_attached_group_policies(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        return self._attached(self._ids.group(params["GroupName"]), params)
