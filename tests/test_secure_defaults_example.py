"""docs/examples/secure_defaults.py does what its docstring says."""

from __future__ import annotations

import pytest
from docs.examples.secure_defaults import app

from tether.testclient import TestClient, WebSocketDenialResponse


def test_trusted_hosts_and_listed_origins_pass_rebinding_does_not() -> None:
    client = TestClient(app, base_url="http://dash.internal")
    with client.websocket_connect("/echo", headers={"origin": "http://dash.internal"}) as ws:
        ws.send_text("hi")
        assert ws.receive_text() == "hi"
    with client.websocket_connect("/echo", headers={"origin": "https://app.example"}) as ws:
        ws.send_text("hi")
        assert ws.receive_text() == "hi"
    rebound = {"origin": "http://rebind.evil.example", "host": "rebind.evil.example"}
    with (
        pytest.raises(WebSocketDenialResponse) as info,
        client.websocket_connect("/echo", headers=rebound),
    ):
        pass
    assert info.value.status_code == 403


def test_default_limits_and_a_lifted_field() -> None:
    client = TestClient(app, base_url="http://dash.internal")
    with client.websocket_connect("/echo") as ws:
        ws.send_text("x" * (2 << 20))
        assert ws.receive()["code"] == 1009
    with client.websocket_connect("/ticker") as ws:
        assert [ws.receive_json()["tick"] for _ in range(3)] == [0, 1, 2]
