"""The endpoint's protocol rules, with a plain WebSocket client: first command, stale
clients, pings and pongs, malformed frames, and both formats."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
import websockets
from cf_helpers import token

pytestmark = [pytest.mark.integration, pytest.mark.timeout(30)]


async def closed_with(ws: Any) -> int:
    """Read until the server closes; its close code."""
    with pytest.raises(websockets.ConnectionClosed):
        while True:
            await asyncio.wait_for(ws.recv(), 5)
    assert ws.close_code is not None
    return int(ws.close_code)


async def test_first_command_must_be_connect(served: Any) -> None:
    url, _ = served
    async with websockets.connect(url) as ws:
        await ws.send(json.dumps({"id": 1, "subscribe": {"channel": "chat:a"}}))
        assert await closed_with(ws) == 3501


async def test_malformed_frame_closes_3501(served: Any) -> None:
    url, _ = served
    async with websockets.connect(url) as ws:
        await ws.send("{not json")
        assert await closed_with(ws) == 3501


async def test_silent_client_is_closed_as_stale() -> None:
    from cf_app import make_app

    from servers import uvicorn_thread

    app, _ = make_app(stale_delay=0.3)
    with uvicorn_thread(app) as base:
        async with websockets.connect(base.replace("http", "ws") + "/connection/websocket") as ws:
            assert await closed_with(ws) == 3502


async def test_pings_and_missing_pong_closes_3012(served: Any) -> None:
    url, _ = served
    async with websockets.connect(url) as ws:
        await ws.send(json.dumps({"id": 1, "connect": {"token": token()}}))
        reply = json.loads(await ws.recv())
        assert reply["connect"]["ping"] == 1 and reply["connect"]["pong"] is True
        assert json.loads(await asyncio.wait_for(ws.recv(), 3)) == {}
        await ws.send("{}")  # pong
        assert json.loads(await asyncio.wait_for(ws.recv(), 3)) == {}
        # no pong this time
        assert await closed_with(ws) == 3012


async def test_batched_commands_and_replies_in_one_frame(served: Any) -> None:
    url, _ = served
    async with websockets.connect(url) as ws:
        frame = "\n".join(
            json.dumps(command)
            for command in [
                {"id": 1, "connect": {"token": token()}},
                {"id": 2, "subscribe": {"channel": "chat:batch"}},
                {"id": 3, "publish": {"channel": "chat:batch", "data": {"n": 1}}},
                {"id": 4, "unknown_method": {}},
                {"id": 5, "subscribe": {"channel": "not valid name"}},
            ]
        )
        await ws.send(frame)
        replies: list[dict[str, Any]] = []
        while len(replies) < 6:
            text = await asyncio.wait_for(ws.recv(), 3)
            replies.extend(json.loads(line) for line in str(text).split("\n") if line)
        by_id = {r.get("id"): r for r in replies if r.get("id")}
        assert "connect" in by_id[1] and by_id[2]["subscribe"]["recoverable"] is True
        assert by_id[3] == {"id": 3, "publish": {}}
        assert by_id[4]["error"]["code"] == 104
        assert by_id[5]["error"]["code"] == 102
        pushes = [r["push"] for r in replies if "push" in r and "pub" in r["push"]]
        assert pushes == [{"channel": "chat:batch", "pub": {"data": {"n": 1}, "offset": 1}}]


async def test_protobuf_format_with_subprotocol(served: Any) -> None:
    from google.protobuf.internal.decoder import _DecodeVarint
    from google.protobuf.internal.encoder import _VarintBytes

    from tether.channels.centrifuge import tether_centrifuge_pb2 as pb

    def frame(*commands: Any) -> bytes:
        out = b""
        for command in commands:
            body = command.SerializeToString()
            out += _VarintBytes(len(body)) + body
        return out

    def replies(data: bytes) -> list[Any]:
        found, position = [], 0
        while position < len(data):
            length, position = _DecodeVarint(data, position)
            reply = pb.Reply()
            reply.ParseFromString(data[position : position + length])
            found.append(reply)
            position += length
        return found

    url, _ = served
    async with websockets.connect(url, subprotocols=["centrifuge-protobuf"]) as ws:
        assert ws.subprotocol == "centrifuge-protobuf"
        connect = pb.Command(id=1, connect=pb.ConnectRequest(token=token()))
        subscribe = pb.Command(id=2, subscribe=pb.SubscribeRequest(channel="chat:pb"))
        publish = pb.Command(id=3, publish=pb.PublishRequest(channel="chat:pb", data=b'{"n":7}'))
        await ws.send(frame(connect, subscribe, publish))
        got: list[Any] = []
        while not any(r.push.pub.offset for r in got):
            message = await asyncio.wait_for(ws.recv(), 3)
            assert isinstance(message, bytes)
            got.extend(replies(message))
        assert got[0].id == 1 and got[0].connect.client
        assert got[1].id == 2 and got[1].subscribe.recoverable
        pub = next(r.push for r in got if r.push.pub.offset)
        assert (pub.channel, pub.pub.data, pub.pub.offset) == ("chat:pb", b'{"n":7}', 1)
