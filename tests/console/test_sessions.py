"""Console sessions in virtual time: sign-in against a keyring, expiry on the clock, keys made inactive."""

from __future__ import annotations

import pytest

from lamina.auth.keyring import Keyring
from lamina.auth.sigv4 import Secret
from lamina.clock import ManualClock
from lamina.console.sessions import LIFETIME, Sessions, SignInFailed, cookie_token
from lamina.console.sign_in_limit import PER_KEY, WINDOW, SignInLimit, SignInThrottled
from lamina.store.documents import MemoryStore

ROOT_KEY, ROOT_SECRET = "AKIAROOT000000000000", "root-secret"


def _sessions(clock: ManualClock, users: dict[str, Secret]) -> Sessions:
    return Sessions(Keyring("000000000000", ROOT_KEY, ROOT_SECRET, [users.get]), clock.time)


def test_sign_in_lasts_its_lifetime_on_the_clock() -> None:
    clock = ManualClock()
    sessions = _sessions(clock, {})
    token, session = sessions.sign_in(ROOT_KEY, ROOT_SECRET)
    assert session.principal == "arn:aws:iam::000000000000:root"
    assert session.expires == clock.time() + LIFETIME
    assert sessions.find(token) == session
    clock.advance(LIFETIME - 1)
    assert sessions.find(token) == session
    clock.advance(1)
    assert sessions.find(token) is None
    assert sessions.find(token) is None  # and forgotten


def test_wrong_secret_unknown_key_and_temporary_credentials_are_refused() -> None:
    clock = ManualClock()
    users = {"ASIATEMP": Secret("s", "arn:aws:sts::000000000000:assumed-role/r/s", session_token="t")}
    sessions = _sessions(clock, users)
    for key, secret in ((ROOT_KEY, "nope"), ("AKIAUNKNOWN", ROOT_SECRET), ("", "")):
        with pytest.raises(SignInFailed) as failed:
            sessions.sign_in(key, secret)
        assert failed.value.message == "The access key ID or secret access key is not valid."
    with pytest.raises(SignInFailed, match="not temporary credentials"):
        sessions.sign_in("ASIATEMP", "s")


def test_a_key_made_inactive_or_deleted_ends_its_sessions() -> None:
    clock = ManualClock()
    users = {"AKIAUSER": Secret("user-secret", "arn:aws:iam::000000000000:user/u")}
    sessions = _sessions(clock, users)
    token, _ = sessions.sign_in("AKIAUSER", "user-secret")
    users["AKIAUSER"] = Secret("user-secret", "arn:aws:iam::000000000000:user/u", active=False)
    assert sessions.find(token) is None
    with pytest.raises(SignInFailed):  # nor can it sign in again
        sessions.sign_in("AKIAUSER", "user-secret")
    users["AKIAUSER"] = Secret("user-secret", "arn:aws:iam::000000000000:user/u")
    token, _ = sessions.sign_in("AKIAUSER", "user-secret")
    users.pop("AKIAUSER")  # the key deleted
    assert sessions.find(token) is None


def test_tokens_are_random_and_signing_out_forgets_them() -> None:
    sessions = _sessions(ManualClock(), {})
    tokens = {sessions.sign_in(ROOT_KEY, ROOT_SECRET)[0] for _ in range(50)}
    assert len(tokens) == 50 and all(len(t) >= 43 for t in tokens)
    one = tokens.pop()
    sessions.sign_out(one)
    assert sessions.find(one) is None and sessions.find(tokens.pop()) is not None


def test_cookie_attributes_and_parsing() -> None:
    assert Sessions.cookie("abc", 60) == "lamina-console=abc; Path=/console; Max-Age=60; HttpOnly; SameSite=Strict"
    assert cookie_token("a=1; lamina-console=xyz; b=2") == "xyz"
    assert cookie_token("lamina-console=") is None and cookie_token("") is None


def test_failed_sign_ins_are_throttled_per_key_on_the_clock() -> None:
    clock = ManualClock()
    sessions = _sessions(clock, {})
    for _ in range(PER_KEY):
        clock.advance(1)
        with pytest.raises(SignInFailed):
            sessions.sign_in(ROOT_KEY, "guess")
    with pytest.raises(SignInThrottled) as throttled:  # even the right secret: a guess that hit is not told apart
        sessions.sign_in(ROOT_KEY, ROOT_SECRET)
    assert throttled.value.message == "Rate exceeded"
    with pytest.raises(SignInFailed):  # another key id is not throttled by this one's failures
        sessions.sign_in("AKIAOTHER", "guess")
    clock.advance(WINDOW - PER_KEY + 1)  # the first failure leaves the window: one more attempt is allowed
    token, _session = sessions.sign_in(ROOT_KEY, ROOT_SECRET)
    assert sessions.find(token) is not None
    with pytest.raises(SignInFailed):  # a success cleared the key's count
        sessions.sign_in(ROOT_KEY, "guess")


def test_a_spray_of_key_ids_is_throttled_overall() -> None:
    clock = ManualClock()
    no_users: dict[str, Secret] = {}
    sessions = Sessions(
        Keyring("000000000000", ROOT_KEY, ROOT_SECRET, [no_users.get]),
        clock.time,
        limit=SignInLimit(clock.time, overall=3),
    )
    for i in range(3):
        with pytest.raises(SignInFailed):
            sessions.sign_in(f"AKIAMADEUP{i}", "guess")
    with pytest.raises(SignInThrottled):
        sessions.sign_in(ROOT_KEY, ROOT_SECRET)
    clock.advance(WINDOW)
    assert sessions.sign_in(ROOT_KEY, ROOT_SECRET)[1].principal == "arn:aws:iam::000000000000:root"


def test_sessions_are_stored_by_digest_without_the_secret_and_reload_without_it() -> None:
    clock = ManualClock()
    store = MemoryStore()
    keyring = Keyring("000000000000", ROOT_KEY, ROOT_SECRET, [])
    token, session = Sessions(keyring, clock.time, store=store).sign_in(ROOT_KEY, ROOT_SECRET)
    assert session.secret_access_key == ROOT_SECRET  # in memory, for tune runs
    stored = repr(store.load("console-sessions"))
    assert token not in stored and ROOT_SECRET not in stored
    again = Sessions(keyring, clock.time, store=store)  # as after a restart
    found = again.find(token)
    assert found is not None and (found.principal, found.secret_access_key) == (session.principal, None)
    assert found.expires == session.expires
    clock.advance(LIFETIME)
    assert Sessions(keyring, clock.time, store=store).find(token) is None
    assert store.load("console-sessions") == {}  # an expired session is deleted on load
