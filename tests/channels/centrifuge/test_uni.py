"""The unidirectional WebSocket transport: a client with no SDK follows its channels."""

from __future__ import annotations

import asyncio
import json
from typing import Any
from urllib.parse import quote

import pytest
import websockets
from cf_app import make_app
from cf_helpers import token

from servers import uvicorn_thread

pytestmark = [pytest.mark.integration, pytest.mark.timeout(30)]


async def next_json(ws: Any) -> Any:
    return json.loads(await asyncio.wait_for(ws.recv(), 5))


async def test_uni_websocket_connect_push_subscriptions_pubs_and_pings() -> None:
    app, endpoint = make_app(ping_interval=1.0, pong_timeout=0.5)
    app.add_websocket_route("/connection/uni_websocket", endpoint.uni_websocket)
    with uvicorn_thread(app) as base:
        url = base.replace("http://", "ws://") + "/connection/uni_websocket"
        async with websockets.connect(url) as ws:
            await ws.send(json.dumps({"token": token("ann", channels=["news:ann"])}))
            connect = await next_json(ws)
            assert connect["connect"]["client"] and connect["connect"]["pong"] is False
            subscribed = await next_json(ws)
            assert subscribed["channel"] == "news:ann" and subscribed["subscribe"]["recoverable"]
            await endpoint.hub.publish("news:ann", {"n": 1})
            assert await next_json(ws) == {
                "channel": "news:ann",
                "pub": {"data": {"n": 1}, "offset": 1},
            }
            # Pings arrive and, with no pong to give, the connection stays.
            assert await next_json(ws) == {}
            assert await next_json(ws) == {}
            await endpoint.hub.publish("news:ann", {"n": 2})
            assert (await next_json(ws))["pub"]["offset"] == 2

        request = quote(json.dumps({"token": token("bob", channels=["news:bob"])}))
        async with websockets.connect(f"{url}?cf_connect={request}") as ws:
            assert (await next_json(ws))["connect"]["client"]
            assert (await next_json(ws))["channel"] == "news:bob"

        async with websockets.connect(url) as ws:
            await ws.send(json.dumps({"token": ""}))
            with pytest.raises(websockets.ConnectionClosed):
                await next_json(ws)
            assert ws.close_code == 3500


async def test_uni_sse_streams_pushes_as_events() -> None:
    import httpx

    app, endpoint = make_app(ping_interval=0)
    app.add_route("/connection/uni_sse", endpoint.uni_sse)
    with uvicorn_thread(app) as base:
        url = base + "/connection/uni_sse"
        connect = json.dumps({"token": token("dan", channels=["news:dan"])})
        async with (
            httpx.AsyncClient(timeout=5) as http,
            http.stream("GET", url, params={"cf_connect": connect}) as response,
        ):
            assert response.status_code == 200
            assert response.headers["content-type"] == "text/event-stream"
            events = aiter(response.aiter_lines())

            async def event() -> Any:
                while True:
                    line = await asyncio.wait_for(anext(events), 5)
                    if line.startswith("data: "):
                        return json.loads(line[6:])

            assert (await event())["connect"]["client"]
            assert (await event())["channel"] == "news:dan"
            await endpoint.hub.publish("news:dan", {"n": 1})
            assert await event() == {"channel": "news:dan", "pub": {"data": {"n": 1}, "offset": 1}}
        # The client left: its session and subscription are gone from the hub.
        for _ in range(500):
            if not endpoint.sessions and not endpoint.hub.router.channels.get("news:dan"):
                break
            await asyncio.sleep(0.01)
        assert not endpoint.sessions and "news:dan" not in endpoint.hub.router.channels
        async with httpx.AsyncClient(timeout=5) as http:
            refused = await http.get(url, params={"cf_connect": json.dumps({"token": "forged"})})
            assert refused.status_code == 401
            malformed = await http.get(url, params={"cf_connect": "{nope"})
            assert malformed.status_code == 400
