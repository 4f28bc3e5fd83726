"""Channel streams over SSE and JSON lines (tether.channels.sse) on a real uvicorn.

Resume by Last-Event-ID and ``since``, explicit resets, hooks and refusals, multi-channel ids,
the slow-consumer policy, and shutdown ending the stream.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from conftest import _delete_prefix
from servers import uvicorn_thread
from tether import Tether
from tether.channels import ChannelOptions, Channels, ConnectionLimits, Position
from tether.channels.sse import format_position, parse_position

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]
WAIT = 10.0


def make_app(**hub_options: Any) -> tuple[Tether, Channels]:
    async def authenticate(request: Any) -> dict[str, Any] | None:
        token = request.query_params.get("token", "ok")
        return None if token == "bad" else {"user": token}

    def authorize(connection: Any, channel: str, action: str) -> bool:
        return not channel.startswith("secret:") or connection.user == "admin"

    options = ChannelOptions(history_size=5, authorize=authorize)
    hub = Channels(
        "memory://",
        default=options,
        namespaces={"secret": options},
        authenticate=authenticate,
        **hub_options,
    )
    app = Tether(lifespan=hub.lifespan)
    app.add_route("/news", hub.sse_endpoint(["news"], ping_interval=0.2))
    app.add_route("/both", hub.sse_endpoint(["news", "sport"]))
    app.add_route("/lines", hub.sse_endpoint(["news"], format="jsonl"))
    app.add_route("/secret", hub.sse_endpoint(["secret:plans"]))
    app.add_route("/room/{name}", hub.sse_endpoint(lambda r: [f"room:{r.path_params['name']}"]))

    @app.post("/publish/{channel}")
    async def publish(channel: str, n: int, pad: int = 0) -> dict[str, int]:
        if pad:  # a burst of n large messages
            for index in range(n):
                await hub.publish(channel, {"n": index, "pad": "x" * pad})
            return {"offset": -1}
        return {"offset": (await hub.publish(channel, {"n": n})).offset}

    @app.post("/stop")
    async def stop() -> dict[str, bool]:
        await hub.stop()
        return {"stopped": True}

    return app, hub


@pytest.fixture
def server() -> Iterator[tuple[httpx.Client, Channels]]:
    app, hub = make_app()
    with uvicorn_thread(app) as url, httpx.Client(base_url=url, timeout=WAIT) as client:
        yield client, hub


def events(client: httpx.Client, path: str, count: int, **headers: str) -> list[dict[str, str]]:
    """The first ``count`` events (comments skipped) of the stream at ``path``."""
    found: list[dict[str, str]] = []
    with client.stream("GET", path, headers=headers) as response:
        assert response.status_code == 200, response.read()
        current: dict[str, str] = {}
        for line in response.iter_lines():
            if line.startswith(":"):
                continue
            if line:
                field, _, value = line.partition(": ")
                current[field] = current[field] + "\n" + value if field in current else value
                continue
            if current:
                found.append(current)
                current = {}
            if len(found) == count:
                break
    return found


def publish(client: httpx.Client, channel: str, *numbers: int) -> None:
    for n in numbers:
        assert client.post(f"/publish/{channel}", params={"n": n}).status_code == 200


def publish_when_subscribed(
    client: httpx.Client, hub: Channels, channel: str, *numbers: int
) -> threading.Thread:
    """Publish once the stream's subscription is in place (a bounded wait on the hub)."""

    def run() -> None:
        for _ in range(int(WAIT / 0.01)):
            if hub.router.channels.get(channel) and hub.router.channels[channel].subscribers:
                break
            threading.Event().wait(0.01)
        publish(client, channel, *numbers)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def test_position_ids_round_trip() -> None:
    positions = [Position(12, "ab12"), None, Position(0, "ff")]
    text = format_position(positions)
    assert text == "ab12:12,,ff:0"
    assert parse_position(text, 3) == positions
    assert parse_position("ab12:12", 3) is None  # an id for another number of channels
    for bad in ("x", "ab:-1", ":3", "a:b", ""):
        assert parse_position(bad, 1) is None


def test_fresh_stream_starts_ready_then_every_publication_carries_its_position(
    server: tuple[httpx.Client, Channels],
) -> None:
    client, hub = server
    thread = publish_when_subscribed(client, hub, "news", 1, 2)
    ready, first, second = events(client, "/news", 3)
    thread.join(WAIT)
    assert ready["event"] == "ready"
    epoch = json.loads(ready["data"])["epoch"]
    assert ready["id"] == f"{epoch}:0"
    assert (first["id"], first["data"]) == (f"{epoch}:1", '{"n":1}')
    assert (second["id"], second["data"]) == (f"{epoch}:2", '{"n":2}')
    assert "event" not in first  # a single-channel stream dispatches as 'message'


