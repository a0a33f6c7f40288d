"""Saved test events of each function: the console's only state of its own.

AWS keeps them as schemas in the `lambda-testevent-schemas` EventBridge registry; Lamina keeps one document
per function (kind `console-test-events`, key the function name) holding {event name: event JSON text}.
Deleting the function leaves them: a function created again under the same name finds its old events, as on
AWS, where the registry's schema outlives the function.
"""

from __future__ import annotations

import json
import re
import threading

from lamina.errors import InvalidParameter
from lamina.store.documents import DocumentStore

KIND = "console-test-events"
MAX_EVENTS = 10  # the Lambda console's limit of shareable/private saved events per function
_NAME = re.compile(r"^[A-Za-z0-9._-]{1,25}$")  # the console's rule for an event name


class SavedEvents:
    def __init__(self, store: DocumentStore) -> None:
        self._store = store
        self._lock = threading.Lock()
        self._events: dict[str, dict[str, str]] = {
            key: dict(body.get("events", {})) for key, body in store.load(KIND).items()
        }

    def list(self, function: str) -> dict[str, str]:
        return dict(self._events.get(function, {}))

    def save(self, function: str, name: str, event: str) -> None:
        if not _NAME.match(name):
            raise InvalidParameter(
                "Event name must be 1 to 25 characters: letters, digits, dots, hyphens and underscores."
            )
        try:
            json.loads(event)
        except ValueError as exc:
            raise InvalidParameter(f"Event JSON is not valid: {exc}") from None
        with self._lock:
            events = dict(self._events.get(function, {}))
            if name not in events and len(events) >= MAX_EVENTS:
                raise InvalidParameter(f"A function can have at most {MAX_EVENTS} saved test events.")
            events[name] = event
            self._store.put(KIND, function, {"events": events})  # committed before the answer
            self._events[function] = events

    def delete(self, function: str, name: str) -> None:
        with self._lock:
            events = dict(self._events.get(function, {}))
            events.pop(name, None)
            if events:
                self._store.put(KIND, function, {"events": events})
            else:
                self._store.delete(KIND, function)
            self._events[function] = events
