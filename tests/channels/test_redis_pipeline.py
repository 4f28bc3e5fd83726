"""The auto-pipeline's RESP handling against a scripted fake server (no Redis needed)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from tether.channels import BrokerUnavailable
from tether.channels.backends._redis_pipeline import CommandPipeline, ReplyError, _parse, pack


def test_parse_every_reply_type() -> None:
    data = b"*3\r\n:7\r\n$3\r\nabc\r\n$-1\r\n+OK\r\n-ERR no\r\n*0\r\n"
    value, pos = _parse(data, 0)
    assert value == [7, b"abc", None]
    value, pos = _parse(data, pos)
    assert value == b"OK"
    value, pos = _parse(data, pos)
    assert isinstance(value, ReplyError) and value.code == "ERR"
    assert _parse(data, pos) == ([], len(data))


class FakeRedis:
    """Answers each command line with the next scripted reply, one byte per write."""

    def __init__(self, replies: list[bytes]) -> None:
        self.replies = replies
        self.commands: list[bytes] = []

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while self.replies:
            header = await reader.readline()
            if not header:
                break
            count = int(header[1:])
            parts = []
            for _ in range(count):
                size = int((await reader.readline())[1:])
                parts.append((await reader.readexactly(size + 2))[:-2])
            self.commands.append(b" ".join(parts))
            for byte in self.replies.pop(0):
                writer.write(bytes([byte]))
                await writer.drain()
        await asyncio.sleep(0.05)
        writer.close()


@pytest.fixture
async def fake() -> AsyncIterator[Callable[[list[bytes]], Any]]:
    servers: list[asyncio.Server] = []

    async def start(replies: list[bytes]) -> tuple[FakeRedis, CommandPipeline]:
        redis = FakeRedis(replies)
        server = await asyncio.start_server(redis.serve, "127.0.0.1", 0)
        servers.append(server)
        port = server.sockets[0].getsockname()[1]

        def connect(factory: Any) -> Any:
            return asyncio.get_running_loop().create_connection(factory, "127.0.0.1", port)

        return redis, CommandPipeline(connect, [pack(b"PING")], timeout=2.0)

    yield start
    for server in servers:
        server.close()


async def test_replies_split_across_reads_resolve_their_own_callers(fake: Any) -> None:
    redis, pipeline = await fake([b"+PONG\r\n", b"*2\r\n:1\r\n$2\r\nab\r\n", b"-ERR bad\r\n"])
    first = asyncio.ensure_future(pipeline.call(pack(b"GET", b"a")))
    second = asyncio.ensure_future(pipeline.call(pack(b"GET", b"b")))
    assert await first == [1, b"ab"]
    with pytest.raises(ReplyError, match="ERR bad"):
        await second
    assert redis.commands == [b"PING", b"GET a", b"GET b"]
    await pipeline.close()


async def test_a_closed_connection_fails_the_callers_in_flight(fake: Any) -> None:
    _, pipeline = await fake([b"+PONG\r\n"])  # then the server hangs up
    with pytest.raises(BrokerUnavailable):
        await pipeline.call(pack(b"GET", b"a"))
    await pipeline.close()
    with pytest.raises(BrokerUnavailable):
        await pipeline.call(pack(b"GET", b"a"))


async def test_a_refused_client_name_keeps_the_connection() -> None:
    """An ACL without ``client|setname`` refuses the name: the connection still serves (a
    refused AUTH or SCRIPT LOAD, by contrast, fails it)."""
    redis = FakeRedis([b"+PONG\r\n", b"-NOPERM no client|setname for you\r\n", b":5\r\n"])
    server = await asyncio.start_server(redis.serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]

    def connect(factory: Any) -> Any:
        return asyncio.get_running_loop().create_connection(factory, "127.0.0.1", port)

    pipeline = CommandPipeline(connect, [pack(b"PING")], timeout=2.0, name=b"tether-publish")
    try:
        assert await pipeline.call(pack(b"INCR", b"a")) == 5
        assert redis.commands == [b"PING", b"CLIENT SETNAME tether-publish", b"INCR a"]
    finally:
        await pipeline.close()
        server.close()
