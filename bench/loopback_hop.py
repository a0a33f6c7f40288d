"""The floor under every invoke: one request/response hop between two processes on loopback.

A blocking echo between a parent and a forked child, over TCP and over a Unix socket, 20,000 round trips
each. A warm invoke crosses two such hops (client → Lamina, Lamina → the function's runtime), so this
bounds how low its latency can go on the machine. Where the two processes run matters as much as the
socket: each is measured with both pinned to one CPU and to two different CPUs (a wake-up across CPUs
costs an inter-processor interrupt, and, in a VM, the sleeping vCPU's exit and re-entry). Run:

    .venv/bin/python bench/loopback_hop.py
"""

from __future__ import annotations

import os
import socket
import tempfile
import time

ROUNDS = 20_000


def hop(
    family: socket.AddressFamily, address: str | tuple[str, int], cpus: tuple[int, int] | None = None
) -> tuple[float, float, float]:
    server = socket.socket(family)
    server.bind(address)
    server.listen()
    if family == socket.AF_INET:
        address = server.getsockname()
    pid = os.fork()
    if pid == 0:
        if cpus is not None:
            os.sched_setaffinity(0, {cpus[1]})
        conn, _ = server.accept()
        if family == socket.AF_INET:
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        while conn.recv(65536):
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        os._exit(0)
    allowed = os.sched_getaffinity(0)
    if cpus is not None:
        os.sched_setaffinity(0, {cpus[0]})
    client = socket.socket(family)
    client.connect(address)
    if family == socket.AF_INET:
        client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    samples = []
    cpu = time.process_time()
    for _ in range(ROUNDS):
        started = time.perf_counter()
        client.sendall(b"GET / HTTP/1.1\r\n\r\n")
        client.recv(65536)
        samples.append((time.perf_counter() - started) * 1e6)
    cpu_us = (time.process_time() - cpu) / ROUNDS * 1e6
    client.close()
    os.waitpid(pid, 0)
    server.close()
    os.sched_setaffinity(0, allowed)
    samples.sort()
    return samples[ROUNDS // 2], samples[ROUNDS * 99 // 100], cpu_us


def main() -> None:
    cpus = sorted(os.sched_getaffinity(0))
    placements: list[tuple[str, tuple[int, int] | None]] = [("unpinned", None)]
    if cpus:
        placements.append(("same CPU", (cpus[0], cpus[0])))
    if len(cpus) > 1:
        placements.append(("two CPUs", (cpus[0], cpus[1])))
    for label, pair in placements:
        p50, p99, cpu = hop(socket.AF_INET, ("127.0.0.1", 0), pair)
        print(f"TCP loopback round trip, {label:<8}  p50 {p50:6.1f} us  p99 {p99:6.1f} us  client CPU {cpu:5.1f} us")
        with tempfile.TemporaryDirectory() as folder:
            p50, p99, cpu = hop(socket.AF_UNIX, os.path.join(folder, "hop.sock"), pair)
        print(f"Unix socket round trip,  {label:<8}  p50 {p50:6.1f} us  p99 {p99:6.1f} us  client CPU {cpu:5.1f} us")


if __name__ == "__main__":
    main()
