"""The X-Ray daemon's UDP endpoint (AWS_XRAY_DAEMON_ADDRESS): what the X-Ray SDK and Powertools Tracer send.

A datagram is a header line, `{"format": "json", "version": 1}`, a newline, then one segment (or subsegment)
document. Anything else (no header, another format, a document X-Ray would refuse) is counted and dropped: a
function's bad datagram never reaches the API's error path, as the real daemon drops it.

It listens on the API's port number when that is free for UDP (one port for everything, as far as UDP allows),
else on any free port; functions are told where.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from lamina.services.xray.engine import TraceEngine

log = logging.getLogger(__name__)

HEADER = {"format": "json", "version": 1}


class _Protocol(asyncio.DatagramProtocol):
    def __init__(self, daemon: XrayDaemon) -> None:
        self._daemon = daemon

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        self._daemon.datagram(data)

    def error_received(self, exc: Exception) -> None:
        log.debug("x-ray daemon endpoint: %s", exc)


class XrayDaemon:
    def __init__(self, engine: TraceEngine) -> None:
        self._engine = engine
        self._transport: asyncio.DatagramTransport | None = None
        self.stats = {"datagrams": 0, "malformed": 0}

    @property
    def address(self) -> str:
        """host:port, once listening ("" before)."""
        if self._transport is None:
            return ""
        host, port = self._transport.get_extra_info("sockname")[:2]
        if host in ("0.0.0.0", "::", ""):
            host = "127.0.0.1"
        return f"{host}:{port}"

    async def start(self, host: str, port: int) -> None:
        loop = asyncio.get_running_loop()
        try:
            transport, _ = await loop.create_datagram_endpoint(lambda: _Protocol(self), local_addr=(host, port))
        except OSError:
            transport, _ = await loop.create_datagram_endpoint(lambda: _Protocol(self), local_addr=(host, 0))
        self._transport = transport

    def datagram(self, data: bytes) -> None:
        self.stats["datagrams"] += 1
        header, newline, body = data.partition(b"\n")
        try:
            if not newline or json.loads(header) != HEADER:
                raise ValueError("no X-Ray header line")
            text = body.decode()
        except (ValueError, UnicodeDecodeError, RecursionError):
            self.stats["malformed"] += 1
            return
        if not self._engine.received(text):
            self.stats["malformed"] += 1

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()
            self._transport = None
