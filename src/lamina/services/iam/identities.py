"""IAM users, their access keys, and groups, with inline and attached managed policies (issue 19).

Documents (store/documents.py): kind `iam-user` keyed by the lower-case user name, holding the user, its
access keys (id, secret, status, creation), inline policies, attached policy ARNs and group names; kind
`iam-group` keyed by the lower-case group name, holding the group and its own policies. Membership is kept
on the user (one write per change). An in-memory index finds a key's user for the signature check.

Every change is committed before the caller is answered; a refused change writes nothing.
"""

from __future__ import annotations

import copy
import json
import secrets
import string
from typing import Any

from lamina.clock import Clock
from lamina.errors import ServiceFault
from lamina.services.iam import policy_document
from lamina.services.iam.engine import (
    MAX_ATTACHED,
    IamEngine,
    already_exists,
    delete_conflict,
    limit_exceeded,
    merge_tags,
    no_such_entity,
    policy_size,
)
from lamina.services.iam.identifiers import iso, unique_id
from lamina.store.documents import DocumentStore

USER_KIND = "iam-user"
GROUP_KIND = "iam-group"
MAX_KEYS = 2  # AccessKeysPerUser
MAX_USER_INLINE_BYTES = 2048  # UserPolicySize
MAX_GROUP_INLINE_BYTES = 5120  # GroupPolicySize
MAX_GROUPS_PER_USER = 10
_SECRET_ALPHABET = string.ascii_letters + string.digits + "+/"

User = dict[str, Any]
Group = dict[str, Any]


