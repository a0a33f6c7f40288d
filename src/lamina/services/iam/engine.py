"""IAM's roles and managed policies: durable documents, checked and answered as IAM does.

Documents (store/documents.py): kind `iam-role` keyed by the lower-case role name (IAM's names are unique
regardless of case), holding the role, its inline policies and the ARNs of its attached managed policies;
kind `iam-policy` keyed by ARN, holding a customer managed policy with its versions. AWS managed policies
are vendored (aws_managed.py) and never written. Users, groups and access keys (issue 19) are further
kinds beside these; `identity_policies` is what policy evaluation reads for a role.

Every change is committed before the caller is answered. Errors are `IamError`s carrying IAM's own codes.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

from lamina.clock import Clock
from lamina.errors import ServiceFault
from lamina.services.iam import policy_document
from lamina.services.iam.aws_managed import managed_policies
from lamina.services.iam.identifiers import iso, unique_id
from lamina.store.documents import DocumentStore

ROLE_KIND = "iam-role"
POLICY_KIND = "iam-policy"
MAX_VERSIONS = 5
MAX_ATTACHED = 10  # PoliciesPerRole
MAX_INLINE_BYTES = 10240  # aggregate inline policy size per role (RolePolicySize)
MAX_POLICY_BYTES = 6144  # PolicySize of a managed policy
MAX_TRUST_BYTES = 2048  # ACLSizePerRole
MAX_TAGS = 50

Role = dict[str, Any]
Policy = dict[str, Any]


def no_such_entity(message: str) -> ServiceFault:
    return ServiceFault("NoSuchEntity", message, 404)


def already_exists(message: str) -> ServiceFault:
    return ServiceFault("EntityAlreadyExists", message, 409)


def delete_conflict(message: str) -> ServiceFault:
    return ServiceFault("DeleteConflict", message, 409)


def limit_exceeded(message: str) -> ServiceFault:
    return ServiceFault("LimitExceeded", message, 409)


def invalid_input(message: str) -> ServiceFault:
    return ServiceFault("InvalidInput", message, 400)


def policy_size(text: str) -> int:
    """IAM counts a document's size without its whitespace."""
    return len("".join(text.split()))


def merge_tags(current: list[dict[str, str]], new: list[dict[str, str]]) -> list[dict[str, str]]:
    merged = {t["Key"]: t["Value"] for t in current}
    for tag in new:
        merged[tag["Key"]] = tag.get("Value", "")
    if len(merged) > MAX_TAGS:
        raise limit_exceeded(f"The number of tags has reached the maximum limit of {MAX_TAGS}.")
    return [{"Key": k, "Value": v} for k, v in merged.items()]


