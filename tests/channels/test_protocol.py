"""The browser JSON protocol, driven through tether's in-process test client."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tether import Tether
from tether.channels import ChannelForbidden, ChannelOptions, Channels, PublishRejected
from tether.limits import WebSocketLimits
from tether.testclient import AsyncTestClient

CHAT = ChannelOptions(history_size=20, presence=True, join_leave=True, client_publish=True)


def build(**kwargs: Any) -> tuple[Tether, Channels]:
    channels = Channels("memory://", namespaces={"chat": CHAT, "news": ChannelOptions()}, **kwargs)
    app = Tether(lifespan=channels.lifespan)
    app.add_websocket_route("/channels", channels.endpoint)
    app.add_route("/_tether/channels.js", channels.client_js)
    app.add_route("/health", channels.health_endpoint)
    return app, channels


async def next_of(ws: Any, kind: str) -> dict[str, Any]:
    while True:
        frame = await ws.receive_json()
        if frame["type"] == kind:
            return dict(frame)


async def test_subscribe_publish_and_receive() -> None:
    app, _ = build()
    async with AsyncTestClient(app) as client, client.websocket_connect("/channels") as ws:
        hello = await ws.receive_json()
        assert hello["type"] == "connected" and hello["client"]
        await ws.send_json({"id": 1, "type": "subscribe", "channel": "chat:lobby"})
        reply = await next_of(ws, "reply")
        assert reply["id"] == 1
        assert reply["result"]["recovered"] is False and reply["result"]["offset"] == 0
        await ws.send_json({"id": 2, "type": "publish", "channel": "chat:lobby", "data": {"t": 1}})
        pub = await next_of(ws, "pub")
        assert pub["channel"] == "chat:lobby" and pub["offset"] == 1 and pub["data"] == {"t": 1}
        assert pub["epoch"] == reply["result"]["epoch"]


async def test_reconnect_recovers_from_last_offset() -> None:
    app, channels = build()
    async with AsyncTestClient(app) as client:
        async with client.websocket_connect("/channels") as ws:
            await ws.send_json({"id": 1, "type": "subscribe", "channel": "chat:r"})
            start = (await next_of(ws, "reply"))["result"]
            await channels.publish("chat:r", "a")
            first = await next_of(ws, "pub")
        for text in ("b", "c"):
            await channels.publish("chat:r", text)
        async with client.websocket_connect("/channels") as ws:
            since = {"offset": first["offset"], "epoch": start["epoch"]}
            await ws.send_json({"id": 9, "type": "subscribe", "channel": "chat:r", "since": since})
            reply = await next_of(ws, "reply")
            assert reply["result"]["recovered"] is True and reply["result"]["replayed"] == 2
            assert reply["result"]["offset"] == 1
            pubs = [await next_of(ws, "pub") for _ in range(2)]
            assert [p["data"] for p in pubs] == ["b", "c"] and [p["offset"] for p in pubs] == [2, 3]


async def test_errors_carry_the_request_id() -> None:
    app, _ = build()
    async with AsyncTestClient(app) as client, client.websocket_connect("/channels") as ws:
        await ws.send_json({"id": 5, "type": "publish", "channel": "news:x", "data": 1})
        error = await next_of(ws, "error")
        assert error == {
            "type": "error",
            "id": 5,
            "error": {"code": "forbidden", "message": error["error"]["message"]},
        }
        await ws.send_json({"id": 6, "type": "subscribe", "channel": "bad name"})
        assert (await next_of(ws, "error"))["error"]["code"] == "bad_channel"
        await ws.send_json({"id": 7, "type": "nope"})
        assert (await next_of(ws, "error"))["error"]["code"] == "bad_request"
        await ws.send_json({"id": 8, "type": "ping"})
        assert await next_of(ws, "pong") == {"type": "pong", "id": 8}


async def test_malformed_frame_closes_with_4003() -> None:
    app, _ = build()
    async with AsyncTestClient(app) as client, client.websocket_connect("/channels") as ws:
        await ws.receive_json()
        await ws.send_text("not json")
        message = await ws.receive()
        assert message["type"] == "websocket.close" and message["code"] == 4003


async def test_authorize_hook_and_authenticate() -> None:
    def authorize(conn: Any, channel: str, action: str) -> bool:
        return conn.user == "admin" or action == "subscribe"

    async def authenticate(websocket: Any) -> dict[str, Any] | None:
        user = websocket.query_params.get("user")
        return {"user": user, "info": {"name": user}} if user else None

    channels = Channels(
        namespaces={"ops": ChannelOptions(client_publish=True, authorize=authorize)},
        authenticate=authenticate,
    )
    app = Tether(lifespan=channels.lifespan)
    app.add_websocket_route("/channels", channels.endpoint)
    async with AsyncTestClient(app) as client:
        async with client.websocket_connect("/channels?user=bob") as ws:
            await ws.send_json({"id": 1, "type": "publish", "channel": "ops:x", "data": 1})
            assert (await next_of(ws, "error"))["error"]["code"] == "forbidden"
        async with client.websocket_connect("/channels?user=admin") as ws:
            await ws.send_json({"id": 1, "type": "publish", "channel": "ops:x", "data": 1})
            assert (await next_of(ws, "reply"))["result"]["offset"] == 1
        async with client.websocket_connect("/channels") as ws:
            # Accepted, then closed with 1008 and a reason: what a browser can actually see.
            message = await ws.receive()
            assert message == {"type": "websocket.close", "code": 1008, "reason": message["reason"]}
            assert message["reason"] == "not authenticated"


async def test_authenticate_may_refuse_with_a_reason() -> None:
    def authenticate(websocket: Any) -> dict[str, Any] | None:
        if websocket.query_params.get("name") == "x" * 300:
            raise ChannelForbidden("é" * 100)  # longer than a close frame can carry
        raise ChannelForbidden("pick a name first")

    channels = Channels(authenticate=authenticate)
    app = Tether(lifespan=channels.lifespan)
    app.add_websocket_route("/channels", channels.endpoint)
    async with AsyncTestClient(app) as client:
        async with client.websocket_connect("/channels") as ws:
            message = await ws.receive()
            assert (message["code"], message["reason"]) == (1008, "pick a name first")
        async with client.websocket_connect("/channels?name=" + "x" * 300) as ws:
            message = await ws.receive()
            assert message["code"] == 1008
            assert len(message["reason"].encode()) <= 123 and message["reason"].endswith("...")


async def test_presence_and_history_commands() -> None:
    app, channels = build()
    async with AsyncTestClient(app) as client, client.websocket_connect("/channels") as ws:
        hello = await ws.receive_json()
        await ws.send_json({"id": 1, "type": "subscribe", "channel": "chat:p"})
        await next_of(ws, "reply")
        await ws.send_json({"id": 2, "type": "presence", "channel": "chat:p"})
        members = (await next_of(ws, "reply"))["result"]["members"]
        assert list(members) == [hello["client"]]
        await ws.send_json({"id": 3, "type": "presence", "channel": "chat:p", "count_only": True})
        assert (await next_of(ws, "reply"))["result"] == {"count": 1}
        await channels.publish("chat:p", {"n": 1})
        await ws.send_json({"id": 4, "type": "history", "channel": "chat:p"})
        history = (await next_of(ws, "reply"))["result"]
        assert history["publications"] == [{"offset": 1, "data": {"n": 1}}]


async def test_client_script_and_health_routes() -> None:
    app, _ = build()
    async with AsyncTestClient(app) as client:
        script = await client.get("/_tether/channels.js")
        assert script.status_code == 200 and "TetherChannels" in script.text
        assert script.headers["content-type"].startswith("text/javascript")
        health = await client.get("/health")
        assert health.status_code == 200 and health.json()["broker"]["state"] == "connected"


def _stamp(conn: Any, channel: str, data: Any) -> dict[str, Any]:
    if not isinstance(data, dict) or not isinstance(data.get("text"), str):
        raise PublishRejected("a message needs a text")
    if data["text"] == "boom":
        raise ValueError("no explosions here")
    return {"text": data["text"].strip(), "by": conn.user}


async def _async_stamp(conn: Any, channel: str, data: Any) -> dict[str, Any]:
    return _stamp(conn, channel, data)


@pytest.mark.parametrize("hook", [_stamp, _async_stamp])
async def test_validate_hook_transforms_and_rejects_client_publishes(hook: Any) -> None:
    options = ChannelOptions(history_size=5, client_publish=True, validate=hook)
    channels = Channels("memory://", namespaces={"room": options})
    app = Tether(lifespan=channels.lifespan)
    app.add_websocket_route("/channels", channels.endpoint)
    async with AsyncTestClient(app) as client, client.websocket_connect("/channels") as ws:
        await ws.send_json({"id": 1, "type": "subscribe", "channel": "room:a"})
        await next_of(ws, "reply")
        await ws.send_json(
            {"id": 2, "type": "publish", "channel": "room:a", "data": {"text": " hi "}}
        )
        # With the memory broker the pub is queued before the publish's reply.
        assert (await next_of(ws, "pub"))["data"] == {"text": "hi", "by": None}
        assert (await next_of(ws, "reply"))["result"]["offset"] == 1
        for request_id, data, reason in [
            (3, 42, "a message needs a text"),
            (4, {"text": "boom"}, "no explosions here"),
        ]:
            await ws.send_json(
                {"id": request_id, "type": "publish", "channel": "room:a", "data": data}
            )
            error = await next_of(ws, "error")
            assert error == {
                "type": "error",
                "id": request_id,
                "error": {"code": "rejected", "message": reason},
            }
        # Server-side publishes are the application's own: the hook does not see them.
        await channels.publish("room:a", 7)
        history = await channels.history("room:a")
        assert [p.data for p in history.publications] == ['{"text":"hi","by":null}', "7"]


async def test_a_silent_client_is_closed_though_the_server_greeted_it() -> None:
    """The ``connected`` greeting does not meet the first-message deadline of the default
    limits (the endpoint marks itself CLIENT_SPEAKS_FIRST); a subscribe does."""
    channels = Channels("memory://", namespaces={"chat": CHAT})
    limits = WebSocketLimits.recommended(first_message_timeout=0.2)
    app = Tether(lifespan=channels.lifespan, limits=limits)
    app.add_websocket_route("/channels", channels.endpoint)
    async with AsyncTestClient(app) as client:
        async with client.websocket_connect("/channels") as silent:
            assert (await silent.receive_json())["type"] == "connected"
            closed = await silent.receive()
            assert closed == {
                "type": "websocket.close",
                "code": 1008,
                "reason": "no message in time",
            }
        async with client.websocket_connect("/channels") as talker:
            await talker.send_json({"id": 1, "type": "subscribe", "channel": "chat:x"})
            assert (await next_of(talker, "reply"))["id"] == 1
            await asyncio.sleep(0.4)
            await channels.publish("chat:x", "still subscribed")
            assert (await next_of(talker, "pub"))["data"] == "still subscribed"
