"""The typed chat example (docs/examples/typed_chat.py) runs as documented."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
from docs.examples import typed_chat

from tether.asyncapi import generate
from tether.testclient import TestClient

SCHEMA = json.loads(
    (Path(__file__).parent.parent / "data" / "asyncapi-3.0.0.json").read_text("utf-8")
)


def test_two_clients_chat_with_typed_messages() -> None:
    with (
        TestClient(typed_chat.app) as client,
        client.websocket_connect("/chat") as ann,
        client.websocket_connect("/chat") as bob,
    ):
        ann.send_json({"type": "join", "name": "ann"})
        assert ann.receive_json() == {"type": "joined", "name": "ann"}
        assert bob.receive_json() == {"type": "joined", "name": "ann"}
        ann.send_json({"type": "say", "text": "hello"})
        expected = {"type": "said", "name": "ann", "text": "hello"}
        assert ann.receive_json() == expected
        assert bob.receive_json() == expected


def test_invalid_and_unknown_messages_are_answered_not_fatal() -> None:
    with TestClient(typed_chat.app) as client, client.websocket_connect("/chat") as ws:
        ws.send_json({"type": "join", "name": ""})
        error: dict[str, Any] = ws.receive_json()
        assert error["type"] == "error" and error["errors"][0]["loc"] == ["name"]
        ws.send_json({"type": "dance"})
        assert ws.receive_json()["errors"][0]["type"] == "unknown_message_type"
        ws.send_text("not json")
        assert ws.receive_json()["errors"][0]["type"] == "json_invalid"
        ws.send_json({"type": "say", "text": "still connected"})
        assert ws.receive_json()["text"] == "still connected"


def test_reply_style_calculator() -> None:
    with TestClient(typed_chat.app) as client, client.websocket_connect("/calc") as ws:
        ws.send_json({"type": "add", "a": 2, "b": 3})
        assert ws.receive_json() == {"type": "sum", "result": 5}


def test_document_is_valid_asyncapi_and_served() -> None:
    doc = generate(typed_chat.app)
    jsonschema.validate(doc, SCHEMA, cls=jsonschema.Draft7Validator)
    assert set(doc["channels"]["chat"]["messages"]) == {"Join", "Say", "Joined", "Said"}
    assert doc["operations"]["calc.receive"]["reply"]["messages"] == [
        {"$ref": "#/channels/calc/messages/Sum"}
    ]
    with TestClient(typed_chat.app) as client:
        assert client.get("/asyncapi.json").json()["info"]["title"] == "Typed chat"
        assert "Chat room" in client.get("/asyncapi").text
