"""STS: temporary credentials and who holds them.

A session is what one issue of temporary credentials creates: an `ASIA…` access key id, a 40-character secret,
a session token and an expiry, and the identity they stand for (an assumed role's
`arn:aws:sts::<account>:assumed-role/<role>/<session>`, or for GetSessionToken the caller's own). Sessions from
the API are durable documents (kind `sts-session`, keyed by access key id) so GetCallerIdentity answers for
them after a restart, and issue 19's signature check can find their secrets, with their session policies
(AssumeRole's `Policy` text and `PolicyArns`, which the authorizer applies; GetFederationToken's sessions also
keep the IAM user that federated, `arn:aws:sts::<account>:federated-user/<name>` being no IAM identity); the
credentials handed to execution
environments live as long as the process (their environments do not outlive it).

Roles come from IAM through `RoleLookup` (no import of IAM's engine): a role Lamina knows has its trust in
`MaxSessionDuration` honoured; one it does not know is assumed as AWS would once it existed, unless `strict`
(then AWS's AccessDenied).
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import string
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from lamina.clock import Clock
from lamina.errors import AccessDenied, ServiceFault, ValidationFailed
from lamina.sandbox.role_credentials import RoleCredentials
from lamina.store.documents import DocumentStore

KIND = "sts-session"
ROLE_CHAIN_LIMIT = 3600  # seconds: a role assumed with role credentials lasts at most an hour
FUNCTION_SESSION = 12 * 3600
FEDERATION_DEFAULT = 43200  # GetFederationToken's default DurationSeconds
ROOT_FEDERATION_LIMIT = 3600  # root's federation sessions last at most an hour
_KEY_ALPHABET = string.ascii_uppercase + string.digits
_SECRET_ALPHABET = string.ascii_letters + string.digits + "+/"


@dataclass(frozen=True)
class KnownRole:
    """What STS needs of an IAM role."""

    arn: str
    name: str
    role_id: str
    max_session: int


RoleLookup = Callable[[str], KnownRole | None]
# An IAM user's access key id → (user ARN, user id), None for a key that is not a user's.
UserLookup = Callable[[str], tuple[str, str] | None]


@dataclass(frozen=True)
class Session:
    access_key_id: str
    secret_access_key: str
    session_token: str
    expiration: float
    arn: str  # the identity these credentials stand for
    user_id: str  # GetCallerIdentity's UserId: "AROA…:session" for an assumed role
    assumed_role: bool
    # session policies (AssumeRole's `Policy` and `PolicyArns`): None when the session has none, so it has
    # its role's permissions; else they cap them (an empty `policy_arns` with no `policy` cannot happen)
    policy: str | None = None
    policy_arns: tuple[str, ...] = ()
    # GetFederationToken's: the ARN of the IAM user (or root) that federated, whose identity policies apply;
    # such a session is always capped by its session policies (none: no permissions)
    federated_by: str | None = None

    @property
    def scoped(self) -> bool:
        """Whether session policies limit these credentials."""
        return self.policy is not None or bool(self.policy_arns) or self.federated_by is not None

    def credentials(self) -> dict[str, Any]:
        return {
            "AccessKeyId": self.access_key_id,
            "SecretAccessKey": self.secret_access_key,
            "SessionToken": self.session_token,
            "Expiration": self.expiration,
        }


def expired_token() -> ServiceFault:
    return ServiceFault("ExpiredToken", "The security token included in the request is expired", 403)


def _role_id(arn: str) -> str:
    """A stable AROA id for a role Lamina has no record of."""
    digest = hashlib.sha256(arn.encode()).digest()
    return "AROA" + "".join(_KEY_ALPHABET[b % len(_KEY_ALPHABET)] for b in digest[:17])


def _new_keys() -> tuple[str, str, str]:
    key_id = "ASIA" + "".join(secrets.choice(_KEY_ALPHABET) for _ in range(16))
    secret = "".join(secrets.choice(_SECRET_ALPHABET) for _ in range(40))
    # AWS's tokens all start with the same bytes ("IQoJb3JpZ2luX2Vj" in base64); the rest is random here.
    token = "IQoJb3JpZ2luX2Vj" + base64.b64encode(secrets.token_bytes(600)).decode()
    return key_id, secret, token


class StsEngine:
    def __init__(
        self,
        store: DocumentStore,
        clock: Clock,
        account_id: str,
        roles: RoleLookup,
        *,
        strict: bool = False,
        users: UserLookup | None = None,
    ) -> None:
        self._users = users
        self._store = store
        self._clock = clock
        self.account_id = account_id
        self._roles = roles
        self._strict = strict
        self._sessions: dict[str, Session] = {}

    def load(self) -> None:
        now = self._clock.time()
        for key, doc in self._store.load(KIND).items():
            session = Session(**{**doc, "policy_arns": tuple(doc.get("policy_arns") or ())})
            if session.expiration <= now:
                self._store.delete(KIND, key)
            else:
                self._sessions[key] = session

    # -- who is calling -------------------------------------------------------------------------
    def caller(self, access_key_id: str) -> tuple[str, str]:
        """(Arn, UserId) of the credentials a request was signed with: a session's identity, an IAM user's,
        else the account's root (every other key)."""
        session = self._sessions.get(access_key_id)
        if session is None:
            user = self._users(access_key_id) if self._users is not None else None
            return user or (f"arn:aws:iam::{self.account_id}:root", self.account_id)
        if session.expiration <= self._clock.time():
            raise expired_token()
        return session.arn, session.user_id

    def session(self, access_key_id: str) -> Session | None:
        return self._sessions.get(access_key_id)

    # -- issuing --------------------------------------------------------------------------------
    def _issue(
        self,
        arn: str,
        user_id: str,
        seconds: int,
        assumed_role: bool,
        durable: bool = True,
        policy: str | None = None,
        policy_arns: tuple[str, ...] = (),
        federated_by: str | None = None,
    ) -> Session:
        key_id, secret, token = _new_keys()
        expiration = self._clock.time() + seconds
        session = Session(
            key_id, secret, token, expiration, arn, user_id, assumed_role, policy, policy_arns, federated_by
        )
        if durable:
            self._store.put(KIND, key_id, asdict(session))
        self._sessions[key_id] = session
        return session

    def _role(self, caller_key: str, role_arn: str, seconds: int | None, chained_check: bool = True) -> KnownRole:
        parts = role_arn.split(":", 5)
        if len(parts) != 6 or parts[0] != "arn" or parts[2] != "iam" or not parts[5].startswith("role/"):
            raise ValidationFailed(f"{role_arn} is invalid")
        role = self._roles(role_arn)
        if role is None:
            if self._strict:
                caller, _ = self.caller(caller_key)
                raise AccessDenied(
                    f"User: {caller} is not authorized to perform: sts:AssumeRole on resource: {role_arn}"
                )
            role = KnownRole(role_arn, role_arn.rsplit("/", 1)[-1], _role_id(role_arn), 43200)
        if seconds is not None and seconds > role.max_session:
            raise ValidationFailed("The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
        caller_session = self._sessions.get(caller_key)
        chained = chained_check and caller_session is not None and caller_session.assumed_role
        if chained and seconds is not None and seconds > ROLE_CHAIN_LIMIT:
            raise ValidationFailed(
                "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining."
            )
        return role

    def _role_session(
        self, role: KnownRole, session_name: str, seconds: int | None, policy: str | None, policy_arns: tuple[str, ...]
    ) -> Session:
        return self._issue(
            f"arn:aws:sts::{self.account_id}:assumed-role/{role.name}/{session_name}",
            f"{role.role_id}:{session_name}",
            seconds or 3600,
            assumed_role=True,
            policy=policy,
            policy_arns=policy_arns,
        )

    def assume_role(
        self,
        caller_key: str,
        role_arn: str,
        session_name: str,
        seconds: int | None,
        policy: str | None = None,
        policy_arns: tuple[str, ...] = (),
    ) -> Session:
        """`policy` (checked JSON) and `policy_arns` are the session policies that limit the new session."""
        self.caller(caller_key)  # expired credentials may not assume anything
        role = self._role(caller_key, role_arn, seconds)
        return self._role_session(role, session_name, seconds, policy, policy_arns)

    def assume_role_with_web_identity(
        self,
        role_arn: str,
        session_name: str,
        seconds: int | None,
        policy: str | None = None,
        policy_arns: tuple[str, ...] = (),
    ) -> Session:
        role = self._role("", role_arn, seconds, chained_check=False)
        return self._role_session(role, session_name, seconds, policy, policy_arns)

    def session_token(self, caller_key: str, seconds: int | None) -> Session:
        session = self._sessions.get(caller_key)
        if session is not None:
            self.caller(caller_key)
            raise AccessDenied("Cannot call GetSessionToken with session credentials")
        arn, user_id = self.caller(caller_key)
        return self._issue(arn, user_id, seconds or 43200, assumed_role=False)

    def federation_token(
        self,
        caller_key: str,
        name: str,
        seconds: int | None,
        policy: str | None = None,
        policy_arns: tuple[str, ...] = (),
    ) -> Session:
        """GetFederationToken: long-term keys only (an IAM user's, or root's, whose session lasts at most an
        hour: a longer request gets the hour, as AWS documents). 12 hours by default."""
        if caller_key in self._sessions:
            self.caller(caller_key)
            raise AccessDenied("Cannot call GetFederationToken with session credentials")
        arn, _ = self.caller(caller_key)
        seconds = seconds or FEDERATION_DEFAULT
        if arn == f"arn:aws:iam::{self.account_id}:root":
            seconds = min(seconds, ROOT_FEDERATION_LIMIT)
        return self._issue(
            f"arn:aws:sts::{self.account_id}:federated-user/{name}",
            f"{self.account_id}:{name}",
            seconds,
            assumed_role=False,
            policy=policy,
            policy_arns=policy_arns,
            federated_by=arn,
        )

    # -- execution environments -----------------------------------------------------------------
    def function_credentials(self, role_arn: str, function_name: str) -> RoleCredentials:
        """Credentials of a function's execution role for one environment, as Lambda assumes it (the session
        is named for the function). Not durable: environments end with the process."""
        role = self._roles(role_arn)
        name = role.name if role is not None else role_arn.rsplit("/", 1)[-1]
        role_id = role.role_id if role is not None else _role_id(role_arn)
        session = self._issue(
            f"arn:aws:sts::{self.account_id}:assumed-role/{name}/{function_name}",
            f"{role_id}:{function_name}",
            FUNCTION_SESSION,
            assumed_role=True,
            durable=False,
        )
        return RoleCredentials(session.access_key_id, session.secret_access_key, session.session_token)
