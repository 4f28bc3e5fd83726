"""Measure (i): Server-Sent Events to N clients, events per second of CPU, and the cost of a resume.

Every client is an in-process HTTP request on a counting ASGI transport (no network): what is
timed is the framework's path from the event to the ``http.response.body`` message handed to
the server. Implementations alternate within each repetition; the loop is uvloop.

Variants:

- ``generator``: N clients each get M events from a path operation that ``yield``\\ s dicts.
  tether: ``response_class=EventSourceResponse``; fastapi: the same with ``fastapi.sse``;
  sse-starlette: a Starlette route returning ``sse_starlette.EventSourceResponse(gen())``.
- ``broadcast``: one publisher, N clients following; P messages published one after the other
  (the next once every client has the previous one). tether: ``Channels.sse_endpoint`` on the
  memory broker; fastapi and sse-starlette: the usual pattern, one ``asyncio.Queue`` per client
  that a generator endpoint drains, and a publish that puts the message in every queue.
- ``resume``: tether only (the peers have no resume): a client reconnects with a
  ``Last-Event-ID`` R events behind and gets them replayed from history; microseconds from the
  request to the last replayed event handed to the server, beside a fresh subscribe.

Run alone: ``benchmarks/.venv/bin/python benchmarks/sse_stream.py [--smoke]``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import uvloop
from _common import Row, base_parser, clean_slate, cpu_ns, emit, rotated

MESSAGE = {"type": "token", "text": "hello everyone, how is it going?", "n": 1}
App = Callable[[dict[str, Any], Any, Any], Awaitable[None]]


def http_scope(path: str, headers: list[tuple[bytes, bytes]] | None = None) -> dict[str, Any]:
    path, _, query = path.partition("?")
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "server": ("127.0.0.1", 8000),
        "client": ("127.0.0.1", 50000),
        "root_path": "",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "headers": [(b"host", b"localhost"), *(headers or [])],
        "state": {},
    }


class Client:
    """One HTTP client: counts the ``data:`` events in the body chunks it is handed."""

    __slots__ = ("done", "events", "gone", "target")

    def __init__(self, target: int) -> None:
        self.events = 0
        self.target = target
        self.done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.gone = asyncio.Event()

    async def receive(self) -> dict[str, Any]:
        await self.gone.wait()
        return {"type": "http.disconnect"}

    async def send(self, message: dict[str, Any]) -> None:
        if self.gone.is_set():  # as an ASGI 2.4 server does once the client has left
            raise OSError("the client has gone")
        if message["type"] != "http.response.body":
            return
        body = message.get("body", b"")
        if body:
            self.events += body.count(b"data: ")
            if self.events >= self.target and not self.done.done():
                self.done.set_result(None)

    def arm(self, target: int) -> asyncio.Future[None]:
        self.target = target
        if self.events < target:
            self.done = asyncio.get_running_loop().create_future()
        return self.done


# -- generator endpoints ----------------------------------------------------------------------


def generator_app(name: str, m: int) -> App:
    """An app whose ``/stream`` yields ``m`` dicts as events."""

    async def events() -> AsyncIterator[dict[str, Any]]:
        for _ in range(m):
            yield MESSAGE

    if name == "tether":
        from tether import Tether
        from tether.sse import EventSourceResponse

        tether_app = Tether()
        tether_app.get("/stream", response_class=EventSourceResponse)(events)
        return tether_app  # type: ignore[return-value]
    if name == "fastapi":
        from fastapi import FastAPI
        from fastapi.sse import EventSourceResponse as FastAPISSE

        fastapi_app = FastAPI()
        fastapi_app.get("/stream", response_class=FastAPISSE)(events)
        return fastapi_app  # type: ignore[return-value]
    import json

    from sse_starlette import EventSourceResponse as StarletteSSE
    from starlette.applications import Starlette
    from starlette.routing import Route

    async def as_events() -> AsyncIterator[dict[str, str]]:
        for _ in range(m):
            yield {"data": json.dumps(MESSAGE)}

    async def stream(request: Any) -> Any:
        return StarletteSSE(as_events())

    return Starlette(routes=[Route("/stream", stream)])  # type: ignore[return-value]


async def run_generator(app: App, n: int, m: int) -> float:
    """CPU ns per event for ``n`` concurrent clients of ``m`` events each."""
    clean_slate()
    clients = [Client(m) for _ in range(n)]
    start = cpu_ns()
    await asyncio.gather(*(app(http_scope("/stream"), c.receive, c.send) for c in clients))
    elapsed = cpu_ns() - start
    assert all(c.events == m for c in clients), [c.events for c in clients[:3]]
    return elapsed / (n * m)


# -- broadcast ----------------------------------------------------------------------------------


class Broadcast:
    """N followers of one stream; ``publish`` sends one message to all."""

    clients: list[Client]
    tasks: list[asyncio.Task[None]]

    async def publish(self) -> None:
        raise NotImplementedError

    async def close(self) -> None:
        for client in self.clients:
            client.gone.set()
        await asyncio.gather(*self.tasks, return_exceptions=True)


class HubBroadcast(Broadcast):
    async def setup(self, n: int) -> None:
        from tether import Tether
        from tether.channels import Channels

        self.hub = Channels("memory://")
        await self.hub.start()
        app = Tether()
        app.add_route("/stream", self.hub.sse_endpoint(["feed"]))
        self.clients = [Client(1) for _ in range(n)]  # each gets the 'ready' event first
        scope = http_scope("/stream")
        self.tasks = [
            asyncio.ensure_future(app(dict(scope), c.receive, c.send)) for c in self.clients
        ]
        await asyncio.gather(*(c.done for c in self.clients))

    async def publish(self) -> None:
        await self.hub.publish("feed", MESSAGE)

    async def close(self) -> None:
        await super().close()
        await self.hub.stop()


class QueueBroadcast(Broadcast):
    """The peers' usual pattern: a queue per client, drained by a generator endpoint."""

    async def setup(self, n: int, name: str) -> None:
        import json

        self.queues: list[asyncio.Queue[str]] = []
        queues = self.queues

        async def follow() -> AsyncIterator[Any]:
            queue: asyncio.Queue[str] = asyncio.Queue()
            queues.append(queue)
            while True:
                text = await queue.get()
                yield {"data": text} if name == "sse-starlette" else json.loads(text)

        if name == "fastapi":
            from fastapi import FastAPI
            from fastapi.sse import EventSourceResponse as FastAPISSE

            fastapi_app = FastAPI()
            fastapi_app.get("/stream", response_class=FastAPISSE)(follow)
            app: Any = fastapi_app
        else:
            from sse_starlette import EventSourceResponse as StarletteSSE
            from starlette.applications import Starlette
            from starlette.routing import Route

            async def stream(request: Any) -> Any:
                return StarletteSSE(follow())

            app = Starlette(routes=[Route("/stream", stream)])
        self.clients = [Client(0) for _ in range(n)]
        self.tasks = [
            asyncio.ensure_future(app(http_scope("/stream"), c.receive, c.send))
            for c in self.clients
        ]
        while len(queues) < n:
            await asyncio.sleep(0.001)

    async def publish(self) -> None:
        import json

        text = json.dumps(MESSAGE)
        for queue in self.queues:
            queue.put_nowait(text)

    async def close(self) -> None:
        for client in self.clients:
            client.gone.set()
        await self.publish()  # a generator blocked on its queue learns of the client by a send
        await asyncio.gather(*self.tasks, return_exceptions=True)