def test_last_event_id_resumes_exactly_after_it(server: tuple[httpx.Client, Channels]) -> None:
    client, hub = server
    thread = publish_when_subscribed(client, hub, "news", 1, 2)
    _, first, _ = events(client, "/news", 3)
    thread.join(WAIT)
    publish(client, "news", 3, 4)  # while nobody listens
    resumed = events(client, "/news", 3, **{"last-event-id": first["id"]})
    assert [e["data"] for e in resumed] == ['{"n":2}', '{"n":3}', '{"n":4}']
    assert all("event" not in e for e in resumed)


def test_since_query_and_since_start(server: tuple[httpx.Client, Channels]) -> None:
    client, _ = server
    publish(client, "news", 1, 2, 3)
    every = events(client, "/news?since=start", 3)
    assert [e["data"] for e in every] == ['{"n":1}', '{"n":2}', '{"n":3}']
    after_first = events(client, f"/news?since={every[0]['id']}", 2)
    assert [e["data"] for e in after_first] == ['{"n":2}', '{"n":3}']


def test_a_gap_history_cannot_cover_is_an_explicit_reset(
    server: tuple[httpx.Client, Channels],
) -> None:
    client, _ = server
    publish(client, "news", 1)
    (first,) = events(client, "/news?since=start", 1)
    publish(client, "news", *range(2, 12))  # history keeps 5: offsets 2-6 are gone
    reset, *rest = events(client, "/news", 1, **{"last-event-id": first["id"]})
    assert reset["event"] == "reset"
    position = json.loads(reset["data"])
    assert position["offset"] == 11
    assert reset["id"] == f"{position['epoch']}:11"
    assert rest == []
    other_epoch = events(client, "/news", 1, **{"last-event-id": "0bad0bad:3"})
    assert other_epoch[0]["event"] == "reset"


def test_several_channels_name_the_event_and_every_position(
    server: tuple[httpx.Client, Channels],
) -> None:
    client, _ = server
    publish(client, "news", 1)
    publish(client, "sport", 7)
    got = events(client, "/both?since=start", 2)
    assert [(e["event"], e["data"]) for e in got] == [("news", '{"n":1}'), ("sport", '{"n":7}')]
    news_position, sport_position = got[1]["id"].split(",")
    assert news_position.endswith(":1") and sport_position.endswith(":1")
    publish(client, "sport", 8)
    (resumed,) = events(client, "/both", 1, **{"last-event-id": got[1]["id"]})
    assert (resumed["event"], resumed["data"]) == ("sport", '{"n":8}')


def test_json_lines_variant(server: tuple[httpx.Client, Channels]) -> None:
    client, _ = server
    publish(client, "news", 1, 2)
    with client.stream("GET", "/lines?since=start") as response:
        assert response.headers["content-type"] == "application/jsonl"
        lines = response.iter_lines()
        frames = [json.loads(next(lines)) for _ in range(2)]
    assert [(f["type"], f["offset"], f["data"]) for f in frames] == [
        ("pub", 1, {"n": 1}),
        ("pub", 2, {"n": 2}),
    ]


def test_path_parameters_choose_the_channel(server: tuple[httpx.Client, Channels]) -> None:
    client, _ = server
    publish(client, "room:blue", 5)
    (event,) = events(client, "/room/blue?since=start", 1)
    assert event["data"] == '{"n":5}'


def test_refusals_answer_before_the_stream(server: tuple[httpx.Client, Channels]) -> None:
    client, _ = server
    assert client.get("/news?token=bad").status_code == 401
    assert client.get("/secret?token=alice").status_code == 403
    assert client.get("/room/bad%20name").status_code == 400
    (event,) = events(client, "/secret?token=admin", 1)
    assert event["event"] == "ready"


def test_idle_stream_sends_keepalive_comments(server: tuple[httpx.Client, Channels]) -> None:
    client, _ = server
    with client.stream("GET", "/news") as response:
        lines = response.iter_lines()
        seen = [next(lines) for _ in range(5)]  # ready event (4 lines), then a ping
    assert seen[4] == ": ping"


