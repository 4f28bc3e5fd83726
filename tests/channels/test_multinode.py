"""Multi-node correctness: real uvicorn processes sharing one Redis.

Each test starts its own private redis-server and two tether nodes (tests/channels/node_app.py)
and ends by checking the invariants of recorder.check_invariants on every recording client.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import subprocess
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from recorder import Recorder, check_invariants

from servers import RedisServer, uvicorn_process

pytestmark = [pytest.mark.integration, pytest.mark.redis, pytest.mark.timeout(90)]

CHANNEL = "chat:room"


@contextlib.contextmanager
def nodes(redis: RedisServer, count: int = 2, **env: str) -> Iterator[list[Any]]:
    prefix = "mn" + secrets.token_hex(4)
    settings = {
        "TETHER_CHANNELS_BROKER": f"{redis.url}?prefix={prefix}",
        "TETHER_PRESENCE_TTL": "1.5",
        **env,
    }
    with contextlib.ExitStack() as stack:
        servers = [
            stack.enter_context(
                uvicorn_process("node_app:app", env={**settings, "PYTHONPATH": _pythonpath()})
            )
            for _ in range(count)
        ]
        yield servers


def _pythonpath() -> str:
    import os
    from pathlib import Path

    here = Path(__file__).resolve().parent
    root = here.parent.parent
    return os.pathsep.join([str(here), str(root), str(root / "src")])


def ws_url(server: Any) -> str:
    return f"{server.ws_url}/channels"


def redis_cli(redis: RedisServer, *args: str) -> str:
    return subprocess.run(
        ["redis-cli", "-p", str(redis.port), *args],
        capture_output=True,
        text=True,
        check=True,
        timeout=10,
    ).stdout.strip()


def numsub(redis: RedisServer, prefix_key: str) -> int:
    out = redis_cli(redis, "PUBSUB", "NUMSUB", prefix_key).split("\n")
    return int(out[1])


async def health(server: Any) -> tuple[int, dict[str, Any]]:
    async with httpx.AsyncClient() as client:
        try:
            response = await client.get(f"{server.url}/health", timeout=2)
        except httpx.HTTPError:
            return 0, {}
        return response.status_code, response.json()


async def wait_until(predicate: Any, timeout: float = 15.0, what: str = "condition") -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = predicate()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


def channel_key(server_env_prefix: str) -> str:
    return f"{server_env_prefix}:c:{CHANNEL}"


def prefix_of(server: Any) -> str:
    return str(server.env["TETHER_CHANNELS_BROKER"].split("prefix=")[1])


async def started(url: str, **kwargs: Any) -> Recorder:
    recorder = Recorder(url, CHANNEL, **kwargs)
    await recorder.connect()
    await recorder.subscribe()
    return recorder


async def publish_many(recorders: list[Recorder], count: int, tag: str) -> None:
    for n in range(count):
        await recorders[n % len(recorders)].publish({"tag": tag, "n": n})


@pytest.fixture
def redis() -> Iterator[RedisServer]:
    with RedisServer() as server:
        yield server


async def test_s1_every_client_sees_every_message_in_the_same_order(redis: RedisServer) -> None:
    with nodes(redis) as (a, b):
        clients = [
            await started(ws_url(a)),
            await started(ws_url(b)),
            await started(ws_url(a)),
            await started(ws_url(b)),
        ]
        await asyncio.gather(publish_many(clients[:2], 60, "x"), publish_many(clients[2:], 60, "y"))
        for client in clients:
            await client.wait_for_offset(120)
        reference = clients[0].sessions[0].data
        for client in clients:
            check_invariants(client)
            assert client.offsets == list(range(1, 121))
            assert client.sessions[0].data == reference
        assert numsub(redis, channel_key(prefix_of(a))) == 2
        for client in clients:
            await client.close()


async def test_s4_kill_a_node(redis: RedisServer) -> None:
    with nodes(redis) as (a, b):
        on_a, on_b = await started(ws_url(a)), await started(ws_url(b))
        await publish_many([on_a], 10, "before")
        await on_b.wait_for_offset(10)
        victim = on_b.client_id
        b.kill()
        await asyncio.wait_for(on_b.closed.wait(), 5)
        await publish_many([on_a], 10, "during")
        await on_b.connect(ws_url(a))  # fail over to the surviving node
        session = await on_b.subscribe()
        assert session.recovered and session.start == 10
        await publish_many([on_a], 5, "after")
        for client in (on_a, on_b):
            await client.wait_for_offset(25)
            check_invariants(client)
        assert on_b.offsets == list(range(1, 26))

        async def ghost_gone() -> bool:
            members = (await on_a.request({"type": "presence", "channel": CHANNEL}))["members"]
            return victim not in members

        await wait_until(ghost_gone, 10, "presence of the killed node to expire")
        assert numsub(redis, channel_key(prefix_of(a))) == 1  # no ghost subscription
        await on_a.close()
        await on_b.close()


async def test_s7_restart_redis_volatile(redis: RedisServer) -> None:
    with nodes(redis) as (a, b):
        clients = [await started(ws_url(a)), await started(ws_url(b))]
        await publish_many(clients, 10, "before")
        for client in clients:
            await client.wait_for_offset(10)
        redis.stop()
        for node in (a, b):
            await wait_until(lambda n=node: _status(n, 503), 10, "health to report degraded")
        await asyncio.sleep(1.0)
        redis.start()
        for node in (a, b):
            await wait_until(lambda n=node: _status(n, 200), 15, "health to recover")
        # The stream's metadata died with Redis: every client is told, never a silent hole.
        for client in clients:
            await wait_until(lambda c=client: len(c.sessions) == 2, 10, "resubscribe")
            assert not clients[0].sessions[1].recovered
            assert client.sessions[0].ended_by == "insufficient_state"
        await publish_many(clients, 10, "after")
        for client in clients:
            await wait_until(lambda c=client: len(c.sessions[-1].offsets) == 10, 10, "delivery")
            check_invariants(client)
        assert numsub(redis, channel_key(prefix_of(a))) == 2  # no node stayed deaf
        for node in (a, b):
            _, report = await health(node)
            assert report["metrics"]["broker_reconnects"] >= 1
        for client in clients:
            await client.close()


async def _status(node: Any, code: int) -> bool:
    return (await health(node))[0] == code


async def test_s9_redis_kills_pubsub_clients(redis: RedisServer) -> None:
    with nodes(redis) as (a, b):
        clients = [await started(ws_url(a)), await started(ws_url(b))]
        total = 150

        async def publisher() -> None:
            for n in range(total):
                await clients[n % 2].publish({"n": n})
                await asyncio.sleep(0.004)

        async def reconnected(count: int) -> bool:
            reports = [await health(node) for node in (a, b)]
            return all(r["metrics"]["broker_reconnects"] >= count for _, r in reports if r)

        task = asyncio.create_task(publisher())
        await asyncio.sleep(0.15)
        redis_cli(redis, "CLIENT", "KILL", "TYPE", "pubsub")
        # The second kill waits for both listeners to be back (on a busy machine a fixed pause
        # could land before they were, and kill nothing new).
        await wait_until(lambda: reconnected(1), 10, "both listeners to reconnect")
        redis_cli(redis, "CLIENT", "KILL", "TYPE", "pubsub")
        await task
        for client in clients:
            await client.wait_for_offset(total)
            check_invariants(client)
            assert client.offsets == list(range(1, total + 1))  # gaps were filled from history
        for node in (a, b):
            _, report = await health(node)
            assert report["ok"] and report["metrics"]["broker_reconnects"] >= 2
        assert numsub(redis, channel_key(prefix_of(a))) == 2
        for client in clients:
            await client.close()


async def test_s12_slow_consumer(redis: RedisServer) -> None:
    await slow_consumer_scenario(redis)


async def slow_consumer_scenario(broker: Any) -> None:
    """S12 on ``broker`` (a server, a Sentinel group or a cluster): a reader that stops is cut
    with 4001 without slowing the healthy one, then recovers everything it missed."""
    env = {"TETHER_QUEUE_BYTES": "65536", "TETHER_WRITE_TIMEOUT": "2"}
    with nodes(broker, **env) as (a, b):  # type: ignore[arg-type]  # anything with a .url
        fast = await started(ws_url(a))
        slow = await started(ws_url(a), rcvbuf=4096)
        publisher = await started(ws_url(b))
        slow.paused.clear()  # stop reading: the kernel buffers fill, then the server's queue
        blob = secrets.token_urlsafe(3000)  # incompressible: permessage-deflate is on
        sent = 0
        while sent < 3000:
            await asyncio.gather(
                *(publisher.publish({"n": sent + i, "pad": blob}) for i in range(20))
            )
            sent += 20
            _, report = await health(a)
            if report["metrics"]["slow_disconnects"]:
                break
        assert report["metrics"]["slow_disconnects"] == 1
        await fast.wait_for_offset(sent)
        assert fast.offsets == list(range(1, sent + 1))  # the healthy client is unaffected
        slow.paused.set()
        await asyncio.wait_for(slow.closed.wait(), 15)
        assert slow.close_codes[-1] == 4001
        await slow.connect(ws_url(a))
        session = await slow.subscribe()
        assert session.recovered
        await slow.wait_for_offset(sent)
        check_invariants(slow)
        check_invariants(fast)
        for client in (fast, slow, publisher):
            await client.close()


# -- the fault figures: a numbered stream through kill -9 / restart empty, and a pause -------

RATE = 300  # publications per second, alternating between the two nodes


def numbers(client: Recorder) -> list[list[int]]:
    """The publication numbers each session of ``client`` received, in arrival order."""
    return [[d["n"] for d in s.data if d.get("n", -1) >= 0] for s in client.sessions]


def check_every_publication(client: Recorder, published: list[int]) -> int:
    """Each acknowledged publication arrived once and in order, or its loss was signalled.

    Returns how many were lost with a signal (``unsubscribed`` ending the session, then a
    session that started with ``recovered: false``).
    """
    per_session = numbers(client)
    seen = [n for session in per_session for n in session]
    assert seen == sorted(set(seen)), "a duplicate or a reordering"
    signalled = 0
    received = set(seen)
    for n in published:
        if n in received:
            continue
        # The session that continued past n must have started after it, without recovery,
        # right after a session that ended with an explicit signal.
        later = next(i for i, s in enumerate(per_session) if s and s[-1] > n)
        assert per_session[later][0] > n, f"publication {n} silently missing in a session"
        session = client.sessions[later]
        assert later > 0 and not session.recovered, f"publication {n} lost without a signal"
        assert client.sessions[later - 1].ended_by, f"publication {n} lost without a signal"
        signalled += 1
    return signalled


@pytest.mark.parametrize("fault", ["kill -9, restart empty", "pause"])
async def test_a_numbered_stream_through_a_redis_fault(redis: RedisServer, fault: str) -> None:
    with nodes(redis) as (a, b):
        clients = [await started(ws_url(node)) for node in (a, b, a, b)]
        publishers = clients[:2]
        acknowledged: list[int] = []
        refused: list[int] = []
        streaming = True

        async def stream() -> None:
            n = 0
            while streaming:
                try:
                    await publishers[n % 2].publish({"n": n})
                    acknowledged.append(n)
                except (RuntimeError, TimeoutError):  # an error frame: failed loudly
                    refused.append(n)
                n += 1
                await asyncio.sleep(1 / RATE)

        task = asyncio.create_task(stream())
        await wait_until(lambda: len(acknowledged) > RATE // 2, 10, "the stream to flow")
        if fault == "pause":
            await asyncio.to_thread(redis.pause, 2.0)  # SIGSTOP, shorter than command_timeout
        else:
            redis.stop()  # SIGKILL: nothing saved, it comes back empty
            await asyncio.sleep(1.0)
            redis.start()
        for node in (a, b):
            await wait_until(lambda n=node: _status(n, 200), 20, "the node to see Redis again")
        mark = len(acknowledged)
        await wait_until(lambda: len(acknowledged) > mark + RATE // 2, 15, "the stream to go on")
        streaming = False
        await task
        await publishers[0].publish({"n": -1, "end": True})

        def ended(client: Recorder) -> bool:
            return any(d.get("end") for d in client.sessions[-1].data)

        for client in clients:
            await wait_until(lambda c=client: ended(c), 15, "the end marker")
            check_invariants(client)
            lost = check_every_publication(client, acknowledged)
            if fault == "pause":
                assert lost == 0 and not refused  # a pause shorter than the timeouts loses nothing
        if fault != "pause":
            assert refused, "publishes while Redis was down must fail loudly"
        for client in clients:
            await client.close()