async def broadcast(name: str, n: int) -> Broadcast:
    if name == "tether":
        hub = HubBroadcast()
        await hub.setup(n)
        return hub
    peer = QueueBroadcast()
    await peer.setup(n, name)
    return peer


async def run_broadcast(impl: Broadcast, count: int) -> float:
    """CPU ns per delivered event over ``count`` publishes."""
    clean_slate()
    start = cpu_ns()
    for _ in range(count):
        waits = [c.arm(c.events + 1) for c in impl.clients]
        await impl.publish()
        await asyncio.wait_for(asyncio.gather(*waits), 30)
    return (cpu_ns() - start) / (count * len(impl.clients))


# -- resume -------------------------------------------------------------------------------------


async def run_resume(behind: int, reps: int) -> tuple[list[float], list[float]]:
    """CPU µs to replay ``behind`` missed events on reconnect, and to subscribe fresh."""
    from tether import Tether
    from tether.channels import ChannelOptions, Channels

    hub = Channels("memory://", default=ChannelOptions(history_size=behind * 2))
    await hub.start()
    app = Tether()
    app.add_route("/stream", hub.sse_endpoint(["feed"]))
    first = await hub.publish("feed", MESSAGE)
    for _ in range(behind):
        await hub.publish("feed", MESSAGE)
    last_id = f"{first.epoch}:{first.offset}".encode()
    resumed, fresh = [], []
    for _ in range(reps):
        for headers, wanted, out in (
            ([(b"last-event-id", last_id)], behind, resumed),
            ([], 1, fresh),
        ):
            client = Client(wanted)
            clean_slate()
            start = cpu_ns()
            task = asyncio.ensure_future(
                app(http_scope("/stream", headers), client.receive, client.send)
            )
            await asyncio.wait_for(client.done, 30)
            out.append((cpu_ns() - start) / 1e3)
            client.gone.set()
            await task
    await hub.stop()
    return resumed, fresh


