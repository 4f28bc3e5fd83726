"""The demo refuses cross-site sockets and oversized frames, as a public deployment should."""

from __future__ import annotations

import pytest

from tether.demo.app import create_app
from tether.testclient import TestClient, WebSocketDenialResponse, WebSocketDisconnect


def test_a_cross_site_page_cannot_open_a_socket() -> None:
    with TestClient(create_app("memory://")) as client:
        with (
            pytest.raises(WebSocketDenialResponse) as denied,
            client.websocket_connect(
                "/channels?name=Ada", headers={"origin": "https://evil.example"}
            ),
        ):
            pass
        assert denied.value.status_code == 403


def test_the_demo_page_own_origin_may_connect() -> None:
    own = {"origin": "http://127.0.0.1:8000", "host": "127.0.0.1:8000"}
    with (
        TestClient(create_app("memory://")) as client,
        client.websocket_connect("/channels?name=Ada", headers=own) as ws,
    ):
        assert ws.receive_json()["type"] == "connected"


def test_a_dns_rebinding_page_may_not_connect() -> None:
    rebound = {"origin": "http://rebind.evil.example:8000", "host": "rebind.evil.example:8000"}
    with (
        TestClient(create_app("memory://")) as client,
        pytest.raises(WebSocketDenialResponse) as denied,
        client.websocket_connect("/channels?name=Ada", headers=rebound),
    ):
        pass
    assert denied.value.status_code == 403


def test_an_oversized_frame_closes_with_1009() -> None:
    with (
        TestClient(create_app("memory://")) as client,
        client.websocket_connect("/channels?name=Ada") as ws,
    ):
        assert ws.receive_json()["type"] == "connected"
        ws.send_text("x" * 5000)
        with pytest.raises(WebSocketDisconnect) as closed:
            while True:
                ws.receive_json()
        assert closed.value.code == 1009
