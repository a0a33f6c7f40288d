"""STS's engine in virtual time: credentials expire on the clock, expired sessions are dropped on load."""

from __future__ import annotations

import pytest

from lamina.clock import ManualClock
from lamina.errors import ServiceFault
from lamina.services.sts.engine import KnownRole, StsEngine
from lamina.store.documents import MemoryStore

ARN = "arn:aws:iam::000000000000:role/app"


def _engine(store: MemoryStore, clock: ManualClock) -> StsEngine:
    engine = StsEngine(store, clock, "000000000000", lambda arn: KnownRole(arn, "app", "AROAEXAMPLE", 3600))
    engine.load()
    return engine


def test_credentials_expire_on_the_clock() -> None:
    store, clock = MemoryStore(), ManualClock()
    engine = _engine(store, clock)
    session = engine.assume_role("test", ARN, "s1", 900)
    assert session.expiration == clock.time() + 900
    assert engine.caller(session.access_key_id)[0] == "arn:aws:sts::000000000000:assumed-role/app/s1"
    clock.advance(901)
    with pytest.raises(ServiceFault) as expired:
        engine.caller(session.access_key_id)
    assert (expired.value.code, expired.value.status) == ("ExpiredToken", 403)
    assert expired.value.message == "The security token included in the request is expired"
    reloaded = _engine(store, clock)
    assert reloaded.session(session.access_key_id) is None
    assert store.load("sts-session") == {}


def test_function_credentials_are_not_stored() -> None:
    store, clock = MemoryStore(), ManualClock()
    engine = _engine(store, clock)
    credentials = engine.function_credentials(ARN, "my-function")
    assert credentials.access_key_id.startswith("ASIA")
    assert engine.caller(credentials.access_key_id) == (
        "arn:aws:sts::000000000000:assumed-role/app/my-function",
        "AROAEXAMPLE:my-function",
    )
    assert store.load("sts-session") == {}


def test_session_policies_are_kept_with_the_session() -> None:
    store, clock = MemoryStore(), ManualClock()
    engine = _engine(store, clock)
    policy = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sqs:*","Resource":"*"}]}'
    arns = ("arn:aws:iam::000000000000:policy/read",)
    scoped = engine.assume_role("test", ARN, "scoped", 900, policy=policy, policy_arns=arns)
    plain = engine.assume_role("test", ARN, "plain", 900)
    assert scoped.scoped and not plain.scoped
    reloaded = _engine(store, clock)
    kept = reloaded.session(scoped.access_key_id)
    assert kept is not None and (kept.policy, kept.policy_arns, kept.scoped) == (policy, arns, True)
    web = reloaded.assume_role_with_web_identity(ARN, "web", 900, policy_arns=arns)
    assert (web.policy, web.policy_arns, web.scoped) == (None, arns, True)
    again = reloaded.session(plain.access_key_id)
    assert again is not None and (again.policy, again.policy_arns, again.scoped) == (None, (), False)
