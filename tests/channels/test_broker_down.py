"""A broker that is down: refused at startup in one line, explicit to clients at run time.

Real parts: a private redis-server stopped and started by the test, uvicorn on loopback, the
``websockets`` client speaking the browser protocol.
"""

from __future__ import annotations

import asyncio
import json
import logging
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import websockets

from servers import ROOT, RedisServer, free_port, uvicorn_thread
from tether import Tether
from tether.channels import ChannelOptions, Channels
from tether.channels.errors import BrokerUnreachable
from tether.exceptions import StartupRefused

pytestmark = [pytest.mark.integration, pytest.mark.redis]

NS = {"chat": ChannelOptions(history_size=10, client_publish=True)}


async def test_an_unreachable_broker_is_refused_at_startup_in_one_line() -> None:
    port = free_port()  # nothing listens there
    hub = Channels(f"redis://:hunter2@127.0.0.1:{port}/0", namespaces=NS)
    with pytest.raises(BrokerUnreachable) as refused:
        await hub.start()
    message = str(refused.value)
    assert isinstance(refused.value, StartupRefused)
    assert "\n" not in message
    assert f"cannot reach the channels broker at redis://:***@127.0.0.1:{port}/0" in message
    assert "hunter2" not in message
    assert "degraded_start=True" in message
    assert hub.health()["broker"]["state"] == "stopped"  # nothing left trying in the background


def test_a_server_on_an_unreachable_broker_exits_with_one_line(tmp_path: Path) -> None:
    port = free_port()
    code = (
        "from tether import Tether\nfrom tether.channels import Channels\n"
        f"hub = Channels('redis://127.0.0.1:{port}/0')\napp = Tether(lifespan=hub.lifespan)\n"
    )
    (tmp_path / "unreachable_app.py").write_text(code)
    result = subprocess.run(
        [sys.executable, "-m", "uvicorn", "unreachable_app:app", "--port", str(free_port())],
        cwd=tmp_path,
        env={"PYTHONPATH": str(ROOT / "src"), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if "BrokerUnreachable" in line]
    assert len(lines) == 1, result.stderr
    assert f"cannot reach the channels broker at redis://127.0.0.1:{port}/0" in lines[0]
    assert "Traceback" not in result.stderr


class Client:
    """A protocol client that keeps every frame it receives."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.frames: list[dict[str, Any]] = []
        self.next_id = 1
        self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for text in self.ws:
            self.frames.append(json.loads(text))

    async def request(self, frame: dict[str, Any]) -> dict[str, Any]:
        frame["id"] = self.next_id
        self.next_id += 1
        await self.ws.send(json.dumps(frame))
        return await self.wait(lambda f: f.get("id") == frame["id"])

    async def wait(self, match: Any, timeout: float = 15.0) -> dict[str, Any]:
        async with asyncio.timeout(timeout):
            while True:
                for found in self.frames:
                    if match(found):
                        self.frames.remove(found)
                        return found
                await asyncio.sleep(0.02)


async def test_clients_see_the_broker_go_and_come_back(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="tether.channels")
    with RedisServer() as redis:
        hub = Channels(f"{redis.url}?prefix=down", namespaces=NS)
        app = Tether(lifespan=hub.lifespan)
        app.add_websocket_route("/channels", hub.endpoint)
        with uvicorn_thread(app) as url:
            async with websockets.connect(url.replace("http", "ws") + "/channels") as ws:
                client = Client(ws)
                await client.wait(lambda f: f["type"] == "connected")
                await client.request({"type": "subscribe", "channel": "chat:a"})
                redis.stop()
                down = await client.wait(lambda f: f["type"] == "broker")
                assert down == {
                    "type": "broker",
                    "available": False,
                    "code": "unavailable",
                    "message": "the server cannot reach its message broker; retrying",
                }
                refused = await client.request({"type": "publish", "channel": "chat:a", "data": 1})
                assert refused["type"] == "error"
                assert refused["error"]["code"] == "unavailable"
                # Retries go on meanwhile (backoff 50 ms doubling): let a few of them fail.
                await asyncio.sleep(1.0)
                redis.start()
                back = await client.wait(lambda f: f["type"] == "broker", timeout=20)
                assert back == {"type": "broker", "available": True}
                reply = await client.request({"type": "publish", "channel": "chat:a", "data": 2})
                assert reply["type"] == "reply"
                client.reader.cancel()
    listener = [r for r in caplog.records if r.name == "tether.channels.redis"]
    warnings = [r.getMessage() for r in listener if r.levelno >= logging.WARNING]
    assert len(warnings) == 2, warnings  # lost once, back once: never once per retry
    assert f"lost its connection to {redis.url}" in warnings[0]
    assert f"Redis pub/sub at {redis.url} is back after" in warnings[1]
    assert any(r.levelno == logging.DEBUG for r in listener)  # the retries, quietly
