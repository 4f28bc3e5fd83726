"""The README's tour runs as written: each Python block on its own, in a fresh namespace.

Block 2 says to save it as ``rooms.py``; block 3 imports it from there. Block 5's AsyncAPI
page lists the message types the block declares.
"""

from __future__ import annotations

import re
import sys
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tether.asyncapi import generate
from tether.testclient import TestClient

README = Path(__file__).resolve().parent.parent / "README.md"


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)


def run_block(block: str, name: str) -> dict[str, Any]:
    """Execute one block as the module ``name`` (dataclasses look their module up)."""
    module = types.ModuleType(name)
    sys.modules[name] = module
    exec(compile(block, f"README.md ({name})", "exec"), module.__dict__)
    return module.__dict__


@pytest.fixture
def tour(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    monkeypatch.delenv("TETHER_BROKER", raising=False)
    monkeypatch.syspath_prepend(str(tmp_path))
    blocks = python_blocks()
    assert len(blocks) == 5
    (tmp_path / "rooms.py").write_text(blocks[1])  # "save this one as rooms.py"
    yield blocks
    for name in ("rooms", "tour1", "tour3", "tour4", "tour5"):
        sys.modules.pop(name, None)


def test_block_1_echo(tour: list[str]) -> None:
    app = run_block(tour[0], "tour1")["app"]
    with TestClient(app) as client, client.websocket_connect("/echo") as ws:
        ws.send_text("hi")
        assert ws.receive_text() == "you said: hi"


def test_blocks_2_and_3_rooms_and_their_test(tour: list[str]) -> None:
    run_block(tour[2], "tour3")["test_room"]()
    app = sys.modules["rooms"].app
    with TestClient(app) as client, client.websocket_connect("/rooms/7?token=secret") as ws:
        assert ws.receive_json() == {"room": 7, "user": "ann"}


def test_block_4_channels(tour: list[str]) -> None:
    app = run_block(tour[3], "tour4")["app"]
    with (
        TestClient(app) as client,
        client.websocket_connect("/chat/lobby") as one,
        client.websocket_connect("/chat/lobby") as two,
    ):
        one.send_text("hello")
        assert two.receive_json() == {"text": "hello"}
        assert one.receive_json() == {"text": "hello"}


def test_block_5_typed_messages_and_their_document(tour: list[str]) -> None:
    app = run_block(tour[4], "tour5")["app"]
    with TestClient(app) as client:
        with client.websocket_connect("/typed") as ws:
            ws.send_json({"type": "say", "text": "up"})
            assert ws.receive_json() == {"type": "say", "text": "UP"}
            ws.send_json({"type": "say"})
            assert ws.receive_json()["type"] == "error"
        assert client.get("/asyncapi").status_code == 200
        served = client.get("/asyncapi.json").json()
    # The page says "No message types declared" for a channel without messages.
    (channel,) = served["channels"].values()
    assert channel["messages"], channel
    assert "Say" in str(generate(app)["components"]["schemas"])
