"""The README's tour runs as written: its Python blocks are executed in order."""

from __future__ import annotations

import re
import sys
import types
from pathlib import Path
from typing import Any

from tether.testclient import TestClient

README = Path(__file__).resolve().parent.parent / "README.md"


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)


def test_the_tour_runs() -> None:
    blocks = python_blocks()
    assert len(blocks) == 5
    module = types.ModuleType("readme_tour")  # dataclasses look their module up
    sys.modules[module.__name__] = module
    namespace: dict[str, Any] = module.__dict__
    for block in blocks[:3]:
        exec(compile(block, str(README), "exec"), namespace)
    namespace["test_room"]()
    with TestClient(namespace["app"]) as client, client.websocket_connect("/echo") as ws:
        ws.send_text("hi")
        assert ws.receive_text() == "you said: hi"

    for block in blocks[3:]:
        exec(compile(block, str(README), "exec"), namespace)
    with TestClient(namespace["app"]) as client:
        with (
            client.websocket_connect("/chat/lobby") as one,
            client.websocket_connect("/chat/lobby") as two,
        ):
            one.send_text("hello")
            assert two.receive_json() == {"text": "hello"}
            assert one.receive_json() == {"text": "hello"}
        with client.websocket_connect("/typed") as ws:
            ws.send_json({"type": "say", "text": "up"})
            assert ws.receive_json() == {"type": "say", "text": "UP"}
            ws.send_json({"type": "say"})
            assert ws.receive_json()["type"] == "error"
    del sys.modules[module.__name__]