def test_hub_stop_ends_the_stream(server: tuple[httpx.Client, Channels]) -> None:
    client, _ = server
    url = str(client.base_url)
    with client.stream("GET", "/news") as response:
        lines = response.iter_lines()
        assert next(lines) == "event: ready"
        threading.Thread(target=lambda: httpx.post(url + "/stop", timeout=WAIT)).start()
        rest = list(lines)  # returns only when the server ends the response
    assert rest[-1] == ""


class StalledClient:
    """An ASGI peer that takes the response head and then never reads again."""

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []
        self.gone = asyncio.Event()

    async def receive(self) -> dict[str, Any]:
        await self.gone.wait()
        return {"type": "http.disconnect"}

    async def send(self, message: dict[str, Any]) -> None:
        self.messages.append(message)
        if message["type"] == "http.response.body" and message.get("more_body"):
            await asyncio.Event().wait()  # the transport's buffer is full, for good


async def test_a_slow_reader_is_ended_so_that_it_reconnects() -> None:
    limits = ConnectionLimits(max_queue_messages=8, write_timeout=0.2)
    app, hub = make_app(limits=limits)
    peer = StalledClient()
    scope = {
        "type": "http",
        "method": "GET",
        "path": "/news",
        "raw_path": b"/news",
        "query_string": b"",
        "headers": [],
        "app": app,
    }
    async with hub:
        stream = asyncio.ensure_future(app.router(scope, peer.receive, peer.send))
        for _ in range(200):
            if hub.router.channels.get("news"):
                break
            await asyncio.sleep(0.01)
        for n in range(20):
            await hub.publish("news", {"n": n})
        await asyncio.wait_for(stream, WAIT)  # the stream ended by itself
    assert hub.metrics.slow_disconnects >= 1
    assert hub.connections == []


@pytest.mark.redis
def test_resume_on_another_node_through_redis() -> None:
    """Two nodes share one Redis: a stream read on one resumes on the other by its id."""
    import secrets

    from servers import redis_url

    prefix = f"sse{secrets.token_hex(4)}"
    broker = f"{redis_url()}?prefix={prefix}"
    hubs = []
    with contextlib.ExitStack() as stack:
        stack.callback(lambda: asyncio.run(_delete_prefix(redis_url(), prefix)))
        urls = []
        for _ in range(2):
            hub = Channels(broker, default=ChannelOptions(history_size=50))
            app = Tether(lifespan=hub.lifespan)
            app.add_route("/news", hub.sse_endpoint(["news"]))

            hubs.append(hub)
            urls.append(stack.enter_context(uvicorn_thread(app)))
        one = stack.enter_context(httpx.Client(base_url=urls[0], timeout=WAIT))
        two = stack.enter_context(httpx.Client(base_url=urls[1], timeout=WAIT))

        async def emit(*numbers: int) -> None:
            from tether.channels import Emitter

            async with Emitter(broker, default=ChannelOptions(history_size=50)) as emitter:
                for n in numbers:
                    await emitter.publish("news", {"n": n})

        asyncio.run(emit(1, 2))
        first, second = events(one, "/news?since=start", 2)
        asyncio.run(emit(3, 4))  # published while no node streams to this client
        resumed = events(two, "/news", 2, **{"last-event-id": second["id"]})
        assert [e["data"] for e in resumed] == ['{"n":3}', '{"n":4}']
        assert resumed[0]["id"].split(":")[0] == first["id"].split(":")[0]  # one epoch


def test_a_reader_that_stops_reading_is_ended_on_a_real_server() -> None:
    """A client that never reads: the server's buffers fill, the queue overflows, the stream is
    ended (the policy of WebSocket subscribers) and the hub forgets the connection."""
    import socket

    limits = ConnectionLimits(max_queue_bytes=256 * 1024, write_timeout=0.5)
    app, hub = make_app(limits=limits)
    with uvicorn_thread(app) as url, httpx.Client(base_url=url, timeout=WAIT) as client:
        host, port = url.rsplit("//", 1)[1].split(":")
        stalled = socket.create_connection((host, int(port)))
        stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        try:
            stalled.sendall(b"GET /news HTTP/1.1\r\nHost: test\r\n\r\n")
            for _ in range(int(WAIT / 0.01)):
                if hub.connections:
                    break
                threading.Event().wait(0.01)
            assert len(hub.connections) == 1
            for _ in range(40):  # bursts of 100 x 32 kB until the stream is cut (2-3 bursts)
                burst = client.post("/publish/news", params={"n": 100, "pad": 32_000})
                assert burst.status_code == 200
                if not hub.connections:
                    break
            assert hub.connections == []
            assert hub.metrics.slow_disconnects >= 1
        finally:
            stalled.close()
