"""docs/examples/starlette_modules.py through the test client: each module does its part."""

import pytest
from docs.examples.starlette_modules import app

from tether.testclient import TestClient, WebSocketDenialResponse


def test_static_file_and_template_page() -> None:
    client = TestClient(app)
    assert client.get("/static/app.js").text == "console.log('hi')\n"
    page = client.get("/rooms/lobby")
    assert page.text == '<h1>lobby</h1><script src="http://testserver/static/app.js"></script>'
    assert page.headers["server-timing"].startswith("app;dur=")
    assert page.template.name == "room.html"


def test_authentication_covers_the_websocket_handshake() -> None:
    client = TestClient(app)
    with client.websocket_connect("/rooms/lobby/ws", auth=("ann", "secret")) as session:
        assert session.receive_json() == {
            "room": "lobby",
            "joined": {"user": "ann", "at": "2024-01-01T12:00:00"},
        }
    with pytest.raises(WebSocketDenialResponse) as denied, client.websocket_connect("/rooms/x/ws"):
        pass
    assert denied.value.status_code == 403
    with (
        pytest.raises(WebSocketDenialResponse) as denied,
        client.websocket_connect("/rooms/x/ws", auth=("ann", "wrong")),
    ):
        pass
    assert denied.value.status_code == 400
    assert denied.value.text == "wrong user name or password"
