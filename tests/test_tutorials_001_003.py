"""Acceptance: the FastAPI tutorials 001 (echo) and 003 (broadcast) run on tether."""

from __future__ import annotations

import pytest
from docs.examples import tutorial001, tutorial003

from tether.testclient import AsyncTestClient, TestClient
from tether.websockets import WebSocketDisconnect


def test_tutorial001_page() -> None:
    response = TestClient(tutorial001.app).get("/")
    assert response.status_code == 200
    assert "<!DOCTYPE html>" in response.text
    assert 'new WebSocket("ws://localhost:8000/ws")' in response.text


def test_tutorial001_echo_raises_the_disconnect_into_the_test() -> None:
    # The endpoint has no try/except: as with the peer's test client, its WebSocketDisconnect
    # comes out of the with block once the client left.
    client = TestClient(tutorial001.app)
    with pytest.raises(WebSocketDisconnect), client.websocket_connect("/ws") as ws:
        ws.send_text("Message one")
        assert ws.receive_text() == "Message text was: Message one"
        ws.send_text("Message two")
        assert ws.receive_text() == "Message text was: Message two"


def test_tutorial001_client_leaving_is_quiet_where_a_server_runs_it() -> None:
    client = TestClient(tutorial001.app, raise_server_exceptions=False)
    with client.websocket_connect("/ws") as ws:
        ws.send_text("Message one")
        assert ws.receive_text() == "Message text was: Message one"


def test_tutorial003_page() -> None:
    assert TestClient(tutorial003.app).get("/").text == tutorial003.html


async def test_tutorial003_broadcast_and_disconnect() -> None:
    client = AsyncTestClient(tutorial003.app)
    async with (
        client.websocket_connect("/ws/1234") as one,
        client.websocket_connect("/ws/5678") as two,
    ):
        await one.send_text("Hello from 1234")
        assert await one.receive_text() == "You wrote: Hello from 1234"
        assert await two.receive_text() == "Client #1234 says: Hello from 1234"
        assert await one.receive_text() == "Client #1234 says: Hello from 1234"
        await two.close()
        assert await one.receive_text() == "Client #5678 left the chat"
        await one.assert_no_message()
    assert tutorial003.manager.active_connections == []


async def test_tutorial003_bad_client_id_is_a_422_denial() -> None:
    from tether.testclient import WebSocketDenialResponse

    client = AsyncTestClient(tutorial003.app)
    with pytest.raises(WebSocketDenialResponse) as info:
        async with client.websocket_connect("/ws/not-a-number"):
            pass
    assert info.value.status_code == 422
