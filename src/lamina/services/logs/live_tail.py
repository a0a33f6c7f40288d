"""StartLiveTail: an event-stream response (api/protocols/event_stream.py) as botocore reads it for the json
protocol: an `initial-response` event first, then `sessionStart`, then a `sessionUpdate` per second with the
events stored meanwhile that match (groups, stream names or prefixes, filter pattern), and after three hours
a `SessionTimeoutException` message, as AWS ends a session.

Per update at most `MAX_RESULTS` events are sent; beyond that the update says `sampled: true` (AWS samples
under load the same way), so a flooding function cannot grow a session's memory.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncGenerator
from typing import Any

from lamina.api.protocols.event_stream import encode_headers, encode_message, event_headers
from lamina.services.logs.engine import LogsEngine, invalid
from lamina.services.logs.filter_pattern import InvalidPattern, Matcher, compile_pattern
from lamina.store.logs_sqlite import Written

MAX_RESULTS = 500  # per update
MAX_GROUPS = 10
UPDATE_INTERVAL = 1.0  # seconds of the project clock
SESSION_SECONDS = 3 * 3600

_INITIAL = event_headers("initial-response", "application/json")
_START = event_headers("sessionStart", "application/json")
_UPDATE = event_headers("sessionUpdate", "application/json")
_TIMEOUT = encode_headers(
    (
        (":exception-type", "SessionTimeoutException"),
        (":content-type", "application/json"),
        (":message-type", "exception"),
    )
)


class _Session:
    def __init__(self, groups: dict[str, str], names: set[str], prefixes: list[str], matcher: Matcher) -> None:
        self.groups = groups  # group name → the identifier the caller gave
        self.names = names
        self.prefixes = prefixes
        self.matcher = matcher
        self.pending: list[dict[str, Any]] = []
        self.sampled = False

    def offer(self, written: Written) -> None:
        identifier = self.groups.get(written.group)
        if identifier is None:
            return
        if self.names and written.stream not in self.names:
            return
        if self.prefixes and not any(written.stream.startswith(p) for p in self.prefixes):
            return
        for event in written.events:
            if self.matcher(event.message) is None:
                continue
            if len(self.pending) >= MAX_RESULTS:
                self.sampled = True
                return
            self.pending.append(
                {
                    "logStreamName": written.stream,
                    "logGroupIdentifier": identifier,
                    "message": event.message,
                    "timestamp": event.timestamp_ms,
                    "ingestionTime": event.ingested_ms,
                }
            )


class LiveTails:
    def __init__(self, engine: LogsEngine) -> None:
        self.engine = engine
        self._sessions: set[_Session] = set()
        self._loop: asyncio.AbstractEventLoop | None = None

    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self.engine.logs.listen(self._written)

    @property
    def sessions(self) -> int:
        return len(self._sessions)

    def _written(self, written: list[Written]) -> None:
        if self._sessions and self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._offer, written)

    def _offer(self, written: list[Written]) -> None:
        for session in self._sessions:
            for batch in written:
                session.offer(batch)

    def start_live_tail(self, request_id: str, params: dict[str, Any]) -> dict[str, Any]:
        identifiers: list[str] = params.get("logGroupIdentifiers") or []
        if not identifiers or len(identifiers) > MAX_GROUPS:
            raise invalid("logGroupIdentifiers must name 1 to 10 log groups.")
        names = params.get("logStreamNames") or []
        prefixes = params.get("logStreamNamePrefixes") or []
        if names and prefixes:
            raise invalid("logStreamNames and logStreamNamePrefixes are mutually exclusive parameters.")
        if (names or prefixes) and len(identifiers) > 1:
            raise invalid("Only one log group can be given with logStreamNames or logStreamNamePrefixes.")
        groups = {}
        for identifier in identifiers:
            name = self.engine.resolve_group(None, identifier)
            self.engine.group(name)
            groups[name] = identifier
        pattern = params.get("logEventFilterPattern") or ""
        try:
            matcher = compile_pattern(pattern)
        except InvalidPattern as bad:
            raise invalid(str(bad)) from None
        session = _Session(groups, set(names), list(prefixes), matcher)
        start = {
            "requestId": request_id,
            "sessionId": str(uuid.uuid4()),
            "logGroupIdentifiers": identifiers,
            "logStreamNames": names,
            "logStreamNamePrefixes": prefixes,
            "logEventFilterPattern": pattern,
        }
        self._sessions.add(session)
        return {"responseStream": self._frames(session, start)}

    async def _frames(self, session: _Session, start: dict[str, Any]) -> AsyncGenerator[bytes, None]:
        try:
            yield encode_message(_INITIAL, b"{}")
            yield encode_message(_START, json.dumps(start).encode())
            clock = self.engine.clock
            ends = clock.monotonic() + SESSION_SECONDS
            while clock.monotonic() < ends:
                await clock.sleep(UPDATE_INTERVAL)
                results, session.pending = session.pending, []
                update = {"sessionMetadata": {"sampled": session.sampled}, "sessionResults": results}
                session.sampled = False
                yield encode_message(_UPDATE, json.dumps(update).encode())
            message = {"message": "Session timed out after 3 hours."}
            yield encode_message(_TIMEOUT, json.dumps(message).encode())
        finally:
            self._sessions.discard(session)