class Identities:
    def __init__(self, store: DocumentStore, clock: Clock, engine: IamEngine) -> None:
        self._store = store
        self._clock = clock
        self._engine = engine
        self.account_id = engine.account_id
        self._users: dict[str, User] = {}
        self._groups: dict[str, Group] = {}
        self._keys: dict[str, str] = {}  # access key id → lower-case user name
        engine.attachment_counters.append(self._attachments)
        engine.boundary_counters.append(self._boundaries)

    def load(self) -> None:
        self._users = self._store.load(USER_KIND)
        self._groups = self._store.load(GROUP_KIND)
        self._keys = {k["AccessKeyId"]: name for name, u in self._users.items() for k in u["AccessKeys"]}

    def _now(self) -> str:
        return iso(self._clock.time())

    # -- users ----------------------------------------------------------------------------------
    def user(self, name: str) -> User:
        user = self._users.get(name.lower())
        if user is None:
            raise no_such_entity(f"The user with name {name} cannot be found.")
        return user

    def users(self, path_prefix: str = "/") -> list[User]:
        found = [u for u in self._users.values() if u["Path"].startswith(path_prefix)]
        return sorted(found, key=lambda u: u["UserName"].lower())

    def create_user(
        self, name: str, path: str = "/", tags: list[dict[str, str]] | None = None, boundary: str | None = None
    ) -> User:
        boundary_view = self._engine.boundary(boundary) if boundary is not None else None
        if name.lower() in self._users:
            raise already_exists(f"User with name {name} already exists.")
        user: User = {
            "Path": path,
            "UserName": name,
            "UserId": unique_id("AIDA"),
            "Arn": f"arn:aws:iam::{self.account_id}:user{path}{name}",
            "CreateDate": self._now(),
            "Tags": merge_tags([], tags or []),
            "AccessKeys": [],
            "InlinePolicies": {},
            "AttachedPolicies": [],
            "Groups": [],
        }
        if boundary_view is not None:
            user["PermissionsBoundary"] = boundary_view
        self._save_user(user)
        return user

    def set_boundary(self, name: str, arn: str | None) -> None:
        """Put (or with None delete) the user's permissions boundary."""
        user = self.user(name)
        if arn is None:
            if "PermissionsBoundary" in user:
                changed = copy.deepcopy(user)
                del changed["PermissionsBoundary"]
                self._save_user(changed)
            return
        self._changed_user(name, {"PermissionsBoundary": self._engine.boundary(arn)})

    def _boundaries(self, arn: str) -> int:
        return sum(
            1 for u in self._users.values() if (u.get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn") == arn
        )

    def _save_user(self, user: User) -> None:
        key = user["UserName"].lower()
        self._store.put(USER_KIND, key, user)
        self._users[key] = user

    def _changed_user(self, name: str, change: dict[str, Any]) -> User:
        user = {**copy.deepcopy(self.user(name)), **change}
        self._save_user(user)
        return user

    def delete_user(self, name: str) -> None:
        user = self.user(name)
        if user["AccessKeys"] or user["InlinePolicies"] or user["AttachedPolicies"] or user["Groups"]:
            raise delete_conflict(
                "Cannot delete entity, must delete access keys, policies and group memberships first."
            )
        key = user["UserName"].lower()
        self._store.delete(USER_KIND, key)
        del self._users[key]

    # -- access keys ----------------------------------------------------------------------------
    def create_access_key(self, user_name: str) -> dict[str, Any]:
        user = self.user(user_name)
        if len(user["AccessKeys"]) >= MAX_KEYS:
            raise limit_exceeded(f"Cannot exceed quota for AccessKeysPerUser: {MAX_KEYS}")
        key = {
            "AccessKeyId": unique_id("AKIA", 16),
            "SecretAccessKey": "".join(secrets.choice(_SECRET_ALPHABET) for _ in range(40)),
            "Status": "Active",
            "CreateDate": self._now(),
        }
        self._changed_user(user_name, {"AccessKeys": [*user["AccessKeys"], key]})
        self._keys[key["AccessKeyId"]] = user["UserName"].lower()
        return {"UserName": user["UserName"], **key}

    def _key_of(self, user_name: str, key_id: str) -> User:
        user = self.user(user_name)
        if not any(k["AccessKeyId"] == key_id for k in user["AccessKeys"]):
            raise no_such_entity(f"The Access Key with id {key_id} cannot be found.")
        return user

    def update_access_key(self, user_name: str, key_id: str, status: str) -> None:
        user = self._key_of(user_name, key_id)
        keys = [{**k, "Status": status} if k["AccessKeyId"] == key_id else k for k in user["AccessKeys"]]
        self._changed_user(user_name, {"AccessKeys": keys})

    def delete_access_key(self, user_name: str, key_id: str) -> None:
        user = self._key_of(user_name, key_id)
        self._changed_user(user_name, {"AccessKeys": [k for k in user["AccessKeys"] if k["AccessKeyId"] != key_id]})
        self._keys.pop(key_id, None)

    def key(self, key_id: str) -> tuple[User, dict[str, Any]] | None:
        """The user holding access key `key_id` and the key (for the signature check)."""
        name = self._keys.get(key_id)
        user = self._users.get(name) if name is not None else None
        if user is None:
            return None
        found = next((k for k in user["AccessKeys"] if k["AccessKeyId"] == key_id), None)
        return None if found is None else (user, found)

    # -- groups ---------------------------------------------------------------------------------
    def group(self, name: str) -> Group:
        group = self._groups.get(name.lower())
        if group is None:
            raise no_such_entity(f"The group with name {name} cannot be found.")
        return group

    def groups(self, path_prefix: str = "/") -> list[Group]:
        found = [g for g in self._groups.values() if g["Path"].startswith(path_prefix)]
        return sorted(found, key=lambda g: g["GroupName"].lower())

    def create_group(self, name: str, path: str = "/") -> Group:
        if name.lower() in self._groups:
            raise already_exists(f"Group with name {name} already exists.")
        group: Group = {
            "Path": path,
            "GroupName": name,
            "GroupId": unique_id("AGPA"),
            "Arn": f"arn:aws:iam::{self.account_id}:group{path}{name}",
            "CreateDate": self._now(),
            "InlinePolicies": {},
            "AttachedPolicies": [],
        }
        self._save_group(group)
        return group

    def _save_group(self, group: Group) -> None:
        key = group["GroupName"].lower()
        self._store.put(GROUP_KIND, key, group)
        self._groups[key] = group

    def _changed_group(self, name: str, change: dict[str, Any]) -> Group:
        group = {**copy.deepcopy(self.group(name)), **change}
        self._save_group(group)
        return group

    def members(self, group_name: str) -> list[User]:
        key = self.group(group_name)["GroupName"].lower()
        return [u for u in self.users() if key in u["Groups"]]

    def delete_group(self, name: str) -> None:
        group = self.group(name)
        if self.members(name):
            raise delete_conflict("Cannot delete entity, must remove users from group first.")
        if group["InlinePolicies"] or group["AttachedPolicies"]:
            raise delete_conflict("Cannot delete entity, must delete policies first.")
        key = group["GroupName"].lower()
        self._store.delete(GROUP_KIND, key)
        del self._groups[key]

    def add_user_to_group(self, group_name: str, user_name: str) -> None:
        key = self.group(group_name)["GroupName"].lower()
        user = self.user(user_name)
        if key in user["Groups"]:
            return
        if len(user["Groups"]) >= MAX_GROUPS_PER_USER:
            raise limit_exceeded(f"Cannot exceed quota for GroupsPerUser: {MAX_GROUPS_PER_USER}")
        self._changed_user(user_name, {"Groups": [*user["Groups"], key]})

    def remove_user_from_group(self, group_name: str, user_name: str) -> None:
        key = self.group(group_name)["GroupName"].lower()
        user = self.user(user_name)
        if key not in user["Groups"]:
            raise no_such_entity(f"The user with name {user_name} cannot be found in group {group_name}.")
        self._changed_user(user_name, {"Groups": [g for g in user["Groups"] if g != key]})

    def groups_of(self, user_name: str) -> list[Group]:
        return [self._groups[g] for g in self.user(user_name)["Groups"] if g in self._groups]

    # -- policies of users and groups -------------------------------------------------------------
    def _holder(self, kind: str, name: str) -> dict[str, Any]:
        return self.user(name) if kind == "user" else self.group(name)

    def _change(self, kind: str, name: str, change: dict[str, Any]) -> None:
        if kind == "user":
            self._changed_user(name, change)
        else:
            self._changed_group(name, change)

    def put_policy(self, kind: str, name: str, policy_name: str, text: str) -> None:
        holder = self._holder(kind, name)
        policy_document.check_identity_policy(text)
        inline = {**holder["InlinePolicies"], policy_name: text}
        limit = MAX_USER_INLINE_BYTES if kind == "user" else MAX_GROUP_INLINE_BYTES
        if sum(policy_size(t) for t in inline.values()) > limit:
            raise limit_exceeded(f"Maximum policy size of {limit} bytes exceeded for {kind} {name}")
        self._change(kind, name, {"InlinePolicies": inline})

    def inline_policy(self, kind: str, name: str, policy_name: str) -> str:
        text = self._holder(kind, name)["InlinePolicies"].get(policy_name)
        if text is None:
            raise no_such_entity(f"The {kind} policy with name {policy_name} cannot be found.")
        return str(text)

    def delete_policy(self, kind: str, name: str, policy_name: str) -> None:
        self.inline_policy(kind, name, policy_name)
        inline = {k: v for k, v in self._holder(kind, name)["InlinePolicies"].items() if k != policy_name}
        self._change(kind, name, {"InlinePolicies": inline})

    def attach(self, kind: str, name: str, arn: str) -> None:
        holder = self._holder(kind, name)
        self._engine.attachable(arn)
        if arn in holder["AttachedPolicies"]:
            return
        if len(holder["AttachedPolicies"]) >= MAX_ATTACHED:
            quota = "PoliciesPerUser" if kind == "user" else "PoliciesPerGroup"
            raise limit_exceeded(f"Cannot exceed quota for {quota}: {MAX_ATTACHED}")
        self._change(kind, name, {"AttachedPolicies": [*holder["AttachedPolicies"], arn]})

    def detach(self, kind: str, name: str, arn: str) -> None:
        holder = self._holder(kind, name)
        if arn not in holder["AttachedPolicies"]:
            raise no_such_entity(f"Policy {arn} was not found.")
        self._change(kind, name, {"AttachedPolicies": [a for a in holder["AttachedPolicies"] if a != arn]})

    def managed(self, arn: str) -> dict[str, Any] | None:
        try:
            return self._engine.policy(arn)
        except ServiceFault:
            return None

    def _attachments(self, arn: str) -> int:
        holders = [*self._users.values(), *self._groups.values()]
        return sum(1 for h in holders if arn in h["AttachedPolicies"])

    def group_policies(self, group_name: str) -> list[dict[str, Any]]:
        group = self.group(group_name)
        found = [json.loads(text) for text in group["InlinePolicies"].values()]
        return found + self._engine.managed_documents(group["AttachedPolicies"])

    def user_policies(self, user_name: str) -> list[dict[str, Any]]:
        """The parsed documents granting a user its permissions: its own, then its groups' (inline, then the
        default versions of attached managed policies)."""
        user = self._users.get(user_name.lower())
        if user is None:
            return []
        found: list[dict[str, Any]] = []
        for holder in (user, *(self._groups[g] for g in user["Groups"] if g in self._groups)):
            found.extend(json.loads(text) for text in holder["InlinePolicies"].values())
            found.extend(self._engine.managed_documents(holder["AttachedPolicies"]))
        return found