IMPLEMENTATIONS = ("tether", "fastapi", "sse-starlette")


async def measure(n: int, m: int, count: int, behind: int, reps: int) -> list[Row]:
    rows: list[Row] = []
    generator_rows: list[tuple[App, Row]] = []
    for name in IMPLEMENTATIONS:
        row = Row(name, f"generator, {n} clients x {m} events")
        try:
            app = generator_app(name, m)
            await run_generator(app, 2, m)
        except Exception as exc:
            rows.append(Row(name, row.variant, False, note=f"not available ({exc!r})"))
            continue
        rows.append(row)
        generator_rows.append((app, row))
    for rep in range(reps):
        for app, row in rotated(generator_rows, rep):
            row.samples.append(await run_generator(app, n, m))
    live: list[tuple[Broadcast, Row]] = []
    for name in IMPLEMENTATIONS:
        row = Row(name, f"broadcast, {n} clients")
        try:
            impl = await broadcast(name, n)
            await run_broadcast(impl, 2)
        except Exception as exc:
            rows.append(Row(name, row.variant, False, note=f"not available ({exc!r})"))
            continue
        rows.append(row)
        live.append((impl, row))
    for rep in range(reps):
        for impl, row in rotated(live, rep):
            row.samples.append(await run_broadcast(impl, count))
    for impl, _ in live:
        await impl.close()
    resumed, fresh = await run_resume(behind, max(reps * 4, 4))
    rows.append(Row("tether", f"resume {behind} events behind (us)", samples=resumed))
    rows.append(Row("tether", "fresh subscribe (us)", samples=fresh))
    return rows


def main() -> None:
    """Parse options, measure, print JSON."""
    args = base_parser(__doc__ or "").parse_args()
    n, m, count, behind = (20, 20, 10, 20) if args.smoke else (200, 200, 100, 100)
    reps = args.reps or (1 if args.smoke else 5)
    rows = uvloop.run(measure(n, m, count, behind, reps))
    emit(
        "sse_stream",
        "Server-Sent Events: CPU ns per event delivered to N in-process clients; resume cost",
        "ns",
        rows,
        {"clients": n, "events_per_client": m, "publishes": count, "resume_behind": behind,
         "reps": reps, "message_bytes": 60, "transport": "in-process counting ASGI", "loop": "uvloop"},
    )  # fmt: skip


if __name__ == "__main__":
    main()
