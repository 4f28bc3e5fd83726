"""Issue 21.5: bad protocol input gets a coded error frame, never a 1011, and little log.

Before: an unhashable ``type``, a boolean ``since.offset``, offsets from 1e14 (the Lua script
built the stream id ``"1e+14-0"``), JSON nested ~1,000 deep and ``BrokerUnavailable`` each
closed the connection 1011 with 2.3 KB of ERROR log; 1,000 such frames wrote 2.3 MB.
"""

from __future__ import annotations

import logging
import secrets
from typing import Any

import pytest
from hostile import Client, serve_app

from servers import RedisServer
from tether import Tether
from tether.channels import ChannelOptions, Channels
from tether.limits import WebSocketLimits

pytestmark = [pytest.mark.integration, pytest.mark.redis, pytest.mark.timeout(60)]


def _authorize(conn: Any, channel: str, action: str) -> bool:
    if channel == "chat:boom":
        raise RuntimeError("a bug in the application's hook")
    return True


async def _alive(client: Client) -> None:
    await client.send({"type": "ping", "id": "alive"})
    assert (await client.until("pong"))["id"] == "alive"


async def test_bad_input_is_answered_not_crashed(
    private_redis: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    options = ChannelOptions(history_size=10, client_publish=True, authorize=_authorize)
    hub = Channels(
        f"{private_redis.url}?prefix=b{secrets.token_hex(3)}", namespaces={"chat": options}
    )
    # Hundreds of bad frames in a row: above the default rate limit, which is not under test.
    app = Tether(
        lifespan=hub.lifespan, limits=WebSocketLimits.recommended(messages_per_second=None)
    )
    with caplog.at_level(logging.INFO), serve_app(hub, app) as url:
        client = await Client.connect(url)
        await client.request({"type": "publish", "channel": "chat:a", "data": 1}, 0)
        cases: list[tuple[str, str]] = [
            ('{"type":[],"id":1}', "bad_request"),
            ('{"type":{"a":1},"id":2}', "bad_request"),
            (
                '{"type":"history","channel":"chat:a","since":{"offset":true,"epoch":"x"},"id":3}',
                "bad_request",
            ),
            (
                '{"type":"history","channel":"chat:a","since":{"offset":-1,"epoch":"x"},"id":4}',
                "bad_request",
            ),
            (
                '{"type":"subscribe","channel":"chat:a","since":{"offset":1e300,"epoch":"x"},"id":5}',
                "bad_request",
            ),
            (
                '{"type":"publish","channel":"chat:a","id":6,"data":'
                + "[" * 1000
                + "]" * 1000
                + "}",
                "bad_request",
            ),
            (
                '{"type":"publish","channel":"chat:a","id":7,"data":' + "[" * 300 + "]" * 300 + "}",
                None,
            ),  # deep but decodable: published
            ('{"type":"subscribe","channel":["x"],"id":8}', "bad_request"),
            ('{"type":"subscribe","channel":"chat:boom","id":9}', "internal"),
        ]
        for text, code in cases:
            await client.send_raw(text)
            answer = await client.until("error" if code else "reply")
            if code:
                assert answer["error"]["code"] == code, (text[:80], answer)
            await _alive(client)

        # Offsets from 1e14 up: the stream id is still an integer (Lua wrote "1e+14").
        for offset in (10**14 - 1, 10**14, 2**53 - 1):
            answer = await client.request(
                {"type": "history", "channel": "chat:a", "since": {"offset": offset, "epoch": "e"}},
                f"o{offset}",
            )
            assert answer["type"] == "reply", answer

        # One cause, many frames: one log record, not one per frame.
        caplog.clear()
        for i in range(300):
            await client.send({"type": "subscribe", "channel": "chat:boom", "id": i})
        for _ in range(300):
            assert (await client.until("error"))["error"]["code"] == "internal"
        assert len([r for r in caplog.records if r.name == "tether.channels"]) <= 1

        # The broker goes away: requests are answered "unavailable", the socket stays.
        private_redis.stop()
        answer = await client.request({"type": "publish", "channel": "chat:a", "data": 2}, "p")
        assert answer["type"] == "error" and answer["error"]["code"] == "unavailable", answer
        await _alive(client)
        await client.close()
