"""docs/examples/chat_room.py runs as documented."""

from __future__ import annotations

import json

from docs.examples import chat_room

from tether.testclient import AsyncTestClient


async def test_two_people_chat_in_a_room() -> None:
    async with (
        AsyncTestClient(chat_room.app) as client,
        client.websocket_connect("/rooms/lobby?name=ann") as ann,
        client.websocket_connect("/rooms/lobby?name=bob") as bob,
    ):
        await ann.send_text("hello")
        for ws in (ann, bob):
            assert json.loads(await ws.receive_text()) == {"from": "ann", "text": "hello"}
        await bob.send_text("hi ann")
        assert json.loads(await ann.receive_text()) == {"from": "bob", "text": "hi ann"}


async def test_protocol_endpoint_of_the_example() -> None:
    async with (
        AsyncTestClient(chat_room.app) as client,
        client.websocket_connect("/channels") as ws,
    ):
        await ws.receive_json()
        await ws.send_json({"id": 1, "type": "subscribe", "channel": "chat:lobby"})
        assert (await ws.receive_json())["type"] == "reply"
        await ws.send_json({"id": 2, "type": "publish", "channel": "chat:lobby", "data": "x"})
        while (frame := await ws.receive_json())["type"] == "join":
            pass
        assert frame["type"] == "error" and frame["error"]["code"] == "rejected"
        spoof = {"from": "admin", "text": "hi"}
        await ws.send_json({"id": 3, "type": "publish", "channel": "chat:lobby", "data": spoof})
        kinds = set()
        while kinds != {"reply", "pub"}:
            frame = await ws.receive_json()
            assert frame["type"] in ("join", "reply", "pub")
            if frame["type"] == "pub":  # the author is the connection, not what the client said
                assert frame["data"]["from"] != "admin" and frame["data"]["text"] == "hi"
            kinds.add(frame["type"]) if frame["type"] != "join" else None
