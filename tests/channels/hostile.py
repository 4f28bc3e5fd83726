"""Helpers for the hostile-client tests: a channels app on real uvicorn, and a protocol client.

``serve_app`` runs a :class:`Channels` hub (memory or a Redis prefix) under uvicorn in a thread;
``Client`` speaks the browser protocol over the ``websockets`` library, sending raw text so a
test can send exactly the bytes an attacker would.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
from collections.abc import Iterator
from typing import Any

import websockets

from servers import redis_url, uvicorn_thread
from tether import Tether
from tether.channels import ChannelOptions, Channels

WAIT = 5.0


def make_hub(backend: str, **kwargs: Any) -> Channels:
    """A hub on a private memory broker or on a fresh key prefix of the shared Redis."""
    broker = "memory://" if backend == "memory" else f"{redis_url()}?prefix=h{secrets.token_hex(5)}"
    kwargs.setdefault(
        "namespaces",
        {"chat": ChannelOptions(history_size=100, client_publish=True, presence=True)},
    )
    return Channels(broker, **kwargs)


@contextlib.contextmanager
def serve_app(hub: Channels, app: Tether | None = None, **config: Any) -> Iterator[str]:
    """Serve ``hub.endpoint`` at ``/channels`` (and health at ``/health``); yield the ws URL."""
    if app is None:
        app = Tether(lifespan=hub.lifespan)
    app.add_websocket_route("/channels", hub.endpoint)
    app.add_route("/health", hub.health_endpoint)
    config.setdefault("ws_ping_interval", None)
    with uvicorn_thread(app, **config) as base:
        yield base.replace("http://", "ws://") + "/channels"


class Client:
    """One protocol connection; frames are kept in arrival order."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.client_id = ""

    @classmethod
    async def connect(cls, url: str, **kwargs: Any) -> Client:
        kwargs.setdefault("ping_interval", None)  # a busy test machine must not fail on pings
        kwargs.setdefault("open_timeout", WAIT * 4)
        client = cls(await websockets.connect(url, **kwargs))
        hello = await client.next()
        assert hello["type"] == "connected", hello
        client.client_id = hello["client"]
        return client

    async def send_raw(self, text: str) -> None:
        await self.ws.send(text)

    async def send(self, frame: dict[str, Any]) -> None:
        await self.ws.send(json.dumps(frame))

    async def next(self, timeout: float = WAIT) -> dict[str, Any]:
        text = await asyncio.wait_for(self.ws.recv(), timeout)
        frame: dict[str, Any] = json.loads(text)
        return frame

    async def until(self, kind: str, timeout: float = WAIT, **match: Any) -> dict[str, Any]:
        """The next frame of type ``kind`` whose fields equal ``match`` (others are skipped)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            left = deadline - asyncio.get_running_loop().time()
            frame = await self.next(max(left, 0.001))
            if frame["type"] == kind and all(frame.get(k) == v for k, v in match.items()):
                return frame

    async def request(self, frame: dict[str, Any], request_id: Any) -> dict[str, Any]:
        """Send ``frame`` with ``id`` and return its reply or error (other frames skipped)."""
        await self.send({**frame, "id": request_id})
        while True:
            answer = await self.next()
            if answer["type"] in ("reply", "error") and answer.get("id") == request_id:
                return answer

    async def subscribe(self, channel: str, **extra: Any) -> dict[str, Any]:
        answer = await self.request({"type": "subscribe", "channel": channel, **extra}, "s")
        assert answer["type"] == "reply", answer
        return answer["result"]  # type: ignore[no-any-return]

    async def close(self) -> None:
        await self.ws.close()
