"""Recovery after a server restart, on Redis with two tether nodes, with the real SDKs.

Every publication is numbered. A node is killed and started again while numbers keep
coming; each client (centrifuge-python on both nodes, the npm SDK under Node on the
restarted one) must end with every number, in order and once, or with an explicit
``recovered: false`` after which it has no duplicates and no reordering.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from centrifuge import Client, SubscriptionEventHandler
from cf_helpers import HERE, token

from servers import ROOT, RedisServer, uvicorn_process
from tether.channels import ChannelOptions, Channels

pytestmark = [pytest.mark.integration, pytest.mark.redis, pytest.mark.timeout(120)]

CHANNEL = "chat:recovery"
TOTAL = 150


class Recorder(SubscriptionEventHandler):
    def __init__(self) -> None:
        self.numbers: list[int] = []
        self.subscribed: list[dict[str, Any]] = []

    async def on_publication(self, ctx: Any) -> None:
        self.numbers.append(ctx.pub.data["n"])

    async def on_subscribed(self, ctx: Any) -> None:
        self.subscribed.append(
            {
                "recovered": ctx.recovered,
                "wasRecovering": ctx.was_recovering,
                "at": len(self.numbers),
            }
        )


def check(numbers: list[int], subscribed: list[dict[str, Any]]) -> None:
    """Every number once and in order, or a recovered=false explaining each hole."""
    assert numbers == sorted(set(numbers)), f"duplicates or reordering: {numbers}"
    assert numbers and numbers[-1] == TOTAL
    gaps = [(a, b) for a, b in zip(numbers, numbers[1:], strict=False) if b != a + 1]
    lost = [s for s in subscribed if s["wasRecovering"] and not s["recovered"]]
    assert len(gaps) <= len(lost), f"holes {gaps} without recovered=false ({subscribed})"
    assert numbers[0] == 1 or lost


async def test_recovery_after_a_node_restart_on_redis(npm_sdk: Path) -> None:
    with RedisServer() as redis:
        broker = f"{redis.url}?prefix=cf{secrets.token_hex(4)}"
        env = {
            "TETHER_CF_BROKER": broker,
            "PYTHONPATH": os.pathsep.join([str(HERE), str(ROOT), str(ROOT / "src")]),
        }
        with (
            uvicorn_process("cf_app:app", env=env) as a,
            uvicorn_process("cf_app:app", env=env) as b,
        ):
            publisher = Channels(
                broker, namespaces={"chat": ChannelOptions(history_size=1000, history_ttl=600)}
            )
            await publisher.start()
            recorders = [Recorder(), Recorder()]
            clients = []
            for server, recorder in zip([a, b], recorders, strict=True):
                url = f"{server.ws_url}/connection/websocket"
                client = Client(
                    url, token=token(), min_reconnect_delay=0.1, max_reconnect_delay=0.5
                )
                sub = client.new_subscription(CHANNEL, events=recorder)
                await client.connect()
                await sub.subscribe()
                await sub.ready(10)
                clients.append(client)
            node = subprocess.Popen(
                [
                    "node",
                    str(HERE / "recover_node.js"),
                    f"{a.ws_url}/connection/websocket",
                    CHANNEL,
                    token("node"),
                    str(TOTAL),
                ],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env={**os.environ, "NODE_PATH": str(npm_sdk)},
            )
            try:
                await _wait_ready(node)
                for n in range(1, TOTAL + 1):
                    await publisher.publish(CHANNEL, {"n": n})
                    if n == 50:
                        a.kill()
                    if n == 90:
                        await asyncio.to_thread(a.start)
                    await asyncio.sleep(0.01)  # pace: the restart happens mid-stream
                deadline = time.monotonic() + 30
                while any(not r.numbers or r.numbers[-1] != TOTAL for r in recorders):
                    assert time.monotonic() < deadline, [r.numbers[-3:] for r in recorders]
                    await asyncio.sleep(0.05)
                out, err = await asyncio.to_thread(node.communicate, timeout=60)
            finally:
                node.kill()
                for client in clients:
                    await client.disconnect()
                await publisher.stop()
            for recorder in recorders:
                check(recorder.numbers, recorder.subscribed)
            # The client on the killed node came back and recovered what it missed.
            assert recorders[0].subscribed[-1]["wasRecovering"]
            assert recorders[0].subscribed[-1]["recovered"]
            assert recorders[0].numbers == list(range(1, TOTAL + 1))
            js = json.loads(out.strip().splitlines()[-1])
            check(js["numbers"], js["subscribed"])
            assert js["subscribed"][-1]["recovered"] is True
            assert js["numbers"] == list(range(1, TOTAL + 1))


async def _wait_ready(process: subprocess.Popen[str]) -> None:
    """The Node client prints ``ready`` on stderr once subscribed."""
    assert process.stderr is not None
    line = await asyncio.wait_for(asyncio.to_thread(process.stderr.readline), 20)
    assert line.strip() == "ready", line
