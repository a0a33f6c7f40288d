"""Which user owns the other end of a loopback TCP connection, asked of the kernel (sock_diag netlink).

Why: without a network namespace per environment, every environment's Runtime API listens on a port of
the host's 127.0.0.1, which any process on the host can connect to, including another function. Each
environment runs as its own uid, so the Runtime API accepts a connection only when the kernel says the
connecting socket belongs to that uid (SO_PEERCRED exists only for Unix sockets).

One request per connection (a runtime keeps its connection), answered in tens of microseconds.
"""

from __future__ import annotations

import socket
import struct

NETLINK_SOCK_DIAG = 4
SOCK_DIAG_BY_FAMILY = 20
NLM_F_REQUEST = 1
NLMSG_ERROR = 2
NLMSG_DONE = 3
_ALL_STATES = 0xFFFFFFFF
_NO_COOKIE = 0xFFFFFFFF

# struct inet_diag_req_v2: family, protocol, ext, pad, states, then struct inet_diag_sockid (sport and dport
# big-endian, src and dst as four 32-bit words, interface, cookie[2]).
_REQUEST = struct.Struct("=BBBxI2H16s16sI2I")
_HEADER = struct.Struct("=IHHII")  # struct nlmsghdr
# struct inet_diag_msg: family, state, timer, retrans, the sockid (48 bytes), expires, rqueue, wqueue, uid.
_MESSAGE = struct.Struct("=BBBB48sIIII")


def _address(host: str) -> bytes:
    return socket.inet_aton(host) + bytes(12)


NOT_FOUND = -1  # the kernel answered: there is no such socket (it may have closed already)


def peer_uid(local: tuple[str, int], peer: tuple[str, int]) -> int | None:
    """The uid owning the IPv4 TCP socket at `peer` that is connected to our `local`; `NOT_FOUND` when the
    kernel says there is no such socket, None when it cannot be asked (no sock_diag, netlink refused)."""
    source, source_port = peer
    destination, destination_port = local
    body = _REQUEST.pack(
        socket.AF_INET,
        socket.IPPROTO_TCP,
        0,
        _ALL_STATES,
        socket.htons(source_port),
        socket.htons(destination_port),
        _address(source),
        _address(destination),
        0,
        _NO_COOKIE,
        _NO_COOKIE,
    )
    message = _HEADER.pack(_HEADER.size + len(body), SOCK_DIAG_BY_FAMILY, NLM_F_REQUEST, 1, 0) + body
    try:
        with socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, NETLINK_SOCK_DIAG) as diag:
            diag.settimeout(1.0)
            diag.send(message)
            data = diag.recv(65536)
    except OSError:
        return None
    offset = 0
    while offset + _HEADER.size <= len(data):
        length, kind, _flags, _seq, _pid = _HEADER.unpack_from(data, offset)
        if kind == NLMSG_ERROR:
            return NOT_FOUND
        if kind == NLMSG_DONE or length < _HEADER.size:
            return None
        if kind == SOCK_DIAG_BY_FAMILY and length >= _HEADER.size + _MESSAGE.size:
            return int(_MESSAGE.unpack_from(data, offset + _HEADER.size)[8])
        offset += (length + 3) & ~3
    return None
