"""Unit tests for tether.shutdown: registry, drain, lifespan hook, refusal while draining."""

from __future__ import annotations

import asyncio
import signal
from typing import Any

from tether.metrics import MetricsRegistry, TetherMetrics
from tether.shutdown import ConnectionRegistry, ShutdownMiddleware
from tether.types import Message, Receive, Scope, Send


class Peer:
    """A client behind a server: it answers a close from the app, as a real client does."""

    def __init__(self, answers_close: bool = True) -> None:
        self.answers_close = answers_close
        self.inbox: asyncio.Queue[Message] = asyncio.Queue()
        self.sent: asyncio.Queue[Message] = asyncio.Queue()
        self.inbox.put_nowait({"type": "websocket.connect"})
        self.scope: dict[str, Any] = {
            "type": "websocket",
            "path": "/",
            "extensions": {"websocket.http.response": {}},
        }

    async def receive(self) -> Message:
        return await self.inbox.get()

    async def send(self, message: Message) -> None:
        await self.sent.put(message)
        if message["type"] == "websocket.close" and self.answers_close:
            self.inbox.put_nowait({"type": "websocket.disconnect", "code": message["code"]})

    async def next_sent(self) -> Message:
        return await asyncio.wait_for(self.sent.get(), 2)


async def echo(scope: Scope, receive: Receive, send: Send) -> None:
    await receive()
    await send({"type": "websocket.accept"})
    while (message := await receive())["type"] == "websocket.receive":
        await send({"type": "websocket.send", "text": message["text"]})


def middleware(**options: Any) -> ShutdownMiddleware:
    registry = ConnectionRegistry(TetherMetrics(MetricsRegistry()))
    return ShutdownMiddleware(echo, registry, handle_signals=False, **options)


async def test_drain_closes_open_connections_and_refuses_new() -> None:
    shut = middleware(grace_period=0.5, close_wait=1)
    peers = [Peer() for _ in range(3)]
    tasks = [asyncio.create_task(shut(p.scope, p.receive, p.send)) for p in peers]
    for peer in peers:
        assert (await peer.next_sent())["type"] == "websocket.accept"
    assert len(shut.registry) == 3
    assert await shut.drain() == 3
    for peer in peers:
        assert await peer.next_sent() == {
            "type": "websocket.close",
            "code": 1012,
            "reason": "service restart",
        }
    await asyncio.wait_for(asyncio.gather(*tasks), 2)
    assert len(shut.registry) == 0
    assert shut.registry.metrics.shutdown_closes.value == 3
    late = Peer()
    await shut(late.scope, late.receive, late.send)
    assert (await late.next_sent())["status"] == 503


async def test_drain_runs_hooks_before_closing() -> None:
    order: list[str] = []
    accepted = asyncio.Event()

    async def recording_send(message: Message) -> None:
        if message["type"] == "websocket.accept":
            accepted.set()
        if message["type"] == "websocket.close":
            order.append("closed")

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "websocket.accept"})
        await receive()

    registry = ConnectionRegistry(TetherMetrics(MetricsRegistry()))

    @registry.on_drain
    async def flush(seconds: float) -> None:
        order.append(f"hook {seconds}")

    shut = ShutdownMiddleware(app, registry, grace_period=1, close_wait=0.05, handle_signals=False)
    inbox: asyncio.Queue[Message] = asyncio.Queue()
    task = asyncio.create_task(shut({"type": "websocket"}, inbox.get, recording_send))
    await asyncio.wait_for(accepted.wait(), 2)  # registered and open: now there is one to drain
    assert await shut.drain() == 1
    assert order == ["hook 1", "closed"]
    inbox.put_nowait({"type": "websocket.disconnect", "code": 1012})
    await asyncio.wait_for(task, 2)


async def test_drain_does_not_wait_past_close_wait_for_a_silent_peer() -> None:
    shut = middleware(grace_period=0, close_wait=0.05)
    peer = Peer(answers_close=False)
    task = asyncio.create_task(shut(peer.scope, peer.receive, peer.send))
    await peer.next_sent()
    assert await shut.drain() == 1
    assert (await peer.next_sent())["code"] == 1012
    assert not task.done() and len(shut.registry) == 1
    peer.inbox.put_nowait({"type": "websocket.disconnect", "code": 1006})  # the server gives up
    await asyncio.wait_for(task, 2)
    assert len(shut.registry) == 0


async def test_app_sends_after_the_drain_close_raise_oserror_and_close_is_dropped() -> None:
    outcome: list[str] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        await send({"type": "websocket.accept"})
        await receive()  # the disconnect that answers the drain's close
        try:
            await send({"type": "websocket.send", "text": "late"})
        except OSError:
            outcome.append("send refused")
        await send({"type": "websocket.close", "code": 1000})
        outcome.append("close dropped")

    shut = ShutdownMiddleware(app, handle_signals=False, close_wait=1)
    peer = Peer()
    task = asyncio.create_task(shut(peer.scope, peer.receive, peer.send))
    await peer.next_sent()
    await shut.drain()
    await asyncio.wait_for(task, 2)
    assert outcome == ["send refused", "close dropped"]
    assert (await peer.next_sent())["code"] == 1012
    assert peer.sent.empty()


async def test_failing_or_slow_hook_does_not_block_drain() -> None:
    registry = ConnectionRegistry(TetherMetrics(MetricsRegistry()))

    @registry.on_drain
    async def broken(seconds: float) -> None:
        raise RuntimeError("flush failed")

    @registry.on_drain
    async def stuck(seconds: float) -> None:
        await asyncio.sleep(3600)

    assert await registry.drain(grace_period=0.05) == 0
    assert registry.draining


async def test_lifespan_shutdown_drains_first() -> None:
    shut = middleware(close_wait=1)
    peer = Peer()
    conn_task = asyncio.create_task(shut(peer.scope, peer.receive, peer.send))
    await peer.next_sent()
    events: asyncio.Queue[Message] = asyncio.Queue()
    for kind in ("lifespan.startup", "lifespan.shutdown"):
        events.put_nowait({"type": kind})
    seen: list[str] = []

    async def lifespan_app(scope: Scope, receive: Receive, send: Send) -> None:
        while True:
            kind = (await receive())["type"]
            seen.append(f"{kind} open={len(shut.registry)}")
            if kind == "lifespan.shutdown":
                return

    shut.app = lifespan_app
    await shut({"type": "lifespan"}, events.get, events.put)
    assert seen == ["lifespan.startup open=1", "lifespan.shutdown open=0"]
    assert (await peer.next_sent())["code"] == 1012
    await asyncio.wait_for(conn_task, 2)


async def test_sigterm_handler_chains_to_previous() -> None:
    # Runs in the main thread (pytest's), like uvicorn: the drain happens, then the old handler.
    called: list[int] = []
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: called.append(signum))
    try:
        shut = ShutdownMiddleware(echo, ConnectionRegistry(TetherMetrics(MetricsRegistry())))
        events: asyncio.Queue[Message] = asyncio.Queue()
        events.put_nowait({"type": "lifespan.startup"})

        async def lifespan_app(scope: Scope, receive: Receive, send: Send) -> None:
            await receive()

        shut.app = lifespan_app
        await shut({"type": "lifespan"}, events.get, events.put)
        signal.raise_signal(signal.SIGTERM)
        async with asyncio.timeout(2):
            while not called:
                await asyncio.sleep(0.01)
        assert called == [signal.SIGTERM] and shut.registry.draining
        shut._restore_signal_handler()
    finally:
        signal.signal(signal.SIGTERM, previous)
