"""A protocol client for multi-process tests that records every frame it is sent.

It remembers per channel every (offset, epoch) received, every close code and every
subscribe result, and can reconnect (to any node) and resubscribe from its last position.
The checker :func:`check_invariants` asserts no silent loss, no duplicate and one order.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from dataclasses import dataclass, field
from typing import Any

import websockets


@dataclass
class Session:
    """One continuous subscription: what it started from and what it received."""

    start: int
    epoch: str
    recovered: bool
    was_recovering: bool
    offsets: list[int] = field(default_factory=list)
    data: list[Any] = field(default_factory=list)
    ended_by: str = ""  # "" while live, else the explicit signal that ended it


class Recorder:
    """Connects to ``ws://.../channels``, subscribes, records, reconnects on demand."""

    def __init__(self, url: str, channel: str, *, rcvbuf: int | None = None) -> None:
        self.url = url
        self.channel = channel
        self.rcvbuf = rcvbuf
        self.sessions: list[Session] = []
        self.close_codes: list[int | None] = []
        self.presence_events: list[dict[str, Any]] = []
        self.client_id = ""
        self._ws: Any = None
        self._reader: asyncio.Task[None] | None = None
        self._replies: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._next_id = 1
        self._subscribe_ids: set[int] = set()
        self.paused = asyncio.Event()
        self.paused.set()
        self.closed = asyncio.Event()
        self.refused_subscribes = 0  # resubscribes the server refused as "unavailable"
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def offsets(self) -> list[int]:
        return [o for s in self.sessions for o in s.offsets]

    @property
    def last(self) -> tuple[int, str] | None:
        for session in reversed(self.sessions):
            if session.offsets:
                return session.offsets[-1], session.epoch
            return session.start, session.epoch
        return None

    async def connect(self, url: str | None = None) -> None:
        self.url = url or self.url
        sock = None
        if self.rcvbuf:
            host, port = self.url.split("//")[1].split("/")[0].split(":")
            sock = socket.socket()
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, self.rcvbuf)
            sock.connect((host, int(port)))
        self._ws = await websockets.connect(
            self.url, sock=sock, max_queue=1 if self.rcvbuf else 1024, ping_interval=None
        )
        self.closed.clear()
        self._reader = asyncio.create_task(self._read(self._ws))

    async def subscribe(self, *, recover: bool = True) -> Session:
        frame: dict[str, Any] = {"type": "subscribe", "channel": self.channel}
        if recover and self.last is not None:
            offset, epoch = self.last
            frame["since"] = {"offset": offset, "epoch": epoch}
        self._subscribe_ids.add(self._next_id)
        await self.request(frame)
        return self.sessions[-1]

    async def _resubscribe(self) -> None:
        """As tether-channels.js does: a resubscribe refused because the broker is unavailable
        is tried again with backoff (any other refusal ends it)."""
        delay = 0.1
        while True:
            try:
                await self.subscribe()
                return
            except RuntimeError as exc:
                error = exc.args[0] if exc.args else None
                if not isinstance(error, dict) or error.get("code") != "unavailable":
                    raise
                self.refused_subscribes += 1
            except (ConnectionError, TimeoutError):
                return  # the socket is gone: a test that reconnects resubscribes itself
            await asyncio.sleep(delay)
            delay = min(delay * 2, 2.0)

    async def request(self, frame: dict[str, Any], timeout: float = 10.0) -> dict[str, Any]:
        request_id = self._next_id
        self._next_id += 1
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._replies[request_id] = future
        await self._ws.send(json.dumps({**frame, "id": request_id}))
        return await asyncio.wait_for(future, timeout)

    async def publish(self, data: Any) -> dict[str, Any]:
        return await self.request({"type": "publish", "channel": self.channel, "data": data})

    async def _read(self, ws: Any) -> None:
        try:
            async for text in ws:
                await self.paused.wait()
                self._handle(json.loads(text))
        except websockets.ConnectionClosed:
            pass
        finally:
            self.close_codes.append(ws.close_code)
            if self.sessions and not self.sessions[-1].ended_by:
                self.sessions[-1].ended_by = f"close {ws.close_code}"
            for future in self._replies.values():
                if not future.done():
                    future.set_exception(ConnectionError("closed"))
            self._replies.clear()
            self.closed.set()

    def _handle(self, frame: dict[str, Any]) -> None:
        kind = frame["type"]
        if kind in ("reply", "error"):
            if kind == "reply" and frame["id"] in self._subscribe_ids:
                # The session starts here, before the replayed publications that follow.
                result = frame["result"]
                self.sessions.append(
                    Session(
                        result["offset"],
                        result["epoch"],
                        result["recovered"],
                        result["was_recovering"],
                    )
                )
            future = self._replies.pop(frame["id"], None)
            if future is not None and not future.done():
                if kind == "reply":
                    future.set_result(frame["result"])
                else:
                    future.set_exception(RuntimeError(frame["error"]))
        elif kind == "connected":
            self.client_id = frame["client"]
        elif kind == "pub" and frame["channel"] == self.channel:
            session = self.sessions[-1]
            session.offsets.append(frame["offset"])
            session.data.append(frame["data"])
            assert frame["epoch"] == session.epoch
        elif kind == "unsubscribed":
            self.sessions[-1].ended_by = frame["reason"]
            task = asyncio.get_running_loop().create_task(self._resubscribe())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        elif kind in ("join", "leave"):
            self.presence_events.append(frame)

    async def wait_for_offset(self, offset: int, timeout: float = 15.0) -> None:
        async def loop() -> None:
            while not self.sessions or not self.offsets or max(self.offsets) < offset:
                await asyncio.sleep(0.02)

        await asyncio.wait_for(loop(), timeout)

    async def close(self) -> None:
        if self._ws is not None:
            with contextlib.suppress(Exception):
                await self._ws.close()
        if self._reader is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._reader, 5)


def check_invariants(recorder: Recorder) -> None:
    """Every session is one contiguous run from its start; a session that lost
    continuity ended with an explicit signal; recovery sessions continue exactly."""
    previous: Session | None = None
    for session in recorder.sessions:
        expected = list(range(session.start + 1, session.start + 1 + len(session.offsets)))
        assert session.offsets == expected, f"hole or duplicate in {session}"
        if previous is not None and session.was_recovering:
            if session.recovered:
                last = previous.offsets[-1] if previous.offsets else previous.start
                assert session.start == last and session.epoch == previous.epoch
            else:
                assert previous.ended_by, "continuity lost without a signal"
        previous = session
