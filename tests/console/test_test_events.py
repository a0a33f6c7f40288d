from __future__ import annotations

import pytest

from lamina.console.test_events import KIND, MAX_EVENTS, SavedEvents
from lamina.errors import InvalidParameter
from lamina.store.documents import MemoryStore


def test_saved_events_are_documents_read_back_on_start() -> None:
    store = MemoryStore()
    events = SavedEvents(store)
    events.save("fn", "One", '{"a": 1}')
    events.save("fn", "One", '{"a": 2}')  # the same name replaces
    assert store.load(KIND) == {"fn": {"events": {"One": '{"a": 2}'}}}
    assert SavedEvents(store).list("fn") == {"One": '{"a": 2}'}
    events.delete("fn", "One")
    assert store.load(KIND) == {}


@pytest.mark.parametrize(("name", "event"), [("", "{}"), ("has space", "{}"), ("x" * 26, "{}"), ("ok", "{nope")])
def test_bad_names_and_bad_json_change_nothing(name: str, event: str) -> None:
    store = MemoryStore()
    events = SavedEvents(store)
    with pytest.raises(InvalidParameter):
        events.save("fn", name, event)
    assert events.list("fn") == {}
    assert store.load(KIND) == {}


def test_at_most_ten_events_per_function() -> None:
    events = SavedEvents(MemoryStore())
    for i in range(MAX_EVENTS):
        events.save("fn", f"e{i}", "{}")
    with pytest.raises(InvalidParameter, match="at most 10"):
        events.save("fn", "one-more", "{}")
    events.save("fn", "e0", "[]")  # replacing one is still allowed
    assert len(events.list("fn")) == MAX_EVENTS