class IamEngine:
    def __init__(self, store: DocumentStore, clock: Clock, account_id: str) -> None:
        self._store = store
        self._clock = clock
        self.account_id = account_id
        self._roles: dict[str, Role] = {}
        self._policies: dict[str, Policy] = {}
        # Other holders of managed policies (users and groups: identities.py) count their attachments here.
        self.attachment_counters: list[Callable[[str], int]] = []
        self.boundary_counters: list[Callable[[str], int]] = []  # users' boundaries (identities.py)

    def load(self) -> None:
        self._roles = self._store.load(ROLE_KIND)
        self._policies = {**managed_policies(), **self._store.load(POLICY_KIND)}

    def _now(self) -> str:
        return iso(self._clock.time())

    # -- roles ----------------------------------------------------------------------------------
    def role(self, name: str) -> Role:
        role = self._roles.get(name.lower())
        if role is None:
            raise no_such_entity(f"The role with name {name} cannot be found.")
        return role

    def roles(self, path_prefix: str = "/") -> list[Role]:
        found = [r for r in self._roles.values() if r["Path"].startswith(path_prefix)]
        return sorted(found, key=lambda r: r["RoleName"].lower())

    def role_by_arn(self, arn: str) -> Role | None:
        """The role an ARN names in this account (`arn:aws:iam::<account>:role/<path/><name>`), if it exists."""
        if not arn.startswith(f"arn:aws:iam::{self.account_id}:role/"):
            return None
        role = self._roles.get(arn.rsplit("/", 1)[-1].lower())
        return role if role is not None and role["Arn"] == arn else None

    def create_role(
        self,
        name: str,
        trust: str,
        path: str = "/",
        description: str | None = None,
        max_session: int | None = None,
        tags: list[dict[str, str]] | None = None,
        boundary: str | None = None,
    ) -> Role:
        policy_document.check_trust_policy(trust)
        boundary_view = self.boundary(boundary) if boundary is not None else None
        if policy_size(trust) > MAX_TRUST_BYTES:
            raise limit_exceeded(f"Cannot exceed quota for ACLSizePerRole: {MAX_TRUST_BYTES}")
        if name.lower() in self._roles:
            raise already_exists(f"Role with name {name} already exists.")
        role: Role = {
            "Path": path,
            "RoleName": name,
            "RoleId": unique_id("AROA"),
            "Arn": f"arn:aws:iam::{self.account_id}:role{path}{name}",
            "CreateDate": self._now(),
            "AssumeRolePolicyDocument": trust,
            "MaxSessionDuration": max_session or 3600,
            "Tags": merge_tags([], tags or []),
            "InlinePolicies": {},
            "AttachedPolicies": [],
        }
        if description is not None:
            role["Description"] = description
        if boundary_view is not None:
            role["PermissionsBoundary"] = boundary_view
        self._save_role(role)
        return role

    # -- permissions boundaries (a managed policy capping what identity policies grant) -----------
    def boundary(self, arn: str) -> dict[str, str]:
        """What PermissionsBoundary shows for `arn` (NoSuchEntity / InvalidInput as AWS answers a bad ARN)."""
        self.attachable(arn)
        return {"PermissionsBoundaryType": "Policy", "PermissionsBoundaryArn": arn}

    def set_role_boundary(self, name: str, arn: str | None) -> None:
        role = self.role(name)
        if arn is None:
            if "PermissionsBoundary" in role:
                changed = copy.deepcopy(role)
                del changed["PermissionsBoundary"]
                self._save_role(changed)
            return
        self._changed_role(name, {"PermissionsBoundary": self.boundary(arn)})

    def boundary_count(self, arn: str) -> int:
        """How many roles and users have `arn` as their permissions boundary."""
        roles = sum(
            1 for r in self._roles.values() if (r.get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn") == arn
        )
        return roles + sum(count(arn) for count in self.boundary_counters)

    def _save_role(self, role: Role) -> None:
        key = role["RoleName"].lower()
        self._store.put(ROLE_KIND, key, role)
        self._roles[key] = role

    def _changed_role(self, name: str, change: dict[str, Any]) -> Role:
        role = {**copy.deepcopy(self.role(name)), **change}
        self._save_role(role)
        return role

    def update_role(self, name: str, description: str | None, max_session: int | None) -> None:
        change: dict[str, Any] = {}
        if description is not None:
            change["Description"] = description
        if max_session is not None:
            change["MaxSessionDuration"] = max_session
        self._changed_role(name, change)

    def update_trust_policy(self, name: str, trust: str) -> None:
        self.role(name)
        policy_document.check_trust_policy(trust)
        if policy_size(trust) > MAX_TRUST_BYTES:
            raise limit_exceeded(f"Cannot exceed quota for ACLSizePerRole: {MAX_TRUST_BYTES}")
        self._changed_role(name, {"AssumeRolePolicyDocument": trust})

    def delete_role(self, name: str) -> None:
        role = self.role(name)
        if role["AttachedPolicies"]:
            raise delete_conflict("Cannot delete entity, must detach all policies first.")
        if role["InlinePolicies"]:
            raise delete_conflict("Cannot delete entity, must delete policies first.")
        key = role["RoleName"].lower()
        self._store.delete(ROLE_KIND, key)
        del self._roles[key]

    def tag_role(self, name: str, tags: list[dict[str, str]]) -> None:
        role = self.role(name)
        self._changed_role(name, {"Tags": merge_tags(role["Tags"], tags)})

    def untag_role(self, name: str, keys: list[str]) -> None:
        role = self.role(name)
        self._changed_role(name, {"Tags": [t for t in role["Tags"] if t["Key"] not in keys]})

    # -- inline role policies -------------------------------------------------------------------
    def put_role_policy(self, role_name: str, policy_name: str, text: str) -> None:
        role = self.role(role_name)
        policy_document.check_identity_policy(text)
        inline = {**role["InlinePolicies"], policy_name: text}
        if sum(policy_size(t) for t in inline.values()) > MAX_INLINE_BYTES:
            raise limit_exceeded(f"Maximum policy size of {MAX_INLINE_BYTES} bytes exceeded for role {role_name}")
        self._changed_role(role_name, {"InlinePolicies": inline})

    def role_policy(self, role_name: str, policy_name: str) -> str:
        text = self.role(role_name)["InlinePolicies"].get(policy_name)
        if text is None:
            raise no_such_entity(f"The role policy with name {policy_name} cannot be found.")
        return str(text)

    def delete_role_policy(self, role_name: str, policy_name: str) -> None:
        self.role_policy(role_name, policy_name)
        inline = dict(self.role(role_name)["InlinePolicies"])
        del inline[policy_name]
        self._changed_role(role_name, {"InlinePolicies": inline})

    # -- attachments ----------------------------------------------------------------------------
    def attach_role_policy(self, role_name: str, arn: str) -> None:
        role = self.role(role_name)
        self.attachable(arn)
        if arn in role["AttachedPolicies"]:
            return
        if len(role["AttachedPolicies"]) >= MAX_ATTACHED:
            raise limit_exceeded(f"Cannot exceed quota for PoliciesPerRole: {MAX_ATTACHED}")
        self._changed_role(role_name, {"AttachedPolicies": [*role["AttachedPolicies"], arn]})

    def detach_role_policy(self, role_name: str, arn: str) -> None:
        role = self.role(role_name)
        self._check_arn(arn)
        if arn not in role["AttachedPolicies"]:
            raise no_such_entity(f"Policy {arn} was not found.")
        self._changed_role(role_name, {"AttachedPolicies": [a for a in role["AttachedPolicies"] if a != arn]})

    def attachment_count(self, arn: str) -> int:
        roles = sum(1 for role in self._roles.values() if arn in role["AttachedPolicies"])
        return roles + sum(count(arn) for count in self.attachment_counters)

    def managed_documents(self, arns: list[str]) -> list[dict[str, Any]]:
        """The parsed default versions of the managed policies `arns` names (those that still exist)."""
        found = []
        for arn in arns:
            policy = self._policies.get(arn)
            if policy is not None:
                found.append(json.loads(policy["Versions"][policy["DefaultVersionId"]]["Document"]))
        return found

    # -- managed policies -----------------------------------------------------------------------
    @staticmethod
    def _check_arn(arn: str) -> None:
        parts = arn.split(":", 5)
        if len(parts) < 6 or parts[0] != "arn" or not parts[2]:
            raise invalid_input(f"ARN {arn} is not valid.")

    def attachable(self, arn: str) -> Policy:
        self._check_arn(arn)
        policy = self._policies.get(arn)
        if policy is None:
            raise no_such_entity(f"Policy {arn} does not exist or is not attachable.")
        return policy

    def policy(self, arn: str) -> Policy:
        self._check_arn(arn)
        policy = self._policies.get(arn)
        if policy is None:
            raise no_such_entity(f"Policy {arn} was not found.")
        return policy

    def policies(self) -> list[Policy]:
        return sorted(self._policies.values(), key=lambda p: p["PolicyName"].lower())

    def create_policy(
        self,
        name: str,
        text: str,
        path: str = "/",
        description: str | None = None,
        tags: list[dict[str, str]] | None = None,
    ) -> Policy:
        policy_document.check_identity_policy(text)
        if policy_size(text) > MAX_POLICY_BYTES:
            raise limit_exceeded(f"Cannot exceed quota for PolicySize: {MAX_POLICY_BYTES}")
        prefix = f"arn:aws:iam::{self.account_id}:policy/"
        if any(a.startswith(prefix) and a.rsplit("/", 1)[-1].lower() == name.lower() for a in self._policies):
            raise already_exists(f"A policy called {name} already exists. Duplicate names are not allowed.")
        now = self._now()
        policy: Policy = {
            "PolicyName": name,
            "PolicyId": unique_id("ANPA"),
            "Arn": f"arn:aws:iam::{self.account_id}:policy{path}{name}",
            "Path": path,
            "DefaultVersionId": "v1",
            "CreateDate": now,
            "UpdateDate": now,
            "Tags": merge_tags([], tags or []),
            "Versions": {"v1": {"Document": text, "CreateDate": now}},
            "NextVersion": 2,
        }
        if description is not None:
            policy["Description"] = description
        self._save_policy(policy)
        return policy

    def _save_policy(self, policy: Policy) -> None:
        self._store.put(POLICY_KIND, policy["Arn"], policy)
        self._policies[policy["Arn"]] = policy

    def _customer(self, arn: str) -> Policy:
        policy = self.policy(arn)
        if policy.get("AwsManaged"):
            raise ServiceFault(
                "AccessDenied", f"User is not authorized to perform this action on the AWS managed policy {arn}", 403
            )
        return copy.deepcopy(policy)

    def delete_policy(self, arn: str) -> None:
        policy = self._customer(arn)
        if self.attachment_count(arn) or self.boundary_count(arn):  # a boundary is in use too
            raise delete_conflict("Cannot delete a policy attached to entities.")
        if len(policy["Versions"]) > 1:
            raise delete_conflict(
                "This policy has more than one version. Before you delete a policy, you must delete the policy's "
                "versions. The default version is deleted with the policy."
            )
        self._store.delete(POLICY_KIND, arn)
        del self._policies[arn]

    def create_policy_version(self, arn: str, text: str, set_default: bool) -> tuple[str, dict[str, Any]]:
        policy = self._customer(arn)
        policy_document.check_identity_policy(text)
        if policy_size(text) > MAX_POLICY_BYTES:
            raise limit_exceeded(f"Cannot exceed quota for PolicySize: {MAX_POLICY_BYTES}")
        if len(policy["Versions"]) >= MAX_VERSIONS:
            raise limit_exceeded(
                f"A managed policy can have up to {MAX_VERSIONS} versions. Before you create a new version, "
                "you must delete an existing version."
            )
        version_id = f"v{policy['NextVersion']}"
        now = self._now()
        policy["Versions"][version_id] = {"Document": text, "CreateDate": now}
        policy["NextVersion"] += 1
        policy["UpdateDate"] = now
        if set_default:
            policy["DefaultVersionId"] = version_id
        self._save_policy(policy)
        return version_id, policy["Versions"][version_id]

    def policy_version(self, arn: str, version_id: str) -> dict[str, Any]:
        policy = self.policy(arn)
        version = policy["Versions"].get(version_id)
        if version is None:
            raise no_such_entity(f"Policy {arn} version {version_id} does not exist or is not attachable.")
        return dict(version)

    def delete_policy_version(self, arn: str, version_id: str) -> None:
        policy = self._customer(arn)
        self.policy_version(arn, version_id)
        if policy["DefaultVersionId"] == version_id:
            raise delete_conflict("Cannot delete the default version of a policy.")
        del policy["Versions"][version_id]
        self._save_policy(policy)

    def set_default_policy_version(self, arn: str, version_id: str) -> None:
        policy = self._customer(arn)
        self.policy_version(arn, version_id)
        policy["DefaultVersionId"] = version_id
        policy["UpdateDate"] = self._now()
        self._save_policy(policy)

    # -- what other services ask ----------------------------------------------------------------
    def assumable_by(self, role_arn: str, service: str) -> bool:
        """Whether the role exists and its trust policy lets `service` (lambda.amazonaws.com) assume it."""
        role = self.role_by_arn(role_arn)
        if role is None:
            return False
        return policy_document.trusts_service(json.loads(role["AssumeRolePolicyDocument"]), service)

    def identity_policies(self, role_arn: str) -> list[dict[str, Any]]:
        """The parsed documents that grant a role its permissions: inline ones, then the default versions of
        the attached managed ones (for policy evaluation)."""
        role = self.role_by_arn(role_arn)
        if role is None:
            return []
        found = [json.loads(text) for text in role["InlinePolicies"].values()]
        return found + self.managed_documents(role["AttachedPolicies"])
