"""Soak: many WebSockets held open under uvicorn with steady traffic; nothing lost, RSS flat.

Default size is small enough for every run (500 connections, 15 s). Scale it with
``TETHER_SOAK_CONNECTIONS=5000 TETHER_SOAK_SECONDS=300``. The client process raises its own
file-descriptor limit; the server's limit is whatever ``ulimit -n`` gives the test runner, and
the test refuses to start when it is too small rather than failing half-way.
"""

from __future__ import annotations

import asyncio
import os
import random
import resource
from pathlib import Path

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect

from servers import uvicorn_process

pytestmark = [pytest.mark.soak, pytest.mark.integration]

CONNECTIONS = int(os.environ.get("TETHER_SOAK_CONNECTIONS", "500"))
SECONDS = float(os.environ.get("TETHER_SOAK_SECONDS", "15"))
PERIOD = 1.0  # each client sends one message per PERIOD seconds (jittered)


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS line")


def raise_fd_limit(needed: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < needed:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(needed, soft)), hard))
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    assert soft >= needed, f"raise `ulimit -n` to at least {needed} (it is {soft})"


class Client:
    __slots__ = ("ws", "sent", "echoed", "pongs", "lost")

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.sent = 0
        self.echoed = 0
        self.pongs = 0
        self.lost: list[str] = []

    async def run(self, until: float) -> None:
        loop = asyncio.get_running_loop()
        await asyncio.sleep(random.uniform(0, PERIOD))
        while loop.time() < until:
            self.sent += 1
            expected = f"seq {self.sent}"
            await self.ws.send(expected)
            while True:
                reply = await asyncio.wait_for(self.ws.recv(), 30)
                if reply == '{"type":"ping"}':  # the app-level heartbeat
                    self.pongs += 1
                    await self.ws.send('{"type":"pong"}')
                    continue
                break
            if reply != expected:
                self.lost.append(f"sent {expected!r}, got {reply!r}")
            self.echoed += 1
            await asyncio.sleep(PERIOD * random.uniform(0.5, 1.5))


async def open_all(url: str, count: int) -> list[Client]:
    clients: list[Client] = []
    for start in range(0, count, 100):  # batches stay inside the listen backlog
        batch = [
            connect(url, open_timeout=30, ping_interval=None)
            for _ in range(start, min(count, start + 100))
        ]
        clients += [Client(ws) for ws in await asyncio.gather(*batch)]
    return clients


async def metric(base: str, name: str) -> float:
    async with httpx.AsyncClient() as http:
        text = (await http.get(base + "/metrics")).text
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise AssertionError(f"{name} not exposed")


async def test_soak_holds_connections_with_flat_memory() -> None:
    raise_fd_limit(CONNECTIONS + 256)
    server_limit = int(os.popen("sh -c 'ulimit -n'").read().strip() or 0)
    assert server_limit >= CONNECTIONS + 100, f"server ulimit -n {server_limit} too small"
    env = {"TETHER_HEARTBEAT": "5", "TETHER_HEARTBEAT_TIMEOUT": "10"}
    with uvicorn_process(
        "docs.examples.deployment_app:app", env=env, args=("--backlog", "4096")
    ) as server:
        assert server.proc is not None
        clients = await open_all(server.ws_url + "/ws", CONNECTIONS)
        assert await metric(server.url, "tether_connections_open") == CONNECTIONS
        loop = asyncio.get_running_loop()
        warm_until = loop.time() + min(5.0, SECONDS / 3)
        await asyncio.gather(*(c.run(warm_until) for c in clients))
        rss_start = rss_bytes(server.proc.pid)
        until = loop.time() + SECONDS
        await asyncio.gather(*(c.run(until) for c in clients))
        rss_end = rss_bytes(server.proc.pid)

        assert [c.lost for c in clients if c.lost] == []
        sent = sum(c.sent for c in clients)
        assert sum(c.echoed for c in clients) == sent
        received = await metric(server.url, "tether_messages_received_total")
        assert received == sent + sum(c.pongs for c in clients)
        assert await metric(server.url, "tether_connections_open") == CONNECTIONS
        growth = rss_end - rss_start
        print(
            f"\nsoak: {CONNECTIONS} connections, {sent} echoes, RSS "
            f"{rss_start / 2**20:.1f} -> {rss_end / 2**20:.1f} MiB"
        )
        assert growth < max(16 * 2**20, rss_start * 0.10), (rss_start, rss_end)
        await asyncio.gather(*(c.ws.close() for c in clients))
