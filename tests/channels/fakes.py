"""Test helpers for the channels suite.

``FakeSocket`` is a socket stand-in for core tests: it records frames and can stall to play a
slow consumer. ``eventually`` waits, bounded, for a condition instead of sleeping a guessed time.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any


async def eventually(
    predicate: Callable[[], object | Awaitable[object]],
    timeout: float = 10.0,
    what: str = "condition",
) -> None:
    """Poll ``predicate`` (sync or async) until it is truthy.

    Raises:
        AssertionError: it is still false after ``timeout`` seconds.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        result = predicate()
        if isinstance(result, Awaitable):
            result = await result
        if result:
            return
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(0.01)


class FakeSocket:
    """Implements ``send(message)`` and ``close(code, reason)`` like a tether WebSocket."""

    def __init__(self) -> None:
        self.texts: list[str] = []
        self.closed: tuple[int, str] | None = None
        self.stalled = asyncio.Event()
        self.stalled.set()
        self.arrived = asyncio.Event()
        self.messages: list[dict[str, Any]] = []  # every ASGI message handed to send()

    async def send(self, message: dict[str, Any]) -> None:
        self.messages.append(message)
        self.arrived.set()
        await self.stalled.wait()
        if self.closed is not None:
            raise RuntimeError("socket closed")
        self.texts.append(message["text"])
        self.arrived.set()

    async def close(self, code: int = 1000, reason: str | None = None) -> None:
        self.closed = (code, reason or "")
        self.arrived.set()

    def stall(self) -> None:
        self.stalled.clear()

    def resume(self) -> None:
        self.stalled.set()

    @property
    def frames(self) -> list[dict[str, Any]]:
        return [json.loads(text) for text in self.texts]

    def pubs(self, channel: str | None = None) -> list[dict[str, Any]]:
        return [
            f
            for f in self.frames
            if f.get("type") == "pub" and (channel is None or f["channel"] == channel)
        ]

    def offsets(self, channel: str | None = None) -> list[int]:
        return [f["offset"] for f in self.pubs(channel)]

    async def wait_for(self, predicate: Any, timeout: float = 5.0) -> None:
        async def loop() -> None:
            while not predicate(self):
                self.arrived.clear()
                await self.arrived.wait()

        await asyncio.wait_for(loop(), timeout)
